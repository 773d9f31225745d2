"""`streamops bench`: run the benchmarks (bench/), print their sections as they come.

Each writes its results to an untracked path (build/bench/, gitignored) unless `--record`
is given: then to the committed file under bench/ that the planner reads (a reviewed
measurement: commit it with the change that explains it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer

from streamops.cli.output import EXIT_FAILED, EXIT_OK, fail
from streamops.progress import step

ROOT = Path(__file__).resolve().parents[2]
# name -> script under bench/; each accepts --record. Add a benchmark here.
BENCHMARKS = {
    "handler": "bench_handler.py",
    "cold-start": "bench_cold_start.py",
}
NAMES = ", ".join(BENCHMARKS)


def command(
    names: list[str] | None = typer.Argument(
        None, help=f"which benchmarks (default: all): {NAMES}"
    ),
    record: bool = typer.Option(
        False,
        "--record",
        help="write the committed results under bench/ (read by `streamops plan`) instead of "
        "build/bench/",
    ),
) -> None:
    """Benchmark the stream processor vs Powertools' BatchProcessor (prints the ratios)."""
    chosen = names or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        fail("bench", f"no benchmark {unknown[0]!r} (benchmarks: {', '.join(BENCHMARKS)})")
    failed = 0
    for name in chosen:
        argv = [sys.executable, str(ROOT / "bench" / BENCHMARKS[name])]
        failed += run_script(name, argv + (["--record"] if record else [])) != 0
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)


def run_script(name: str, argv: list[str]) -> int:
    """Run one benchmark, its output line by line under a spinner; its exit code."""
    with (
        step(f"benchmark {name}"),
        # Unbuffered: each section's lines as soon as they are printed (a pipe is
        # block-buffered: the whole run would arrive at the end).
        subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        ) as child,
    ):
        assert child.stdout is not None
        for line in child.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
    if child.returncode != 0:
        print(f"bench: {name} exited {child.returncode}", file=sys.stderr)
    return child.returncode


app = typer.Typer()
app.command()(command)

if __name__ == "__main__":
    app()
