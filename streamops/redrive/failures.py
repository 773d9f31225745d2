"""What lands in the failure destination, parsed: pointers, quarantined records, the rest.

Two writers share the destination (README "What gets deployed"):

- the event source mapping, when a batch's retries or maximum record age run out, sends
  an on-failure document (`requestContext`, `responseContext`, `DDBStreamBatchInfo`) that
  POINTS at the batch in the stream (shard, first and last sequence number) and holds none
  of its records. The recorded AWS example is
  tests/fixtures/shared/events/localstack__..._destination_queue_messages.json;
- the function, for a poison record, sends the whole record with its reason, in the
  versioned format `functions/stream_processor/quarantine.py` defines (one message, or
  several parts of one gzip+base64 payload). That module parses and reassembles them; it is
  reused here, never re-implemented.

Anything else (another tool's messages, a future format version, a damaged body) is
UNKNOWN: listed with the reason, never replayed and never deleted.

A message delivered through an SNS topic to a subscribed queue without raw message delivery
arrives wrapped in SNS's notification envelope; both kinds are unwrapped here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from streamops.function_code import function_module
from streamops.lambda_local.on_failure import is_on_failure_message

quarantine = function_module("quarantine")

# DynamoDB Streams keeps each record for 24 hours after it was written.
STREAM_RETENTION = dt.timedelta(hours=24)
BATCH_INFO = "DDBStreamBatchInfo"
SEQUENCE_NUMBER = re.compile(r"^[0-9]{1,40}$")
STREAM_ARN = re.compile(r"^arn:[a-z-]+:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[^/]+/stream/.+$")
PREVIEW_CHARS = 120
# What a damaged gzip+base64 payload raises while being reassembled (binascii.Error is a
# ValueError, gzip.BadGzipFile an OSError, a truncated stream EOFError).
DAMAGED_PAYLOAD = (ValueError, TypeError, KeyError, OSError, EOFError, zlib.error)


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as received from the queue (the receipt handle is the queue's business)."""

    message_id: str
    body: str
    sent_at: dt.datetime | None = None  # when it entered the queue (SQS SentTimestamp)
    receive_count: int = 0  # ApproximateReceiveCount, this receive included


@dataclass(frozen=True)
class BatchPointer:
    """The mapping's on-failure document: where the discarded batch is in the stream."""

    message_id: str
    stream_arn: str
    shard_id: str
    start_sequence: str
    end_sequence: str
    batch_size: int | None
    first_arrival: dt.datetime | None  # approximateArrivalOfFirstRecord
    last_arrival: dt.datetime | None
    condition: str  # RetryAttemptsExhausted, RecordAgeExceeded, ...
    invoke_count: int | None
    function_error: str | None
    timestamp: dt.datetime | None  # when the mapping gave up
    # An S3 destination's invocation record also holds the batch: `payload`, the invocation
    # event as an escaped JSON string (read by streamops.redrive.s3_destination). None: a
    # pointer only (SQS, SNS).
    payload: Any = field(default=None, compare=False, hash=False)

    def expires_at(self) -> dt.datetime | None:
        """When the stream starts dropping the batch's records (its first record's 24 h)."""
        return None if self.first_arrival is None else self.first_arrival + STREAM_RETENTION


@dataclass(frozen=True)
class QuarantinePart:
    """One message of a quarantined record (a record may take several parts)."""

    message_id: str
    record_id: str
    index: int
    count: int
    body: dict[str, Any]  # the quarantine JSON itself (an SNS envelope already removed)


@dataclass(frozen=True)
class UnknownMessage:
    message_id: str
    reason: str
    preview: str


Parsed = BatchPointer | QuarantinePart | UnknownMessage


@dataclass
class QuarantineGroup:
    """Every message received for one quarantined record (same `id`): its parts, and copies
    when the function quarantined the same record more than once."""

    record_id: str
    message_ids: list[str] = field(default_factory=list)
    record: Any = None  # quarantine.QuarantinedRecord once every part is here and decodes
    problem: str = ""  # why there is no record: parts missing, or a payload that won't decode

    @property
    def complete(self) -> bool:
        return self.record is not None


def unwrap(body: str) -> Any:
    """The JSON document a message carries (inside SNS's envelope when there is one).
    Raises ValueError when it is not JSON."""
    document = json.loads(body)
    if (
        isinstance(document, dict)
        and document.get("Type") == "Notification"
        and isinstance(document.get("Message"), str)
    ):
        document = json.loads(document["Message"])
    return document


def parse(message: ReceivedMessage) -> Parsed:
    """Classify one message; never raises (what cannot be read is UNKNOWN, with why)."""
    preview = message.body[:PREVIEW_CHARS]
    try:
        document = unwrap(message.body)
    except ValueError as error:
        return UnknownMessage(message.message_id, f"not JSON ({error})", preview)
    if not isinstance(document, dict):
        return UnknownMessage(message.message_id, "not a JSON object", preview)
    if is_on_failure_message(document):
        return _pointer(message.message_id, document, preview)
    if document.get("kind") == quarantine.KIND:
        return _quarantine_part(message.message_id, document, preview)
    keys = ", ".join(sorted(document)[:6]) or "none"
    return UnknownMessage(
        message.message_id,
        f"neither an on-failure document ({BATCH_INFO}) nor a quarantined record "
        f"(kind {quarantine.KIND!r}); top-level keys: {keys}",
        preview,
    )


