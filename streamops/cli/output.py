"""What every subcommand shares: exit codes, JSON output, errors, progress on stderr.

Exit codes, everywhere: 0 ok, 1 a check or replay failed, 2 bad input (an unknown stack,
an invalid value; typer's own usage errors exit 2 too).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

JSON_OPTION = typer.Option(False, "--json", help="print one JSON document on stdout instead")


def fail(command: str, message: object, code: int = EXIT_USAGE) -> NoReturn:
    """One line on stderr, then exit `code` (2: bad input)."""
    print(f"{command}: error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, default=_jsonable) + "\n")
