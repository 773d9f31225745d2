"""The function, run the way Lambda runs it: a pool of execution environments, each a
process running AWS's runtime client (awslambdaric, see ``environment``).

What Lambda does, reproduced for each invocation:
- a free environment is reused (warm: module state survives); when none is free and the
  pool is below its size a new one is started (cold: its INIT is timed). The pool size is
  what the mapping can run at once: shards x parallelization factor, capped by reserved
  concurrency (``pool_size``);
- the environment gets the function's variables and Lambda's reserved ones
  (``lambda_variables``), and the event with the request id, deadline, function ARN and
  trace id headers of the Runtime API;
- an invocation past the timeout is stopped and its environment replaced; a crash (the
  process exits), going past the memory size (killed: ``Runtime.OutOfMemory``) and an
  INIT failure (the module does not import) end the environment too; each is a function
  error for the caller;
- what the environment wrote goes through the log pipeline (``log_pipeline``): the
  application lines Lambda would keep at the configured application log level, framed by
  the ``platform.initStart`` / ``platform.start`` / ``platform.report`` system records
  kept at the system log level, into the environment's own log stream.

Since 2025-08-01 the INIT phase is billed like the invocation, so a cold invocation's
``billedDurationMs`` counts its INIT (aws-facts.md, execution environments).
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from components.config import UNBOUNDED, FunctionConfig, TriggerConfig
from streamops.clock import Clock, SystemClock
from streamops.lambda_local.environment import (
    CRASHED,
    DONE,
    FAILED,
    INIT_ERROR,
    OUT_OF_MEMORY,
    TIMED_OUT,
    ExecutionEnvironment,
    Run,
)
from streamops.lambda_local.log_pipeline import (
    level_passes,
    passes_application_level,
    passes_system_level,
    platform_init_start,
    platform_report,
    platform_start,
)
from streamops.lambda_local.logs import LogLine, LogSink, emf_metrics, log_stream_name

SUCCESS, ERROR, TIMEOUT = "success", "error", "timeout"


class FunctionError(RuntimeError):
    """What the runtime (or the platform) reported instead of a response."""

    def __init__(self, error_type: str, document: Mapping[str, Any] | None):
        self.error_type = error_type
        self.document = dict(document or {})
        super().__init__(f"{error_type}: {self.document.get('errorMessage', '')}")


@dataclass
class InvocationResult:
    request_id: str
    status: str  # SUCCESS | ERROR | TIMEOUT
    response: Any  # what the handler returned (None unless SUCCESS)
    error: BaseException | None
    started: float
    duration: float  # seconds
    lines: list[LogLine] = field(default_factory=list)  # as kept by the log pipeline
    metrics: dict[str, float] = field(default_factory=dict)  # from the EMF line(s)
    cold: bool = False
    init_duration_ms: float | None = None
    billed_duration_ms: int = 0
    max_memory_mb: int = 0
    environment: int | None = None  # the environment's process id


class Function(Protocol):
    """What the stream runner needs of the function it invokes."""

    clock: Clock
    region: str
    function_arn: str

    def invoke(self, event: Any) -> InvocationResult: ...


def pool_size(trigger: TriggerConfig, function: FunctionConfig, shards: int) -> int:
    """Environments the mapping can keep busy at once: one batch per shard per
    parallelization slot, capped by the function's reserved concurrency."""
    wanted = max(1, shards) * trigger.parallelization_factor
    if function.reserved_concurrency not in (UNBOUNDED, None):
        wanted = min(wanted, function.reserved_concurrency)
    return max(1, wanted)


