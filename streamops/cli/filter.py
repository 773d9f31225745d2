"""`streamops filter test`: does a stream record pass the trigger's filter patterns?

Exit codes: 0 the record matches (it would be delivered), 1 it matches no pattern (Lambda
would skip it), 2 bad input (a pattern AWS would refuse, a malformed record or item).
The logic is in streamops/lambda_local/filter_tester.py; this module only reads options.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from streamops.lambda_local import filter_tester
from streamops.lambda_local.filter_tester import BadInput

EXIT_MATCH, EXIT_NO_MATCH, EXIT_BAD_INPUT = 0, 1, 2

app = typer.Typer(
    help="Test trigger filter patterns against a stream record, as Lambda evaluates them.",
    no_args_is_help=True,
)


@app.callback()
def main() -> None:
    """Filter pattern tools (Lambda has no API to test a pattern)."""


def _text(value: str, what: str) -> str:
    """Inline JSON, `-` (stdin), or a file (`@path` or a plain path)."""
    if value == "-":
        return sys.stdin.read()
    if value.lstrip().startswith(("{", "[")):
        return value
    path = Path(value.removeprefix("@"))
    try:
        return path.read_text()
    except OSError as error:
        raise BadInput(f"{what}: cannot read {path} ({error.strerror or error})") from error


@app.command("test")
def test(
    record: Annotated[
        str | None,
        typer.Argument(help="A stream record (JSON file, or - for stdin); or give --item."),
    ] = None,
    stack: Annotated[
        str | None,
        typer.Option(help="Test the patterns configured in Pulumi.<STACK>.yaml."),
    ] = None,
    pattern: Annotated[
        str | None,
        typer.Option(help="Test this one pattern (inline JSON or @file) instead of the stack's."),
    ] = None,
    item: Annotated[
        str | None,
        typer.Option(help="An item in DynamoDB JSON (inline, @file or -), wrapped as a record."),
    ] = None,
    event_name: Annotated[
        str, typer.Option(help="With --item: INSERT, MODIFY (needs --old-item) or REMOVE.")
    ] = "INSERT",
    old_item: Annotated[
        str | None, typer.Option(help="With --item and MODIFY: the item before the change.")
    ] = None,
    view_type: Annotated[
        str | None,
        typer.Option(help="Stream view type without --stack (default NEW_AND_OLD_IMAGES)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Say which pattern a record matches or, for a miss, the first key that failed and why."""
    try:
        outcome = _run(record, stack, pattern, item, event_name, old_item, view_type)
    except BadInput as error:
        typer.echo(f"bad input: {error}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from error
    if as_json:
        typer.echo(json.dumps(outcome.as_json(), indent=2))
    else:
        typer.echo("\n".join(filter_tester.describe(outcome)))
    raise typer.Exit(EXIT_MATCH if outcome.matched else EXIT_NO_MATCH)


def _run(
    record: str | None,
    stack: str | None,
    pattern: str | None,
    item: str | None,
    event_name: str,
    old_item: str | None,
    view_type: str | None,
) -> filter_tester.Outcome:
    if stack is None and pattern is None:
        raise BadInput("give --stack NAME (its configured patterns) or --pattern JSON")
    if record is None and item is None:
        raise BadInput("give a RECORD (file or -) or --item (DynamoDB JSON or @file)")
    if record is not None and item is not None:
        raise BadInput("give a RECORD (file or -) or --item, not both")
    configured = filter_tester.stack_patterns(stack) if stack else None
    view = view_type or (configured.view_type if configured else filter_tester.DEFAULT_VIEW)
    if pattern:
        patterns = filter_tester.given_pattern(_text(pattern, "--pattern"), view)
    else:
        assert configured is not None
        patterns = configured
    if item is not None:
        old = (
            filter_tester.read_item(_text(old_item, "--old-item"), "--old-item")
            if old_item
            else None
        )
        built = filter_tester.stream_record(
            filter_tester.read_item(_text(item, "--item"), "--item"), event_name.upper(), view, old
        )
    else:
        assert record is not None
        built = filter_tester.read_record(_text(record, "RECORD"))
    return filter_tester.evaluate(patterns, built)


if __name__ == "__main__":
    app()
