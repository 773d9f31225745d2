"""Lambda event filtering for the local runner and redrive: does a stream record match the
trigger's filter patterns?

Why: with `trigger.filterPatterns` set, the event source mapping drops records matching
none of them before invoking (they are checkpointed, never delivered). A local run that
ignored the patterns would show invocations AWS never makes.

The patterns are parsed and matched by the one model the config check also uses
(components/filters/pattern.py, with the DynamoDB rules of components/filters/dynamodb.py);
this adapter only keeps the runner's and redrive's interface.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.filters.dynamodb import parse_dynamodb
from components.filters.matcher import FilterSet
from components.filters.pattern import PatternError, load


class UnsupportedFilter(ValueError):
    """A filter pattern AWS would refuse, or one that can never match a stream record."""


class RecordFilter:
    """The trigger's patterns (JSON texts), parsed once. No patterns: every record passes."""

    def __init__(self, patterns: Sequence[str]):
        parsed = []
        for index, text in enumerate(patterns):
            try:
                parsed.append(parse_dynamodb(load(text)))
            except PatternError as error:
                where = f"filterPatterns[{index}]"
                raise UnsupportedFilter(
                    "; ".join(problem.at(where) for problem in error.problems)
                ) from error
            except ValueError as error:  # not JSON
                raise UnsupportedFilter(f"filterPatterns[{index}]: not JSON: {error}") from error
        self.filters = FilterSet(parsed)

    def passes(self, record: dict[str, Any]) -> bool:
        return self.filters.passes(record)
