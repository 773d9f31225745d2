"""Feedback on long steps, on stderr: a spinner for a step, a bar for N items (rich).

On a terminal rich draws them; in a log or a pipe the spinner prints nothing and the bar
one line every tenth, so stdout stays clean for `--json` and a CI log still shows that a
long replay moves.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)


def stderr() -> Console:
    # Made per call: CliRunner (and pytest) swap sys.stderr between commands.
    return Console(file=sys.stderr, highlight=False)


@contextlib.contextmanager
def step(label: str) -> Iterator[None]:
    """A spinner with the elapsed time while a long step runs (a terminal only)."""
    console = stderr()
    if not console.is_terminal:
        yield
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        # stdout lines printed meanwhile go above the spinner (a terminal only: piped,
        # stdout stays untouched).
        redirect_stdout=sys.stdout.isatty(),
    ) as progress:
        progress.add_task(label, total=None)
        yield


class Bar:
    """A bar for N items: `update(done, total)` as they are done, then `finish()`."""

    def __init__(self, label: str, unit: str = "records"):
        self.label, self.unit = label, unit
        self.console = stderr()
        self._progress: Progress | None = None
        self._task: Any = None
        self._last_tenth = -1

    def update(self, done: int, total: int) -> None:
        if total <= 0:
            return
        if not self.console.is_terminal:
            tenth = done * 10 // total
            if tenth != self._last_tenth:
                self._last_tenth = tenth
                print(f"{self.label}: {done}/{total} {self.unit}", file=sys.stderr, flush=True)
            return
        if self._progress is None:
            self._progress = Progress(
                TextColumn(self.label),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(self.unit),
                TimeElapsedColumn(),
                console=self.console,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=total)
        self._progress.update(self._task, completed=done, total=total)

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.stop()
