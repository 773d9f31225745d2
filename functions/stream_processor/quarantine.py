"""Quarantine: the message format for poison records, and sending it to the failure destination.

Why it exists: a poison record (one that can never succeed) must not block its shard for
24 h, and must not be lost either. The function sends the FULL raw record, with the reason,
to the failure destination (S3 bucket, SQS queue or SNS topic) and moves on. With SQS or
SNS, the event source mapping's own on-failure messages carry only pointers into the stream
(no data, gone after 24 h), so these messages are the only durable copy. A redrive tool on
the operator's machine imports this module to parse and reassemble them: the format is
defined here and only here.

Message format, version 1 (``FORMAT_VERSION``). Every message body is one JSON object, pure
ASCII (non-ASCII escaped, so any DynamoDB string is valid SQS/SNS text)::

    {
      "kind": "quarantined-record",      # KIND: tells these apart from AWS's on-failure
                                         #   records ("requestContext", "DDBStreamBatchInfo")
      "version": 1,
      "id": "<32 hex>",                  # sha256 of the record's canonical JSON: the same
                                         #   record quarantined twice has the same id
      "reason": "<why it is poison>",    # at most 1000 characters
      "eventID": ..., "eventName": ..., "sequenceNumber": ..., "eventSourceARN": ...,
                                         # copied from the record when present, else null;
                                         #   strings cut to 1000 characters
      "functionName": "<Lambda function name>",
      "time": "2025-01-01T00:00:00.000Z",  # when it was quarantined (UTC)
      "encoding": "json" | "gzip+base64",
      "part": {"index": 1, "count": N},  # 1-based
      "record": <the raw record> | "<base64 text or a slice of it>"
    }

Oversize strategy (DynamoDB items reach 400 KB, so a record with both images can exceed one
message): each body is kept under ``MAX_MESSAGE_BYTES`` (200 KiB) as it is delivered in its
largest form. A queue subscribed to the topic WITHOUT raw message delivery receives the body
as the ``Message`` string of SNS's notification JSON: escaped once more (every ``"`` and
``\\`` doubled; the body is ASCII JSON, so nothing else needs escaping) and wrapped in the
notification's own fields (Type, MessageId, TopicArn, Timestamp, Signature, SigningCertURL,
UnsubscribeURL: about 1.7 KB at their longest). So the budget is checked against the
body's escaped length (``escaped_length``), and ``SNS_ENVELOPE_BYTES`` (4 KiB) is kept
free for those fields: 200 + 4 KiB stays below the 256 KiB that SNS publishes and SQS
accepts by default, whether a body arrives raw or enveloped. (Before, a 199 KB inline body
full of quotes and backslashes became a 311 KB notification, which SQS refuses.)

With an S3 destination there is no splitting: one object per poison record, always
``encoding: json`` with the record inline and whole (an object holds up to 5 GB), at
``quarantine/YYYY/MM/DD/<id>.json`` (``s3_key``): the same record quarantined twice lands
on the same key. The multi-part forms below are for SQS and SNS only.

1. ``encoding: json``: the record inline, one message, when it fits;
2. else ``gzip+base64``: the record's JSON gzip-compressed and base64-encoded, one message;
3. else the same base64 text cut into ``count`` consecutive slices, one per message, all
   sharing ``id`` and the metadata. The handler sends every part or reports the record as a
   batch item failure (it is then retried and re-sent with the same id; ``reassemble``
   de-duplicates parts by (id, index)).

``build_messages`` makes the bodies (pure, no AWS); ``reassemble`` turns bodies back into
``QuarantinedRecord`` objects (also unwrapping SNS notification envelopes, for a queue
subscribed to the topic without raw delivery). ``sender_for`` returns a function that sends
bodies with boto3, imported on first use only: it is in the Lambda runtime, and importing it
costs far more than the whole batch when no record is poison.
"""

from __future__ import annotations

import json
import time

from settings import DESTINATION_S3, DESTINATION_SNS, DESTINATION_SQS, DESTINATION_TYPES

TYPE_CHECKING = False  # typing is not imported at run time: it is cold-start time
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any

    Sender = Callable[[Sequence[str]], None]

