"""Building a StreamRunner for tests: the dev stack's config with overrides, a manual
clock, a moto-backed table and failure queue, and an observer recording every event."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from components.config import PROJECT, FunctionConfig, StackConfig, TriggerConfig, parse_config
from streamops.clock import ManualClock
from streamops.lambda_local.logs import LogSink
from streamops.lambda_local.on_failure import FailureDestination, SqsDestination
from streamops.lambda_local.runner import BatchDiscarded, BatchInvoked, RunnerEvent, StreamRunner
from streamops.program import load_stack_config
from tests.support.in_process_function import Handler, InProcessFunction
from tests.support.stream_table import REGION, StreamTable

ACCOUNT = "123456789012"


def dev_config() -> StackConfig:
    prefix = f"{PROJECT}:"
    raw = {
        key[len(prefix) :]: value
        for key, value in load_stack_config("dev").items()
        if key.startswith(prefix)
    }
    return parse_config(raw, "dev")


def trigger_config(**changes: Any) -> TriggerConfig:
    """The dev stack's trigger with fields replaced (snake_case field names)."""
    return dataclasses.replace(dev_config().trigger, **changes)


def function_config(**changes: Any) -> FunctionConfig:
    return dataclasses.replace(dev_config().function, **changes)


def function_arn(config: FunctionConfig) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{config.name}"


class Recorder:
    """Observer keeping every runner event in order."""

    def __init__(self) -> None:
        self.events: list[RunnerEvent] = []

    def __call__(self, event: RunnerEvent) -> None:
        self.events.append(event)

    @property
    def invoked(self) -> list[BatchInvoked]:
        return [event for event in self.events if isinstance(event, BatchInvoked)]

    @property
    def discarded(self) -> list[BatchDiscarded]:
        return [event for event in self.events if isinstance(event, BatchDiscarded)]

    def batches(self) -> list[list[str]]:
        return [event.sequence_numbers for event in self.invoked]


def build_runner(
    table: StreamTable,
    handler: Handler,
    *,
    trigger: TriggerConfig | None = None,
    function: FunctionConfig | None = None,
    clock: ManualClock | None = None,
    sinks: Sequence[LogSink] = (),
    environment: dict[str, str] | None = None,
    observers: Sequence[Callable[[RunnerEvent], None]] = (),
    destination: FailureDestination | None = None,
) -> tuple[StreamRunner, Recorder]:
    function = function or function_config()
    local = InProcessFunction(
        handler,
        function,
        function_arn=function_arn(function),
        region=REGION,
        clock=clock or ManualClock(),
        sinks=sinks,
        environment=environment,
    )
    recorder = Recorder()
    runner = StreamRunner(
        table.aws("dynamodbstreams"),
        table.stream_arn,
        trigger or trigger_config(),
        local,
        destination or SqsDestination(table.aws("sqs"), table.queue_url),
        observers=[recorder, *observers],
    )
    return runner, recorder


def sequence_numbers(event: dict[str, Any]) -> list[str]:
    return [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]


def succeed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"batchItemFailures": []}
