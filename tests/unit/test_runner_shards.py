"""The runner's reading side on an in-memory stream: shard lineage (parents before
children), where each shard starts, paginated shard lists, expired iterators, filter
patterns and the 6 MB payload cap."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from streamops.clock import Clock, ManualClock
from streamops.lambda_local.event_filter import UnsupportedFilter
from streamops.lambda_local.function import SUCCESS, InvocationResult
from streamops.lambda_local.runner import StreamRunner
from streamops.stream_event import MAX_PAYLOAD_BYTES
from tests.support.fake_streams import STREAM_ARN, FakeShard, FakeStreams, record
from tests.support.functions.semantics import sequence_numbers
from tests.support.runner_harness import Recorder, function_arn, function_config, trigger_config


class Collected:
    """A failure destination keeping the messages in memory."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any], event: dict[str, Any]) -> None:
        self.messages.append(message)


class RecordingFunction:
    """The runner's Function, plainly: it keeps each event and answers success. (These
    tests are about reading the stream; the function's side runs in awslambdaric
    environments in the integration tests.)"""

    region = "us-east-1"

    def __init__(self) -> None:
        self.clock: Clock = ManualClock(start=0.0)
        self.function_arn = function_arn(function_config())
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: Any) -> InvocationResult:
        self.events.append(event)
        return InvocationResult(
            request_id=str(uuid.uuid4()),
            status=SUCCESS,
            response={"batchItemFailures": []},
            error=None,
            started=self.clock.now(),
            duration=0.0,
        )


def runner_for(
    streams: FakeStreams, **trigger: Any
) -> tuple[StreamRunner, Recorder, list[dict[str, Any]]]:
    function = RecordingFunction()
    recorder = Recorder()
    runner = StreamRunner(
        streams, STREAM_ARN, trigger_config(**trigger), function, Collected(), observers=[recorder]
    )
    return runner, recorder, function.events


def test_a_child_shard_is_read_only_after_its_parent_is_read_to_its_end() -> None:
    # Listed children first: the runner must order by lineage, not by listing order.
    streams = FakeStreams(
        [
            FakeShard("child-a", "parent", [record(20, "A"), record(21, "A")]),
            FakeShard("child-b", "parent", [record(30, "B")]),
            FakeShard("parent", None, [record(10, "A"), record(11, "B"), record(12, "A")], True),
        ],
        page_size=2,  # the shard list comes in two pages
    )
    runner, recorder, _ = runner_for(streams, batch_size=2)

    summary = runner.run_until_drained(timeout_seconds=60)

    delivered = [number for batch in recorder.batches() for number in batch]
    assert sorted(delivered) == ["10", "11", "12", "20", "21", "30"]
    assert delivered[:3] == ["10", "11", "12"], "children were read before the parent ended"
    assert delivered.index("20") < delivered.index("21")
    assert summary.drained and summary.records_succeeded == 6


def test_shards_present_at_start_begin_at_latest_and_later_shards_at_trim_horizon() -> None:
    parent = FakeShard("parent", None, [record(1, "A"), record(2, "A")])
    streams = FakeStreams([parent])
    runner, recorder, _ = runner_for(streams, starting_position="LATEST")

    runner.run_until_drained(timeout_seconds=60)
    assert recorder.batches() == [], "LATEST must skip records already in the stream"

    parent.records.append(record(3, "A"))
    parent.closed = True  # the table split: the parent closes, a child opens
    streams.shards.append(FakeShard("child", "parent", [record(4, "A"), record(5, "A")]))
    runner.run_until_drained(timeout_seconds=60)

    assert [number for batch in recorder.batches() for number in batch] == ["3", "4", "5"]
    types = {request["ShardId"]: request["Type"] for request in streams.iterator_requests}
    assert types == {"parent": "LATEST", "child": "TRIM_HORIZON"}


def test_an_expired_iterator_resumes_after_the_last_record_read() -> None:
    shard = FakeShard("only", None, [record(number, "A") for number in range(1, 6)])
    streams = FakeStreams([shard])
    streams.expire.add("only|2")  # the iterator handed out after the first two records
    runner, recorder, _ = runner_for(streams, batch_size=2)

    runner.run_until_drained(timeout_seconds=60)

    assert recorder.batches() == [["1", "2"], ["3", "4"], ["5"]]
    assert {"ShardId": "only", "Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": "2"} in (
        streams.iterator_requests
    )


