"""The event source mapping's on-failure message, and sending it to the failure destination.

Why this shape: when retries or record age run out, AWS sends the on-failure destination a
JSON document that points at the discarded batch (shard, first and last sequence number)
and holds none of its data. Operators and the redrive tool read these documents, so the
local runner sends exactly AWS's form. Reference: the message AWS recorded in
shared/events/localstack__..._destination_queue_messages.json (a real AWS run), and the
Lambda guide "Retain discarded records for a DynamoDB event source".

An S3 destination gets the same document plus `payload`: the original invocation event
(`{"Records": [...]}`, the whole batch) as an escaped JSON string, one object per discarded
batch at `aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>`
(same guide, "Example Amazon S3 invocation record"; aws-facts.md, read 2026-12-01).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from streamops.stream_event import creation_time, sequence_number

RETRY_ATTEMPTS_EXHAUSTED = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED = "RecordAgeExceeded"
MESSAGE_VERSION = "1.0"
EXECUTED_VERSION = "$LATEST"
# Lambda reports a raised exception and a timeout alike as an unhandled function error.
UNHANDLED = "Unhandled"


@dataclass(frozen=True)
class ResponseContext:
    """What the last invocation of the discarded records returned (all None: no invocation)."""

    status_code: int | None = None
    executed_version: str | None = None
    function_error: str | None = None

    @classmethod
    def returned(cls) -> ResponseContext:
        """The function returned normally (e.g. reported batch item failures)."""
        return cls(200, EXECUTED_VERSION, None)

    @classmethod
    def unhandled(cls) -> ResponseContext:
        """The function raised or timed out."""
        return cls(200, EXECUTED_VERSION, UNHANDLED)


def on_failure_message(
    *,
    condition: str,
    request_id: str,
    function_arn: str,
    invoke_count: int,
    response: ResponseContext,
    shard_id: str,
    stream_arn: str,
    records: Sequence[dict[str, Any]],
    now: float,
) -> dict[str, Any]:
    """AWS's on-failure document for a discarded batch of stream records."""
    if not records:
        raise ValueError("an on-failure message needs at least one record")
    return {
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": {
            "statusCode": response.status_code,
            "executedVersion": response.executed_version,
            "functionError": response.function_error,
        },
        "version": MESSAGE_VERSION,
        "timestamp": _iso(now, millis=True),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": sequence_number(records[0]),
            "endSequenceNumber": sequence_number(records[-1]),
            "approximateArrivalOfFirstRecord": _arrival(records[0]),
            "approximateArrivalOfLastRecord": _arrival(records[-1]),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }


def _arrival(record: dict[str, Any]) -> str | None:
    created = creation_time(record)
    return None if created is None else _iso(created, millis=False)


def _iso(seconds: float, *, millis: bool) -> str:
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def is_on_failure_message(message: Any) -> bool:
    return isinstance(message, dict) and "DDBStreamBatchInfo" in message


class FailureDestination(Protocol):
    def send(self, message: dict[str, Any], event: dict[str, Any]) -> None:
        """Deliver `message` for the discarded batch; `event` is the invocation event
        (the batch) the function was given, which only an S3 destination keeps."""
        ...


class SqsDestination:
    """A standard SQS queue (addressed by URL, as SendMessage wants)."""

    def __init__(self, sqs_client: Any, queue_url: str):
        self.client, self.queue_url = sqs_client, queue_url

    def send(self, message: dict[str, Any], event: dict[str, Any]) -> None:
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(message))


class SnsDestination:
    def __init__(self, sns_client: Any, topic_arn: str):
        self.client, self.topic_arn = sns_client, topic_arn

    def send(self, message: dict[str, Any], event: dict[str, Any]) -> None:
        self.client.publish(TopicArn=self.topic_arn, Message=json.dumps(message))


def s3_invocation_record(message: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """What Lambda writes to an S3 destination: the on-failure document and `payload`, the
    invocation event as an escaped JSON string."""
    return {**message, "payload": json.dumps(event)}


def s3_object_key(mapping_uuid: str, shard_id: str, moment: dt.datetime, random_id: str) -> str:
    """`aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>`."""
    return (
        f"aws/lambda/{mapping_uuid}/{shard_id}/{moment:%Y/%m/%d}/"
        f"{moment:%Y-%m-%dT%H.%M.%S}-{random_id}"
    )


class S3Destination:
    """A bucket: one object per discarded batch, in AWS's layout, keyed by the mapping."""

    def __init__(self, s3_client: Any, bucket: str, mapping_uuid: str):
        self.client, self.bucket, self.mapping_uuid = s3_client, bucket, mapping_uuid

    def send(self, message: dict[str, Any], event: dict[str, Any]) -> None:
        moment = dt.datetime.fromisoformat(message["timestamp"].replace("Z", "+00:00"))
        key = s3_object_key(
            self.mapping_uuid, message["DDBStreamBatchInfo"]["shardId"], moment, str(uuid.uuid4())
        )
        body = json.dumps(s3_invocation_record(message, event)).encode()
        self.client.put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType="application/json"
        )


def destination_for(
    kind: str, address: str, client: Any, mapping_uuid: str | None = None
) -> FailureDestination:
    """`kind` "s3" (address: bucket name; the mapping's UUID names the objects), "sqs"
    (address: queue URL) or "sns" (address: topic ARN)."""
    if kind == "s3":
        if not mapping_uuid:
            raise ValueError("an S3 failure destination needs the mapping's UUID (object keys)")
        return S3Destination(client, address, mapping_uuid)
    if kind == "sqs":
        return SqsDestination(client, address)
    if kind == "sns":
        return SnsDestination(client, address)
    raise ValueError(f"unknown failure destination kind {kind!r}: expected s3, sqs or sns")
