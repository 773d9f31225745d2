"""The event source mapping's on-failure message, and sending it to the failure destination.

Why this shape: when retries or record age run out, AWS sends the on-failure destination a
JSON document that points at the discarded batch (shard, first and last sequence number)
and holds none of its data. Operators and the redrive tool read these documents, so the
local runner sends exactly AWS's form. Reference: the message AWS recorded in
shared/events/localstack__..._destination_queue_messages.json (a real AWS run), and the
Lambda guide "Retain discarded records for a DynamoDB event source".
"""

from __future__ import annotations

import datetime as dt
import json
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
    def send(self, message: dict[str, Any]) -> None: ...


class SqsDestination:
    """A standard SQS queue (addressed by URL, as SendMessage wants)."""

    def __init__(self, sqs_client: Any, queue_url: str):
        self.client, self.queue_url = sqs_client, queue_url

    def send(self, message: dict[str, Any]) -> None:
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(message))


class SnsDestination:
    def __init__(self, sns_client: Any, topic_arn: str):
        self.client, self.topic_arn = sns_client, topic_arn

    def send(self, message: dict[str, Any]) -> None:
        self.client.publish(TopicArn=self.topic_arn, Message=json.dumps(message))


def destination_for(kind: str, address: str, client: Any) -> FailureDestination:
    """`kind` "sqs" (address: queue URL) or "sns" (address: topic ARN)."""
    if kind == "sqs":
        return SqsDestination(client, address)
    if kind == "sns":
        return SnsDestination(client, address)
    raise ValueError(f"unknown failure destination kind {kind!r}: expected sqs or sns")
