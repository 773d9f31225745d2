"""The local stream runner's event source mapping semantics, one by one, on a real
(emulated) DynamoDB stream, with handlers that fail in controlled ways
(tests/support/functions/semantics.py) run by awslambdaric in execution environments
(ProcessFunction). Each handler journals what it was given, so the tests check what the
function really received. The mapping's time is a manual clock the handler processes can
move (a handler "takes 25 s" without sleeping); the function timeout is real time (a
handler that runs past it is stopped)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from streamops.lambda_local.function import ProcessFunction
from streamops.lambda_local.logs import CloudWatchLogsSink
from streamops.lambda_local.on_failure import (
    RECORD_AGE_EXCEEDED,
    RETRY_ATTEMPTS_EXHAUSTED,
    destination_for,
)
from streamops.lambda_local.runner import (
    OUTCOME_ERROR,
    OUTCOME_INVALID,
    OUTCOME_PARTIAL,
    OUTCOME_TIMEOUT,
)
from tests.support.runner_harness import (
    FunctionState,
    build_runner,
    function_arn,
    function_config,
    trigger_config,
)
from tests.support.stream_table import StreamTable

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "shared" / "events"
RECORDED_DESTINATION_MESSAGE = (
    "localstack__localstack__test_lambda_integration_dynamodbstreams.snapshot__"
    "report_batch_item_failures_destination_queue_messages.json"
)


def table_with(endpoint: str, count: int) -> tuple[StreamTable, list[str]]:
    table = StreamTable.create(endpoint)
    for index in range(count):
        table.put(f"USER#{index}", name=f"user {index}")
    return table, [record["dynamodb"]["SequenceNumber"] for record in table.ground_truth()]


def test_batches_hold_at_most_batch_size_records_in_stream_order(
    moto_endpoint: str, tmp_path: Path
) -> None:
    table, truth = table_with(moto_endpoint, 25)
    state = FunctionState(tmp_path)
    runner, recorder = build_runner(
        table, "semantics.succeed", state, trigger=trigger_config(batch_size=10)
    )

    with runner:
        summary = runner.run_until_drained(timeout_seconds=60)

    assert recorder.batches() == [truth[:10], truth[10:20], truth[20:]]
    seen = state.seen()
    assert seen.batches() == recorder.batches(), "the handler got other records"
    assert [invocation["request_id"] for invocation in seen.invocations] == [
        event.result.request_id for event in recorder.invoked
    ]
    assert len({invocation["pid"] for invocation in seen.invocations}) == 1, "not reused warm"
    # The runtime's context counts down from the deadline (30 s) the Runtime API sent.
    assert all(20_000 < invocation["remaining_ms"] <= 30_000 for invocation in seen.invocations)
    assert summary.cold_starts == 1
    assert (summary.invocations, summary.records_succeeded, summary.unaccounted) == (3, 25, 0)
    assert summary.drained and summary.iterator_age_ms == 0


def test_batching_window_waits_for_a_fuller_batch_unless_it_is_full(
    moto_endpoint: str, tmp_path: Path
) -> None:
    table, truth = table_with(moto_endpoint, 3)
    state = FunctionState(tmp_path)
    clock = state.clock
    trigger = trigger_config(batch_size=10, max_batching_window_seconds=5)
    runner, recorder = build_runner(table, "semantics.succeed", state, trigger=trigger)
    with runner:
        runner.step()
        clock.advance(4.9)
        runner.step()
        assert recorder.batches() == [], "invoked before the window closed"
        clock.advance(0.2)
        runner.step()
        assert recorder.batches() == [truth]

        for index in range(3, 15):
            table.put(f"USER#{index}")
        more = [record["dynamodb"]["SequenceNumber"] for record in table.ground_truth()][3:]
        runner.step()
        assert recorder.batches()[1:] == [more[:10]], "a full batch must not wait for the window"
        runner.step()
        assert len(recorder.batches()) == 2, "the last 2 records must wait for the window"
        clock.advance(5)
        runner.step()
        assert recorder.batches()[2:] == [more[10:]]
    assert state.seen().batches() == recorder.batches()


def test_partial_failure_redelivers_from_the_lowest_reported_sequence_number(
    moto_endpoint: str, tmp_path: Path
) -> None:
    table, truth = table_with(moto_endpoint, 10)
    state = FunctionState(tmp_path)
    runner, recorder = build_runner(
        table, "semantics.report_two_failures_once", state, trigger=trigger_config(batch_size=10)
    )
    with runner:
        summary = runner.run_until_drained(timeout_seconds=60)

    assert recorder.batches() == [truth, truth[3:]] == state.seen().batches()
    assert recorder.invoked[0].outcome == OUTCOME_PARTIAL
    assert recorder.invoked[0].failed_at == 3
    assert summary.records_redelivered == 7
    assert summary.retries == 0, "progress (records before the failure) is not a retry"
    assert summary.records_succeeded == 10 and summary.destination_batches == 0


def test_a_raised_error_retries_the_whole_batch(moto_endpoint: str, tmp_path: Path) -> None:
    table, truth = table_with(moto_endpoint, 4)
    state = FunctionState(tmp_path)
    trigger = trigger_config(batch_size=10, bisect_on_error=False)
    runner, recorder = build_runner(table, "semantics.raise_once", state, trigger=trigger)
    with runner:
        summary = runner.run_until_drained(timeout_seconds=60)

    assert recorder.batches() == [truth, truth] == state.seen().batches()
    assert recorder.invoked[0].outcome == OUTCOME_ERROR
    failed = recorder.invoked[0].result
    # The runtime's own error line (awslambdaric, JSON log format), between the platform
    # records of the invocation.
    documents = [json.loads(line.message) for line in failed.lines]
    (error_line,) = [document for document in documents if "errorType" in document]
    assert error_line["errorType"] == "RuntimeError"
    assert error_line["errorMessage"] == "downstream unavailable"
    assert (error_line["level"], error_line["requestId"]) == ("ERROR", failed.request_id)
    assert [document.get("type") for document in documents] == [
        "platform.initStart",
        "platform.start",
        None,
        "platform.report",
    ]
    assert getattr(failed.error, "error_type", None) == "RuntimeError"
    assert (summary.retries, summary.records_succeeded, summary.destination_batches) == (1, 4, 0)


def test_bisect_splits_a_failing_batch_first_half_first_without_using_retries(
    moto_endpoint: str, tmp_path: Path
) -> None:
    table, truth = table_with(moto_endpoint, 10)
    state = FunctionState(tmp_path, {"poison": truth[7]})
    trigger = trigger_config(batch_size=10, bisect_on_error=True, retry_attempts=3)
    runner, recorder = build_runner(table, "semantics.raise_on_poison", state, trigger=trigger)

    with runner:
        summary = runner.run_until_drained(timeout_seconds=60)
    assert state.seen().batches() == recorder.batches()

    poison = [truth[7]]
    assert (
        recorder.batches()
        == [
            truth,
            truth[:5],
            truth[5:],
            truth[5:8],
            truth[5:7],
            poison,  # the first delivery of the record on its own
            poison,  # + retryAttempts (3) retries: the splits used none of them
            poison,
            poison,
            truth[8:],
        ]
    )
    (discarded,) = recorder.discarded
    info = discarded.message["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        truth[7],
        truth[7],
        1,
    )
    assert discarded.message["requestContext"]["approximateInvokeCount"] == 4
    assert discarded.message["responseContext"]["functionError"] == "Unhandled"
    assert (summary.bisections, summary.retries) == (3, 3)
    assert (summary.records_succeeded, summary.records_sent_to_destination) == (9, 1)
    assert table.failure_messages() == [discarded.message]


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _shape(inner) for key, inner in value.items()}
    return type(value).__name__


def test_retry_exhaustion_sends_the_on_failure_message_aws_sent_in_the_same_run(
    moto_endpoint: str, tmp_path: Path
) -> None:
    """The recorded AWS run: BatchSize 3, MaximumRetryAttempts 3, ReportBatchItemFailures,
    six items of which the last one always fails. AWS delivered it 5 times and sent one
    on-failure message with approximateInvokeCount 4 and batchSize 1."""
    table = StreamTable.create(moto_endpoint)
    for index in range(6):
        table.put(f"testId{index}", should_fail=index == 5)
    truth = table.ground_truth()
    state = FunctionState(tmp_path)
    trigger = trigger_config(batch_size=3, retry_attempts=3, bisect_on_error=False)
    runner, recorder = build_runner(
        table, "semantics.report_records_that_should_fail", state, trigger=trigger
    )
    with runner:
        summary = runner.run_until_drained(timeout_seconds=60)

    failing = truth[5]["dynamodb"]["SequenceNumber"]
    deliveries = sum(batch.count(failing) for batch in state.seen().batches())
    assert deliveries == 5
    (message,) = table.failure_messages()
    recorded = json.loads((EVENTS / RECORDED_DESTINATION_MESSAGE).read_text(encoding="utf-8-sig"))[
        "Messages"
    ][0]["Body"]
    assert _shape(message) == _shape(recorded)
    assert message["requestContext"]["condition"] == RETRY_ATTEMPTS_EXHAUSTED
    assert message["requestContext"]["approximateInvokeCount"] == 4
    assert message["requestContext"]["functionArn"] == function_arn(function_config())
    assert message["requestContext"]["requestId"] == recorder.invoked[-1].result.request_id
    assert message["responseContext"] == recorded["responseContext"]
    assert message["version"] == recorded["version"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", message["timestamp"])
    info = message["DDBStreamBatchInfo"]
    assert info["shardId"] == table.shard_id()
    assert info["streamArn"] == table.stream_arn
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        failing,
        failing,
        1,
    )
    for key in ("approximateArrivalOfFirstRecord", "approximateArrivalOfLastRecord"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", info[key])
    # The pointer is enough to read the discarded record back from the stream.
    (read_back,) = table.read(info["shardId"], "AT_SEQUENCE_NUMBER", failing, info["batchSize"])
    assert read_back == truth[5]
    assert (summary.records_succeeded, summary.records_sent_to_destination) == (5, 1)


def test_a_failing_batch_is_discarded_once_its_oldest_record_is_too_old(
    moto_endpoint: str, tmp_path: Path
) -> None:
    table, truth = table_with(moto_endpoint, 3)
    state = FunctionState(tmp_path)  # the handler adds 25 s to its clock per attempt
    trigger = trigger_config(retry_attempts=-1, max_record_age_seconds=60, bisect_on_error=False)
    runner, recorder = build_runner(table, "semantics.fail_slowly", state, trigger=trigger)
    with runner:
        summary = runner.run_until_drained(timeout_seconds=600)

    # Attempts start at ages ~0, 25 and 50 s; at 75 s the batch is discarded, not invoked.
    assert recorder.batches() == [truth] * 3 == state.seen().batches()
    (discarded,) = recorder.discarded
    assert discarded.condition == RECORD_AGE_EXCEEDED
    assert discarded.message["requestContext"]["approximateInvokeCount"] == 3
    assert discarded.message["DDBStreamBatchInfo"]["batchSize"] == 3
    assert summary.failure_messages == {RECORD_AGE_EXCEEDED: 1}


def test_a_record_already_too_old_is_discarded_without_an_invocation(
    moto_endpoint: str, tmp_path: Path
) -> None:
    table, truth = table_with(moto_endpoint, 2)
    state = FunctionState(tmp_path, start=time.time() + 61)
    trigger = trigger_config(max_record_age_seconds=60)
    runner, _ = build_runner(table, "semantics.succeed", state, trigger=trigger)

    with runner:
        summary = runner.run_until_drained(timeout_seconds=60)

    assert summary.invocations == 0 and state.seen().invocations == []
    (message,) = table.failure_messages()
    assert message["requestContext"]["condition"] == RECORD_AGE_EXCEEDED
    assert message["requestContext"]["approximateInvokeCount"] == 0
    assert message["responseContext"] == {
        "statusCode": None,
        "executedVersion": None,
        "functionError": None,
    }
    assert message["DDBStreamBatchInfo"]["startSequenceNumber"] == truth[0]
    assert message["DDBStreamBatchInfo"]["endSequenceNumber"] == truth[1]


@pytest.mark.parametrize(
    "failures",
    [
        [{"itemIdentifier": ""}],
        [{"itemIdentifier": None}],
        [{"itemIdentifier": 123}],
        [{"foo": "FIRST"}],  # misnamed key
        [{"itemIdentifier": "99999999999999999999999"}],  # not in the batch
        "not-a-list",
    ],
    ids=["empty", "null", "not-a-string", "misnamed-key", "not-in-batch", "not-a-list"],
)
def test_an_unusable_item_identifier_fails_the_whole_batch(
    moto_endpoint: str, tmp_path: Path, failures: Any
) -> None:
    table, truth = table_with(moto_endpoint, 3)
    # The first response is the unusable one ("FIRST": the batch's first sequence number).
    responses = [{"batchItemFailures": failures}, {"batchItemFailures": []}]
    state = FunctionState(tmp_path, {"responses": responses})
    trigger = trigger_config(batch_size=10, bisect_on_error=False)
    runner, recorder = build_runner(table, "semantics.respond", state, trigger=trigger)
    with runner:
        summary = runner.run_until_drained(timeout_seconds=60)

    assert recorder.batches() == [truth, truth] == state.seen().batches()
    assert recorder.invoked[0].result.response == json.loads(
        json.dumps({"batchItemFailures": failures}).replace('"FIRST"', json.dumps(truth[0]))
    )
    assert recorder.invoked[0].outcome == OUTCOME_INVALID
    assert summary.retries == 1


@pytest.mark.parametrize(
    "response",
    [None, {}, [], {"batchItemFailures": None}, {"batchItemFailures": []}, {"statusCode": 200}],
    ids=["null", "empty-object", "empty-list", "null-list", "empty-failures", "seed-response"],
)
def test_responses_without_item_failures_are_success(
    moto_endpoint: str, tmp_path: Path, response: Any
) -> None:
    table, truth = table_with(moto_endpoint, 3)
    state = FunctionState(tmp_path, {"responses": [response]})
    runner, recorder = build_runner(table, "semantics.respond", state)

    with runner:
        summary = runner.run_until_drained(timeout_seconds=60)

    assert recorder.batches() == [truth] == state.seen().batches()
    assert recorder.invoked[0].result.response == response, "not the handler's response"
    assert summary.records_succeeded == 3 and summary.retries == 0


def test_a_handler_running_past_the_timeout_fails_the_whole_batch(
    moto_endpoint: str, tmp_path: Path
) -> None:
    table, truth = table_with(moto_endpoint, 3)
    state = FunctionState(tmp_path)
    # A real 1 s timeout: the first invocation sleeps past it and is stopped.
    function = function_config(timeout_seconds=1)
    trigger = trigger_config(bisect_on_error=False)
    runner, recorder = build_runner(
        table, "semantics.time_out_once", state, trigger=trigger, function=function
    )
    with runner:
        summary = runner.run_until_drained(timeout_seconds=600)

    seen = state.seen()
    # The runtime's context counts down from the deadline the Runtime API sent.
    remaining = [invocation["remaining_ms"] for invocation in seen.invocations]
    assert len(remaining) == 2 and all(0 < left <= 1000 for left in remaining), remaining
    assert recorder.batches() == [truth, truth] == seen.batches()
    timed_out = recorder.invoked[0].result
    assert recorder.invoked[0].outcome == OUTCOME_TIMEOUT
    assert getattr(timed_out.error, "error_type", None) == "Sandbox.Timedout"
    report = json.loads(timed_out.lines[-1].message)
    assert report["type"] == "platform.report"
    # The report's status says it; the schema gives errorType for failure/error only.
    assert report["record"]["status"] == "timeout" and "errorType" not in report["record"]
    assert report["record"]["metrics"]["durationMs"] >= 1000
    # The stopped environment was replaced: the retry ran cold, in another process.
    first, second = (invocation["pid"] for invocation in seen.invocations)
    assert first != second and recorder.invoked[1].result.cold
    assert summary.cold_starts == 2
    assert (summary.retries, summary.records_succeeded) == (1, 3)


def test_function_log_lines_reach_the_log_group_in_lambda_json_format(
    moto_endpoint: str, tmp_path: Path
) -> None:
    table, _ = table_with(moto_endpoint, 2)
    function = function_config(name=f"fn-{table.name}")
    group = f"/aws/lambda/{function.name}"
    logs = table.aws("logs")
    logs.create_log_group(logGroupName=group)
    state = FunctionState(tmp_path)

    runner, recorder = build_runner(
        table,
        "semantics.log_each_record",
        state,
        function=function,
        stream_sinks=lambda stream: [CloudWatchLogsSink(logs, group, stream)],
    )
    with runner:
        runner.run_until_drained(timeout_seconds=60)

    assert isinstance(runner.function, ProcessFunction)
    (stream,) = runner.function.log_streams  # one environment, its own stream
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", stream)
    events = logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
    documents = [json.loads(event["message"]) for event in events]
    request_id = recorder.invoked[0].result.request_id
    assert documents[0]["type"] == "platform.initStart"  # a cold start
    documents = documents[1:]
    assert documents[0] == {
        "time": documents[0]["time"],
        "type": "platform.start",
        "record": {
            "requestId": request_id,
            "functionArn": function_arn(function),
            "version": "$LATEST",
        },
    }
    assert documents[1]["message"] == "Processing INSERT"
    assert documents[1]["level"] == "INFO"
    assert documents[1]["logger"] == "stream_processor"
    assert documents[1]["requestId"] == request_id
    assert documents[1]["sequenceNumber"] == "x"
    # awslambdaric's JSON format: an RFC 3339 timestamp, kept by the application filter.
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", documents[1]["timestamp"])
    assert documents[2]["message"] == "Processing INSERT"
    assert documents[-1]["type"] == "platform.report"
    assert len(documents) == 4


def test_on_failure_messages_can_go_to_an_sns_topic(moto_endpoint: str, tmp_path: Path) -> None:
    table, truth = table_with(moto_endpoint, 1)
    sns, sqs = table.aws("sns"), table.aws("sqs")
    topic = sns.create_topic(Name=f"{table.name}-failures")["TopicArn"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=table.queue_url, AttributeNames=["QueueArn"])
    sns.subscribe(  # the queue reads what the topic receives, as published
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    trigger = trigger_config(retry_attempts=0, bisect_on_error=False)
    destination = destination_for("sns", topic, sns)
    state = FunctionState(tmp_path, {"poison": truth[0]})
    runner, recorder = build_runner(
        table, "semantics.raise_on_poison", state, trigger=trigger, destination=destination
    )

    with runner:
        runner.run_until_drained(timeout_seconds=60)

    (discarded,) = recorder.discarded
    assert table.failure_messages() == [discarded.message]
    assert discarded.message["DDBStreamBatchInfo"]["startSequenceNumber"] == truth[0]


def test_an_unknown_destination_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown failure destination kind 'kafka'"):
        destination_for("kafka", "somewhere", None)
