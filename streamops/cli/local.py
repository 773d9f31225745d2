"""`streamops local`: deploy into the embedded emulator, write a sample, process it, summarise.

The run: streamops/demo/local.py. Exit 0 when the stream was drained with every record
accounted for, 1 otherwise, 2 when the stack cannot be deployed (bad config).
"""

from __future__ import annotations

import signal
import sys
import threading

import typer

from streamops.cli.output import EXIT_FAILED, EXIT_OK, fail


def command(
    stack: str = typer.Option("dev", "--stack", help="whose config to deploy"),
    follow: bool = typer.Option(
        False, "--follow", help="then keep processing what you write (Ctrl-C stops)"
    ),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="emulator port (0: any free)"),
    raw_logs: bool = typer.Option(
        False, "--raw-logs", help="print the function's log lines as JSON"
    ),
) -> None:
    """The whole pipeline on this machine, no AWS account: sample data, function logs, summary."""
    # The subsystem is imported when the command runs (moto, pulumi): `--help` stays fast.
    from components.config import ConfigError
    from streamops.demo.local import follow as follow_writes
    from streamops.demo.local import run_local
    from streamops.emulator.server import Emulator

    # With --follow, Ctrl-C stops the mapping between rounds, never in the middle of a
    # delivery (every record read is then settled or pending, and the summary accounts for
    # each); it stays caught until the emulator has stopped, as `uv run` passes a second one.
    interrupted = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.set()) if follow else None
    try:
        with Emulator(port=port) as emulator:
            run = run_local(emulator, stack, sys.stdout, raw_logs=raw_logs)
            with run.runner:  # ends the execution environments
                summary = (
                    follow_writes(run, emulator, sys.stdout, interrupted.is_set)
                    if follow
                    else run.summary
                )
    except (ConfigError, FileNotFoundError) as error:
        fail("local", error)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    accounted = summary.unaccounted == 0 and (summary.drained or follow)
    raise typer.Exit(EXIT_OK if accounted else EXIT_FAILED)


app = typer.Typer()
app.command()(command)

if __name__ == "__main__":
    app()
