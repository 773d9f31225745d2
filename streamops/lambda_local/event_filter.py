"""Lambda event filtering for the local runner: does a stream record match the trigger's
filter patterns?

Why: with `trigger.filterPatterns` set, the event source mapping drops records matching
none of them before invoking (they are checkpointed, never delivered). A local run that
ignored the patterns would show invocations AWS never makes.

Semantics (Lambda guide, "Control which events Lambda sends to your function"): a record
passes when it matches ANY pattern; a pattern matches when EVERY key matches; a key's
value is a nested pattern or a list of alternatives; a list matches when ANY alternative
matches the record's value (or any element of it, when the value is a list). Alternatives
are plain values (compared by type and value) or one of the operators below. An operator
this module does not know is refused up front, naming it, rather than guessed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

MISSING: Any = object()
OPERATORS = ("exists", "prefix", "suffix", "equals-ignore-case", "anything-but", "numeric")
NUMERIC_OPERATORS = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class UnsupportedFilter(ValueError):
    """A filter pattern uses something the local runner cannot evaluate faithfully."""


class RecordFilter:
    """The trigger's patterns, parsed once. No patterns: every record passes."""

    def __init__(self, patterns: Sequence[str]):
        self.patterns = [json.loads(pattern) for pattern in patterns]
        for index, pattern in enumerate(self.patterns):
            _check(pattern, f"filterPatterns[{index}]")

    def passes(self, record: dict[str, Any]) -> bool:
        return not self.patterns or any(_matches(pattern, record) for pattern in self.patterns)


def _check(pattern: Any, path: str) -> None:
    for key, sub in pattern.items():
        if isinstance(sub, dict):
            _check(sub, f"{path}.{key}")
            continue
        for alternative in sub:
            if isinstance(alternative, dict):
                unknown = set(alternative) - set(OPERATORS)
                if unknown or len(alternative) != 1:
                    raise UnsupportedFilter(
                        f"{path}.{key}: operator {sorted(alternative)} is not supported by the "
                        f"local runner (supported: {', '.join(OPERATORS)})"
                    )
                numeric = alternative.get("numeric")
                if numeric is not None and (
                    not isinstance(numeric, list)
                    or len(numeric) % 2
                    or any(op not in NUMERIC_OPERATORS for op in numeric[::2])
                ):
                    raise UnsupportedFilter(
                        f"{path}.{key}: numeric matcher {numeric!r} must be pairs of "
                        f"{', '.join(NUMERIC_OPERATORS)} and a number"
                    )


def _matches(pattern: dict[str, Any], value: Any) -> bool:
    for key, sub in pattern.items():
        inner = value.get(key, MISSING) if isinstance(value, dict) else MISSING
        if isinstance(sub, dict):
            if not _matches(sub, inner if isinstance(inner, dict) else {}):
                return False
        elif not any(_alternative(alternative, inner) for alternative in sub):
            return False
    return True


def _alternative(alternative: Any, value: Any) -> bool:
    if isinstance(alternative, dict) and "exists" in alternative:
        return (value is not MISSING) == bool(alternative["exists"])
    if value is MISSING:
        return False
    values = value if isinstance(value, list) else [value]
    if isinstance(alternative, dict):
        ((operator, operand),) = alternative.items()
        return any(_operator(operator, operand, item) for item in values)
    return any(_same(alternative, item) for item in values)


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    return bool(expected == actual)


def _operator(operator: str, operand: Any, value: Any) -> bool:
    if operator == "prefix":
        return isinstance(value, str) and value.startswith(operand)
    if operator == "suffix":
        return isinstance(value, str) and value.endswith(operand)
    if operator == "equals-ignore-case":
        return isinstance(value, str) and value.lower() == str(operand).lower()
    if operator == "anything-but":
        if isinstance(operand, dict):
            ((inner, inner_operand),) = operand.items()
            return not _operator(inner, inner_operand, value)
        excluded = operand if isinstance(operand, list) else [operand]
        return not any(_same(item, value) for item in excluded)
    # numeric: [op, number, op, number]; a DynamoDB N arrives as text and never matches.
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    pairs = zip(operand[::2], operand[1::2], strict=True)
    return all(NUMERIC_OPERATORS[op](value, bound) for op, bound in pairs)
