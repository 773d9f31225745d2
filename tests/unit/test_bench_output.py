"""`make bench` leaves the committed measurements alone unless told to record them.

It rewrote bench/results.json, which the planner reads, so one local run changed the
README's worked plan (handler cost 10.97 -> 15.59 us/record). Seen failing first: the
default output was the tracked file. The cold-start benchmark did the same to
bench/cold_start.json (the planner's INIT time) and was not reachable from `streamops
bench`; seen failing first too.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from streamops.planner import measure
from streamops.program import ROOT

# benchmark script -> the committed file of the planner it records
RECORDED_BY = {
    "bench_handler": measure.BENCH_RESULTS,
    "bench_cold_start": measure.COLD_START_RESULTS,
}


def bench_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def git(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module", params=sorted(RECORDED_BY))
def bench(request: pytest.FixtureRequest) -> ModuleType:
    if git("rev-parse", "--git-dir").returncode != 0:
        pytest.fail("these tests read git's view of the checkout: run them in a clone")
    return bench_module(request.param)


def test_a_plain_run_writes_an_untracked_ignored_path(bench: ModuleType) -> None:
    local = Path(bench.LOCAL_RESULTS).relative_to(ROOT)
    assert git("check-ignore", "--quiet", str(local)).returncode == 0, f"{local} is not ignored"
    assert git("ls-files", "--error-unmatch", str(local)).returncode != 0


def test_the_planner_reads_the_committed_measurement_that_record_writes(bench: ModuleType) -> None:
    recorded = Path(bench.RECORDED_RESULTS)
    assert recorded == RECORDED_BY[bench.__name__]
    assert git("ls-files", "--error-unmatch", str(recorded.relative_to(ROOT))).returncode == 0
    assert recorded != Path(bench.LOCAL_RESULTS)


def test_the_bench_command_passes_record_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from streamops.cli import bench as bench_cli

    calls: list[list[str]] = []

    def run_script(name: str, argv: list[str]) -> int:
        calls.append(argv)
        return 0

    monkeypatch.setattr(bench_cli, "run_script", run_script)
    assert CliRunner().invoke(bench_cli.app, []).exit_code == 0
    assert CliRunner().invoke(bench_cli.app, ["--record"]).exit_code == 0
    scripts = [str(ROOT / "bench" / f"{name}.py") for name in RECORDED_BY]
    assert [argv[1:] for argv in calls] == [
        *([script] for script in scripts),
        *([script, "--record"] for script in scripts),
    ]
    assert all(argv[0] == sys.executable for argv in calls)
    unknown = CliRunner().invoke(bench_cli.app, ["nope"])
    assert unknown.exit_code == 2 and "no benchmark 'nope'" in unknown.stderr


def test_the_bench_command_prints_each_line_as_the_benchmark_writes_it(tmp_path: Path) -> None:
    """A piped child is block-buffered: `make bench | tee` stayed silent until the end."""
    from streamops.cli.bench import run_script

    script = tmp_path / "slow.py"
    marker = tmp_path / "first-line-seen"
    script.write_text(
        "import pathlib, time\n"
        "print('first section')\n"
        f"deadline = time.time() + 30\n"
        f"while not pathlib.Path({str(marker)!r}).exists() and time.time() < deadline:\n"
        "    time.sleep(0.05)\n"
        f"print('released' if pathlib.Path({str(marker)!r}).exists() else 'timed out')\n"
    )

    class Out:
        def __init__(self) -> None:
            self.lines: list[str] = []

        def write(self, text: str) -> None:
            self.lines.append(text)
            if text == "first section\n":
                marker.touch()

        def flush(self) -> None:
            pass

    out = Out()
    saved, sys.stdout = sys.stdout, out  # type: ignore[assignment]
    try:
        assert run_script("slow", [sys.executable, str(script)]) == 0
    finally:
        sys.stdout = saved
    assert out.lines == ["first section\n", "released\n"]
