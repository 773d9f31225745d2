"""Replay: order per item, batch limits, what a failure holds back, bisection, and what each
target (the deployed function) can tell about re-quarantined records. The emulator's target
(the function in execution environments, LocalFunction) is tested in
tests/integration/redrive/, as it runs the function in awslambdaric processes."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Sequence
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from streamops.redrive.replay import (
    FAILED,
    HELD_BACK,
    MAX_PAYLOAD_BYTES,
    POISON,
    REPLAYED,
    SOURCE_POINTER,
    SOURCE_QUARANTINE,
    UNCERTAIN,
    DeployedFunction,
    Invocation,
    Recovered,
    Replay,
    TargetUnavailable,
    read_log_tail,
)

STREAM = "arn:aws:dynamodb:us-east-1:111111111111:table/t/stream/2026-01-01T00:00:00.000"


def recovered(
    number: int, pk: str = "USER#1", source: str = SOURCE_POINTER, padding: str = ""
) -> Recovered:
    record = {
        "eventID": f"e{number}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": {"PK": {"S": pk}, "SK": {"S": "ITEM"}},
            "NewImage": {"PK": {"S": pk}, "SK": {"S": "ITEM"}, "pad": {"S": padding}},
            "SequenceNumber": str(number),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": STREAM,
    }
    return Recovered(
        key=f"{STREAM}#{number}",
        record=record,
        source=source,
        message_ids=[f"m{number}"],
        sequence_number=str(number),
        stream_arn=STREAM,
        shard_id="shardId-1",
        reason="RetryAttemptsExhausted",
    )


class Scripted:
    """A target answering each batch with `answer(sequence numbers)`; keeps every batch."""

    description = "scripted"

    def __init__(self, answer: Callable[[list[str]], Invocation] | None = None, exact: bool = True):
        self.answer = answer or (lambda numbers: Invocation())
        self.exact_quarantine = exact
        self.batches: list[list[str]] = []

    def invoke(self, records: Sequence[Any]) -> Invocation:
        numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
        self.batches.append(numbers)
        return self.answer(numbers)


def statuses(outcomes: dict[str, Any]) -> dict[str, str]:
    return {key.rsplit("#", 1)[1]: outcome.status for key, outcome in outcomes.items()}


def test_records_go_in_stream_order_in_batches_of_the_configured_size() -> None:
    target = Scripted()
    records = [recovered(number, f"USER#{number % 3}") for number in (15, 11, 13, 12, 14, 10, 16)]
    outcomes = Replay(target, 3).run(records)
    assert target.batches == [["10", "11", "12"], ["13", "14", "15"], ["16"]]
    assert set(statuses(outcomes).values()) == {REPLAYED}


def test_a_batch_is_cut_before_lambdas_payload_limit() -> None:
    target = Scripted()
    big = "x" * (MAX_PAYLOAD_BYTES // 3)
    Replay(target, 10).run([recovered(number, padding=big) for number in range(1, 6)])
    assert target.batches == [["1", "2"], ["3", "4"], ["5"]]


def test_after_a_reported_failure_the_items_later_records_are_held_back() -> None:
    def fail_12(numbers: list[str]) -> Invocation:
        return Invocation(failed=["12"]) if "12" in numbers else Invocation()

    target = Scripted(fail_12)
    records = [
        recovered(10, "A"),
        recovered(11, "B"),
        recovered(12, "A"),
        recovered(13, "B"),
        recovered(14, "A"),
        recovered(15, "C"),
    ]
    outcomes = Replay(target, 10).run(records)
    assert statuses(outcomes) == {
        "10": REPLAYED,
        "11": REPLAYED,
        "12": FAILED,
        "13": REPLAYED,  # B goes on, in a batch of its own right after
        "14": HELD_BACK,
        "15": REPLAYED,
    }
    assert target.batches == [["10", "11", "12", "13", "14", "15"], ["13", "15"]]
    assert "after 12 of the same item" in outcomes[f"{STREAM}#14"].detail


def test_a_batch_failing_as_a_whole_is_split_down_to_the_failing_record() -> None:
    def error_with_13(numbers: list[str]) -> Invocation:
        return Invocation(error="RuntimeError: boom") if "13" in numbers else Invocation()

    target = Scripted(error_with_13)
    outcomes = Replay(target, 10).run([recovered(n, f"I{n}") for n in range(10, 15)])
    assert statuses(outcomes) == {
        "10": REPLAYED,
        "11": REPLAYED,
        "12": REPLAYED,
        "13": FAILED,
        "14": REPLAYED,
    }
    assert target.batches == [
        ["10", "11", "12", "13", "14"],
        ["10", "11", "12"],
        ["13", "14"],
        ["13"],
        ["14"],
    ]
    assert outcomes[f"{STREAM}#13"].detail == "RuntimeError: boom"


def test_an_identifier_outside_the_batch_counts_as_a_whole_batch_failure() -> None:
    target = Scripted(
        lambda numbers: Invocation(failed=["999"]) if len(numbers) > 1 else Invocation()
    )
    outcomes = Replay(target, 10).run([recovered(1, "A"), recovered(2, "B")])
    assert target.batches == [["1", "2"], ["1"], ["2"]]
    assert set(statuses(outcomes).values()) == {REPLAYED}


def test_exactly_known_quarantines_are_still_failing_and_do_not_hold_the_item_back() -> None:
    def quarantine_11(numbers: list[str]) -> Invocation:
        found = {"11": "still poison"} if "11" in numbers else {}
        return Invocation(requarantined=found, requarantined_count=len(found))

    outcomes = Replay(Scripted(quarantine_11), 10).run(
        [recovered(10), recovered(11), recovered(12)]
    )
    assert statuses(outcomes) == {"10": REPLAYED, "11": POISON, "12": REPLAYED}
    assert outcomes[f"{STREAM}#11"].detail == "still poison"


def test_on_aws_a_quarantined_record_goes_alone_and_an_unattributed_quarantine_keeps_all() -> None:
    def one_quarantined(numbers: list[str]) -> Invocation:
        hit = "11" in numbers or "20" in numbers
        return Invocation(requarantined=None, requarantined_count=int(hit))

    target = Scripted(one_quarantined, exact=False)
    records = [
        recovered(10, "A"),
        recovered(11, "B", source=SOURCE_QUARANTINE),
        recovered(12, "C"),
        recovered(20, "D"),
        recovered(21, "E"),
    ]
    outcomes = Replay(target, 10).run(records)
    assert target.batches == [["10"], ["11"], ["12", "20", "21"]]
    assert statuses(outcomes) == {
        "10": REPLAYED,
        "11": POISON,
        "12": UNCERTAIN,
        "20": UNCERTAIN,
        "21": UNCERTAIN,
    }


def test_every_outcome_is_reported_as_it_settles_with_progress() -> None:
    seen: list[tuple[str, str]] = []
    progress: list[tuple[int, int]] = []
    keep_alive: list[int] = []
    Replay(
        Scripted(lambda numbers: Invocation(failed=["2"]) if "2" in numbers else Invocation()),
        2,
        on_outcome=lambda record, outcome: seen.append((record.key[-1], outcome.status)),
        before_invoke=lambda: keep_alive.append(1),
        on_progress=lambda done, total: progress.append((done, total)),
    ).run([recovered(1), recovered(2), recovered(3)])
    assert seen == [("1", REPLAYED), ("2", FAILED), ("3", HELD_BACK)]
    assert progress == [(1, 3), (2, 3), (3, 3)]
    assert len(keep_alive) == 1  # 3 is held back without an invocation


def test_the_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Replay(Scripted(), 0)


# --------------------------------------------------------------------------- targets


def lambda_stub(function: str = "fn") -> tuple[DeployedFunction, Stubber]:
    client = boto3.client(
        "lambda",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return DeployedFunction(client, function), Stubber(client)


def invoke_answer(payload: Any, tail: list[Any], error: str | None = None) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    lines = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in tail)
    answer: dict[str, Any] = {
        "StatusCode": 200,
        "Payload": StreamingBody(io.BytesIO(body), len(body)),
        "LogResult": base64.b64encode(lines.encode()).decode(),
    }
    if error:
        answer["FunctionError"] = error
    return answer


EMF = {"_aws": {"CloudWatchMetrics": []}, "RecordsQuarantined": 1, "RecordsProcessed": 2}


def test_the_deployed_function_is_invoked_as_the_mapping_invokes_it() -> None:
    function, stubber = lambda_stub()
    records = [recovered(1).record, recovered(2).record]
    error_line = {"level": "ERROR", "message": "Record 1 failed: boom", "sequenceNumber": "2"}
    stubber.add_response(
        "invoke",
        invoke_answer(
            {"batchItemFailures": [{"itemIdentifier": "2"}]},
            ["START RequestId: x", error_line, EMF, "END RequestId: x"],
        ),
        {
            "FunctionName": "fn",
            "InvocationType": "RequestResponse",
            "LogType": "Tail",
            "Payload": json.dumps({"Records": records}, separators=(",", ":")).encode(),
        },
    )
    with stubber:
        result = function.invoke(records)
    assert result.failed == ["2"] and result.error is None
    assert result.requarantined is None and result.requarantined_count == 1
    assert result.reasons == {"2": "Record 1 failed: boom"}


def test_a_function_error_fails_the_whole_batch_with_its_message() -> None:
    function, stubber = lambda_stub()
    error = {"errorType": "RuntimeError", "errorMessage": "record 0 failed"}
    stubber.add_response("invoke", invoke_answer(error, [], error="Unhandled"))
    with stubber:
        result = function.invoke([recovered(1).record])
    assert result.error == "Unhandled error: RuntimeError: record 0 failed"


def test_an_invoke_the_service_refuses_stops_the_replay() -> None:
    function, stubber = lambda_stub()
    stubber.add_client_error("invoke", "TooManyRequestsException", "Rate exceeded")
    with stubber, pytest.raises(TargetUnavailable, match="TooManyRequestsException"):
        function.invoke([recovered(1).record])


def test_the_deployed_functions_client_waits_for_the_timeout_and_never_retries() -> None:
    config = DeployedFunction.client_config(900)
    assert config.read_timeout == 930
    assert config.retries == {"max_attempts": 1}


def test_the_log_tail_gives_quarantine_counts_and_record_errors() -> None:
    tail = "\n".join(
        [
            "not json",
            json.dumps({"level": "ERROR", "message": "first", "sequenceNumber": "7"}),
            json.dumps({"level": "ERROR", "message": "second", "sequenceNumber": "7"}),
            json.dumps({"level": "WARN", "message": "w", "sequenceNumber": "8"}),
            json.dumps(EMF),
            json.dumps({"level": "INFO", "message": json.dumps(EMF)}),  # wrapped by a runtime
            json.dumps({"level": "INFO", "message": "no metrics here"}),
            "[1, 2]",
        ]
    )
    assert read_log_tail(tail) == (2, {"7": "first"})
