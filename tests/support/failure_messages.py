"""Failure-destination traffic for redrive tests, on a stack deployed into the emulator.

Items are written to the deployed table (so their records are really in its stream), and
failure messages are put in the failure queue exactly as their writers build them: the
mapping's on-failure document by streamops.lambda_local.on_failure (the local stream runner's, AWS's
recorded format), the function's quarantine messages by
functions/stream_processor/quarantine.py. For placing a precise message next to others in
a test; tests/integration/redrive/ also has the runner produce them.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Sequence
from typing import Any

from moto.dynamodb.models import dynamodb_backends

from streamops.emulator.server import Deployment
from streamops.function_code import function_module
from streamops.lambda_local.on_failure import (
    RETRY_ATTEMPTS_EXHAUSTED,
    ResponseContext,
    on_failure_message,
)
from streamops.stream_event import lambda_record

quarantine = function_module("quarantine")


def put_items(deployment: Deployment, *keys: tuple[str, str], **attributes: Any) -> None:
    table = deployment.outputs["tableName"]
    for pk, sk in keys:
        item = {"PK": {"S": pk}, "SK": {"S": sk}}
        item.update({name: {"S": str(value)} for name, value in attributes.items()})
        deployment.aws("dynamodb").put_item(TableName=table, Item=item)


def stream_records(deployment: Deployment) -> list[dict[str, Any]]:
    """Every record in the table's stream (one shard in the emulator), as Lambda sends them."""
    streams = deployment.aws("dynamodbstreams")
    stream_arn = deployment.outputs["streamArn"]
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    raw = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    return [lambda_record(record, stream_arn, deployment.region) for record in raw]


def shard_id(deployment: Deployment) -> str:
    streams = deployment.aws("dynamodbstreams")
    description = streams.describe_stream(StreamArn=deployment.outputs["streamArn"])
    return str(description["StreamDescription"]["Shards"][0]["ShardId"])


def on_failure_document(
    deployment: Deployment,
    records: Sequence[dict[str, Any]],
    *,
    condition: str = RETRY_ATTEMPTS_EXHAUSTED,
    invoke_count: int = 4,
    shard: str | None = None,
    stream_arn: str | None = None,
) -> dict[str, Any]:
    """The mapping's on-failure document for a discarded batch of `records`, in AWS's form
    (built by the local stream runner's own streamops.lambda_local.on_failure)."""
    return on_failure_message(
        condition=condition,
        request_id=str(uuid.uuid4()),
        function_arn=deployment.outputs["functionArn"],
        invoke_count=invoke_count,
        response=ResponseContext.returned(),
        shard_id=shard or shard_id(deployment),
        stream_arn=stream_arn or deployment.outputs["streamArn"],
        records=records,
        now=time.time(),
    )


def send(deployment: Deployment, *bodies: str | dict[str, Any]) -> list[str]:
    """Put bodies in the stack's failure queue; returns their message ids."""
    sqs = deployment.aws("sqs")
    url = deployment.outputs["failureQueueUrl"]
    ids = []
    for body in bodies:
        text = body if isinstance(body, str) else json.dumps(body)
        ids.append(sqs.send_message(QueueUrl=url, MessageBody=text)["MessageId"])
    return ids


def quarantine_bodies(record: Any, reason: str, **options: Any) -> list[str]:
    return list(quarantine.build_messages(record, reason, function_name="demo-fn", **options))


def queue_counts(deployment: Deployment, url: str | None = None) -> tuple[int, int]:
    """(visible, in flight) messages of the failure queue."""
    attributes = deployment.aws("sqs").get_queue_attributes(
        QueueUrl=url or deployment.outputs["failureQueueUrl"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


def age_stream(deployment: Deployment, hours: float, count: int | None = None) -> None:
    """Make the first `count` stream records (all by default) `hours` older, as if written
    that long ago: the emulator then trims them as AWS trims records past 24 h
    (streamops.emulator.moto_compat). Reaches into the in-process moto backend: test-only."""
    backend = dynamodb_backends[deployment.account_id][deployment.region]
    shard = backend.get_table(deployment.outputs["tableName"]).stream_shard
    assert shard is not None, "the table has no stream"
    for item in shard.items[:count]:
        item.record["dynamodb"]["ApproximateCreationDateTime"] -= dt.timedelta(hours=hours)
