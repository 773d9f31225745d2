"""Lambda event filter patterns, evaluated by the local runner the way Lambda does."""

from __future__ import annotations

import json
from typing import Any

import pytest

from streamops.lambda_local.event_filter import RecordFilter, UnsupportedFilter

RECORD: dict[str, Any] = {
    "eventName": "MODIFY",
    "eventSource": "aws:dynamodb",
    "dynamodb": {
        "ApproximateCreationDateTime": 1_700_000_000.0,
        "Keys": {"PK": {"S": "USER#42"}, "SK": {"S": "ORDER#7"}},
        "NewImage": {"status": {"S": "shipped"}, "price": {"N": "12.5"}},
    },
}


@pytest.mark.parametrize(
    ("pattern", "passes"),
    [
        ({"eventName": ["MODIFY"]}, True),
        ({"eventName": ["INSERT", "REMOVE"]}, False),
        ({"eventName": ["MODIFY"], "eventSource": ["aws:kinesis"]}, False),  # AND of keys
        ({"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "USER#"}]}}}}, True),
        ({"dynamodb": {"Keys": {"SK": {"S": [{"suffix": "#7"}]}}}}, True),
        ({"dynamodb": {"NewImage": {"status": {"S": [{"equals-ignore-case": "SHIPPED"}]}}}}, True),
        ({"dynamodb": {"NewImage": {"status": {"S": [{"anything-but": ["shipped"]}]}}}}, False),
        ({"dynamodb": {"NewImage": {"status": {"S": [{"anything-but": {"prefix": "c"}}]}}}}, True),
        ({"dynamodb": {"NewImage": {"deleted": [{"exists": False}]}}}, True),
        ({"dynamodb": {"OldImage": {"status": [{"exists": True}]}}}, False),
        ({"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0, "<=", 2e9]}]}}, True),
        # An N value is text in the record: numeric matching never sees a number there.
        ({"dynamodb": {"NewImage": {"price": {"N": [{"numeric": [">", 10]}]}}}}, False),
        ({"dynamodb": {"NewImage": {"price": {"N": ["12.5"]}}}}, True),
    ],
)
def test_a_pattern_matches_like_lambda(pattern: dict[str, Any], passes: bool) -> None:
    assert RecordFilter([json.dumps(pattern)]).passes(RECORD) is passes


def test_a_record_passes_when_any_pattern_matches_and_always_without_patterns() -> None:
    insert_only = json.dumps({"eventName": ["INSERT"]})
    modify_only = json.dumps({"eventName": ["MODIFY"]})
    assert RecordFilter([insert_only, modify_only]).passes(RECORD)
    assert not RecordFilter([insert_only]).passes(RECORD)
    assert RecordFilter([]).passes(RECORD)


def test_a_boolean_is_not_equal_to_a_number() -> None:
    record = {"dynamodb": {"NewImage": {"flag": {"BOOL": True}}}}

    def pattern(value: Any) -> str:
        return json.dumps({"dynamodb": {"NewImage": {"flag": {"BOOL": [value]}}}})

    assert not RecordFilter([pattern(1)]).passes(record)
    assert RecordFilter([pattern(True)]).passes(record)


@pytest.mark.parametrize(
    "alternative",
    [{"wildcard": "a*"}, {"prefix": "a", "suffix": "b"}, {"numeric": [">>", 1]}],
)
def test_an_operator_the_runner_cannot_evaluate_is_refused(alternative: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedFilter, match=r"filterPatterns\[0\]\.eventName"):
        RecordFilter([json.dumps({"eventName": [alternative]})])
