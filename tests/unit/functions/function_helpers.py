"""Helpers for the stream processor's tests (named apart from other test helpers: test
folders here have no ``__init__.py``, so module names must be unique across ``tests/``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from awslambdaric.lambda_context import LambdaContext

REPO = Path(__file__).resolve().parents[3]
FUNCTION_DIR = REPO / "functions" / "stream_processor"


def find_events_dir() -> Path:
    """The real payloads, vendored in the repository (tests/fixtures/shared/events) so a
    clean clone tests them wherever it is checked out."""
    candidate = REPO / "tests" / "fixtures" / "shared" / "events"
    if not candidate.is_dir():
        raise RuntimeError(f"{candidate} is missing: the shared payloads are not vendored")
    return candidate


EVENTS_DIR = find_events_dir()
EVENT_FILES = sorted(
    p for p in EVENTS_DIR.glob("*.json") if "destination_queue_messages" not in p.name
)


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8-sig"))


def stream_record(
    event_name: str = "INSERT",
    *,
    keys: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    seq: str = "100",
    view: str = "NEW_AND_OLD_IMAGES",
    event_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A stream record as Lambda delivers it (images given as DynamoDB JSON)."""
    ddb: dict[str, Any] = {
        "ApproximateCreationDateTime": 1754929800,
        "Keys": keys if keys is not None else {"PK": {"S": "ITEM#1"}, "SK": {"S": "META"}},
        "SequenceNumber": seq,
        "SizeBytes": 100,
        "StreamViewType": view,
    }
    if old is not None:
        ddb["OldImage"] = old
    if new is not None:
        ddb["NewImage"] = new
    record = {
        "eventID": event_id or f"id-{seq}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": ddb,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2025",
    }
    record.update(extra)
    return record


class FakeContext(LambdaContext):  # type: ignore[misc]
    """The runtime's own context object (awslambdaric's LambdaContext), its clock frozen at
    ``remaining_ms``: the budget tests need exact values on either side of a boundary,
    which a deadline in wall-clock time cannot give."""

    def __init__(self, remaining_ms: int) -> None:
        super().__init__("8f5e2a4c-unit", None, None, 0, "arn:aws:lambda:::function:unit")
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class FakeSender:
    """Stands in for SQS/SNS: keeps what it was given, or fails like a broken destination."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.batches: list[list[str]] = []

    def __call__(self, bodies: Sequence[str]) -> None:
        if self.fail:
            raise ConnectionError("destination unreachable")
        self.batches.append(list(bodies))


class Run:
    """One handler invocation's outcome: the response, the EMF document, the log entries
    (``messages``: one per log record; a record's per-record lines share one entry)."""

    def __init__(self, response: Any, emf: dict[str, Any], messages: list[str]) -> None:
        self.response = response
        self.emf = emf
        self.messages = messages

    @property
    def lines(self) -> list[str]:
        """Every line of every entry, in order."""
        return [line for message in self.messages for line in message.split("\n")]

    @property
    def failures(self) -> list[str]:
        return [f["itemIdentifier"] for f in self.response["batchItemFailures"]]
