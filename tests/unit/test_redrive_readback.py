"""Reading a pointer's range back from the stream: the paths AWS has and moto does not
(paged shard lists, expired iterators, empty pages, closed shards), on a scripted client
answering with botocore's own error type."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from streamops.lambda_local.event_filter import RecordFilter
from streamops.redrive.failures import BatchPointer
from streamops.redrive.readback import (
    EXPIRED,
    INCOMPLETE,
    MAX_EMPTY_READS,
    PARTIAL,
    RECOVERED,
    read_back,
)
from streamops.stream_event import lambda_record

STREAM = "arn:aws:dynamodb:eu-west-1:111111111111:table/orders/stream/2026-01-01T00:00:00.000"
SHARD = "shardId-00000001700000000000-abcdef12"
WRITTEN = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} happened"}}, "Operation")


def raw(number: int) -> dict[str, Any]:
    """A record as boto3's GetRecords returns it."""
    return {
        "eventID": f"e{number}",
        "eventName": "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {
            "ApproximateCreationDateTime": WRITTEN + dt.timedelta(seconds=number),
            "Keys": {"PK": {"S": "USER#1"}, "SK": {"S": "PROFILE"}},
            "NewImage": {"avatar": {"B": b"\x00\xff"}, "tags": {"BS": [b"a"]}},
            "SequenceNumber": str(number),
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


class Streams:
    """A DynamoDB Streams client holding one shard's pages; `closed`: the last page has
    no NextShardIterator."""

    def __init__(
        self,
        pages: list[list[int]],
        *,
        shards: list[list[str]] | None = None,
        closed: bool = True,
        trimmed_before: int | None = None,
        failures: dict[str, list[ClientError]] | None = None,
    ):
        self.pages, self.closed = pages, closed
        self.shard_pages = shards or [[SHARD]]
        self.trimmed_before = trimmed_before
        self.failures = failures or {}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _fail(self, operation: str) -> None:
        queued = self.failures.get(operation)
        if queued:
            raise queued.pop(0)

    def describe_stream(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("describe_stream", request))
        self._fail("describe_stream")
        index = int(request.get("ExclusiveStartShardId", "-1").rsplit("#", 1)[-1]) + 1
        description: dict[str, Any] = {
            "Shards": [{"ShardId": shard} for shard in self.shard_pages[index]]
        }
        if index + 1 < len(self.shard_pages):
            description["LastEvaluatedShardId"] = f"page#{index}"
        return {"StreamDescription": description}

    def get_shard_iterator(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("get_shard_iterator", request))
        self._fail("get_shard_iterator")
        kind = request["ShardIteratorType"]
        if kind == "TRIM_HORIZON":
            return {"ShardIterator": f"at:{self.trimmed_before or 0}"}
        number = int(request["SequenceNumber"])
        if self.trimmed_before is not None and number < self.trimmed_before:
            raise error("TrimmedDataAccessException")
        return {"ShardIterator": f"at:{number + (kind == 'AFTER_SEQUENCE_NUMBER')}"}

    def get_records(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("get_records", request))
        self._fail("get_records")
        position = int(request["ShardIterator"].split(":")[1])
        for index, page in enumerate(self.pages):
            numbers = [number for number in page if number >= position]
            if numbers or (page == [] and index >= self._page_at(position)):
                answer: dict[str, Any] = {"Records": [raw(number) for number in numbers]}
                last = index == len(self.pages) - 1
                if not (last and self.closed):
                    after = (numbers[-1] + 1) if numbers else position
                    answer["NextShardIterator"] = f"at:{after}"
                return answer
        answer = {"Records": []}
        if not self.closed:
            answer["NextShardIterator"] = f"at:{position}"
        return answer

    def _page_at(self, position: int) -> int:
        for index, page in enumerate(self.pages):
            if page and page[-1] >= position:
                return index
        return len(self.pages)


def pointer(start: int, end: int, size: int | None = None) -> BatchPointer:
    return BatchPointer(
        message_id="m1",
        stream_arn=STREAM,
        shard_id=SHARD,
        start_sequence=str(start),
        end_sequence=str(end),
        batch_size=size,
        first_arrival=WRITTEN,
        last_arrival=WRITTEN,
        condition="RetryAttemptsExhausted",
        invoke_count=4,
        function_error=None,
        timestamp=WRITTEN,
    )


def numbers(read: Any) -> list[str]:
    return [record["dynamodb"]["SequenceNumber"] for record in read.records]


def test_the_range_is_read_across_pages_from_its_first_sequence_number() -> None:
    streams = Streams([[10, 11], [12, 13], [14, 15]])
    read = read_back(streams, pointer(11, 14, 4))
    assert (read.status, numbers(read)) == (RECOVERED, ["11", "12", "13", "14"])
    assert read.detail == "4 record(s) for a batch of 4"
    iterator = next(call for name, call in streams.calls if name == "get_shard_iterator")
    assert iterator["ShardIteratorType"] == "AT_SEQUENCE_NUMBER"
    assert iterator["SequenceNumber"] == "11"
    assert [name for name, _ in streams.calls].count("get_records") == 3  # stops at 14


def test_records_are_handed_over_as_lambda_delivers_them() -> None:
    (record,) = read_back(Streams([[7]]), pointer(7, 7)).records
    assert record["eventSourceARN"] == STREAM
    assert (
        record["dynamodb"]["ApproximateCreationDateTime"]
        == (WRITTEN + dt.timedelta(seconds=7)).timestamp()
    )
    assert record["dynamodb"]["NewImage"] == {"avatar": {"B": "AP8="}, "tags": {"BS": ["YQ=="]}}
    assert lambda_record(raw(7), STREAM, "eu-west-1") == record


def test_the_shard_is_found_on_a_later_page_of_the_stream_description() -> None:
    streams = Streams([[1]], shards=[["shardId-00000001700000000000-00000000"], [SHARD]])
    assert read_back(streams, pointer(1, 1)).status == RECOVERED
    describes = [call for name, call in streams.calls if name == "describe_stream"]
    assert describes[1]["ExclusiveStartShardId"] == "page#0"


def test_a_shard_no_longer_listed_is_expired() -> None:
    read = read_back(
        Streams([[1]], shards=[["shardId-00000001700000000000-00000000"]]), pointer(1, 1)
    )
    assert read.status == EXPIRED and "no longer in the stream" in read.detail


@pytest.mark.parametrize("operation", ["describe_stream", "get_shard_iterator"])
def test_a_stream_or_shard_that_is_gone_is_expired(operation: str) -> None:
    streams = Streams([[1]], failures={operation: [error("ResourceNotFoundException")]})
    read = read_back(streams, pointer(1, 1))
    assert read.status == EXPIRED and "no longer exists" in read.detail


def test_a_fully_trimmed_range_is_expired() -> None:
    read = read_back(Streams([[20, 21]], trimmed_before=20), pointer(10, 12, 3))
    assert read.status == EXPIRED and read.records == []
    assert "TrimmedDataAccessException" in read.detail


def test_a_partly_trimmed_range_recovers_what_is_left() -> None:
    read = read_back(Streams([[12, 13, 14]], trimmed_before=12), pointer(10, 13, 4))
    assert (read.status, numbers(read)) == (PARTIAL, ["12", "13"])
    assert "2 record(s) for a batch of 4 recovered" in read.detail


def test_an_expired_iterator_is_renewed_after_the_last_record_read() -> None:
    streams = Streams(
        [[1, 2], [3, 4]], failures={"get_records": [error("ExpiredIteratorException")]}
    )
    read = read_back(streams, pointer(1, 4))
    assert (read.status, numbers(read)) == (RECOVERED, ["1", "2", "3", "4"])


def test_an_open_shard_without_the_end_of_the_range_is_incomplete() -> None:
    streams = Streams([[5, 6]], closed=False)
    read = read_back(streams, pointer(5, 9, 5))
    assert (read.status, numbers(read)) == (INCOMPLETE, ["5", "6"])
    assert "nothing up to the end sequence number yet" in read.detail
    empty_reads = [name for name, _ in streams.calls].count("get_records") - 1
    assert empty_reads == MAX_EMPTY_READS


def test_a_closed_shard_read_to_its_end_is_all_there_is() -> None:
    read = read_back(Streams([[5, 6]], closed=True), pointer(5, 9, 5))
    assert (read.status, numbers(read)) == (RECOVERED, ["5", "6"])
    assert read.detail == "2 record(s) for a batch of 5"


def test_a_range_with_no_record_at_all_is_incomplete_not_recovered() -> None:
    read = read_back(Streams([[20]]), pointer(5, 9))
    assert read.status == INCOMPLETE and "no record in the range" in read.detail


def test_other_errors_leave_the_pointer_incomplete_with_the_error() -> None:
    streams = Streams([[1]], failures={"describe_stream": [error("AccessDeniedException")]})
    read = read_back(streams, pointer(1, 1))
    assert read.status == INCOMPLETE and "AccessDeniedException" in read.detail


def test_time_left_and_records_past_retention_come_from_the_records() -> None:
    read = read_back(Streams([[1, 2]]), pointer(1, 2))
    oldest = WRITTEN + dt.timedelta(seconds=1)
    assert read.oldest_created() == oldest
    assert read.expires_at() == oldest + dt.timedelta(hours=24)
    assert read.past_retention(oldest + dt.timedelta(hours=24, seconds=0.5)) == 1
    assert read.past_retention(oldest + dt.timedelta(hours=23)) == 0


def test_records_the_trigger_filters_out_are_left_out_and_counted() -> None:
    only = RecordFilter([json.dumps({"dynamodb": {"SequenceNumber": ["11", "13"]}})])
    read = read_back(Streams([[10, 11, 12, 13]]), pointer(10, 13, 2), only)
    assert (read.status, numbers(read)) == (RECOVERED, ["11", "13"])
    assert read.detail == (
        "2 record(s) for a batch of 2 (2 more in the range match none of the trigger's "
        "filter patterns: never delivered, left out)"
    )
    none = RecordFilter([json.dumps({"dynamodb": {"SequenceNumber": ["99"]}})])
    read = read_back(Streams([[10, 11]]), pointer(10, 11, 2), none)
    assert read.status == INCOMPLETE and "did the filter patterns change since?" in read.detail
