"""Run a Lambda handler in this process the way Lambda runs it.

What Lambda gives a Python function, reproduced for each invocation:
- the environment: the function's own variables plus those Lambda sets
  (`AWS_LAMBDA_FUNCTION_NAME`, `AWS_REGION`, `AWS_LAMBDA_LOG_LEVEL`, ...), and credentials
  (Lambda's come from the execution role; locally the caller passes them, with
  `AWS_ENDPOINT_URL` so the handler's own boto3 calls reach the emulator);
- a context object whose remaining time counts down from the configured timeout;
- the root logger at the configured application log level, every record written in
  Lambda's JSON log format with the request id, and stdout kept line by line (the EMF
  metrics line is a stdout line);
- a fresh import of the function's folder on first use (a cold start), with its modules
  kept apart from any other copy loaded in this process (tests load many);
- its own boto3 default session: in Lambda each execution environment is a process of its
  own, so the credentials boto3 resolves and caches there (the role's) never sign calls
  of another function copy loaded in this process.

The result says whether the invocation succeeded, raised, or ran past the timeout. A
handler cannot be stopped mid-flight in-process: a timeout is detected when the handler
returns, and its response is then discarded, as Lambda discards a timed-out invocation's.
"""

from __future__ import annotations

import importlib
import io
import logging
import os
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.config import FunctionConfig
from streamops.clock import Clock, SystemClock
from streamops.lambda_local.logs import (
    PYTHON_LEVELS,
    LogLine,
    LogSink,
    application_line,
    emf_metrics,
    log_stream_name,
    platform_report,
    platform_start,
    timeout_line,
    unhandled_error_line,
)

SUCCESS, ERROR, TIMEOUT = "success", "error", "timeout"
Handler = Callable[[Any, Any], Any]


@dataclass
class InvocationResult:
    request_id: str
    status: str  # SUCCESS | ERROR | TIMEOUT
    response: Any  # what the handler returned (None unless SUCCESS)
    error: BaseException | None
    started: float
    duration: float
    lines: list[LogLine] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)  # from the EMF line(s)


class LambdaContext:
    """The context object Lambda passes as the handler's second argument."""

    def __init__(
        self,
        *,
        request_id: str,
        config: FunctionConfig,
        function_arn: str,
        log_group: str,
        log_stream: str,
        deadline: float,
        clock: Clock,
    ):
        self.aws_request_id = request_id
        self.function_name = config.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_arn
        self.memory_limit_in_mb = config.memory_mb
        self.log_group_name = log_group
        self.log_stream_name = log_stream
        self.identity = None
        self.client_context = None
        self._deadline, self._clock = deadline, clock

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock.now()) * 1000))


class LocalFunction:
    """One execution environment of the function: invocations run one at a time."""

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
        log_stream: str | None = None,
    ):
        self.handler, self.config = handler, config
        self.function_arn, self.region = function_arn, region
        self.clock = clock or SystemClock()
        self.sinks = list(sinks)
        self.log_group = f"/aws/lambda/{config.name}"
        self.log_stream = log_stream or log_stream_name(self.clock.now())
        self.environment = {**self.lambda_variables(), **(environment or {})}
        self._boto3_session: Any = None  # this environment's boto3.DEFAULT_SESSION

    def lambda_variables(self) -> dict[str, str]:
        """The variables Lambda itself sets for this function (JSON log format)."""
        config = self.config
        return {
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": self.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream,
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_LAMBDA_LOG_LEVEL": config.log_level,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
        }

    def invoke(self, event: Any) -> InvocationResult:
        request_id = str(uuid.uuid4())
        clock = self.clock
        started = clock.now()
        context = LambdaContext(
            request_id=request_id,
            config=self.config,
            function_arn=self.function_arn,
            log_group=self.log_group,
            log_stream=self.log_stream,
            deadline=started + self.config.timeout_seconds,
            clock=clock,
        )
        start = platform_start(request_id, self.function_arn, started)
        lines = [LogLine(int(started * 1000), start)]
        response: Any = None
        error: BaseException | None = None
        with (
            _environment(self.environment),
            self._own_boto3_session(),
            _captured(lines, request_id, clock, self.config),
        ):
            try:
                response = self.handler(event, context)
            except Exception as exc:
                error = exc
        ended = clock.now()
        duration = ended - started
        if duration > self.config.timeout_seconds:
            status, response = TIMEOUT, None
            timeout = self.config.timeout_seconds
            lines.append(LogLine(int(ended * 1000), timeout_line(timeout, request_id, ended)))
        elif error is not None:
            status = ERROR
            lines.append(LogLine(int(ended * 1000), unhandled_error_line(error, request_id, ended)))
        else:
            status = SUCCESS
        lines.append(
            LogLine(
                int(ended * 1000),
                platform_report(request_id, ended, duration, self.config.memory_mb, status),
            )
        )
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

    @contextmanager
    def _own_boto3_session(self) -> Iterator[None]:
        import boto3

        outer = boto3.DEFAULT_SESSION
        boto3.DEFAULT_SESSION = self._boto3_session  # None at first: made inside, from env
        try:
            yield
        finally:
            self._boto3_session = boto3.DEFAULT_SESSION
            boto3.DEFAULT_SESSION = outer


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
    """Keeps the invoking thread's log records as Lambda JSON lines (other threads, such as
    the embedded emulator's server, log to the same root logger and are left out)."""

    def __init__(self, lines: list[LogLine], request_id: str, clock: Clock):
        super().__init__(logging.NOTSET)
        self.lines, self.request_id, self.clock = lines, request_id, clock
        self.thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        now = self.clock.now()
        self.lines.append(LogLine(int(now * 1000), application_line(record, self.request_id, now)))