def lambda_variables(config: FunctionConfig, region: str, log_stream: str) -> dict[str, str]:
    """The variables Lambda itself sets in an environment (JSON log format)."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": config.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": config.log_level,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
        "TZ": ":UTC",
    }


@dataclass
class _Slot:
    environment: ExecutionEnvironment
    log_stream: str
    sinks: list[LogSink]
    busy: bool = False


class ProcessFunction:
    """The function's execution environments: invocations run in separate awslambdaric
    processes, reused warm, at most ``max_environments`` of them at once."""

    def __init__(
        self,
        task_root: Path,
        handler: str,
        config: FunctionConfig,
        *,
        function_arn: str,
        region: str,
        environment: Mapping[str, str] | None = None,
        max_environments: int = 1,
        sinks: Sequence[LogSink] = (),
        stream_sinks: Callable[[str], Sequence[LogSink]] = lambda stream: (),
        system_log_level: str = "INFO",
        python: str = sys.executable,
        clock: Clock | None = None,
    ):
        self.task_root, self.handler, self.config = task_root, handler, config
        self.function_arn, self.region = function_arn, region
        # The mapping's clock (record age, batching window, message timestamps); the
        # Runtime API's deadline is wall-clock time whatever it is.
        self.clock: Clock = clock or SystemClock()
        self.variables = dict(environment or {})
        self.max_environments = max(1, max_environments)
        self.sinks, self.stream_sinks = list(sinks), stream_sinks
        self.system_log_level, self.python = system_log_level, python
        self._slots: list[_Slot] = []
        self.log_streams: list[str] = []  # one per environment started
        self._lock = threading.Condition()
        self.environments_started = 0

    # ------------------------------------------------------------------ the pool
    def _acquire(self) -> _Slot:
        with self._lock:
            while True:
                self._slots = [slot for slot in self._slots if slot.environment.alive()]
                for slot in self._slots:
                    if not slot.busy:
                        slot.busy = True
                        return slot
                if len(self._slots) < self.max_environments:
                    slot = self._start()
                    slot.busy = True
                    self._slots.append(slot)
                    return slot
                self._lock.wait()

    def _release(self, slot: _Slot) -> None:
        with self._lock:
            slot.busy = False
            if not slot.environment.alive():
                self._slots = [other for other in self._slots if other is not slot]
            self._lock.notify()

    def _start(self) -> _Slot:
        log_stream = log_stream_name(time.time())
        variables = {
            **lambda_variables(self.config, self.region, log_stream),
            **self.variables,
        }
        environment = ExecutionEnvironment(
            self.task_root,
            self.handler,
            variables,
            python=self.python,
            memory_mb=self.config.memory_mb,
        )
        self.environments_started += 1
        self.log_streams.append(log_stream)
        return _Slot(environment, log_stream, [*self.sinks, *self.stream_sinks(log_stream)])

    @property
    def environments(self) -> int:
        """Environments alive now."""
        with self._lock:
            return sum(slot.environment.alive() for slot in self._slots)

    def close(self) -> None:
        with self._lock:
            for slot in self._slots:
                slot.environment.close()
            self._slots = []

    def __enter__(self) -> ProcessFunction:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ invoking
    def invoke(self, event: Any) -> InvocationResult:
        slot = self._acquire()
        try:
            return self._invoke(slot, event)
        finally:
            self._release(slot)

    def _invoke(self, slot: _Slot, event: Any) -> InvocationResult:
        request_id = str(uuid.uuid4())
        timeout = float(self.config.timeout_seconds)
        environment = slot.environment
        run = environment.invoke(
            request_id=request_id,
            body=json.dumps(event).encode(),
            function_arn=self.function_arn,
            trace_id=f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
            timeout_s=timeout,
        )
        status, response, error = _outcome(run)
        records: list[LogLine] = []  # the system records kept at the system log level
        if run.cold and self._system_kept("platform.initStart"):
            # Read after the run: a second INIT (the first ran past its limit) restarted it.
            init_started = environment.init_started
            init_start = platform_init_start(self.config, init_started, environment.init_phase)
            records.append(_system(init_started, init_start))
        if self._system_kept("platform.start"):
            start = platform_start(request_id, self.function_arn, run.started)
            records.append(_system(run.started, start))
        kept = [
            LogLine(line.timestamp_ms, line.message)
            for line in sorted(run.lines, key=lambda line: line.timestamp_ms)
            if self._kept(line.message, line.level)
        ]
        billed = max(1, math.ceil(run.duration_ms)) + (
            math.ceil(run.init_ms) if run.init_ms is not None else 0
        )
        ended = run.started + run.duration_ms / 1000
        report = platform_report(
            request_id,
            seconds=ended,
            duration_ms=run.duration_ms,
            billed_ms=billed,
            memory_mb=self.config.memory_mb,
            max_memory_mb=run.max_memory_mb,
            init_ms=run.init_ms,
            status=status,
            # The Status object has an errorType "if the status is either failure or error".
            error_type=run.error_type if status == ERROR else None,
        )
        lines = [*records, *kept]
        if self._system_kept("platform.report"):
            lines.append(_system(ended, report))
        for sink in slot.sinks:
            sink.write(lines)
        return InvocationResult(
            request_id=request_id,
            status=status,
            response=response,
            error=error,
            started=run.started,
            duration=run.duration_ms / 1000,
            lines=lines,
            metrics=emf_metrics(kept),
            cold=run.cold,
            init_duration_ms=run.init_ms,
            billed_duration_ms=billed,
            max_memory_mb=run.max_memory_mb,
            environment=environment.pid,
        )

    def _kept(self, message: str, frame_level: str | None) -> bool:
        """The application log filter: a runtime frame by its level, any other line by
        what it says (a JSON object with a level and a timestamp, else INFO)."""
        if frame_level is not None:
            return level_passes(frame_level, self.config.log_level)
        try:
            document = json.loads(message)
        except ValueError:
            document = None
        return passes_application_level(document, self.config.log_level)

    def _system_kept(self, record_type: str) -> bool:
        return passes_system_level(record_type, self.system_log_level)


def _outcome(run: Run) -> tuple[str, Any, BaseException | None]:
    if run.kind == DONE:
        try:
            return SUCCESS, json.loads(run.response) if run.response else None, None
        except ValueError:
            return SUCCESS, run.response.decode("utf-8", "replace"), None
    if run.kind == TIMED_OUT:
        return TIMEOUT, None, FunctionError("Sandbox.Timedout", run.error)
    assert run.kind in (FAILED, CRASHED, INIT_ERROR, OUT_OF_MEMORY)
    return ERROR, None, FunctionError(run.error_type or "Runtime.Unknown", run.error)


def _system(seconds: float, record: str) -> LogLine:
    return LogLine(int(seconds * 1000), record)
