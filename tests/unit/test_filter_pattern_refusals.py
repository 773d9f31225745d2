"""Patterns AWS refuses (or that can never match a DynamoDB stream record) are refused up
front, each with the path inside the pattern and the reason; the same model refuses them
in the config (before any resource is registered) and in the local runner."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import ConfigError, parse_config
from components.filters.dynamodb import parse_dynamodb, problems_of
from components.filters.pattern import PatternError, load, parse
from streamops.lambda_local.event_filter import RecordFilter, UnsupportedFilter
from tests.unit.test_config import raw

LEAF = "dynamodb.Keys.PK.S"


def at_leaf(*alternatives: Any) -> dict[str, Any]:
    return {"dynamodb": {"Keys": {"PK": {"S": list(alternatives)}}}}


# (pattern, path inside it, start of the message): the grammar AWS applies.
GRAMMAR = [
    ({"dynamodb": {"Keys": {"PK": {"S": []}}}}, LEAF, "is an empty list; AWS refuses it"),
    ({"dynamodb": {"Keys": {"PK": {"S": "USER#1"}}}}, LEAF, "must be a list of values to match"),
    ({"dynamodb": {"Keys": {}}}, "dynamodb.Keys", "is an empty object; AWS refuses empty objects"),
    (at_leaf(["USER#1"]), LEAF, "holds ['USER#1']: a list holds strings, numbers"),
    (at_leaf({"prefix": 5}), LEAF, "prefix needs a string, got 5"),
    (at_leaf({"suffix": ["#7"]}), LEAF, "suffix needs a string, got ['#7']"),
    (
        at_leaf({"prefix": {"equals-ignore-case": "user"}}),
        LEAF,
        "prefix with equals-ignore-case is not in",
    ),
    (
        at_leaf({"equals-ignore-case": ["a", "b"]}),
        LEAF,
        "equals-ignore-case needs a string (not a list or an object)",
    ),
    (
        at_leaf({"equals-ignore-case": {"prefix": "a"}}),
        LEAF,
        "equals-ignore-case needs a string (not a list or an object)",
    ),
    (at_leaf({"anything-but": None}), LEAF, "anything-but cannot take null"),
    (at_leaf({"anything-but": [None]}), LEAF, "anything-but cannot take null"),
    (at_leaf({"anything-but": []}), LEAF, "anything-but needs at least one value"),
    (at_leaf({"anything-but": True}), LEAF, "anything-but takes strings or numbers"),
    (at_leaf({"anything-but": ["a", 1]}), LEAF, "anything-but takes all strings or all numbers"),
    (
        at_leaf({"anything-but": {"prefix": "USER#"}}),
        LEAF,
        "anything-but with prefix is not in Lambda's",
    ),
    (
        at_leaf({"anything-but": {"suffix": ".png"}}),
        LEAF,
        "anything-but with suffix is not in Lambda's",
    ),
    (
        at_leaf({"anything-but": {"equals-ignore-case": "x"}}),
        LEAF,
        "anything-but with equals-ignore-case is not in",
    ),
    (at_leaf({"anything-but": {"wildcard": "*x"}}), LEAF, "anything-but with wildcard is not in"),
    (
        at_leaf({"wildcard": "USER*"}),
        LEAF,
        "'wildcard' is not in Lambda's comparison-operator table",
    ),
    (at_leaf({"cidr": "10.0.0.0/8"}), LEAF, "'cidr' is not in Lambda's comparison-operator table"),
    (at_leaf({"contains": "x"}), LEAF, "'contains' is not an operator of Lambda's"),
    (
        at_leaf({"prefix": "a", "suffix": "b"}),
        LEAF,
        "an operator object holds exactly one operator",
    ),
    (at_leaf({"exists": "true"}), LEAF, "exists needs true or false"),
    (
        at_leaf({"numeric": [">", 0, ">=", 1]}),
        LEAF,
        "numeric takes at most one lower bound (> or >=)",
    ),
    (
        at_leaf({"numeric": ["<", 5, "<=", 9]}),
        LEAF,
        "numeric takes at most one upper bound (< or <=)",
    ),
    (at_leaf({"numeric": ["=", 5, "<", 9]}), LEAF, 'numeric "=" must stand alone'),
    (at_leaf({"numeric": [">", 5, "<", 5]}), LEAF, "numeric range is empty"),
    (at_leaf({"numeric": [">", 0, "<"]}), LEAF, "numeric needs pairs of an operator"),
    (at_leaf({"numeric": [">>", 1]}), LEAF, "numeric needs pairs of an operator"),
    (at_leaf({"numeric": [">", "10"]}), LEAF, "numeric needs a JSON number after '>', got '10'"),
    (
        {"$or": [{"dynamodb": {"Keys": {"PK": {"S": ["a"]}}}}]},
        "$or",
        "must be a list of at least two",
    ),
    (
        {"$or": {"dynamodb": {"Keys": {"PK": {"S": ["a"]}}}}},
        "$or",
        "must be a list of at least two",
    ),
    ({"$or": [{"dynamodb": {"Keys": {"PK": {"S": ["a"]}}}}, 5]}, "$or[1]", "must be a JSON object"),
    ({"dynamodb..Keys": {"PK": {"S": ["a"]}}}, "dynamodb..Keys", "is not a usable key"),
]

# What a DynamoDB mapping adds: only the `dynamodb` key, typed leaves, no numeric.
DYNAMODB = [
    (
        {"eventName": ["INSERT"]},
        "eventName",
        "DynamoDB event source mappings only support filtering on the `dynamodb` key",
    ),
    (
        {"userIdentity": {"type": ["Service"]}},
        "userIdentity",
        "DynamoDB event source mappings only support filtering on the `dynamodb` key",
    ),
    (
        {"eventSource": ["aws:dynamodb"]},
        "eventSource",
        "DynamoDB event source mappings only support",
    ),
    (
        {"$or": [{"eventName": ["INSERT"]}, at_leaf("a")]},
        "$or[0].eventName",
        "DynamoDB event source mappings only support",
    ),
    (
        {"dynamodb": {"NewImages": {"a": {"S": ["x"]}}}},
        "dynamodb.NewImages",
        "is not a field of the record's `dynamodb` object",
    ),
    ({"dynamodb": [{"exists": True}]}, "dynamodb", "is the record's data, an object, not a leaf"),
    (
        {"dynamodb": {"OldImage": [{"exists": False}]}},
        "dynamodb.OldImage",
        "is an object of attributes, not a leaf",
    ),
    (
        {"dynamodb": {"NewImage": {"status": ["active"]}}},
        "dynamodb.NewImage.status",
        "holds plain values, but image attributes are typed values",
    ),
    (
        {"dynamodb": {"NewImage": {"Organizations": [{"exists": True}]}}},
        "dynamodb.NewImage.Organizations",
        "holds plain values, but image attributes are typed values",
    ),
    (
        {"dynamodb": {"NewImage": {"status": {"STR": ["a"]}}}},
        "dynamodb.NewImage.status.STR",
        "is not a DynamoDB attribute type",
    ),
    (
        {"dynamodb": {"NewImage": {"price": {"N": [12.5]}}}},
        "dynamodb.NewImage.price.N",
        "12.5 is a JSON number, but DynamoDB puts numbers in images as strings",
    ),
    (
        {"dynamodb": {"NewImage": {"price": {"N": [{"anything-but": [0]}]}}}},
        "dynamodb.NewImage.price.N",
        "0 is a JSON number, but DynamoDB puts numbers",
    ),
    (
        {"dynamodb": {"NewImage": {"price": {"N": [{"numeric": [">", 10]}]}}}},
        "dynamodb.NewImage.price.N",
        "DynamoDB event filtering doesn't support the use of numeric operators",
    ),
    (
        {"dynamodb": {"SizeBytes": [{"numeric": [">", 1024]}]}},
        "dynamodb.SizeBytes",
        "DynamoDB event filtering doesn't support the use of numeric operators",
    ),
    (
        {"dynamodb": {"NewImage": {"paid": {"BOOL": ["true"]}}}},
        "dynamodb.NewImage.paid.BOOL",
        'a BOOL value is true or false, so "true" never matches',
    ),
    (
        {"dynamodb": {"NewImage": {"paid": {"BOOL": [{"prefix": "t"}]}}}},
        "dynamodb.NewImage.paid.BOOL",
        "a BOOL value is true or false",
    ),
    (
        {"dynamodb": {"NewImage": {"name": {"S": [7]}}}},
        "dynamodb.NewImage.name.S",
        "7 is a JSON number, but S values are strings",
    ),
    (
        {"dynamodb": {"NewImage": {"address": {"M": ["x"]}}}},
        "dynamodb.NewImage.address.M",
        "is not a leaf (a M holds typed values)",
    ),
    (
        {"dynamodb": {"NewImage": {"address": {"M": {"city": ["Hanoi"]}}}}},
        "dynamodb.NewImage.address.M.city",
        "holds plain values",
    ),
    ({"dynamodb.NewImage.status": ["active"]}, "dynamodb.NewImage.status", "holds plain values"),
]


def refused(problems: list[Any]) -> list[tuple[str, str]]:
    return [(problem.path, problem.message) for problem in problems]


@pytest.mark.parametrize(("pattern", "path", "message"), GRAMMAR + DYNAMODB)
def test_a_refused_pattern_names_the_path_and_why(pattern: Any, path: str, message: str) -> None:
    problems = refused(problems_of(pattern))
    assert any(p == path and m.startswith(message) for p, m in problems), problems
    with pytest.raises(PatternError):
        parse_dynamodb(pattern)


@pytest.mark.parametrize(("pattern", "path", "message"), GRAMMAR[:4] + DYNAMODB[:1] + DYNAMODB[7:8])
def test_the_config_refuses_it_with_the_full_key(pattern: Any, path: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(raw(trigger={"filterPatterns": [pattern]}), "dev")
    full = f"dynamodb-stream-processor:trigger.filterPatterns[0].{path}: {message}"
    assert any(problem.startswith(full) for problem in error.value.problems), error.value


@pytest.mark.parametrize(("pattern", "path", "message"), GRAMMAR[4:8] + DYNAMODB[10:13])
def test_the_local_runner_refuses_it_instead_of_crashing(
    pattern: Any, path: str, message: str
) -> None:
    with pytest.raises(
        UnsupportedFilter, match=rf"filterPatterns\[0\]\.{path.replace('.', '[.]')}: "
    ):
        RecordFilter([json.dumps(pattern)])


def test_the_eventname_refusal_shows_the_supported_way_to_keep_inserts() -> None:
    (problem,) = problems_of({"eventName": ["INSERT"]})
    supported = '{"dynamodb": {"OldImage": {"PK": {"S": [{"exists": false}]}}}}'
    assert supported in problem.message
    assert parse_dynamodb(json.loads(supported))  # and the suggestion itself is accepted


def test_a_key_written_twice_is_refused_rather_than_guessed() -> None:
    # The DynamoDB guide's "Boolean expressions" example writes "dynamodb" twice.
    text = (
        '{ "dynamodb" : { "NewImage" : { "AccountManager" : { "S" : [ "Pat Candella" ] } } } , '
        '"dynamodb" : { "OldImage" : { "AccountManager" : { "S" : [ "Terry Whitlock" ] } } } }'
    )
    with pytest.raises(PatternError, match=r"pattern\.dynamodb: is written twice in one object"):
        load(text)


def test_too_many_or_combinations_are_refused_locally() -> None:
    branch = {"$or": [{"a": ["x"]}, {"b": ["y"]}]}
    pattern: dict[str, Any] = {f"k{n}": branch for n in range(11)}  # 2**11 combinations
    with pytest.raises(PatternError, match="more than 1024 \\$or combinations"):
        parse(pattern)


def test_every_problem_of_a_pattern_is_reported_at_once() -> None:
    pattern = {
        "eventName": ["INSERT"],
        "dynamodb": {"NewImage": {"status": ["a"], "n": {"N": [1]}}},
    }
    assert [p for p, _ in refused(problems_of(pattern))] == [
        "eventName",
        "dynamodb.NewImage.status",
        "dynamodb.NewImage.n.N",
    ]


def test_an_image_named_inside_an_or_branch_must_be_carried_by_the_view() -> None:
    pattern = {
        "$or": [
            {"dynamodb": {"OldImage": {"status": {"S": ["paid"]}}}},
            {"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "USER#"}]}}}},
        ]
    }
    with pytest.raises(ConfigError) as error:
        parse_config(
            raw(table={"streamViewType": "NEW_IMAGE"}, trigger={"filterPatterns": [pattern]}),
            "dev",
        )
    assert "trigger.filterPatterns filters on dynamodb.OldImage" in str(error.value)