KIND = "quarantined-record"
FORMAT_VERSION = 1
# A body's escaped length (see escaped_length) is at most MAX_MESSAGE_BYTES; an SNS
# notification adds its own fields, for which SNS_ENVELOPE_BYTES is left free below the
# 256 KiB (262,144 bytes) SNS publishes and SQS accepts by default.
MAX_MESSAGE_BYTES = 200 * 1024
SNS_ENVELOPE_BYTES = 4 * 1024
MAX_REASON_CHARS = 1000
# eventID, eventName, sequenceNumber, eventSourceARN are copied from the record into every
# part's metadata; real ones are under 400 characters (a stream ARN with a 255-character
# table name). Cut like the reason, so a giant value in a malformed record still leaves
# room for the record itself (the full values travel in it).
MAX_FIELD_CHARS = 1000
ENCODING_JSON = "json"
ENCODING_GZIP = "gzip+base64"
# Where poison records go in an S3 destination (the role may write only there; the
# StreamFunction component keeps the same literal, a unit test checks both agree).
S3_QUARANTINE_PREFIX = "quarantine/"
# One S3 object holds up to 5 GB (PutObject: 5 GB in one request): no record comes near.
S3_MAX_OBJECT_BYTES = 5 * 1024**3


def max_message_bytes(destination_type: str | None) -> int:
    """The size one message may have at this destination: a whole object for S3."""
    return S3_MAX_OBJECT_BYTES if destination_type == DESTINATION_S3 else MAX_MESSAGE_BYTES


def s3_key(body: str) -> str:
    """The object key of a quarantine message: by day quarantined, then the record's id."""
    head = json.loads(body)
    day = str(head["time"])[:10].replace("-", "/")
    return f"{S3_QUARANTINE_PREFIX}{day}/{head['id']}.json"


class QuarantineFormatError(ValueError):
    """A body that is not a quarantine message of a version this module reads."""


class QuarantinedRecord:
    """One reassembled quarantine message: the metadata and the raw record."""

    __slots__ = (
        "event_id",
        "event_name",
        "event_source_arn",
        "function_name",
        "id",
        "reason",
        "record",
        "sequence_number",
        "time",
    )

    def __init__(
        self,
        *,
        id: str,
        reason: str,
        event_id: Any,
        event_name: Any,
        sequence_number: Any,
        event_source_arn: Any,
        function_name: str,
        time: str,
        record: Any,
    ) -> None:
        self.id = id
        self.reason = reason
        self.event_id = event_id
        self.event_name = event_name
        self.sequence_number = sequence_number
        self.event_source_arn = event_source_arn
        self.function_name = function_name
        self.time = time
        self.record = record  # the raw stream record, exactly as the function received it

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuarantinedRecord):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"QuarantinedRecord(id={self.id!r}, seq={self.sequence_number!r})"


def _canonical(record: Any) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), default=repr)


def _field(record: Any, *path: str) -> Any:
    value = record
    for name in path:
        if type(value) is not dict:
            return None
        value = value.get(name)
    if type(value) is str:
        return value[:MAX_FIELD_CHARS]
    return value if type(value) in (int, float) else None


def escaped_length(body: str) -> int:
    """The length of ``body`` escaped once more as a JSON string's content, as it travels in
    an SNS notification: every ``"`` and ``\\`` doubled. Exact for this module's bodies
    (ASCII JSON: no control characters, no non-ASCII) without building the escaped copy;
    also an upper bound of the body's own length, for raw delivery."""
    return len(body) + body.count('"') + body.count("\\")


