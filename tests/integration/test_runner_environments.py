"""The mapping over real execution environments: the runner invokes a handler package in
awslambdaric processes (ProcessFunction) on an emulated stream, and a crash, a timeout,
going past the memory size and an import error are function errors for the mapping: the
batch is retried, then sent to the failure destination, and nothing is lost (every record
read is settled)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from streamops.lambda_local.function import ProcessFunction
from streamops.lambda_local.on_failure import SqsDestination
from streamops.lambda_local.runner import OUTCOME_ERROR, OUTCOME_TIMEOUT, StreamRunner
from tests.support.runner_harness import Recorder, function_arn, function_config, trigger_config
from tests.support.stream_table import REGION, StreamTable

pytestmark = pytest.mark.integration

# Each record's fault strikes on its first delivery only (a marker file per record).
FAULTY = """
import os, pathlib, time
STATE = pathlib.Path(os.environ["STATE_DIR"])
HELD = []

def lambda_handler(event, context):
    for record in event["Records"]:
        pk = record["dynamodb"]["Keys"]["PK"]["S"]
        marker = STATE / record["dynamodb"]["SequenceNumber"]
        if marker.exists():
            continue
        marker.touch()
        if pk.startswith("CRASH"):
            os._exit(7)
        if pk.startswith("OOM"):
            HELD.append(b"\\x01" * (256 << 20))
        if pk.startswith("HANG"):
            time.sleep(60)
    for record in event["Records"]:
        if record["dynamodb"]["Keys"]["PK"]["S"].startswith("HOG"):  # on every delivery
            HELD.append(b"\\x01" * (256 << 20))  # the dev function has 128 MB
    with (STATE / "processed").open("a") as out:
        for record in event["Records"]:
            out.write(record["dynamodb"]["SequenceNumber"] + "\\n")
    return {"batchItemFailures": []}
"""


def runner_for(
    table: StreamTable, root: Path, state: Path, **trigger: object
) -> tuple[StreamRunner, Recorder, ProcessFunction]:
    config = function_config(timeout_seconds=2, log_level="WARN")
    function = ProcessFunction(
        root,
        "handler.lambda_handler",
        config,
        function_arn=function_arn(config),
        region=REGION,
        environment={"STATE_DIR": str(state)},
    )
    recorder = Recorder()
    runner = StreamRunner(
        table.aws("dynamodbstreams"),
        table.stream_arn,
        trigger_config(**{"bisect_on_error": False, **trigger}),
        function,
        SqsDestination(table.aws("sqs"), table.queue_url),
        observers=[recorder],
    )
    return runner, recorder, function


def package(tmp_path: Path, source: str) -> tuple[Path, Path]:
    root, state = tmp_path / "task", tmp_path / "state"
    root.mkdir()
    state.mkdir()
    (root / "handler.py").write_text(textwrap.dedent(source))
    return root, state


def test_a_crash_and_a_timeout_are_retried_and_nothing_is_lost(
    moto_endpoint: str, tmp_path: Path
) -> None:
    table = StreamTable.create(moto_endpoint)
    for pk in ("USER#1", "CRASH#1", "USER#2", "HANG#1", "USER#3"):
        table.put(pk)
    root, state = package(tmp_path, FAULTY)
    runner, recorder, function = runner_for(table, root, state, batch_size=2)
    with runner:
        summary = runner.run_until_drained(timeout_seconds=120)

    truth = [record["dynamodb"]["SequenceNumber"] for record in table.ground_truth()]
    processed = (state / "processed").read_text().split()
    assert summary.drained and summary.unaccounted == 0
    assert summary.records_succeeded == 5 and sorted(set(processed)) == sorted(truth)
    outcomes = [event.outcome for event in recorder.invoked]
    assert outcomes.count(OUTCOME_ERROR) == 1 and outcomes.count(OUTCOME_TIMEOUT) == 1
    errors = [event.result.error for event in recorder.invoked if event.result.error]
    assert {getattr(error, "error_type", None) for error in errors} == {
        "Runtime.ExitError",
        "Sandbox.Timedout",
    }
    # Each fault cost its environment: 1 (first) + 1 after the crash + 1 after the timeout.
    assert function.environments_started == 3
    assert summary.cold_starts == 3 and len(summary.init_durations_ms) == 3


def test_an_import_error_fails_every_batch_until_it_goes_to_the_destination(
    moto_endpoint: str, tmp_path: Path
) -> None:
    table = StreamTable.create(moto_endpoint)
    for index in range(3):
        table.put(f"USER#{index}")
    root, state = package(tmp_path, "import missing_dependency\n")
    runner, recorder, _ = runner_for(table, root, state, batch_size=10, retry_attempts=1)
    with runner:
        summary = runner.run_until_drained(timeout_seconds=120)

    assert summary.drained and summary.unaccounted == 0
    assert summary.records_sent_to_destination == 3 and summary.records_succeeded == 0
    assert [event.outcome for event in recorder.invoked] == [OUTCOME_ERROR, OUTCOME_ERROR]
    error = recorder.invoked[0].result.error
    assert getattr(error, "error_type", None) == "Runtime.ImportModuleError"
    (message,) = table.failure_messages()
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 2


def test_out_of_memory_is_retried_then_sent_to_the_destination_and_nothing_is_lost(
    moto_endpoint: str, tmp_path: Path
) -> None:
    """OOM#1 goes past the memory on its first delivery only, HOG#1 on every one."""
    table = StreamTable.create(moto_endpoint)
    for pk in ("USER#1", "OOM#1", "HOG#1", "USER#2"):
        table.put(pk)
    root, state = package(tmp_path, FAULTY)
    runner, recorder, function = runner_for(table, root, state, batch_size=1, retry_attempts=1)
    with runner:
        summary = runner.run_until_drained(timeout_seconds=120)

    assert summary.drained and summary.unaccounted == 0
    assert summary.records_succeeded == 3 and summary.records_sent_to_destination == 1
    processed = (state / "processed").read_text().split()
    by_pk = {r["dynamodb"]["Keys"]["PK"]["S"]: r for r in table.ground_truth()}
    assert sorted(processed) == sorted(
        by_pk[pk]["dynamodb"]["SequenceNumber"] for pk in ("USER#1", "OOM#1", "USER#2")
    )
    errors = [event.result.error for event in recorder.invoked if event.result.error]
    assert [getattr(error, "error_type", None) for error in errors] == ["Runtime.OutOfMemory"] * 3
    (message,) = table.failure_messages()
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    # Each kill cost its environment: 1 (first) + 1 after each of the 3 kills.
    assert function.environments_started == 4 and summary.cold_starts == 4
