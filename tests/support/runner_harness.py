"""Building a StreamRunner for tests: the dev stack's config with overrides, a moto-backed
table and failure queue, an observer recording every event, and the function: a handler
of ``tests/support/functions`` run by awslambdaric in execution environments
(ProcessFunction), sharing a state directory with the test (``FunctionState``: the
scenario it is given, the journal of what it saw, the mapping's clock)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.config import PROJECT, FunctionConfig, StackConfig, TriggerConfig, parse_config
from streamops.clock import ManualClock
from streamops.lambda_local.function import ProcessFunction
from streamops.lambda_local.logs import LogSink
from streamops.lambda_local.on_failure import FailureDestination, SqsDestination
from streamops.lambda_local.runner import BatchDiscarded, BatchInvoked, RunnerEvent, StreamRunner
from streamops.program import load_stack_config
from tests.support.functions.state_files import (
    STATE_DIR,
    advance_clock,
    read_clock,
    read_journal,
    set_clock,
    write_scenario,
)
from tests.support.stream_table import CREDENTIALS, REGION, StreamTable

# The handlers' task root: the repository, so ``tests.support.functions.<module>.<name>``
# is a handler awslambdaric imports as the tests do.
TASK_ROOT = Path(__file__).resolve().parents[2]
HANDLERS = "tests.support.functions"

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


class FileClock(ManualClock):
    """A manual clock whose time lives in the state directory's ``clock`` file, so the
    handler processes move it too (a handler that "takes 25 s" adds 25 s to it)."""

    def __init__(self, directory: Path, start: float | None = None):
        super().__init__(start)
        self.directory = directory
        set_clock(directory, self._now)

    def now(self) -> float:
        return read_clock(self.directory)

    def advance(self, seconds: float) -> None:
        advance_clock(self.directory, seconds)


@dataclass
class Seen:
    """What the handler processes journaled, in order."""

    invocations: list[dict[str, Any]]
    deliveries: Counter[str]
    processed: list[str]  # sequence numbers, in the order processed

    def batches(self) -> list[list[str]]:
        return [invocation["sequence_numbers"] for invocation in self.invocations]


class FunctionState:
    """The test's side of the state directory it shares with the handler processes."""

    def __init__(
        self, directory: Path, scenario: dict[str, Any] | None = None, start: float | None = None
    ):
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        write_scenario(directory, scenario or {})
        self.clock = FileClock(directory, start)

    def seen(self) -> Seen:
        entries, _ = read_journal(self.directory)
        return Seen(
            invocations=[entry for entry in entries if entry["event"] == "invoked"],
            deliveries=Counter(
                entry["sequence"] for entry in entries if entry["event"] == "delivered"
            ),
            processed=[entry["sequence"] for entry in entries if entry["event"] == "processed"],
        )


def build_runner(
    table: StreamTable,
    handler: str,
    state: FunctionState,
    *,
    trigger: TriggerConfig | None = None,
    function: FunctionConfig | None = None,
    stream_sinks: Callable[[str], Sequence[LogSink]] = lambda stream: (),
    observers: Sequence[Callable[[RunnerEvent], None]] = (),
    destination: FailureDestination | None = None,
) -> tuple[StreamRunner, Recorder]:
    """The runner invoking ``handler`` (``<module>.<function>`` of tests/support/functions)
    in awslambdaric processes, on ``state``'s clock. Close the runner (``with runner:``):
    that ends the processes."""
    function = function or function_config()
    local = ProcessFunction(
        TASK_ROOT,
        f"{HANDLERS}.{handler}",
        function,
        function_arn=function_arn(function),
        region=REGION,
        environment={
            STATE_DIR: str(state.directory),
            # For a handler that writes to the emulator (the quarantine queue).
            "AWS_ENDPOINT_URL": table.endpoint,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        },
        stream_sinks=stream_sinks,
        clock=state.clock,
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