class _LineCapture(io.TextIOBase):
    """stdout/stderr of the handler, kept line by line."""

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

    def close_pending(self) -> None:
        if self.pending:
            self.lines.append(LogLine(int(self.clock.now() * 1000), self.pending))
            self.pending = ""


@contextmanager
def _captured(
    lines: list[LogLine], request_id: str, clock: Clock, config: FunctionConfig
) -> Iterator[None]:
    root = logging.getLogger()
    capture = _RecordCapture(lines, request_id, clock)
    saved_level = root.level
    root.setLevel(PYTHON_LEVELS[config.log_level])
    root.addHandler(capture)
    output = _LineCapture(lines, clock)
    try:
        with redirect_stdout(output), redirect_stderr(output):  # type: ignore[type-var]
            yield
    finally:
        output.close_pending()
        root.removeHandler(capture)
        root.setLevel(saved_level)


class FunctionPackage:
    """The function's folder (e.g. functions/stream_processor), imported as Lambda does:
    the folder on sys.path, its modules by their top-level names (`import metrics`).

    Each package object holds its own copy of those modules, imported on the first call
    (inside the invocation's environment, as Lambda imports during the cold start), and
    puts them back in `sys.modules` only while it runs: two copies never see each other's
    module state, and nothing else in this process sees either.
    """

    def __init__(self, source: Path, handler: str = "handler.lambda_handler"):
        self.source = source.resolve()
        self.module_name, _, self.function_name = handler.rpartition(".")
        if not (self.source / f"{self.module_name}.py").is_file():
            raise FileNotFoundError(f"{self.source}/{self.module_name}.py does not exist")
        self._modules: dict[str, Any] = {}
        self._function: Handler | None = None

    def __call__(self, event: Any, context: Any) -> Any:
        with self._active():
            if self._function is None:
                module = importlib.import_module(self.module_name)
                self._function = getattr(module, self.function_name)
            return self._function(event, context)

    def _own_names(self) -> set[str]:
        return {path.stem for path in self.source.glob("*.py")}

    @contextmanager
    def _active(self) -> Iterator[None]:
        names = self._own_names()
        saved = {name: sys.modules.pop(name) for name in names if name in sys.modules}
        sys.modules.update(self._modules)
        sys.path.insert(0, str(self.source))
        try:
            yield
        finally:
            sys.path.remove(str(self.source))
            for name in names:
                module = sys.modules.pop(name, None)
                if module is not None and _inside(module, self.source):
                    self._modules[name] = module
            sys.modules.update(saved)


def _inside(module: Any, folder: Path) -> bool:
    path = getattr(module, "__file__", None)
    return path is not None and Path(path).resolve().parent == folder