def _pointer(message_id: str, document: dict[str, Any], preview: str) -> Parsed:
    info = document[BATCH_INFO]
    problems = []
    if not isinstance(info, dict):
        return UnknownMessage(message_id, f"{BATCH_INFO} is not an object", preview)
    for name in ("startSequenceNumber", "endSequenceNumber"):
        if not (isinstance(info.get(name), str) and SEQUENCE_NUMBER.match(info[name])):
            problems.append(f"{name} is not a sequence number ({info.get(name)!r})")
    if not (isinstance(info.get("shardId"), str) and info["shardId"]):
        problems.append(f"shardId is missing ({info.get('shardId')!r})")
    if not (isinstance(info.get("streamArn"), str) and STREAM_ARN.match(info["streamArn"])):
        problems.append(f"streamArn is not a DynamoDB stream ARN ({info.get('streamArn')!r})")
    if not problems and int(info["startSequenceNumber"]) > int(info["endSequenceNumber"]):
        problems.append("startSequenceNumber is after endSequenceNumber")
    if problems:
        return UnknownMessage(
            message_id, f"on-failure document unusable: {'; '.join(problems)}", preview
        )
    request = _object(document, "requestContext")
    response = _object(document, "responseContext")
    return BatchPointer(
        message_id=message_id,
        stream_arn=info["streamArn"],
        shard_id=info["shardId"],
        start_sequence=info["startSequenceNumber"],
        end_sequence=info["endSequenceNumber"],
        batch_size=_integer(info.get("batchSize")),
        first_arrival=parse_time(info.get("approximateArrivalOfFirstRecord")),
        last_arrival=parse_time(info.get("approximateArrivalOfLastRecord")),
        condition=str(request.get("condition") or "unknown condition"),
        invoke_count=_integer(request.get("approximateInvokeCount")),
        function_error=response.get("functionError"),
        timestamp=parse_time(document.get("timestamp")),
        payload=document.get("payload"),
    )


def _quarantine_part(message_id: str, document: dict[str, Any], preview: str) -> Parsed:
    if not quarantine.is_quarantine_message(document):
        return UnknownMessage(
            message_id,
            f"a quarantined record in format version {document.get('version')!r}; this tool "
            f"reads version {quarantine.FORMAT_VERSION}",
            preview,
        )
    part = _object(document, "part")
    index, count = _integer(part.get("index")), _integer(part.get("count"))
    record_id = document.get("id")
    if not isinstance(record_id, str) or not record_id or not index or not count:
        return UnknownMessage(message_id, "quarantined record without id or part numbers", preview)
    return QuarantinePart(message_id, record_id, index, count, document)


def group_quarantined(parts: Iterable[QuarantinePart]) -> list[QuarantineGroup]:
    """One group per quarantined record id, reassembled when every part of one copy is here.

    The same record quarantined twice may have been sent whole once and in parts once (the
    reason, part of each body, can tip its size over the limit). Copies, told apart by
    their part count, are reassembled one at a time, so a copy whose payload is damaged
    does not hide a good one.
    """
    groups: dict[str, QuarantineGroup] = {}
    copies: dict[str, dict[int, list[dict[str, Any]]]] = {}
    for part in parts:
        groups.setdefault(part.record_id, QuarantineGroup(part.record_id)).message_ids.append(
            part.message_id
        )
        copies.setdefault(part.record_id, {}).setdefault(part.count, []).append(part.body)
    for record_id, group in groups.items():
        problems = []
        for _count, bodies in sorted(copies[record_id].items()):
            try:
                records, incomplete = quarantine.reassemble(bodies)
            except DAMAGED_PAYLOAD as error:
                problems.append(f"the record's payload cannot be decoded ({error})")
                continue
            if records:
                group.record = records[0]
                break
            received, expected = incomplete[record_id]
            problems.append(
                f"{received} of {expected} parts received (the rest may be in flight, or "
                "beyond --max): run again to reassemble it"
            )
        if group.record is None:
            group.problem = "; ".join(problems)
    return list(groups.values())


def parse_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 UTC time as AWS writes it ("2022-07-13T13:48:01Z", "...01.000Z")."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _object(document: dict[str, Any], name: str) -> dict[str, Any]:
    value = document.get(name)
    return value if isinstance(value, dict) else {}


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def partition(
    parsed: Sequence[Parsed],
) -> tuple[list[BatchPointer], list[QuarantinePart], list[UnknownMessage]]:
    pointers = [item for item in parsed if isinstance(item, BatchPointer)]
    parts = [item for item in parsed if isinstance(item, QuarantinePart)]
    unknown = [item for item in parsed if isinstance(item, UnknownMessage)]
    return pointers, parts, unknown