def _timestamp(now: float | None) -> str:
    seconds = time.time() if now is None else now
    millis = int(seconds * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def build_messages(
    record: Any,
    reason: str,
    *,
    function_name: str,
    now: float | None = None,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> list[str]:
    """The message bodies that carry ``record`` to the failure destination (1 or more),
    each with ``escaped_length(body) <= max_bytes``."""
    import hashlib

    canonical = _canonical(record)
    envelope: dict[str, Any] = {
        "kind": KIND,
        "version": FORMAT_VERSION,
        "id": hashlib.sha256(canonical.encode()).hexdigest()[:32],
        "reason": str(reason)[:MAX_REASON_CHARS],
        "eventID": _field(record, "eventID"),
        "eventName": _field(record, "eventName"),
        "sequenceNumber": _field(record, "dynamodb", "SequenceNumber"),
        "eventSourceARN": _field(record, "eventSourceARN"),
        "functionName": function_name,
        "time": _timestamp(now),
        "encoding": ENCODING_JSON,
        "part": {"index": 1, "count": 1},
        "record": record,
    }
    body = json.dumps(envelope, separators=(",", ":"), default=repr)
    if escaped_length(body) <= max_bytes:  # ASCII only (ensure_ascii): characters == bytes
        return [body]

    import base64
    import gzip

    payload = base64.b64encode(gzip.compress(canonical.encode(), mtime=0)).decode("ascii")
    envelope["encoding"] = ENCODING_GZIP
    envelope["record"] = payload
    body = json.dumps(envelope, separators=(",", ":"))
    if escaped_length(body) <= max_bytes:
        return [body]

    # Split the base64 text; the overhead is measured with the widest part numbers. Base64
    # needs no escaping, so a slice costs its length in every delivered form.
    envelope["record"] = ""
    envelope["part"] = {"index": 10**9, "count": 10**9}
    room = max_bytes - escaped_length(json.dumps(envelope, separators=(",", ":")))
    if room < 1024:
        raise ValueError(f"max_bytes={max_bytes} leaves no room for the record")
    count = -(-len(payload) // room)
    bodies = []
    for index in range(count):
        envelope["part"] = {"index": index + 1, "count": count}
        envelope["record"] = payload[index * room : (index + 1) * room]
        bodies.append(json.dumps(envelope, separators=(",", ":")))
    return bodies


def _load(body: str | bytes | dict[str, Any]) -> dict[str, Any]:
    message = body if isinstance(body, dict) else json.loads(body)
    # An SQS queue subscribed to the SNS topic without raw delivery gets the SNS envelope.
    if (
        isinstance(message, dict)
        and message.get("Type") == "Notification"
        and isinstance(message.get("Message"), str)
    ):
        message = json.loads(message["Message"])
    if not isinstance(message, dict) or message.get("kind") != KIND:
        raise QuarantineFormatError("not a quarantine message")
    if message.get("version") != FORMAT_VERSION:
        raise QuarantineFormatError(f"unsupported quarantine format {message.get('version')!r}")
    return message


def is_quarantine_message(body: str | bytes | dict[str, Any]) -> bool:
    try:
        _load(body)
    except (ValueError, TypeError):
        return False
    return True


def _record_of(first: dict[str, Any], payload: Any) -> QuarantinedRecord:
    if first["encoding"] == ENCODING_JSON:
        record = payload
    elif first["encoding"] == ENCODING_GZIP:
        import base64
        import gzip

        record = json.loads(gzip.decompress(base64.b64decode(payload, validate=True)))
    else:
        raise QuarantineFormatError(f"unknown encoding {first['encoding']!r}")
    return QuarantinedRecord(
        id=first["id"],
        reason=first["reason"],
        event_id=first.get("eventID"),
        event_name=first.get("eventName"),
        sequence_number=first.get("sequenceNumber"),
        event_source_arn=first.get("eventSourceARN"),
        function_name=first.get("functionName", ""),
        time=first.get("time", ""),
        record=record,
    )


def reassemble(
    bodies: Iterable[str | bytes | dict[str, Any]],
) -> tuple[list[QuarantinedRecord], dict[str, tuple[int, int]]]:
    """Parse message bodies (any order, duplicates allowed) into quarantined records.

    Returns ``(records, incomplete)``: ``records`` in first-seen order; ``incomplete`` maps
    the id of each record still missing parts to ``(parts received, parts expected)``.
    Raises ``QuarantineFormatError`` for a body that is not a quarantine message.
    """
    # One record may arrive as several copies (a send retried after a failure), and the
    # copies need not share a shape: whole in one, split in another. Parts are grouped by
    # (id, part count) so one copy's parts are never spliced with another's; a record is
    # complete when any one of its copies is.
    copies: dict[str, dict[int, dict[int, dict[str, Any]]]] = {}
    for body in bodies:
        message = _load(body)
        part = message.get("part") or {"index": 1, "count": 1}
        count, index = int(part["count"]), int(part["index"])
        copies.setdefault(message["id"], {}).setdefault(count, {})[index] = message
    records: list[QuarantinedRecord] = []
    incomplete: dict[str, tuple[int, int]] = {}
    for record_id, by_count in copies.items():
        whole = [
            parts for count, parts in by_count.items() if sorted(parts) == list(range(1, count + 1))
        ]
        if not whole:
            count, parts = max(by_count.items(), key=lambda item: len(item[1]) / item[0])
            incomplete[record_id] = (len(parts), count)
            continue
        parts = whole[0]
        first = parts[1]
        if len(parts) == 1:
            payload = first["record"]
        else:
            payload = "".join(parts[index]["record"] for index in range(1, len(parts) + 1))
        records.append(_record_of(first, payload))
    return records, incomplete


# --------------------------------------------------------------------------- sending

_clients: dict[tuple[str, str | None], Any] = {}

# The SDK client's limits for one send (one SendMessage or Publish call).
CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 3  # botocore's "standard" retry mode: 3 attempts in all, the first included
# The longest one send can take, in ms (the handler's time budget is built on it): every
# attempt waits out both timeouts, 3 x (3 s + 5 s) = 24 s; the standard mode's backoff before
# retry n is rand(0, 1) x 2**(n - 1) s (botocore.retries.standard.ExponentialBackoff), at
# most 1 s + 2 s = 3 s. 24 s + 3 s = 27 s.
SEND_WORST_CASE_MS = 1000 * (
    MAX_ATTEMPTS * (CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS)
    + sum(2 ** (retry - 1) for retry in range(1, MAX_ATTEMPTS))
)


def destination_type_of(destination_type: str | None, destination: str) -> str:
    """The configured type, or (when unset) the one the address's form implies."""
    if destination_type:
        if destination_type not in DESTINATION_TYPES:
            raise ValueError(f"unknown failure destination type {destination_type!r}")
        return destination_type
    if destination.startswith("arn:") and ":sns:" in destination:
        return DESTINATION_SNS
    if destination.startswith(("https://", "http://")):
        return DESTINATION_SQS
    raise ValueError(
        f"cannot tell whether {destination!r} is a queue URL or a topic ARN (a bucket name "
        f"needs FAILURE_DESTINATION_TYPE={DESTINATION_S3})"
    )


def _region_of(destination_type: str, destination: str) -> str | None:
    if destination_type == DESTINATION_S3:
        return None  # a bucket name holds no region: the function's own is used
    if destination_type == DESTINATION_SNS:
        parts = destination.split(":")
        return (parts[3] or None) if len(parts) > 5 else None
    host = destination.split("://", 1)[-1].split("/", 1)[0]  # sqs.<region>.amazonaws.com
    labels = host.split(".")
    if len(labels) >= 4 and labels[0] == "sqs" and labels[2] == "amazonaws":
        return labels[1]
    return None


def _client(service: str, region: str | None) -> Any:
    client = _clients.get((service, region))
    if client is None:
        import boto3
        from botocore.config import Config

        _quiet_sdk_loggers()

        config = Config(
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        )
        client = boto3.client(service, region_name=region, config=config)
        _clients[(service, region)] = client
    return client


def _quiet_sdk_loggers() -> None:
    """Keep the SDK's INFO chatter ("Found credentials in environment variables.") out of the
    function's log: Lambda sets the ROOT logger to the application level, which the SDK's
    loggers inherit. A level someone set on them explicitly is left alone."""
    import logging

    for name in ("boto3", "botocore"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)


def sender_for(
    destination_type: str | None, destination: str, *, region: str | None = None
) -> Sender:
    """A function sending message bodies to the bucket (one object each), queue or topic, in
    order; it raises on the first body that cannot be sent (the caller then reports the
    record as failed)."""
    kind = destination_type_of(destination_type, destination)
    region = _region_of(kind, destination) or region
    fifo = destination.endswith(".fifo")

    def send(bodies: Sequence[str]) -> None:
        client = _client(kind, region)
        for body in bodies:
            extra: dict[str, str] = {}
            if fifo:
                head = json.loads(body)
                extra = {
                    "MessageGroupId": head["id"],
                    "MessageDeduplicationId": f"{head['id']}-{head['part']['index']}",
                }
            if kind == DESTINATION_S3:
                client.put_object(
                    Bucket=destination,
                    Key=s3_key(body),
                    Body=body.encode("ascii"),
                    ContentType="application/json",
                )
            elif kind == DESTINATION_SQS:
                client.send_message(QueueUrl=destination, MessageBody=body, **extra)
            else:
                client.publish(TopicArn=destination, Message=body, **extra)

    return send
