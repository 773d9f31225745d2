"""One Lambda execution environment: a process running AWS's runtime client, awslambdaric.

Why a process: in Lambda each execution environment is a process of its own, started
cold (INIT: the runtime starts and imports the handler module) and reused warm for later
invocations, with module state surviving between them. Running the function under
``python -m awslambdaric handler.lambda_handler`` means the bootstrap, handler loading,
context object, JSON log formatter, log-level setup and error serialization are AWS's
own code, not an imitation. The process talks to this environment's ``RuntimeApi``.

What the environment gives back per invocation: the outcome (response, the runtime's
error document, a timeout, a crash or an INIT failure), the lines it wrote (the runtime's
log frames on the telemetry file descriptor, as in Lambda, and raw stdout/stderr), the
INIT and invocation durations and the process's peak memory. Filtering those lines and
the platform records are the log pipeline's job (``log_pipeline``, ``function``).

Out of memory: Lambda's environment cannot use more than the function's memory size; past
it the runtime is killed (``Runtime.OutOfMemory``, the environment is replaced). Here a
watchdog reads the process's peak resident memory (VmHWM) every ``MEMORY_POLL_SECONDS``
while INIT or an invocation runs, and once more when the outcome arrives (so a warm
invocation shorter than a tick costs one read of /proc); past the limit it kills the
process. The peak, not the
current size, is read so a burst allocated and freed between two polls is still caught.
What a poll cannot do: stop the burst itself (the host's memory is what bounds it), or undo
what the handler did between the moment Lambda would have killed it and the next poll.
No RLIMIT_AS either: it limits address space, not resident memory, and makes an
allocation raise MemoryError inside the handler (a handled error that keeps the
environment), where Lambda's limit kills the process.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from streamops.lambda_local.runtime_api import (
    ERROR,
    INIT_FAILED,
    NEXT_POLLED,
    RESPONSE,
    Invocation,
    Outcome,
    RuntimeApi,
)

# Frame header of the runtime's telemetry log sink: type (4), length (4), time in us (8).
FRAME_HEADER_BYTES = 16
_LEVEL_OF_FRAME = {
    0xA55A0002: None,
    0xA55A000A: "DEBUG",
    0xA55A000E: "INFO",
    0xA55A0012: "WARN",
    0xA55A0016: "ERROR",
    0xA55A001A: "FATAL",
    0xA55A0003: None,
    0xA55A000B: "DEBUG",
    0xA55A000F: "INFO",
    0xA55A0013: "WARN",
    0xA55A0017: "ERROR",
    0xA55A001B: "FATAL",
}
# Variables of this process passed on so the interpreter itself works; nothing else leaks.
_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")

# Outcome kinds of one invocation.
DONE, FAILED, TIMED_OUT, CRASHED, INIT_ERROR = "done", "failed", "timed-out", "crashed", "init"
OUT_OF_MEMORY = "out-of-memory"
OUT_OF_MEMORY_ERROR = "Runtime.OutOfMemory"
# INIT's own limit (developer guide, "Understanding the Lambda execution environment
# lifecycle": "The Init phase is limited to 10 seconds"), whatever the function timeout.
INIT_LIMIT_SECONDS = 10.0
# The watchdog's longest sleep between two reads of the peak memory while the process runs.
MEMORY_POLL_SECONDS = 0.01


@dataclass(frozen=True)
class WrittenLine:
    """A line the environment wrote: from the runtime's log sink (``level`` is the frame's)
    or from stdout/stderr (``level`` None: the platform decides)."""

    timestamp_ms: int
    message: str
    from_runtime: bool
    level: str | None = None


@dataclass
class Run:
    """What one invocation of the environment produced."""

    kind: str  # DONE | FAILED | TIMED_OUT | CRASHED | INIT_ERROR | OUT_OF_MEMORY
    response: bytes = b""
    error: dict[str, object] | None = None  # the runtime's error document
    error_type: str | None = None
    cold: bool = False
    init_ms: float | None = None  # INIT duration (cold only)
    started: float = 0.0  # epoch seconds, when the event was handed over
    duration_ms: float = 0.0
    max_memory_mb: int = 0
    lines: list[WrittenLine] = field(default_factory=list)


class ExecutionEnvironment:
    """A process running the function under awslambdaric, one invocation at a time."""

    def __init__(
        self,
        task_root: Path,
        handler: str,
        environment: Mapping[str, str],
        *,
        python: str = sys.executable,
        memory_mb: int | None = None,
    ):
        self.task_root, self.handler = task_root, handler
        self.memory_mb = memory_mb  # None: unbounded
        self.out_of_memory = False
        self.api = RuntimeApi()
        self.python = python
        self.variables = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
        self.variables.update(environment)
        self.variables.update(
            AWS_LAMBDA_RUNTIME_API=self.api.address,
            LAMBDA_TASK_ROOT=str(task_root),
            _HANDLER=handler,
            PYTHONUNBUFFERED="1",
        )
        self._lines: list[WrittenLine] = []
        self._spawn()
        self.init_phase = "init"  # "invoke": INIT ran past its limit and was run again
        self.initialized = False  # the runtime asked for its first event: INIT is over
        self.init_ms: float | None = None
        self.init_error: dict[str, object] | None = None
        self.invocations = 0
        self.closed = False

    def _spawn(self) -> None:
        """Start the runtime's process: INIT begins."""
        telemetry_read, telemetry_write = os.pipe()
        self.init_started = time.time()
        self.process = subprocess.Popen(
            [self.python, "-m", "awslambdaric", self.handler],
            cwd=self.task_root,  # `python -m` puts it first on sys.path, as Lambda's task root
            env={**self.variables, "_LAMBDA_TELEMETRY_LOG_FD": str(telemetry_write)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(telemetry_write,),
            start_new_session=True,  # Ctrl-C stops the runner between rounds, not the function
        )
        os.close(telemetry_write)
        self._telemetry = telemetry_read
        self._stdout = self.process.stdout.fileno() if self.process.stdout else -1
        self._outputs = {self._stdout: True, self._telemetry: True}  # fd -> still open
        self._frames = b""
        self._text = b""

    def _respawn(self) -> None:
        """Lambda's second INIT: the first one's process is stopped (what it wrote is kept)
        and the runtime starts again in the same environment."""
        self._stop_process(keep_output=True)
        self._spawn()
        self.init_phase = "invoke"

    def _stop_process(self, keep_output: bool = False) -> None:
        """Kill the runtime's process (if it still runs) and close its pipes; with
        ``keep_output``, what it wrote before is read first."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if keep_output:
            self._drain()
        if self.process.stdout:
            self.process.stdout.close()
        os.close(self._telemetry)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return not self.closed and self.process.poll() is None

    # ------------------------------------------------------------------ invoking
    def invoke(
        self, *, request_id: str, body: bytes, function_arn: str, trace_id: str, timeout_s: float
    ) -> Run:
        """Hand the event over and wait for its outcome, at most ``timeout_s`` seconds
        after that. On a cold start INIT comes first, limited to INIT_LIMIT_SECONDS; past
        it, Lambda runs INIT again as part of this invocation, bounded by the function
        timeout, and what is left of the timeout is the invocation's (aws-facts.md,
        execution environments)."""
        cold = self.invocations == 0
        self.invocations += 1
        if not self.initialized:
            init = self._wait(_init_over, INIT_LIMIT_SECONDS)
            if init is None and self.alive() and not self._past_memory():
                self._respawn()  # past INIT's own limit: INIT again, within this invocation
                begun = time.time()
                init = self._wait(_init_over, timeout_s)
                timeout_s = max(0.0, timeout_s - (time.time() - begun))
            if init is None or init.kind != NEXT_POLLED or self._past_memory():
                return self._failed_init(init, request_id)
            self.initialized = True
            self.init_ms = (time.time() - self.init_started) * 1000
        started = time.time()
        deadline_ms = int((started + timeout_s) * 1000)
        self.api.submit(Invocation(request_id, body, deadline_ms, function_arn, trace_id))
        outcome = self._wait(
            lambda outcome: outcome.kind in (RESPONSE, ERROR) and outcome.request_id == request_id,
            timeout_s,
        )
        duration_ms = (time.time() - started) * 1000
        run = Run(
            kind=DONE,
            cold=cold,
            init_ms=self.init_ms if cold else None,
            started=started,
            duration_ms=duration_ms,
        )
        if self._past_memory():
            # Lambda would have killed it when it went past: whatever it posted is void.
            run.kind, run.error_type = OUT_OF_MEMORY, OUT_OF_MEMORY_ERROR
            run.error = _out_of_memory_error(request_id)
        elif outcome is None:
            if self.alive():
                run.kind, run.error_type = TIMED_OUT, "Sandbox.Timedout"
                run.duration_ms = timeout_s * 1000
            else:
                run.kind, run.error_type = CRASHED, "Runtime.ExitError"
                run.error = self._exit_error(request_id)
        elif outcome.kind == ERROR:
            run.error = _document(outcome)
            # The runtime's C client sends the type in the body (errorType), not the header.
            run.kind = FAILED
            run.error_type = outcome.error_type or str(run.error.get("errorType") or "Unhandled")
        else:
            run.response = outcome.body
        run.max_memory_mb = self._reported_memory_mb()
        run.lines = self._take_lines()
        if run.kind in (TIMED_OUT, CRASHED, OUT_OF_MEMORY):
            self.close()  # Lambda resets the environment: the next invocation starts cold
        return run

    def _failed_init(self, outcome: Outcome | None, request_id: str) -> Run:
        self.init_ms = (time.time() - self.init_started) * 1000
        run = Run(kind=INIT_ERROR, cold=True, init_ms=self.init_ms, started=time.time())
        if self._past_memory():
            run.kind, run.error_type = OUT_OF_MEMORY, OUT_OF_MEMORY_ERROR
            run.error = _out_of_memory_error(request_id)
        elif outcome is not None and outcome.kind == INIT_FAILED:
            run.error_type, run.error = outcome.error_type, _document(outcome)
        elif outcome is None and self.alive():  # INIT's rerun used up the function timeout
            run.error_type, run.kind = "Sandbox.Timedout", TIMED_OUT
            run.error = {"errorMessage": "INIT did not finish within the function timeout"}
        else:
            run.error_type, run.error = "Runtime.ExitError", self._exit_error(request_id)
        run.max_memory_mb = self._reported_memory_mb()
        self.init_error = run.error
        run.lines = self._take_lines()
        self.close()
        return run

    def _exit_error(self, request_id: str) -> dict[str, object]:
        """Lambda's document for a runtime that exited (re:Post "lambda-runtime-error":
        "RequestId: <id> Error: Runtime exited with error: exit status 129"); a signal is
        named in lower case, as Lambda's Go init names it ("signal: segmentation fault")."""
        code = self.process.poll()
        if code is not None and code < 0:
            status = f"signal: {(signal.strsignal(-code) or str(-code)).lower()}"
        else:
            status = f"exit status {code}"
        message = f"RequestId: {request_id} Error: Runtime exited with error: {status}"
        return {"errorType": "Runtime.ExitError", "errorMessage": message}

    def _wait(self, wanted: Callable[[Outcome], bool], timeout_s: float) -> Outcome | None:
        """Read the environment's output until an outcome ``wanted`` accepts arrives, the
        process ends, or the time is up; then drain what is already written."""
        deadline = time.monotonic() + timeout_s
        next_poll = time.monotonic() + MEMORY_POLL_SECONDS
        found: Outcome | None = None
        while found is None:
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                break
            if self.memory_mb is not None:
                if now >= next_poll:  # the watchdog's tick (the caller reads at the outcome)
                    next_poll = now + MEMORY_POLL_SECONDS
                    if self._past_memory():
                        break  # killed, as Lambda kills a runtime past its memory
                left = min(left, next_poll - now)
            ready, _, _ = select.select([self.api.wake_fd, *self._open_outputs()], [], [], left)
            if self.api.wake_fd in ready:
                outcome = self.api.take_outcome()
                if outcome is not None and wanted(outcome):
                    found = outcome
            self._read(ready)
            if not self._open_outputs() and self.process.poll() is not None:
                break  # output closed and the process is gone: it crashed or exited
        self._drain()
        return found

    def _open_outputs(self) -> list[int]:
        return [fd for fd, is_open in self._outputs.items() if is_open]

    def _read(self, ready: list[int]) -> None:
        for fd in self._open_outputs():
            if fd not in ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                self._outputs[fd] = False  # closed: the process ended
            elif fd == self._stdout:
                self._text += chunk
                self._split_text()
            else:
                self._frames += chunk
                self._split_frames()

    def _drain(self) -> None:
        """What was written before the outcome was posted is in the pipes already."""
        while True:
            ready, _, _ = select.select(self._open_outputs(), [], [], 0)
            if not ready:
                return
            self._read(ready)

    def _split_text(self) -> None:
        *complete, self._text = self._text.split(b"\n")
        now = int(time.time() * 1000)
        for raw in complete:
            line = raw.decode("utf-8", "replace")
            if line:
                self._lines.append(WrittenLine(now, line, from_runtime=False))

    def _split_frames(self) -> None:
        while len(self._frames) >= FRAME_HEADER_BYTES:
            frame_type = int.from_bytes(self._frames[0:4], "big")
            length = int.from_bytes(self._frames[4:8], "big")
            micros = int.from_bytes(self._frames[8:16], "big")
            if len(self._frames) < FRAME_HEADER_BYTES + length:
                return
            message = self._frames[FRAME_HEADER_BYTES : FRAME_HEADER_BYTES + length]
            self._frames = self._frames[FRAME_HEADER_BYTES + length :]
            self._lines.append(
                WrittenLine(
                    micros // 1000,
                    message.decode("utf-8", "replace").rstrip("\n"),
                    from_runtime=True,
                    level=_LEVEL_OF_FRAME.get(frame_type),
                )
            )

    def _take_lines(self) -> list[WrittenLine]:
        if self._text and not self.alive():
            self._text += b"\n"
            self._split_text()
        lines, self._lines = self._lines, []
        return lines

    def peak_memory_mb(self) -> int:
        """The process's peak resident memory (VmHWM), as Lambda's Max Memory Used."""
        peak_kb = self._peak_kb()
        return max(1, peak_kb // 1024) if peak_kb else 0

    def _peak_kb(self) -> int:
        with (
            contextlib.suppress(OSError, ValueError),
            open(f"/proc/{self.pid}/status", "rb") as status,
        ):
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
        return 0  # gone (or a zombie: no memory lines)

    def _past_memory(self) -> bool:
        """The watchdog: whether the process went past the memory size (it is then
        killed, once); stays true for the rest of this environment's life."""
        if self.out_of_memory or self.memory_mb is None or self.closed:
            return self.out_of_memory
        if self._peak_kb() > self.memory_mb * 1024:
            self.out_of_memory = True
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        return self.out_of_memory

    def _reported_memory_mb(self) -> int:
        """Max Memory Used: the peak, at most the memory size (an OOM invocation reports
        the memory size itself, as Lambda does)."""
        if self.out_of_memory and self.memory_mb is not None:
            return self.memory_mb
        return self.peak_memory_mb()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._stop_process()
        self.api.close()


def _init_over(outcome: Outcome) -> bool:
    return outcome.kind in (NEXT_POLLED, INIT_FAILED)


def _out_of_memory_error(request_id: str) -> dict[str, object]:
    message = f"RequestId: {request_id} Error: Runtime exited with error: signal: killed"
    return {"errorType": OUT_OF_MEMORY_ERROR, "errorMessage": message}


def _document(outcome: Outcome) -> dict[str, object]:
    try:
        value = outcome.json()
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {"errorMessage": outcome.body.decode()}
