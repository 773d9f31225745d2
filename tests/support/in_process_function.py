"""A test double of the function for the runner's model tests: a Python callable invoked
in this process, on a manual clock.

Why a double: the runner's event source mapping semantics (batching, retries, bisection,
no-loss under injected faults) are tested with fake handlers that count what they saw and
advance a manual clock, hundreds of times per property test. The real function runs in
awslambdaric execution environments (streamops.lambda_local.function.ProcessFunction),
tested on its own in tests/integration/test_execution_environments.py. Nothing here
imitates the runtime: the context is awslambdaric's own LambdaContext (its remaining time
read from the manual clock), log records are formatted by awslambdaric's JsonFormatter.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import Any

from awslambdaric.bootstrap import make_error
from awslambdaric.lambda_context import LambdaContext
from awslambdaric.lambda_runtime_log_utils import JsonFormatter
from awslambdaric.lambda_runtime_marshaller import to_json

from components.config import FunctionConfig
from streamops.clock import Clock, ManualClock
from streamops.lambda_local.function import (
    ERROR,
    SUCCESS,
    TIMEOUT,
    FunctionError,
    InvocationResult,
    lambda_variables,
)
from streamops.lambda_local.log_pipeline import platform_report, platform_start
from streamops.lambda_local.logs import PYTHON_LEVELS, LogLine, LogSink, emf_metrics

Handler = Callable[[Any, Any], Any]


class ClockContext(LambdaContext):  # type: ignore[misc]
    """awslambdaric's context, its remaining time counted on the test's clock."""

    def __init__(self, request_id: str, deadline: float, clock: Clock, arn: str):
        super().__init__(request_id, None, None, int(deadline * 1000), arn)
        self._deadline, self._clock = deadline, clock

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock.now()) * 1000))


class InProcessFunction:
    def __init__(
        self,
        handler: Handler,
        config: FunctionConfig,
        *,
        function_arn: str,
        region: str,
        environment: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        sinks: Sequence[LogSink] = (),
    ):
        self.handler, self.config = handler, config
        self.function_arn, self.region = function_arn, region
        self.clock = clock or ManualClock()
        self.sinks = list(sinks)
        variables = lambda_variables(config, region, "2026/12/01/[$LATEST]test")
        self.environment = {**variables, **(environment or {})}

    def invoke(self, event: Any) -> InvocationResult:
        request_id = str(uuid.uuid4())
        started = self.clock.now()
        deadline = started + self.config.timeout_seconds
        context = ClockContext(request_id, deadline, self.clock, self.function_arn)
        lines = [LogLine(int(started * 1000), platform_start(request_id, self.function_arn))]
        response: Any = None
        error: BaseException | None = None
        with _environment(self.environment), _captured(lines, request_id, self):
            try:
                response = self.handler(event, context)
            except Exception as exc:
                error = exc
                lines.append(LogLine(int(self.clock.now() * 1000), _error_line(exc, request_id)))
        duration = self.clock.now() - started
        if duration > self.config.timeout_seconds:
            status, response = TIMEOUT, None
            error = FunctionError("Sandbox.Timedout", None)
        else:
            status = ERROR if error is not None else SUCCESS
        report = platform_report(
            request_id,
            duration_ms=duration * 1000,
            billed_ms=max(1, int(duration * 1000)),
            memory_mb=self.config.memory_mb,
            max_memory_mb=0,
            init_ms=None,
            status=status,
            error_type="Sandbox.Timedout" if status == TIMEOUT else None,
        )
        lines.append(LogLine(int((started + duration) * 1000), report))
        for sink in self.sinks:
            sink.write(lines)
        return InvocationResult(
            request_id=request_id,
            status=status,
            response=response,
            error=error,
            started=started,
            duration=duration,
            lines=lines,
            metrics=emf_metrics(lines),
        )


def _error_line(error: BaseException, request_id: str) -> str:
    """The line the runtime writes for an unhandled error (JSON log format), built by
    awslambdaric's own make_error."""
    document = make_error(
        str(error), type(error).__name__, traceback.format_tb(error.__traceback__), request_id
    )
    return to_json({"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ"), "level": "ERROR", **document})


@contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _RecordCapture(logging.Handler):
    """The invoking thread's log records, formatted by the runtime's JsonFormatter."""

    def __init__(self, lines: list[LogLine], request_id: str, clock: Clock):
        super().__init__(logging.NOTSET)
        self.lines, self.request_id, self.clock = lines, request_id, clock
        self.thread = threading.get_ident()
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        record.aws_request_id = self.request_id
        line = self.format(record).rstrip("\n")
        self.lines.append(LogLine(int(self.clock.now() * 1000), line))


class _LineCapture(io.TextIOBase):
    def __init__(self, lines: list[LogLine], clock: Clock):
        self.lines, self.clock, self.pending = lines, clock, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.pending += text
        *complete, self.pending = self.pending.split("\n")
        now = int(self.clock.now() * 1000)
        self.lines.extend(LogLine(now, line) for line in complete if line)
        return len(text)


@contextmanager
def _captured(lines: list[LogLine], request_id: str, function: InProcessFunction) -> Iterator[None]:
    root = logging.getLogger()
    capture = _RecordCapture(lines, request_id, function.clock)
    saved_level = root.level
    root.setLevel(PYTHON_LEVELS[function.config.log_level])
    root.addHandler(capture)
    output = _LineCapture(lines, function.clock)
    try:
        with redirect_stdout(output), redirect_stderr(output):  # type: ignore[type-var]
            yield
    finally:
        root.removeHandler(capture)
        root.setLevel(saved_level)
