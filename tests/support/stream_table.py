"""A DynamoDB table with a stream and a failure queue in a moto server, for runner tests.

The runner under test reads the stream through its own iterators; `ground_truth()` reads
the same stream independently, so a test compares what the runner did with what the
stream really holds.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def client(endpoint: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, **CREDENTIALS)


@dataclass
class StreamTable:
    endpoint: str
    name: str
    stream_arn: str
    queue_url: str
    # One client per service: creating one takes ~25 ms, and a scenario writes 1000 items.
    _clients: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def create(cls, endpoint: str, view: str = "NEW_AND_OLD_IMAGES") -> StreamTable:
        name = f"runner-{uuid.uuid4().hex[:12]}"
        table = client(endpoint, "dynamodb").create_table(
            TableName=name,
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
        )
        queue_url = client(endpoint, "sqs").create_queue(QueueName=f"{name}-failures")["QueueUrl"]
        return cls(endpoint, name, table["TableDescription"]["LatestStreamArn"], queue_url)

    def aws(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = client(self.endpoint, service)
        return self._clients[service]

    def create_bucket(self) -> str:
        """A failure bucket next to the queue (an S3 on-failure destination)."""
        bucket = f"{self.name}-failures"
        self.aws("s3").create_bucket(Bucket=bucket)
        return bucket

    def bucket_objects(self, bucket: str) -> list[dict[str, Any]]:
        """Every object in the failure bucket, as JSON."""
        s3 = self.aws("s3")
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        return [json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) for key in keys]

    def put(self, pk: str, sk: str = "ITEM", **attributes: Any) -> None:
        item = {"PK": {"S": pk}, "SK": {"S": sk}}
        item.update({name: _attribute(value) for name, value in attributes.items()})
        self.aws("dynamodb").put_item(TableName=self.name, Item=item)

    def delete(self, pk: str, sk: str = "ITEM") -> None:
        self.aws("dynamodb").delete_item(
            TableName=self.name, Key={"PK": {"S": pk}, "SK": {"S": sk}}
        )

    def shard_id(self) -> str:
        stream = self.aws("dynamodbstreams").describe_stream(StreamArn=self.stream_arn)
        (shard,) = stream["StreamDescription"]["Shards"]
        return str(shard["ShardId"])

    def ground_truth(self) -> list[dict[str, Any]]:
        """Every record in the stream (one shard in moto), read from TRIM_HORIZON."""
        return list(self.read(self.shard_id(), "TRIM_HORIZON"))

    def read(
        self, shard_id: str, kind: str, sequence_number: str | None = None, limit: int = 1000
    ) -> Iterator[dict[str, Any]]:
        streams = self.aws("dynamodbstreams")
        request = {"StreamArn": self.stream_arn, "ShardId": shard_id, "ShardIteratorType": kind}
        if sequence_number is not None:
            request["SequenceNumber"] = sequence_number
        iterator = streams.get_shard_iterator(**request)["ShardIterator"]
        taken = 0
        while iterator and taken < limit:
            page = streams.get_records(ShardIterator=iterator, Limit=min(1000, limit - taken))
            if not page["Records"]:
                return
            yield from page["Records"]
            taken += len(page["Records"])
            iterator = page.get("NextShardIterator")

    def failure_messages(self) -> list[dict[str, Any]]:
        """Every message in the failure queue (received once each, then deleted)."""
        sqs = self.aws("sqs")
        bodies: list[dict[str, Any]] = []
        while True:
            page = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300
            )
            messages = page.get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


def _attribute(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    if isinstance(value, bytes):
        return {"B": value}
    return {"S": str(value)}
