"""Matching stream records against parsed filter patterns (components/filters/pattern.py)
the way Lambda does: leaves by dotted path, any alternative of every key, one branch of each
`$or`, and keys inside elements of the same array held by the same element. For a miss, the
verdict names the first key that failed and why. Never raises, whatever the record holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from components.filters.pattern import (
    AnythingBut,
    Equals,
    Exists,
    Field,
    Matcher,
    Numeric,
    Pattern,
    Prefix,
    Suffix,
    as_json,
    is_number,
)

Membership = tuple[tuple[int, int], ...]  # (array id, element index) for each enclosing array
Leaves = dict[str, list[tuple[Any, Membership]]]


@dataclass(frozen=True)
class Verdict:
    """One pattern against one record: matched, or the first key that failed and why."""

    matched: bool
    key: str | None = None  # the failing key as written in the pattern
    reason: str | None = None


def leaves_of(record: Any) -> Leaves:
    """Every leaf of a record by dotted path (iterative: any depth, any JSON value)."""
    leaves: Leaves = {}
    arrays = 0
    stack: list[tuple[tuple[str, ...], Any, Membership]] = [((), record, ())]
    while stack:
        segments, value, membership = stack.pop()
        if isinstance(value, dict):
            for key, inner in reversed(list(value.items())):
                stack.append(((*segments, str(key)), inner, membership))
        elif isinstance(value, list | tuple):
            arrays += 1
            for index in reversed(range(len(value))):
                stack.append((segments, value[index], (*membership, (arrays, index))))
        else:
            leaves.setdefault(".".join(segments), []).append((value, membership))
    return leaves


def accepts(matcher: Matcher, value: Any) -> bool:
    """Whether one alternative accepts one leaf value (never raises)."""
    if isinstance(matcher, Exists):
        return matcher.present
    if isinstance(matcher, Equals):
        return same(matcher.value, value)
    if isinstance(matcher, AnythingBut):
        return not any(same(excluded, value) for excluded in matcher.values)
    if isinstance(matcher, Numeric):
        return is_number(value) and all(_compare(op, value, b) for op, b in matcher.bounds)
    if not isinstance(value, str):
        return False
    if isinstance(matcher, Prefix):
        return value.startswith(matcher.text)
    if isinstance(matcher, Suffix):
        return value.endswith(matcher.text)
    return value.casefold() == matcher.text.casefold()


def same(expected: Any, actual: Any) -> bool:
    """Exact equality by JSON type; numbers by their text, so 300 is not 300.0."""
    if expected is None or isinstance(expected, bool | str):
        return type(actual) is type(expected) and actual == expected
    return is_number(actual) and repr(actual) == repr(expected)


def _compare(operator: str, value: float, bound: float) -> bool:
    # Python compares an int with a float exactly, however large the int.
    if operator == "=":
        return value == bound
    if operator == "<":
        return value < bound
    if operator == "<=":
        return value <= bound
    if operator == ">":
        return value > bound
    return value >= bound


def match(pattern: Pattern, record: Any, leaves: Leaves | None = None) -> Verdict:
    """Whether the record matches; for a miss, the failure of the closest alternative."""
    leaves = leaves_of(record) if leaves is None else leaves
    best: tuple[int, Verdict] | None = None
    for fields in _conjunctions(pattern):
        progress, verdict = _match_fields(fields, leaves)
        if verdict.matched:
            return verdict
        if best is None or progress > best[0]:
            best = (progress, verdict)
    return best[1] if best else Verdict(True)


@lru_cache(maxsize=256)
def _conjunctions(pattern: Pattern) -> list[tuple[Field, ...]]:
    """A pattern's `$or`s multiplied out, once per pattern (the runner matches many records)."""
    return pattern.conjunctions()


def _match_fields(fields: tuple[Field, ...], leaves: Leaves) -> tuple[int, Verdict]:
    options: list[tuple[Field, list[Membership]]] = []
    for index, field in enumerate(fields):
        found = leaves.get(field.path, [])
        chosen = {m for value, m in found if any(accepts(x, value) for x in field.matchers)}
        if not found and any(isinstance(x, Exists) and not x.present for x in field.matchers):
            chosen.add(())
        if not chosen:
            return index, Verdict(False, field.where, _why(field, found, leaves))
        options.append((field, sorted(chosen)))
    if _consistent(sorted(options, key=lambda option: len(option[1])), {}):
        return len(fields), Verdict(True)
    keys = ", ".join(field.where for field, _ in options)
    return len(fields), Verdict(
        False,
        options[-1][0].where,
        f"each of {keys} matches, but in different elements of the same array",
    )


def _consistent(options: list[tuple[Field, list[Membership]]], bound: dict[int, int]) -> bool:
    """Whether one leaf per field can be chosen with the same element of each shared array."""
    if not options:
        return True
    (_, memberships), rest = options[0], options[1:]
    for membership in memberships:
        if all(bound.get(array, index) == index for array, index in membership):
            added = {array: index for array, index in membership if array not in bound}
            bound.update(added)
            if _consistent(rest, bound):
                return True
            for array in added:
                del bound[array]
    return False


def _why(field: Field, found: list[tuple[Any, Membership]], leaves: Leaves) -> str:
    """Why no leaf at the field's path satisfies it (the path itself is the verdict's key)."""
    if not found:
        if any(path.startswith(field.path + ".") for path in leaves):
            return (
                "the record holds an object or array here, not a leaf value; filters match "
                f"leaves only, so {field.written} cannot match"
            )
        if any(isinstance(x, Exists) and x.present for x in field.matchers):
            return "not in the record (exists: true needs it)"
        return "not in the record"
    values = ", ".join(as_json(value) for value, _ in found[:5])
    if (
        any(isinstance(x, Exists) and not x.present for x in field.matchers)
        and len(field.matchers) == 1
    ):
        return f"the record has {values} here; exists: false needs it absent"
    return f"the record has {values}, which matches none of {field.written}"


class FilterSet:
    """A trigger's patterns, parsed once. No patterns: every record passes."""

    def __init__(self, patterns: Sequence[Pattern]):
        self.patterns = tuple(patterns)

    def evaluate(self, record: Any) -> list[Verdict]:
        leaves = leaves_of(record)
        return [match(pattern, record, leaves) for pattern in self.patterns]

    def passes(self, record: Any) -> bool:
        if not self.patterns:
            return True
        leaves = leaves_of(record)
        return any(match(pattern, record, leaves).matched for pattern in self.patterns)
