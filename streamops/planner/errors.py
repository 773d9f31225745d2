"""The one error type of the planner: bad input, reported as one line (exit code 2)."""

from __future__ import annotations


class PlanError(ValueError):
    """A bad option or an unusable input file; the message says what and how to fix it."""
