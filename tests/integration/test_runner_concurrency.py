"""The shards of a stream are invoked concurrently, each batch in an execution environment of
its own, as many at once as the function's pool allows (shards x parallelization factor,
capped by reserved concurrency). Real awslambdaric processes (ProcessFunction) on an
in-memory stream with two shards; the handler sleeps so that overlap is unmistakable."""

from __future__ import annotations

import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from streamops.clock import Clock, ManualClock
from streamops.lambda_local.function import SUCCESS, InvocationResult, ProcessFunction, pool_size
from streamops.lambda_local.runner import StreamRunner
from tests.support.fake_streams import STREAM_ARN, FakeShard, FakeStreams, record
from tests.support.runner_harness import Recorder, function_arn, function_config, trigger_config

pytestmark = pytest.mark.integration

SLEEPY = """
import time

def lambda_handler(event, context):
    time.sleep(0.6)
    return {"batchItemFailures": []}
"""


class Discarded:
    def send(self, message: dict[str, object], event: dict[str, object]) -> None:
        raise AssertionError(f"nothing should be discarded: {message}")


def run_two_shards(tmp_path: Path, reserved_concurrency: int | None) -> tuple[Recorder, int]:
    root = tmp_path / "task"
    root.mkdir()
    (root / "handler.py").write_text(textwrap.dedent(SLEEPY))
    now = time.time()
    streams = FakeStreams(
        [
            FakeShard("shard-a", None, [record(1, "USER#1", created=now)], closed=True),
            FakeShard("shard-b", None, [record(2, "USER#2", created=now)], closed=True),
        ]
    )
    trigger = trigger_config()
    changes: dict[str, object] = {"timeout_seconds": 10}
    if reserved_concurrency is not None:
        changes["reserved_concurrency"] = reserved_concurrency
    config = function_config(**changes)
    function = ProcessFunction(
        root,
        "handler.lambda_handler",
        config,
        function_arn=function_arn(config),
        region="us-east-1",
        max_environments=pool_size(trigger, config, shards=2),
    )
    recorder = Recorder()
    with StreamRunner(
        streams, STREAM_ARN, trigger, function, Discarded(), observers=[recorder]
    ) as runner:
        summary = runner.run_until_drained(timeout_seconds=60)
        assert summary.drained and summary.records_succeeded == 2
        return recorder, function.environments_started


def overlap(first: InvocationResult, second: InvocationResult) -> bool:
    return max(first.started, second.started) < min(
        first.started + first.duration, second.started + second.duration
    )


def test_two_shards_are_invoked_at_the_same_time_in_two_environments(tmp_path: Path) -> None:
    assert function_config().reserved_concurrency == 10  # the dev stack's: 2 shards fit
    recorder, started = run_two_shards(tmp_path, reserved_concurrency=None)

    first, second = (event.result for event in recorder.invoked)
    assert overlap(first, second), "the second shard waited for the first"
    assert first.environment != second.environment and started == 2
    # Judged in shard order, whatever finished first.
    assert [event.shard_id for event in recorder.invoked] == ["shard-a", "shard-b"]


def test_reserved_concurrency_of_one_serves_the_shards_one_after_the_other(
    tmp_path: Path,
) -> None:
    recorder, started = run_two_shards(tmp_path, reserved_concurrency=1)

    first, second = (event.result for event in recorder.invoked)
    assert not overlap(first, second)
    assert first.environment == second.environment and started == 1
    assert (first.cold, second.cold) == (True, False)


class MeetingFunction:
    """A Function whose invocations only return once ``parties`` of them run at the same
    time: a round whose batches were not all in flight together breaks the barrier."""

    region = "us-east-1"

    def __init__(self, parties: int) -> None:
        self.clock: Clock = ManualClock(start=time.time())
        self.function_arn = function_arn(function_config())
        self.barrier = threading.Barrier(parties, timeout=10)

    def invoke(self, event: object) -> InvocationResult:
        self.barrier.wait()
        return InvocationResult(str(uuid.uuid4()), SUCCESS, None, None, self.clock.now(), 0.0)


def test_every_shard_of_a_round_is_in_flight_at_once_however_many_there_are() -> None:
    """Seen failing first: the thread pool had the executor's default size (CPUs + 4,
    6 on the build machine), below the shards of a round, so the barrier broke."""
    shards = 12
    now = time.time()
    streams = FakeStreams(
        [
            FakeShard(
                f"shard-{index:02d}", None, [record(index, f"USER#{index}", created=now)], True
            )
            for index in range(shards)
        ]
    )
    with StreamRunner(
        streams, STREAM_ARN, trigger_config(), MeetingFunction(shards), Discarded()
    ) as runner:
        summary = runner.run_until_drained(timeout_seconds=60)

    assert summary.drained and summary.records_succeeded == shards
