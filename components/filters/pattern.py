"""Lambda event filter patterns: one model for the config check, the local runner, redrive
and `filter test`.

A pattern is parsed once (`parse`) into typed rules, refusing what AWS refuses with the
path inside the pattern; components/filters/matcher.py then matches stream records the way
Lambda does and, for a miss, names the first key that failed and why. DynamoDB's own rules (only
the `dynamodb` key, typed image values, no numeric operators) live in
`components/filters/dynamodb.py`.

Semantics (Lambda guide, "Control which events Lambda sends to your function", which
defers to EventBridge's event patterns; see tests/fixtures/shared/reference/aws-facts.md):
- a record passes when it matches ANY pattern; a pattern matches when EVERY key matches;
  `$or` holds alternative sub-patterns, at least one of which must match;
- patterns and records are compared as flattened leaf paths: nesting and dotted keys
  (`"a.b"`) are the same path; an array contributes each element at the array's path, and
  keys matched inside elements of the same array must hold in the same element;
- only leaves (strings, numbers, true/false, null) match: `exists` on an object, or on an
  empty array, finds no leaf, so `exists: true` fails there and `exists: false` holds;
- values compare exactly and by type: "300" is not 300, and 300 is not 300.0 (Lambda
  compares numbers by their text);
- the operators are exactly those of Lambda's comparison-operator table: equality (incl.
  null and ""), equals-ignore-case, prefix, suffix, anything-but (a value or a list of
  values), numeric, exists, and `$or`. EventBridge-only forms (wildcard, cidr, anything-but
  with prefix/suffix/equals-ignore-case/wildcard, prefix/suffix with equals-ignore-case) are
  refused by name.

Pure Python, no imports from the rest of the repo: `components/` may not import `streamops`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

NUMERIC_OPERATORS = ("=", "<", "<=", ">", ">=")
LOWER_BOUNDS = (">", ">=")
UPPER_BOUNDS = ("<", "<=")
OPERATORS = ("anything-but", "equals-ignore-case", "exists", "numeric", "prefix", "suffix")
# In EventBridge's table but not in Lambda's (EventBridge marks them "Pipe support: No").
EVENTBRIDGE_ONLY = ("wildcard", "cidr")
OR_KEY = "$or"
# A local guard, not an AWS limit: `$or` multiplies into alternative combinations, and the
# matcher evaluates each one; past this a pattern is refused rather than slowly matched.
MAX_COMBINATIONS = 1024
LAMBDA_TABLE = (
    "Lambda's comparison-operator table ('Control which events Lambda sends to your function')"
)


@dataclass(frozen=True)
class Problem:
    """Why AWS would refuse (or never match) a pattern; `path` is inside the pattern."""

    path: str  # "" for the pattern itself, else e.g. "dynamodb.NewImage.price.N"
    message: str

    def at(self, prefix: str) -> str:
        """The problem as `<prefix>.<path>: <message>` (prefix e.g. `trigger.filterPatterns[0]`)."""
        return f"{join(prefix, self.path)}: {self.message}"


class PatternError(ValueError):
    """A pattern AWS would refuse; carries every problem found."""

    def __init__(self, problems: Sequence[Problem], prefix: str = "pattern"):
        self.problems = tuple(problems)
        super().__init__("; ".join(problem.at(prefix) for problem in self.problems))


# --- typed matchers ----------------------------------------------------------------------
@dataclass(frozen=True)
class Equals:
    value: str | int | float | bool | None


@dataclass(frozen=True)
class EqualsIgnoreCase:
    text: str


@dataclass(frozen=True)
class Prefix:
    text: str


@dataclass(frozen=True)
class Suffix:
    text: str


@dataclass(frozen=True)
class AnythingBut:
    values: tuple[str | int | float, ...]


@dataclass(frozen=True)
class Numeric:
    bounds: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Exists:
    present: bool


Matcher = Equals | EqualsIgnoreCase | Prefix | Suffix | AnythingBut | Numeric | Exists


@dataclass(frozen=True)
class Field:
    """One key of a pattern: the record leaf path it tests and its alternatives."""

    path: str  # dotted leaf path in the record, e.g. "dynamodb.NewImage.status.S"
    where: str  # the key as written in the pattern (with `$or[i]` steps), for messages
    matchers: tuple[Matcher, ...]
    written: str  # the alternatives as JSON, for messages


@dataclass(frozen=True)
class Pattern:
    """A parsed pattern: every field must match, and one branch of each `$or`."""

    fields: tuple[Field, ...]
    any_of: tuple[tuple[Pattern, ...], ...]

    def conjunctions(self) -> list[tuple[Field, ...]]:
        """The pattern with each `$or` multiplied out: alternatives of plain ANDs."""
        combos: list[tuple[Field, ...]] = [self.fields]
        for branches in self.any_of:
            combos = [
                combo + extra
                for combo in combos
                for branch in branches
                for extra in branch.conjunctions()
            ]
        return combos

    def all_fields(self) -> Iterable[Field]:
        yield from self.fields
        for branches in self.any_of:
            for branch in branches:
                yield from branch.all_fields()


def join(prefix: str, key: str) -> str:
    if not prefix:
        return key
    if not key:
        return prefix
    return f"{prefix}{key}" if key.startswith("[") else f"{prefix}.{key}"


def as_json(value: Any) -> str:
    """JSON text for a message; never raises (a non-JSON value shows as its repr)."""
    return json.dumps(value, default=repr)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- parsing -----------------------------------------------------------------------------
def load(text: str) -> Any:
    """A pattern's JSON text; a key written twice in one object is refused (the guides
    disagree on what Lambda makes of it)."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise PatternError(
                    [Problem(key, "is written twice in one object; merge them into one key")]
                )
            seen[key] = value
        return seen

    return json.loads(text, object_pairs_hook=no_duplicates)


