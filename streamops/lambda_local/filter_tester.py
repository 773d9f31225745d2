"""`filter test`: which of a stack's filter patterns (or a pattern given by hand) a stream
record matches, and for a miss the first key that failed and why.

Lambda has no API to test a filter pattern; a pattern that matches nothing silently drops
every record. This evaluates with the same model the config check and the local runner
use (components/filter_pattern*.py, components/filters/matcher.py). The record is a stream
record as Lambda delivers it, or an item in DynamoDB JSON wrapped as the record an
INSERT / MODIFY / REMOVE of it produces under the stack's stream view type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from components.config import HASH_KEY, RANGE_KEY, ConfigError, parse_stack_config
from components.filters.dynamodb import parse_dynamodb
from components.filters.matcher import FilterSet, Verdict
from components.filters.pattern import PatternError, load
from streamops.program import load_stack_config

EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")
VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
DEFAULT_VIEW = "NEW_AND_OLD_IMAGES"


class BadInput(ValueError):
    """Input the test cannot evaluate (exit 2): a refused pattern, a malformed record."""


@dataclass(frozen=True)
class Patterns:
    texts: tuple[str, ...]  # compact JSON, as the mapping gets them
    view_type: str
    source: str  # where they came from, for the report


@dataclass(frozen=True)
class Outcome:
    record: dict[str, Any]
    patterns: Patterns
    verdicts: tuple[Verdict, ...]

    @property
    def matched(self) -> bool:
        return not self.verdicts or any(verdict.matched for verdict in self.verdicts)

    def as_json(self) -> dict[str, Any]:
        return {
            "matched": self.matched,
            "source": self.patterns.source,
            "patterns": [
                {
                    "index": index,
                    "pattern": json.loads(text),
                    "matched": verdict.matched,
                    "key": verdict.key,
                    "reason": verdict.reason,
                }
                for index, (text, verdict) in enumerate(
                    zip(self.patterns.texts, self.verdicts, strict=True)
                )
            ],
            "record": self.record,
        }


def stack_patterns(stack: str) -> Patterns:
    """The stack's configured patterns, through the config parser (refusals included)."""
    try:
        config = parse_stack_config(load_stack_config(stack), stack)
    except (ConfigError, FileNotFoundError) as error:
        raise BadInput(str(error)) from error
    return Patterns(
        config.trigger.filter_patterns,
        config.table.stream_view_type,
        f"stack {stack} (trigger.filterPatterns)",
    )


def given_pattern(text: str, view_type: str) -> Patterns:
    """One pattern from the command line, checked as the config would check it."""
    try:
        document = load(text)
        parse_dynamodb(document, HASH_KEY)
    except PatternError as error:
        raise BadInput("; ".join(problem.at("--pattern") for problem in error.problems)) from error
    except ValueError as error:
        raise BadInput(f"--pattern is not JSON: {error}") from error
    compact = json.dumps(document, separators=(",", ":"), sort_keys=True)
    return Patterns((compact,), view_type, "--pattern")


def evaluate(patterns: Patterns, record: dict[str, Any]) -> Outcome:
    filters = FilterSet([parse_dynamodb(json.loads(text), HASH_KEY) for text in patterns.texts])
    return Outcome(record, patterns, tuple(filters.evaluate(record)))


def read_record(text: str) -> dict[str, Any]:
    """One stream record (a Lambda event holding exactly one record is unwrapped)."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise BadInput(f"the record is not JSON: {error}") from error
    if isinstance(document, dict) and isinstance(document.get("Records"), list):
        if len(document["Records"]) != 1:
            raise BadInput(f"the event holds {len(document['Records'])} records; give one record")
        document = document["Records"][0]
    if not isinstance(document, dict) or not isinstance(document.get("dynamodb"), dict):
        raise BadInput(
            "the record must be a JSON object with a `dynamodb` object (a stream record)"
        )
    return document


def read_item(text: str, what: str) -> dict[str, Any]:
    """An item in DynamoDB JSON ({"PK": {"S": "..."}, ...})."""
    try:
        item = json.loads(text)
    except ValueError as error:
        raise BadInput(f"{what} is not JSON: {error}") from error
    if not isinstance(item, dict) or not item:
        raise BadInput(f"{what} must be a non-empty JSON object of attributes")
    for name, value in item.items():
        if not (isinstance(value, dict) and len(value) == 1):
            raise BadInput(
                f"{what}.{name} must be a typed value in DynamoDB JSON, e.g. "
                f'{{"{name}": {{"S": "..."}}}} (got {value!r})'
            )
    return item


def stream_record(
    item: dict[str, Any],
    event_name: str,
    view_type: str,
    old_item: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The record DynamoDB Streams writes for an INSERT / MODIFY / REMOVE of `item` (for
    REMOVE, `item` is the item deleted), as Lambda delivers it."""
    if event_name not in EVENT_NAMES:
        raise BadInput(f"--event-name must be one of {', '.join(EVENT_NAMES)} (got {event_name!r})")
    if view_type not in VIEW_TYPES:
        raise BadInput(f"the view type must be one of {', '.join(VIEW_TYPES)} (got {view_type!r})")
    if event_name == "MODIFY" and old_item is None:
        raise BadInput("a MODIFY needs --old-item (the item before the change)")
    if event_name != "MODIFY" and old_item is not None:
        raise BadInput(f"--old-item only applies to a MODIFY (got --event-name {event_name})")
    missing = [key for key in (HASH_KEY, RANGE_KEY) if key not in item]
    if missing:
        raise BadInput(f"the item lacks its key attribute(s) {', '.join(missing)}")
    new = None if event_name == "REMOVE" else item
    old = item if event_name == "REMOVE" else old_item
    ddb: dict[str, Any] = {
        "ApproximateCreationDateTime": 1_700_000_000.0,
        "Keys": {key: item[key] for key in (HASH_KEY, RANGE_KEY)},
    }
    if new is not None and view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        ddb["NewImage"] = new
    if old is not None and view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        ddb["OldImage"] = old
    ddb.update(
        SequenceNumber="100000000000000000001",
        SizeBytes=len(json.dumps(ddb)),
        StreamViewType=view_type,
    )
    return {
        "eventID": "filter-test",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": ddb,
    }


def describe(outcome: Outcome) -> list[str]:
    """The report as lines of text."""
    record = outcome.record
    keys = record["dynamodb"].get("Keys", {})
    shown = " / ".join(
        str(next(iter(value.values()))) if isinstance(value, dict) and value else str(value)
        for value in keys.values()
    )
    lines = [f"record: {record.get('eventName', '?')} {shown}".rstrip()]
    if not outcome.patterns.texts:
        lines.append(f"{outcome.patterns.source}: no patterns, so every record is delivered")
    for index, (text, verdict) in enumerate(
        zip(outcome.patterns.texts, outcome.verdicts, strict=True)
    ):
        lines.append(f"pattern {index}: {text}")
        if verdict.matched:
            lines.append("  matches")
        else:
            lines.append(f"  no match at {verdict.key}: {verdict.reason}")
    lines.append(
        "=> delivered to the function"
        if outcome.matched
        else "=> filtered out: Lambda skips this record without invoking the function"
    )
    return lines
