"""The event Lambda hands a function for a DynamoDB Streams batch, built from GetRecords.

Why a conversion is needed: boto3 returns a stream record in its Python form, while the
function receives Lambda's JSON form. Two differences matter to a handler:
- `dynamodb.ApproximateCreationDateTime` is a `datetime` from boto3 but a number (epoch
  seconds) in the Lambda event;
- `B` and `BS` attribute values are `bytes` from boto3 but base64 text in the event.
- `userIdentity` (set on TTL deletions) has `Type` / `PrincipalId` from GetRecords but
  `type` / `principalId` in the Lambda event.
Lambda also adds `eventSourceARN` (the stream ARN) to each record.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

EVENT_SOURCE = "aws:dynamodb"
# Lambda's synchronous invocation payload limit; a batch is cut before it would exceed it.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
IMAGE_FIELDS = ("Keys", "NewImage", "OldImage")


def lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """One GetRecords record as Lambda delivers it."""
    ddb = dict(record.get("dynamodb") or {})
    created = ddb.get("ApproximateCreationDateTime")
    if isinstance(created, dt.datetime):
        ddb["ApproximateCreationDateTime"] = created.timestamp()
    for name in IMAGE_FIELDS:
        if name in ddb:
            ddb[name] = {key: _attribute_json(value) for key, value in ddb[name].items()}
    converted = {
        "eventID": record.get("eventID"),
        "eventName": record.get("eventName"),
        "eventVersion": record.get("eventVersion"),
        "eventSource": record.get("eventSource", EVENT_SOURCE),
        "awsRegion": record.get("awsRegion", region),
        "dynamodb": ddb,
        "eventSourceARN": stream_arn,
    }
    identity = record.get("userIdentity")
    if isinstance(identity, dict):  # TTL deletions: {"type": "Service", "principalId": ...}
        converted["userIdentity"] = {
            "type": identity.get("Type", identity.get("type")),
            "principalId": identity.get("PrincipalId", identity.get("principalId")),
        }
    return converted


def _attribute_json(value: dict[str, Any]) -> dict[str, Any]:
    (tag, inner), *_ = value.items()
    if tag == "B":
        return {"B": _base64(inner)}
    if tag == "BS":
        return {"BS": [_base64(item) for item in inner]}
    if tag == "M":
        return {"M": {key: _attribute_json(item) for key, item in inner.items()}}
    if tag == "L":
        return {"L": [_attribute_json(item) for item in inner]}
    return {tag: inner}


def _base64(value: bytes | str) -> str:
    return base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value


def sequence_number(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def creation_time(record: dict[str, Any]) -> float | None:
    """ApproximateCreationDateTime as epoch seconds (Lambda form or boto3 form)."""
    created = (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")
    if isinstance(created, dt.datetime):
        return created.timestamp()
    return float(created) if isinstance(created, int | float) else None


def record_bytes(record: dict[str, Any]) -> int:
    """The record's share of the invocation payload (its JSON size plus a separator)."""
    return len(json.dumps(record, separators=(",", ":"))) + 1


def stream_event(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": list(records)}