def check(document: Any) -> list[Problem]:
    """Every grammar problem of a pattern (empty: AWS's grammar accepts it)."""
    return _parse(document)[1]


def parse(document: Any) -> Pattern:
    """The typed pattern; raises PatternError with every problem."""
    pattern, problems = _parse(document)
    if problems or pattern is None:
        raise PatternError(problems)
    return pattern


def _parse(document: Any) -> tuple[Pattern | None, list[Problem]]:
    problems: list[Problem] = []
    pattern = _parse_object(document, "", (), problems)
    if pattern is not None and not problems:
        count = 1
        for branches in _or_groups(pattern):
            count *= len(branches)
        if count > MAX_COMBINATIONS:
            problems.append(
                Problem(
                    "",
                    f"multiplies into more than {MAX_COMBINATIONS} $or combinations; the "
                    "local matcher refuses it (split it into separate patterns)",
                )
            )
    return pattern, problems


def _or_groups(pattern: Pattern) -> Iterable[tuple[Pattern, ...]]:
    for branches in pattern.any_of:
        yield branches
        for branch in branches:
            yield from _or_groups(branch)


def _parse_object(
    document: Any, where: str, segments: tuple[str, ...], problems: list[Problem]
) -> Pattern | None:
    if not isinstance(document, dict):
        problems.append(Problem(where, f"must be a JSON object (a pattern), got {document!r}"))
        return None
    if not document:
        problems.append(Problem(where, "is an empty object; AWS refuses empty objects"))
        return None
    fields: list[Field] = []
    any_of: list[tuple[Pattern, ...]] = []
    for key, value in document.items():
        here = join(where, str(key))
        if not isinstance(key, str) or not key or "" in key.split("."):
            problems.append(
                Problem(here, "is not a usable key (empty, or with an empty dotted part)")
            )
            continue
        if key == OR_KEY:
            branches = _parse_or(value, here, segments, problems)
            if branches:
                any_of.append(branches)
            continue
        path = (*segments, *key.split("."))
        if isinstance(value, dict):
            nested = _parse_object(value, here, path, problems)
            if nested is not None:
                fields.extend(nested.fields)
                any_of.extend(nested.any_of)
        elif isinstance(value, list):
            matchers = _parse_alternatives(value, here, problems)
            written = json.dumps(value, separators=(",", ":"), default=repr)
            fields.append(Field(".".join(path), here, matchers, written))
        else:
            problems.append(
                Problem(
                    here,
                    f"must be a list of values to match (e.g. [{as_json(value)}]) or an "
                    f"object of nested keys, got {value!r}",
                )
            )
    return Pattern(tuple(fields), tuple(any_of))


def _parse_or(
    value: Any, where: str, segments: tuple[str, ...], problems: list[Problem]
) -> tuple[Pattern, ...]:
    if not isinstance(value, list) or len(value) < 2:
        problems.append(
            Problem(
                where,
                "must be a list of at least two sub-patterns (objects); otherwise AWS takes "
                f"it for a field named $or, which no record has (got {value!r})",
            )
        )
        return ()
    branches = []
    for index, branch in enumerate(value):
        parsed = _parse_object(branch, f"{where}[{index}]", segments, problems)
        if parsed is not None:
            branches.append(parsed)
    return tuple(branches)


def _parse_alternatives(
    values: list[Any], where: str, problems: list[Problem]
) -> tuple[Matcher, ...]:
    if not values:
        problems.append(
            Problem(
                where,
                "is an empty list; AWS refuses it (to match null write [null], an empty "
                'string [""])',
            )
        )
        return ()
    matchers: list[Matcher] = []
    for item in values:
        if item is None or isinstance(item, str | bool):
            matchers.append(Equals(item))
        elif is_number(item):
            if _finite(item, where, "a value", problems):
                matchers.append(Equals(item))
        elif isinstance(item, dict):
            matcher = _parse_operator(item, where, problems)
            if matcher is not None:
                matchers.append(matcher)
        else:
            problems.append(
                Problem(
                    where,
                    f"holds {item!r}: a list holds strings, numbers, true/false, null or "
                    "one-operator objects",
                )
            )
    return tuple(matchers)


