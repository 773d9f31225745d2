"""Properties of the matcher on generated records: a pattern built from a record's own
leaves matches it, negating one of its keys makes it miss, and no record, however odd,
makes matching raise."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.filters.dynamodb import problems_of
from components.filters.matcher import FilterSet, Membership, leaves_of, match
from components.filters.pattern import check, parse

KEYS = st.text(alphabet="abcdefgXYZ_-#", min_size=1, max_size=4)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=6),
)
RECORDS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, min_size=1, max_size=4)
    ),
    max_leaves=25,
)
ODD = st.recursive(  # anything Python may hand the matcher, JSON or not
    st.one_of(SCALARS, st.binary(max_size=4), st.floats(), st.integers(), st.just(object())),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(KEYS, st.integers()), inner, max_size=3),
    ),
    max_leaves=20,
)
SAMPLE_PATTERNS = [
    {"dynamodb": {"NewImage": {"status": {"S": ["PAID", {"prefix": "SHIP"}]}}}},
    {"a": [{"exists": False}], "b": {"c": [{"anything-but": ["x", "y"]}]}},
    {"$or": [{"a": [{"numeric": [">", 0, "<=", 5]}]}, {"a.b": [None, "", {"suffix": "z"}]}]},
    {"abc": [{"equals-ignore-case": "ABC"}, True, 1.5, {"exists": True}]},
]


def alternative_for(value: Any, choice: int) -> Any:
    """An alternative that accepts `value`: equality, or an operator that must accept it."""
    if isinstance(value, str) and choice == 1:
        return {"prefix": value[: len(value) // 2]}
    if isinstance(value, str) and choice == 2:
        return {"equals-ignore-case": value.swapcase()}
    if isinstance(value, int | float) and not isinstance(value, bool) and choice == 1:
        return {"numeric": ["=", value]}
    if choice == 3:
        return {"exists": True}
    return value


def consistent_leaves(record: Any, picks: list[int]) -> list[tuple[str, Any, Membership]]:
    """Leaves at distinct paths whose array elements agree (one per picked path)."""
    leaves = leaves_of(record)
    paths = sorted(path for path in leaves if path)
    chosen: list[tuple[str, Any, Membership]] = []
    bound: dict[int, int] = {}
    for pick in picks:
        if not paths:
            break
        path = paths.pop(pick % len(paths))
        for value, membership in leaves[path]:
            if all(bound.get(array, index) == index for array, index in membership):
                bound.update(dict(membership))
                chosen.append((path, value, membership))
                break
    return chosen


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    RECORDS.filter(lambda record: isinstance(record, dict)),
    st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=4),
    st.integers(min_value=0, max_value=3),
)
def test_a_pattern_built_from_a_record_matches_it_and_its_negation_does_not(
    record: dict[str, Any], picks: list[int], choice: int
) -> None:
    chosen = consistent_leaves(record, picks)
    if not chosen:
        return
    pattern = {path: [alternative_for(value, choice)] for path, value, _ in chosen}
    assert match(parse(pattern), record).matched, (pattern, record)

    negated = dict(pattern)
    path = chosen[0][0]
    negated[path] = [{"exists": False}]  # the record has a leaf there: must miss
    verdict = match(parse(negated), record)
    assert not verdict.matched and verdict.key == path, (negated, record)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(RECORDS.filter(lambda record: isinstance(record, dict)), st.integers(0, 50))
def test_anything_but_a_single_leaf_value_misses(record: dict[str, Any], pick: int) -> None:
    single = [
        (path, found[0][0])
        for path, found in sorted(leaves_of(record).items())
        if path and len(found) == 1 and (isinstance(found[0][0], str) or _number(found[0][0]))
    ]
    if not single:
        return
    path, value = single[pick % len(single)]
    assert match(parse({path: [value]}), record).matched
    assert not match(parse({path: [{"anything-but": [value]}]}), record).matched


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@settings(max_examples=150)
@given(ODD)
def test_no_record_makes_matching_raise(record: Any) -> None:
    filters = FilterSet([parse(pattern) for pattern in SAMPLE_PATTERNS])
    verdicts = filters.evaluate(record)
    assert len(verdicts) == len(SAMPLE_PATTERNS)
    assert filters.passes(record) == any(verdict.matched for verdict in verdicts)


@settings(max_examples=150)
@given(ODD)
def test_no_document_makes_the_pattern_check_raise(document: Any) -> None:
    problems = check(document)
    if not problems:
        parse(document)  # accepted documents parse
    problems_of(document)  # and the DynamoDB rules take any document too
    problems_of({"dynamodb": {"NewImage": document}})
