"""Time for the local stream runner: the wall clock, or a manual one for tests.

Why an abstraction: the event source mapping's semantics are about time (batching window,
function timeout, maximum record age, iterator age). Tests must prove them without
sleeping, so everything that reads or waits on time goes through a `Clock`.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (UTC)."""

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` (a manual clock just moves forward)."""


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ManualClock:
    """A clock that only moves when told to: `sleep` and `advance` add to it."""

    def __init__(self, start: float | None = None):
        self._now = time.time() if start is None else start

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back ({seconds} s)")
        self._now += seconds
