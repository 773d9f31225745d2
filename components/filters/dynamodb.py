"""What a DynamoDB event source mapping can filter on: the rules on top of the pattern
grammar (components/filters/pattern.py) that the config check and `filter test` apply.

From the Lambda guide, "Using event filtering with a DynamoDB event source" (read
2026-12-01; quoted in tests/fixtures/shared/reference/aws-facts.md):
- "DynamoDB event source mappings only support filtering on the `dynamodb` key." A pattern
  on `eventName`, `userIdentity` or another top-level field is refused, with the supported
  way to say the same thing where there is one;
- "DynamoDB event filtering doesn't support the use of numeric operators (numeric equals
  and numeric range). Even if items in your table are stored as numbers, these parameters
  are converted to strings in the JSON record object.";
- "The Exists operator only works on leaf nodes in the event JSON": an image attribute is
  an object (`{"S": ...}`), so `exists` (or any value) on the attribute itself never matches.
And what the record's shape implies: image values are typed, so a plain value under an
attribute (`{"status": ["active"]}`) or a number under `N` can never match; both refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from components.filters.pattern import (
    OR_KEY,
    PatternError,
    Problem,
    as_json,
    check,
    is_number,
    join,
    parse,
)
from components.filters.pattern import Pattern as Pattern

RECORD_KEY = "dynamodb"
STREAM_RECORD_FIELDS = (
    "ApproximateCreationDateTime",
    "Keys",
    "NewImage",
    "OldImage",
    "SequenceNumber",
    "SizeBytes",
    "StreamViewType",
)
IMAGES = ("Keys", "NewImage", "OldImage")
# DynamoDB's attribute types and the JSON type of their leaves in a stream record.
LEAF_TYPES = {
    "S": str,
    "N": str,
    "B": str,
    "SS": str,
    "NS": str,
    "BS": str,
    "BOOL": bool,
    "NULL": bool,
}
NESTED_TYPES = ("M", "L")
GUIDE = "Lambda guide, 'Using event filtering with a DynamoDB event source'"
ONLY_DYNAMODB = (
    f"DynamoDB event source mappings only support filtering on the `dynamodb` key ({GUIDE})"
)
NO_NUMERIC = (
    "DynamoDB event filtering doesn't support the use of numeric operators (numeric equals "
    f"and numeric range): numbers arrive in the record as strings ({GUIDE}); match the "
    'exact string (e.g. {"N": ["10"]}) instead'
)

Level = Callable[[str, Any, str, list[Problem], str], None]


def problems_of(document: Any, partition_key: str = "PK") -> list[Problem]:
    """Every reason AWS would refuse the pattern, or it could never match a stream record."""
    return check(document) + dynamodb_problems(document, partition_key)


def parse_dynamodb(document: Any, partition_key: str = "PK") -> Pattern:
    """The typed pattern, refused (PatternError) unless it is valid for a DynamoDB mapping."""
    problems = problems_of(document, partition_key)
    if problems:
        raise PatternError(problems)
    return parse(document)


def images_referenced(document: Any) -> set[str]:
    """The images ("NewImage", "OldImage") a valid pattern looks at, `$or` branches included."""
    try:
        pattern = parse(document)
    except PatternError:
        return set()
    images = set()
    for field in pattern.all_fields():
        segments = field.path.split(".")
        if (
            len(segments) > 1
            and segments[0] == RECORD_KEY
            and segments[1] in ("NewImage", "OldImage")
        ):
            images.add(segments[1])
    return images


def dynamodb_problems(document: Any, partition_key: str = "PK") -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(document, dict):
        _each(document, "", _record_level, problems, partition_key)
    return problems


def _each(obj: dict[Any, Any], where: str, level: Level, problems: list[Problem], key: str) -> None:
    """Apply `level` to each key of obj: `$or` branches stay at the same level, and a dotted
    key is its first part holding the rest (so `"a.b": x` is `"a": {"b": x}`)."""
    for name, value in obj.items():
        if not isinstance(name, str) or not name:
            continue  # the grammar check reports it
        if name == OR_KEY:
            for index, branch in enumerate(value if isinstance(value, list) else []):
                if isinstance(branch, dict):
                    _each(branch, f"{join(where, name)}[{index}]", level, problems, key)
            continue
        head, _, rest = name.partition(".")
        level(head, {rest: value} if rest else value, join(where, head), problems, key)


def _record_level(name: str, value: Any, where: str, problems: list[Problem], key: str) -> None:
    if name != RECORD_KEY:
        problems.append(Problem(where, f"{ONLY_DYNAMODB}{_hint(name, key)}"))
    elif isinstance(value, dict):
        _each(value, where, _stream_record_level, problems, key)
    elif isinstance(value, list):
        problems.append(
            Problem(
                where,
                "is the record's data, an object, not a leaf: name its fields (Keys, "
                "NewImage, ...)",
            )
        )


def _hint(name: str, key: str) -> str:
    absent = '{"S": [{"exists": false}]}'
    if name == "eventName":
        return (
            f". To keep only INSERTs (stream view NEW_AND_OLD_IMAGES), test that the old "
            "image lacks the partition key: "
            f'{{"dynamodb": {{"OldImage": {{"{key}": {absent}}}}}}}; '
            "only REMOVEs: the same on NewImage (README, Filter patterns)"
        )
    if name == "userIdentity":
        return (
            ". Only userIdentity tells a TTL deletion from a user's: keep REMOVEs whose old "
            "image has the TTL attribute and check userIdentity in the function (README, "
            "Filter patterns)"
        )
    return ""


def _stream_record_level(
    name: str, value: Any, where: str, problems: list[Problem], key: str
) -> None:
    if name not in STREAM_RECORD_FIELDS:
        problems.append(
            Problem(
                where,
                f"is not a field of the record's `dynamodb` object (one of "
                f"{', '.join(STREAM_RECORD_FIELDS)}); a pattern on it would filter out every "
                "record",
            )
        )
    elif name in IMAGES and isinstance(value, dict):
        _each(value, where, _attribute_level, problems, key)
    elif name in IMAGES and isinstance(value, list):
        problems.append(
            Problem(
                where,
                f"is an object of attributes, not a leaf: the Exists operator and values only "
                f"work on leaf nodes, so this never matches ({GUIDE}); test a typed attribute, "
                f'e.g. {{"{name}": {{"{key}": {{"S": [{{"exists": true}}]}}}}}}',
            )
        )
    elif isinstance(value, list):
        _leaf_values(value, where, None, problems)


def _attribute_level(name: str, value: Any, where: str, problems: list[Problem], key: str) -> None:
    if isinstance(value, dict):
        _each(value, where, _typed_level, problems, key)
    elif isinstance(value, list):
        example = as_json({name: {"S": value}})
        problems.append(
            Problem(
                where,
                'holds plain values, but image attributes are typed values ({"S": ...}, '
                '{"N": ...}): the Exists operator and values only work on leaf nodes, so '
                f"this can never match a DynamoDB record; write e.g. {example}",
            )
        )


def _typed_level(name: str, value: Any, where: str, problems: list[Problem], key: str) -> None:
    if name not in LEAF_TYPES and name not in NESTED_TYPES:
        types = ", ".join([*LEAF_TYPES, *NESTED_TYPES])
        problems.append(
            Problem(
                where,
                f"is not a DynamoDB attribute type ({types}); image values are typed, e.g. "
                '{"status": {"S": ["active"]}}, so this can never match',
            )
        )
    elif name == "M" and isinstance(value, dict):
        _each(value, where, _attribute_level, problems, key)
    elif name == "L" and isinstance(value, dict):
        _each(value, where, _typed_level, problems, key)
    elif name in NESTED_TYPES and isinstance(value, list):
        shape = '{"M": {"city": {"S": [...]}}}' if name == "M" else '{"L": {"S": [...]}}'
        problems.append(
            Problem(
                where, f"is not a leaf (a {name} holds typed values): test inside it, e.g. {shape}"
            )
        )
    elif name in LEAF_TYPES and isinstance(value, list):
        _leaf_values(value, where, name, problems)


def _leaf_values(values: list[Any], where: str, kind: str | None, problems: list[Problem]) -> None:
    """Alternatives for one leaf: never numeric; of the JSON type the record holds there."""
    for item in values:
        if isinstance(item, dict) and "numeric" in item:
            problems.append(Problem(where, NO_NUMERIC))
            return
        if kind is None:
            continue
        operand = item.get("anything-but") if isinstance(item, dict) else item
        for value in operand if isinstance(operand, list) else [operand]:
            message = _wrong_type(kind, item, value)
            if message:
                problems.append(Problem(where, message))
                return


def _wrong_type(kind: str, item: Any, value: Any) -> str | None:
    if LEAF_TYPES[kind] is bool:
        if isinstance(item, dict) and set(item) & {"prefix", "suffix", "equals-ignore-case"}:
            return f"a {kind} value is true or false, so {as_json(item)} never matches it"
        if isinstance(value, str) or is_number(value):
            return f"a {kind} value is true or false, so {as_json(value)} never matches"
        return None
    if is_number(value):
        why = (
            "DynamoDB puts numbers in images as strings"
            if kind in ("N", "NS")
            else f"{kind} values are strings"
        )
        text = json.dumps(str(value))
        return f"{value!r} is a JSON number, but {why}, so it never matches: write {text}"
    if isinstance(value, bool):
        return f"{kind} values are strings in the record, so {as_json(value)} never matches"
    return None
