"""The filter pattern model against AWS's documented pattern/event answers (the cases and
their sources: tests/unit/filter_pattern_cases.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from components.filters.dynamodb import parse_dynamodb
from components.filters.matcher import FilterSet, match
from components.filters.pattern import parse
from tests.unit.filter_pattern_cases import CASES, CUSTOMER, EMPLOYEES, PERSON


def case_id(case: tuple[str, dict[str, Any], Any, bool]) -> str:
    source, pattern, _, matches = case
    return f"{source}: {str(pattern)[:60]} -> {matches}"


def test_the_table_is_big_enough_and_covers_both_answers() -> None:
    assert len(CASES) >= 60
    assert {matches for *_, matches in CASES} == {True, False}


@pytest.mark.parametrize("case", CASES, ids=[case_id(case) for case in CASES])
def test_a_pattern_matches_as_aws_documents(case: tuple[str, dict[str, Any], Any, bool]) -> None:
    _, pattern, record, matches = case
    verdict = match(parse(pattern), record)
    assert verdict.matched is matches, verdict
    if not matches:
        assert verdict.key and verdict.reason  # a miss always says where and why


def test_the_dynamodb_cases_are_also_valid_for_a_dynamodb_mapping() -> None:
    # The DynamoDB-shaped patterns above pass the DynamoDB rules too, except the guide's
    # own "would never return a match" example, which the rules refuse (test below).
    for _, pattern, record, matches in CASES:
        if "dynamodb" in pattern and pattern != CASES[7][1]:
            assert match(parse_dynamodb(pattern), record).matched is matches


def test_a_record_passes_when_any_pattern_matches_and_always_without_patterns() -> None:
    first = parse({"dynamodb": {"NewImage": {"AccountManager": {"S": ["Terry Whitlock"]}}}})
    second = parse({"dynamodb": {"Keys": {"CustomerName": {"S": [{"prefix": "AnyCompany"}]}}}})
    assert FilterSet([first, second]).passes(CUSTOMER)
    assert not FilterSet([first]).passes(CUSTOMER)
    assert FilterSet([]).passes(CUSTOMER)
    assert [v.matched for v in FilterSet([first, second]).evaluate(CUSTOMER)] == [False, True]


@pytest.mark.parametrize(
    ("pattern", "record", "key", "reason"),
    [
        (
            {"dynamodb": {"NewImage": {"AccountManager": {"S": ["Terry Whitlock"]}}}},
            CUSTOMER,
            "dynamodb.NewImage.AccountManager.S",
            'the record has "Pat Candella", which matches none of ["Terry Whitlock"]',
        ),
        (
            {"dynamodb": {"OldImage": {"AccountManager": {"S": ["Pat Candella"]}}}},
            CUSTOMER,
            "dynamodb.OldImage.AccountManager.S",
            "not in the record",
        ),
        (
            {"person": {"address": [{"exists": True}]}},
            PERSON,
            "person.address",
            "the record holds an object or array here, not a leaf value; filters match leaves "
            'only, so [{"exists":true}] cannot match',
        ),
        (
            {"ProductName": [{"exists": False}]},
            {"ProductName": "Widget"},
            "ProductName",
            'the record has "Widget" here; exists: false needs it absent',
        ),
        (
            {"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}},
            EMPLOYEES,
            "employees.lastName",
            "each of employees.firstName, employees.lastName matches, but in different "
            "elements of the same array",
        ),
    ],
)
def test_a_miss_names_the_first_failing_key_and_why(
    pattern: dict[str, Any], record: Any, key: str, reason: str
) -> None:
    verdict = match(parse(pattern), record)
    assert (verdict.matched, verdict.key, verdict.reason) == (False, key, reason)


@pytest.mark.parametrize(
    "value", [10**400, -(10**400), float("nan"), float("inf"), b"\x00", object()]
)
def test_numeric_and_text_operators_take_any_leaf_without_raising(value: Any) -> None:
    greater = match(parse({"a": [{"numeric": [">", 1]}]}), {"a": value}).matched
    assert greater is (value == 10**400 or value == float("inf"))
    assert not match(parse({"a": [{"prefix": "x"}]}), {"a": value}).matched
    assert match(parse({"a": [{"anything-but": [1]}]}), {"a": value}).matched
