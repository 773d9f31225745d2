"""An in-memory DynamoDB Streams API for what moto cannot produce: shard lineage (a table
split closes a shard and opens children), expired iterators, paginated shard lists.

It answers like boto3's `dynamodbstreams` client (same operation names, request and
response keys, records in boto3's form with `datetime` creation times).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00.000"


class ExpiredIteratorException(Exception):
    pass


class _Exceptions:
    ExpiredIteratorException = ExpiredIteratorException


@dataclass
class FakeShard:
    shard_id: str
    parent_id: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False


def record(
    sequence: int, pk: str, event: str = "INSERT", created: float = 0.0, **image: Any
) -> dict[str, Any]:
    """A stream record in boto3's form."""
    keys = {"PK": {"S": pk}, "SK": {"S": "ITEM"}}
    return {
        "eventID": f"event-{sequence}",
        "eventName": event,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": dt.datetime.fromtimestamp(created, dt.UTC),
            "Keys": keys,
            "NewImage": {**keys, **image},
            "SequenceNumber": str(sequence),
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


class FakeStreams:
    exceptions = _Exceptions

    def __init__(self, shards: list[FakeShard], page_size: int = 100):
        self.shards = shards
        self.page_size = page_size
        self.expire: set[str] = set()  # iterators that fail once with ExpiredIterator
        self.iterator_requests: list[dict[str, Any]] = []
        self.describe_calls = 0

    def _shard(self, shard_id: str) -> FakeShard:
        return next(shard for shard in self.shards if shard.shard_id == shard_id)

    def describe_stream(
        self, StreamArn: str, ExclusiveStartShardId: str | None = None
    ) -> dict[str, Any]:
        self.describe_calls += 1
        ids = [shard.shard_id for shard in self.shards]
        start = ids.index(ExclusiveStartShardId) + 1 if ExclusiveStartShardId else 0
        page = self.shards[start : start + self.page_size]
        shards = []
        for shard in page:
            entry = {"ShardId": shard.shard_id}
            if shard.parent_id:
                entry["ParentShardId"] = shard.parent_id
            shards.append(entry)
        description: dict[str, Any] = {"StreamArn": StreamArn, "Shards": shards}
        if start + self.page_size < len(self.shards):
            description["LastEvaluatedShardId"] = page[-1].shard_id
        return {"StreamDescription": description}

    def get_shard_iterator(
        self,
        StreamArn: str,
        ShardId: str,
        ShardIteratorType: str,
        SequenceNumber: str | None = None,
    ) -> dict[str, Any]:
        self.iterator_requests.append(
            {"ShardId": ShardId, "Type": ShardIteratorType, "SequenceNumber": SequenceNumber}
        )
        shard = self._shard(ShardId)
        numbers = [int(item["dynamodb"]["SequenceNumber"]) for item in shard.records]
        if ShardIteratorType == "TRIM_HORIZON":
            position = 0
        elif ShardIteratorType == "LATEST":
            position = len(shard.records)
        elif ShardIteratorType == "AT_SEQUENCE_NUMBER":
            position = numbers.index(int(SequenceNumber or 0))
        else:  # AFTER_SEQUENCE_NUMBER
            position = numbers.index(int(SequenceNumber or 0)) + 1
        return {"ShardIterator": f"{ShardId}|{position}"}

    def get_records(self, ShardIterator: str, Limit: int = 1000) -> dict[str, Any]:
        if ShardIterator in self.expire:
            self.expire.discard(ShardIterator)
            raise ExpiredIteratorException(ShardIterator)
        shard_id, position_text = ShardIterator.split("|")
        shard = self._shard(shard_id)
        position = int(position_text)
        records = shard.records[position : position + Limit]
        end = position + len(records)
        response: dict[str, Any] = {"Records": records}
        if not (shard.closed and end >= len(shard.records)):
            response["NextShardIterator"] = f"{shard_id}|{end}"
        return response
