"""Nothing is lost: many changes across many items, faults injected at random positions
(transient exceptions, timeouts, partial failures, poison records of every kind), under
many trigger configurations. After the runner drains the stream:

1. every change was processed at least once, or is recoverable from the failure
   destination: quarantined whole, or pointed to by an on-failure message whose shard and
   sequence range read the record back from the stream, or (S3 destination) held whole in
   the invocation record's payload;
2. per item, changes were first processed in stream order;
3. no shard stayed blocked beyond the configured bounds: an on-failure message never
   reports more than retryAttempts + 1 invocations, a record heads at most
   ceil(log2(batchSize)) + retryAttempts + 1 failed invocations, and a record discarded for
   its age was discarded within one invocation of reaching maxRecordAgeSeconds;
4. the summary's counts add up, and match what the handler and the destination saw.

The handler (tests/support/functions/faulty.py) runs in awslambdaric execution
environments; what it saw comes from its journal. Its timeouts are real: the function
timeout is 1 s and a timed-out environment is stopped and replaced.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import random
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.config import UNBOUNDED, TriggerConfig
from streamops.lambda_local.on_failure import (
    RECORD_AGE_EXCEEDED,
    RETRY_ATTEMPTS_EXHAUSTED,
    S3Destination,
)
from streamops.lambda_local.runner import OUTCOME_PARTIAL, OUTCOME_SUCCESS, Summary
from streamops.stream_event import creation_time, lambda_record
from tests.support.functions.faulty import INVOCATION_SECONDS, KINDS, POISON, QUARANTINE_KIND, Fault
from tests.support.runner_harness import (
    FunctionState,
    Recorder,
    Seen,
    build_runner,
    function_config,
    trigger_config,
)
from tests.support.stream_table import REGION, StreamTable

pytestmark = pytest.mark.integration

# A real timeout, as short as the handler's normal invocations allow (a few ms warm; a
# cold INIT, bounded by the same timeout, well under it): each injected timeout costs it
# in wall time.
FUNCTION = function_config(timeout_seconds=1)


@dataclass(frozen=True)
class Scenario:
    item_count: int
    changes: tuple[int, ...]  # the item each change touches, in order
    faults: dict[int, Fault]  # change index -> fault
    trigger: TriggerConfig


def write_changes(table: StreamTable, scenario: Scenario) -> None:
    """Each change makes exactly one stream record: an INSERT, a MODIFY (a new version) or,
    every third touch of an existing item, a REMOVE."""
    exists: set[int] = set()
    for version, item in enumerate(scenario.changes):
        key = f"ITEM#{item}"
        if item in exists and version % 3 == 0:
            table.delete(key)
            exists.discard(item)
        else:
            table.put(key, version=version, status=f"v{version}")
            exists.add(item)


def run_scenario(moto_endpoint: str, scenario: Scenario, destination: str = "sqs") -> None:
    """`destination` is the mapping's on-failure destination: the queue (pointers) or a
    bucket (whole batches); the handler quarantines to the queue in both."""
    table = StreamTable.create(moto_endpoint)
    bucket = table.create_bucket() if destination == "s3" else None
    write_changes(table, scenario)
    truth = table.ground_truth()
    assert len(truth) == len(scenario.changes)
    faults = {
        truth[index]["dynamodb"]["SequenceNumber"]: fault
        for index, fault in scenario.faults.items()
    }
    with tempfile.TemporaryDirectory() as directory:  # a fresh one per hypothesis example
        state = faulty_state(Path(directory), table, faults)
        runner, recorder = build_runner(
            table,
            "faulty.lambda_handler",
            state,
            trigger=scenario.trigger,
            function=FUNCTION,
            destination=S3Destination(
                table.aws("s3"), bucket, "4f8e2c1a-0000-4000-8000-000000000014"
            )
            if bucket
            else None,
        )
        with runner:
            summary = runner.run_until_drained(timeout_seconds=24 * 3600)
        seen = state.seen()

    check_invariants(table, scenario.trigger, truth, faults, seen, recorder, summary, bucket=bucket)


def faulty_state(directory: Path, table: StreamTable, faults: dict[str, Fault]) -> FunctionState:
    scenario = {
        "faults": {sequence: [fault.kind, fault.times] for sequence, fault in faults.items()},
        "queue_url": table.queue_url,
        "timeout_seconds": FUNCTION.timeout_seconds,
    }
    return FunctionState(directory, scenario)


def check_invariants(
    table: StreamTable,
    trigger: TriggerConfig,
    truth: list[dict[str, Any]],
    faults: dict[str, Fault],
    seen: Seen,
    recorder: Recorder,
    summary: Summary,
    *,
    bucket: str | None = None,
) -> None:
    by_sequence = {record["dynamodb"]["SequenceNumber"]: record for record in truth}
    messages = table.failure_messages() + (table.bucket_objects(bucket) if bucket else [])
    quarantines = [message for message in messages if message.get("kind") == QUARANTINE_KIND]
    pointers = [message for message in messages if "DDBStreamBatchInfo" in message]
    assert len(quarantines) + len(pointers) == len(messages), "unknown destination message"

    # 1. Processed, or recoverable from the destination with the data needed.
    quarantined = set()
    for message in quarantines:
        sequence = message["sequenceNumber"]
        expected = lambda_record(by_sequence[sequence], table.stream_arn, REGION)
        assert message["record"]["dynamodb"] == _json_round_trip(expected["dynamodb"])
        quarantined.add(sequence)
    pointed = set()
    for message in pointers:
        info = message["DDBStreamBatchInfo"]
        assert info["streamArn"] == table.stream_arn
        start, size = info["startSequenceNumber"], info["batchSize"]
        if bucket:  # the batch itself, in the payload: nothing read from the stream
            assert "payload" in message and isinstance(message["payload"], str)
            held = json.loads(message["payload"])["Records"]
            numbers = [record["dynamodb"]["SequenceNumber"] for record in held]
            assert [record["dynamodb"] for record in held] == [
                _json_round_trip(
                    lambda_record(by_sequence[number], table.stream_arn, REGION)["dynamodb"]
                )
                for number in numbers
            ]
        else:
            assert "payload" not in message
            read_back = list(table.read(info["shardId"], "AT_SEQUENCE_NUMBER", start, size))
            numbers = [record["dynamodb"]["SequenceNumber"] for record in read_back]
            assert read_back == [by_sequence[number] for number in numbers]
        assert (numbers[0], numbers[-1], len(numbers)) == (
            info["startSequenceNumber"],
            info["endSequenceNumber"],
            info["batchSize"],
        )
        pointed.update(numbers)
    processed = set(seen.processed)
    lost = set(by_sequence) - processed - quarantined - pointed
    assert not lost, f"{len(lost)} changes neither processed nor recoverable: {sorted(lost)[:5]}"
    for sequence, fault in faults.items():
        if fault.kind in POISON:  # never processed; the handler quarantines the ones it can
            assert sequence not in processed
            expected_in = quarantined | pointed if fault.kind == "quarantine" else pointed
            assert sequence in expected_in, f"poison {fault.kind} record {sequence} not found"

    # 2. Per item, first processing follows stream order.
    first_seen: dict[str, list[int]] = {}
    for sequence in dict.fromkeys(seen.processed):
        item = by_sequence[sequence]["dynamodb"]["Keys"]["PK"]["S"]
        first_seen.setdefault(item, []).append(int(sequence))
    for item, order in first_seen.items():
        assert order == sorted(order), f"{item} processed out of order"

    # 3. Bounded blocking.
    limit = trigger.retry_attempts
    for message in pointers:
        context = message["requestContext"]
        if context["condition"] == RETRY_ATTEMPTS_EXHAUSTED:
            assert limit != UNBOUNDED
            assert 1 <= context["approximateInvokeCount"] <= limit + 1
    failed_as_head: Counter[str] = Counter()
    for invoked in recorder.invoked:
        progressed = invoked.outcome == OUTCOME_PARTIAL and invoked.failed_at
        if invoked.outcome != OUTCOME_SUCCESS and not progressed:
            failed_as_head[invoked.sequence_numbers[0]] += 1
    if limit != UNBOUNDED:
        bound = math.ceil(math.log2(trigger.batch_size)) + limit + 1
        assert max(failed_as_head.values(), default=0) <= bound
    # On the mapping's clock an invocation takes INVOCATION_SECONDS, a timed-out one the
    # whole timeout on top (the handler adds both).
    slowest_invocation = FUNCTION.timeout_seconds + INVOCATION_SECONDS
    for discarded in recorder.discarded:
        if discarded.condition == RECORD_AGE_EXCEEDED:
            oldest = creation_time(by_sequence[discarded.sequence_numbers[0]])
            assert oldest is not None
            age = _epoch(discarded.message["timestamp"]) - oldest
            # The runner discards when the age is strictly above the limit; the message's
            # timestamp is cut to the millisecond (AWS's format), so an age just above the
            # limit can read as the limit itself (hypothesis found 60.0004 -> 60.000).
            assert trigger.max_record_age_seconds < age + MESSAGE_TIMESTAMP_RESOLUTION
            assert age <= trigger.max_record_age_seconds + slowest_invocation + 1

    # 4. The summary adds up.
    assert summary.drained and summary.records_pending == 0 and summary.unaccounted == 0
    assert summary.records_read == len(truth)
    assert summary.records_by_event == Counter(record["eventName"] for record in truth)
    assert summary.records_succeeded + summary.records_sent_to_destination == len(truth)
    assert summary.records_sent_to_destination == sum(
        message["DDBStreamBatchInfo"]["batchSize"] for message in pointers
    )
    assert summary.destination_batches == len(pointers)
    assert summary.failure_messages == Counter(
        message["requestContext"]["condition"] for message in pointers
    )
    assert summary.quarantined == len(quarantines)
    assert summary.invocations == len(seen.invocations) == len(recorder.invoked)
    assert sum(summary.outcomes.values()) == summary.invocations


def _json_round_trip(value: Any) -> Any:
    return json.loads(json.dumps(value))


MESSAGE_TIMESTAMP_RESOLUTION = 0.001  # seconds: on-failure timestamps carry milliseconds


def _epoch(timestamp: str) -> float:
    return dt.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    item_count = draw(st.integers(1, 15))
    changes = tuple(draw(st.lists(st.integers(0, item_count - 1), min_size=20, max_size=150)))
    faults = draw(
        st.dictionaries(
            st.integers(0, len(changes) - 1),
            st.builds(Fault, st.sampled_from(KINDS), st.integers(1, 3)),
            min_size=1,
            max_size=len(changes) // 5,
        )
    )
    retry_attempts = draw(st.sampled_from([0, 1, 2, 3, UNBOUNDED]))
    ages = [60, 120] if retry_attempts == UNBOUNDED else [UNBOUNDED, 60, 3600]
    trigger = trigger_config(
        batch_size=draw(st.integers(1, 12)),
        bisect_on_error=draw(st.booleans()),
        retry_attempts=retry_attempts,
        max_record_age_seconds=draw(st.sampled_from(ages)),
        max_batching_window_seconds=draw(st.sampled_from([0, 0, 1])),
    )
    return Scenario(item_count, changes, faults, trigger)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_no_change_is_lost_under_injected_faults(moto_endpoint: str, scenario: Scenario) -> None:
    run_scenario(moto_endpoint, scenario)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_no_change_is_lost_with_an_s3_destination(moto_endpoint: str, scenario: Scenario) -> None:
    run_scenario(moto_endpoint, scenario, destination="s3")


def test_a_thousand_changes_across_fifty_items_with_faults_lose_nothing(moto_endpoint: str) -> None:
    """The issue's scenario at full size, on the dev stack's trigger (batch 10, 3 retries,
    1 h record age, bisect on), faults at 5% of the positions, chosen by a fixed seed."""
    rng = random.Random(20261128)
    changes = tuple(rng.randrange(50) for _ in range(1000))
    positions = rng.sample(range(1000), 50)
    faults = {
        position: Fault(KINDS[index % len(KINDS)], 1 + index % 3)
        for index, position in enumerate(positions)
    }
    trigger = trigger_config()
    assert (trigger.batch_size, trigger.retry_attempts, trigger.bisect_on_error) == (10, 3, True)
    run_scenario(moto_endpoint, Scenario(50, changes, faults, trigger))


def test_the_invariant_check_catches_a_lost_change(moto_endpoint: str, tmp_path: Path) -> None:
    """The checks above can fail: a runner that skips a record without telling anyone."""
    table = StreamTable.create(moto_endpoint)
    scenario = Scenario(2, (0, 1, 0, 1), {}, trigger_config())
    write_changes(table, scenario)
    truth = table.ground_truth()
    state = faulty_state(tmp_path, table, {})
    runner, recorder = build_runner(table, "faulty.lambda_handler", state, function=FUNCTION)
    with runner:
        summary = runner.run_until_drained(timeout_seconds=60)
    seen = state.seen()
    check_invariants(table, trigger_config(), truth, {}, seen, recorder, summary)  # all there
    seen.processed.remove(truth[2]["dynamodb"]["SequenceNumber"])  # "lost" it

    with pytest.raises(AssertionError, match="neither processed nor recoverable"):
        check_invariants(table, trigger_config(), truth, {}, seen, recorder, summary)
    assert dataclasses.replace(summary).unaccounted == 0