def _finite(value: Any, where: str, what: str, problems: list[Problem]) -> bool:
    if math.isfinite(value):
        return True
    problems.append(Problem(where, f"{what} must be a finite number, got {value!r}"))
    return False


def _parse_operator(item: dict[str, Any], where: str, problems: list[Problem]) -> Matcher | None:
    if len(item) != 1:
        problems.append(
            Problem(
                where,
                f"an operator object holds exactly one operator, got {sorted(map(str, item))}",
            )
        )
        return None
    ((name, operand),) = item.items()
    if name in EVENTBRIDGE_ONLY:
        problems.append(
            Problem(
                where,
                f"{name!r} is not in {LAMBDA_TABLE}; EventBridge supports it, Lambda does not",
            )
        )
        return None
    if name in ("prefix", "suffix"):
        return _parse_affix(name, operand, where, problems)
    if name == "equals-ignore-case":
        if isinstance(operand, str):
            return EqualsIgnoreCase(operand)
        problems.append(
            Problem(
                where,
                f"equals-ignore-case needs a string (not a list or an object), got {operand!r}",
            )
        )
        return None
    if name == "anything-but":
        return _parse_anything_but(operand, where, problems)
    if name == "numeric":
        return _parse_numeric(operand, where, problems)
    if name == "exists":
        if isinstance(operand, bool):
            return Exists(operand)
        problems.append(Problem(where, f"exists needs true or false, got {operand!r}"))
        return None
    problems.append(
        Problem(
            where, f"{name!r} is not an operator of {LAMBDA_TABLE} (one of {', '.join(OPERATORS)})"
        )
    )
    return None


def _parse_affix(name: str, operand: Any, where: str, problems: list[Problem]) -> Matcher | None:
    if isinstance(operand, str):
        return Prefix(operand) if name == "prefix" else Suffix(operand)
    if isinstance(operand, dict) and "equals-ignore-case" in operand:
        problems.append(
            Problem(
                where,
                f"{name} with equals-ignore-case is not in {LAMBDA_TABLE}; use a plain "
                f"{name} string",
            )
        )
        return None
    problems.append(Problem(where, f"{name} needs a string, got {operand!r}"))
    return None


def _parse_anything_but(operand: Any, where: str, problems: list[Problem]) -> Matcher | None:
    if isinstance(operand, dict):
        forms = ", ".join(sorted(operand)) or "{}"
        problems.append(
            Problem(
                where,
                f"anything-but with {forms} is not in {LAMBDA_TABLE}, which allows "
                "anything-but with a value or a list of values only (EventBridge allows "
                "the nested forms on event buses, not on pipes)",
            )
        )
        return None
    values = operand if isinstance(operand, list) else [operand]
    if not values:
        problems.append(Problem(where, "anything-but needs at least one value, got []"))
        return None
    for value in values:
        if value is None:
            problems.append(Problem(where, "anything-but cannot take null; AWS refuses it"))
            return None
        if not (isinstance(value, str) or is_number(value)):
            problems.append(Problem(where, f"anything-but takes strings or numbers, got {value!r}"))
            return None
        if is_number(value) and not _finite(value, where, "anything-but", problems):
            return None
    if len({isinstance(value, str) for value in values}) > 1:
        problems.append(
            Problem(where, f"anything-but takes all strings or all numbers, got {values!r}")
        )
        return None
    return AnythingBut(tuple(values))


def _parse_numeric(operand: Any, where: str, problems: list[Problem]) -> Matcher | None:
    shape = 'pairs of an operator (=, <, <=, >, >=) and a number, e.g. [">", 0, "<=", 5]'
    if not isinstance(operand, list) or not operand or len(operand) % 2:
        problems.append(Problem(where, f"numeric needs {shape}, got {operand!r}"))
        return None
    bounds: list[tuple[str, float]] = []
    for operator, bound in zip(operand[::2], operand[1::2], strict=True):
        if operator not in NUMERIC_OPERATORS:
            problems.append(Problem(where, f"numeric needs {shape}; {operator!r} is not one"))
            return None
        if not is_number(bound):
            problems.append(
                Problem(where, f"numeric needs a JSON number after {operator!r}, got {bound!r}")
            )
            return None
        if not _finite(bound, where, "numeric bound", problems):
            return None
        bounds.append((operator, float(bound)))
    operators = [operator for operator, _ in bounds]
    lower = [bound for bound in bounds if bound[0] in LOWER_BOUNDS]
    upper = [bound for bound in bounds if bound[0] in UPPER_BOUNDS]
    if "=" in operators and len(bounds) > 1:
        message = 'numeric "=" must stand alone, not with other bounds'
    elif len(lower) > 1:
        message = f"numeric takes at most one lower bound (> or >=), got {operand!r}"
    elif len(upper) > 1:
        message = f"numeric takes at most one upper bound (< or <=), got {operand!r}"
    elif lower and upper and lower[0][1] >= upper[0][1]:
        message = (
            f"numeric range is empty: the lower bound is not below the upper one in {operand!r}"
        )
    else:
        return Numeric(tuple(bounds))
    problems.append(Problem(where, message))
    return None
