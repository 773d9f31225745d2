"""The files a runner test shares with the handler processes it starts, in one directory
named by the environment variable ``STATE_DIR``:

- ``scenario.json``: what the test asks of the handler (faults, responses, a queue);
- ``journal.jsonl``: what the handler saw, one JSON object a line, appended before the
  handler returns, raises or runs past its timeout (it is stopped then);
- ``clock``: the mapping's clock (epoch seconds). The runner reads it for record age,
  batching window and message timestamps; a handler that "takes 25 s" adds 25 to it.

Appends and clock updates are whole writes under an exclusive lock (``fcntl.flock``):
environments may run at the same time, and a process killed at its timeout drops its lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STATE_DIR = "STATE_DIR"
SCENARIO, JOURNAL, CLOCK, LOCK = "scenario.json", "journal.jsonl", "clock", ".lock"


def state_dir() -> Path:
    """The handler's side: the directory the test passed in its environment."""
    return Path(os.environ[STATE_DIR])


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    with (directory / LOCK).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_scenario(directory: Path) -> dict[str, Any]:
    path = directory / SCENARIO
    return json.loads(path.read_text()) if path.exists() else {}


def write_scenario(directory: Path, scenario: dict[str, Any]) -> None:
    (directory / SCENARIO).write_text(json.dumps(scenario))


def append(directory: Path, *entries: dict[str, Any]) -> None:
    """The entries, one line each, in one write."""
    lines = "".join(json.dumps(entry) + "\n" for entry in entries)
    with locked(directory), (directory / JOURNAL).open("a") as journal:
        journal.write(lines)


def read_journal(directory: Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The entries after byte ``offset``, and the offset after them."""
    path = directory / JOURNAL
    if not path.exists():
        return [], offset
    with locked(directory), path.open("rb") as journal:
        journal.seek(offset)
        data = journal.read()
    return [json.loads(line) for line in data.splitlines() if line], offset + len(data)


def read_clock(directory: Path) -> float:
    return float((directory / CLOCK).read_text())


def set_clock(directory: Path, seconds: float) -> None:
    with locked(directory):
        _write_clock(directory, seconds)


def advance_clock(directory: Path, seconds: float) -> float:
    if seconds < 0:
        raise ValueError(f"a clock cannot go back ({seconds} s)")
    with locked(directory):
        now = read_clock(directory) + seconds
        _write_clock(directory, now)
    return now


def _write_clock(directory: Path, seconds: float) -> None:
    # Written aside then renamed: a reader never sees a half-written number.
    temporary = directory / f"{CLOCK}.{os.getpid()}"
    temporary.write_text(repr(seconds))
    os.replace(temporary, directory / CLOCK)