def test_records_matching_no_filter_pattern_are_never_delivered_but_counted() -> None:
    shard = FakeShard(
        "only",
        None,
        [
            record(1, "USER#1", status={"S": "PAID"}),
            record(2, "USER#1", event="MODIFY", status={"S": "NEW"}),
            record(3, "PRODUCT#1", status={"S": "PAID"}),
            record(4, "USER#2", event="REMOVE", status={"S": "REFUND"}),
        ],
    )
    patterns = (
        json.dumps(
            {
                "dynamodb": {
                    "Keys": {"PK": {"S": [{"prefix": "USER#"}]}},
                    "NewImage": {"status": {"S": ["PAID"]}},
                }
            }
        ),
        json.dumps({"dynamodb": {"NewImage": {"status": {"S": ["REFUND"]}}}}),
    )
    runner, recorder, _ = runner_for(FakeStreams([shard]), filter_patterns=patterns)

    summary = runner.run_until_drained(timeout_seconds=60)

    assert recorder.batches() == [["1", "4"]]
    assert (summary.records_read, summary.records_filtered, summary.unaccounted) == (4, 2, 0)


def test_an_unsupported_filter_operator_is_refused_by_name() -> None:
    pattern = json.dumps({"dynamodb": {"Keys": {"PK": {"S": [{"wildcard": "USER*"}]}}}})
    with pytest.raises(
        UnsupportedFilter, match=r"filterPatterns\[0\]\.dynamodb\.Keys\.PK\.S: 'wildcard'"
    ):
        runner_for(FakeStreams([]), filter_patterns=(pattern,))


def test_a_batch_never_exceeds_the_6_mb_invocation_payload() -> None:
    big = "x" * (1024 * 1024)  # 1 MiB per record: six of them do not fit
    shard = FakeShard("only", None, [record(n, f"K{n}", blob={"S": big}) for n in range(1, 11)])
    runner, recorder, events = runner_for(FakeStreams([shard]), batch_size=10)

    runner.run_until_drained(timeout_seconds=60)

    assert [len(batch) for batch in recorder.batches()] == [5, 5]
    assert all(len(json.dumps(event)) <= MAX_PAYLOAD_BYTES for event in events)


def test_the_lambda_event_carries_the_stream_arn_region_and_epoch_creation_time() -> None:
    binary = {"B": b"\x00\xff"}
    shard = FakeShard("only", None, [record(7, "A", created=1_700_000_000.5, data=binary)])
    runner, _, events = runner_for(FakeStreams([shard]))

    runner.run_until_drained(timeout_seconds=60)

    (event,) = events
    (delivered,) = event["Records"]
    assert sequence_numbers(event) == ["7"]
    assert delivered["eventSourceARN"] == STREAM_ARN
    assert delivered["eventSource"] == "aws:dynamodb"
    assert delivered["awsRegion"] == "us-east-1"
    assert delivered["dynamodb"]["ApproximateCreationDateTime"] == 1_700_000_000.5
    assert delivered["dynamodb"]["NewImage"]["data"] == {"B": "AP8="}
    json.dumps(event)  # what Lambda sends is JSON: nothing boto3-only may remain


def test_a_ttl_deletions_identity_takes_the_lambda_event_form() -> None:
    expired = record(8, "SESSION#1", event="REMOVE")
    expired["userIdentity"] = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    runner, _, events = runner_for(FakeStreams([FakeShard("only", None, [expired])]))

    runner.run_until_drained(timeout_seconds=60)

    assert events[0]["Records"][0]["userIdentity"] == {
        "type": "Service",
        "principalId": "dynamodb.amazonaws.com",
    }


def test_the_shard_list_is_read_at_start_when_a_shard_ends_and_every_30_s_not_per_poll() -> None:
    parent = FakeShard("parent", None, [record(1, "A")])
    streams = FakeStreams([parent])
    runner, recorder, _ = runner_for(streams)

    def poll(seconds: float) -> None:
        end = runner.clock.now() + seconds
        while runner.clock.now() < end:
            if not runner.step():
                runner.clock.sleep(runner.poll_interval)

    poll(10)
    assert streams.describe_calls == 1

    parent.closed = True  # read to its end on the next poll: its children are looked for
    streams.shards.append(FakeShard("child", "parent", [record(2, "A")]))
    runner.run_until_drained(timeout_seconds=60)
    assert streams.describe_calls == 2 and recorder.batches() == [["1"], ["2"]]

    poll(50)  # one periodic refresh (every 30 s)
    assert streams.describe_calls == 3
