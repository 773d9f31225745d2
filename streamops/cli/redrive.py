"""`streamops redrive list|archive|replay`: recover what reached the failure destination.

Without `--stack`, the whole cycle is demonstrated in the embedded emulator (failures made
the way production makes them, then the action). The run itself: streamops/redrive/session.py;
docs/redrive.md.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from streamops.cli.output import JSON_OPTION, fail, print_json

if TYPE_CHECKING:
    from streamops.redrive.session import Options, Result

# The subsystem is imported when a command runs (boto3, moto, pulumi): `--help` stays fast.
DEFAULT_WAIT_SECONDS = 2  # streamops.redrive.failure_queue.DEFAULT_WAIT_SECONDS (a test checks)

app = typer.Typer(
    help="Recover the failure queue: list it, archive it, replay it through the function.",
    no_args_is_help=True,
)

STACK = typer.Option(
    None, "--stack", help="a stack deployed with `pulumi up` (default: a demonstration, emulator)"
)
PROFILE = typer.Option(None, "--profile", help="AWS profile for --stack (default credential chain)")
QUEUE = typer.Option(
    None,
    "--queue",
    metavar="URL",
    help="read this SQS queue instead of the stack's failure queue (e.g. one subscribed to "
    "an SNS failure topic)",
)
MAX = typer.Option(None, "--max", min=1, metavar="N", help="read at most N messages")
WAIT = typer.Option(
    DEFAULT_WAIT_SECONDS, "--wait", min=0, max=20, help="long-poll wait per receive (seconds)"
)
DROP_EXPIRED = typer.Option(
    False,
    "--drop-expired",
    help="delete pointer messages whose records have expired from the stream, once the "
    "archive is written",
)


def _options(**values: Any) -> Options:
    from streamops.redrive.session import Options

    return Options(**values)


def _run(stack: str | None, profile: str | None, options: Options, quiet: bool = False) -> Result:
    """Run on `stack` (or the demonstration); exit 2 when the queue cannot be read."""
    from botocore.exceptions import BotoCoreError, ClientError

    from components.config import ConfigError
    from streamops.demo.redrive import demonstrate
    from streamops.redrive.session import real_site, redrive
    from streamops.stacks import StackUnavailable

    out = io.StringIO() if quiet else sys.stdout
    options.replay_command = "uv run streamops redrive replay" + (
        f" --stack {stack}" if stack else ""
    )
    try:
        if stack:
            return redrive(real_site(stack, profile), options, out, sys.stderr)
        return demonstrate(options, out, sys.stderr)
    except (StackUnavailable, ConfigError, FileNotFoundError, ClientError, BotoCoreError) as error:
        fail("redrive", error)


def _exit(result: Result) -> None:
    raise typer.Exit(result.exit_code)


@app.command("list")
def list_messages(
    stack: str | None = STACK,
    profile: str | None = PROFILE,
    queue: str | None = QUEUE,
    max_messages: int | None = MAX,
    wait: int = WAIT,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show what is in the failure queue and how long each record has left (read-only)."""
    from streamops.redrive.inventory import archive_entries

    options = _options(max_messages=max_messages, queue_url=queue, wait_seconds=wait)
    result = _run(stack, profile, options, quiet=as_json)
    if as_json:
        inventory = result.inventory
        print_json(
            {
                "stack": stack,
                "exitCode": result.exit_code,
                "messages": len(inventory.messages) if inventory else 0,
                "records": list(archive_entries(inventory)) if inventory else [],
                "problems": result.problems,
            }
        )
    _exit(result)


@app.command()
def archive(
    file: Path = typer.Argument(
        ..., metavar="FILE", help="JSON lines file to write the records to"
    ),
    stack: str | None = STACK,
    profile: str | None = PROFILE,
    queue: str | None = QUEUE,
    max_messages: int | None = MAX,
    wait: int = WAIT,
    drop_expired: bool = DROP_EXPIRED,
) -> None:
    """Write every recovered record (and what could not be recovered) to FILE."""
    options = _options(
        archive=file,
        drop_expired=drop_expired,
        max_messages=max_messages,
        queue_url=queue,
        wait_seconds=wait,
    )
    _exit(_run(stack, profile, options))


@app.command()
def replay(
    stack: str | None = STACK,
    profile: str | None = PROFILE,
    queue: str | None = QUEUE,
    max_messages: int | None = MAX,
    wait: int = WAIT,
    yes: bool = typer.Option(False, "--yes", help="replay into a real stack without asking"),
    archive_to: Path | None = typer.Option(
        None, "--archive", metavar="FILE", help="also archive the records first"
    ),
    drop_expired: bool = DROP_EXPIRED,
) -> None:
    """Replay the records through the function, in order per item (after deploying the fix);
    exit 1 if messages are left in the queue."""
    if drop_expired and archive_to is None:
        fail("redrive", "--drop-expired needs --archive FILE: expired ranges are archived first")
    options = _options(
        replay=True,
        archive=archive_to,
        drop_expired=drop_expired,
        max_messages=max_messages,
        queue_url=queue,
        yes=yes,
        wait_seconds=wait,
    )
    _exit(_run(stack, profile, options))


if __name__ == "__main__":
    app()
