"""The local function's log lines, and where they go.

The lines are what Lambda's log pipeline keeps (``log_pipeline``) of what an execution
environment wrote: the runtime's own JSON lines (awslambdaric formats them), other stdout
lines such as the EMF metrics line, and the ``platform.*`` system records. Writing them
locally means the emulator's log group can be searched exactly as the real one (the
deployed-stack checks look for the seed's lines there).

Sinks: `PrintSink` shows the lines to a person (readable text, or the raw JSON lines),
`CloudWatchLogsSink` writes them into `/aws/lambda/<function>` of the emulator (or AWS).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import secrets
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

# Lambda's application log levels -> the Python level the runtime sets on the root logger.
PYTHON_LEVELS = {
    "TRACE": logging.DEBUG,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "ERROR": logging.ERROR,
    "FATAL": logging.CRITICAL,
}
LEVEL_WIDTH = len("CRITICAL")  # the readable form's level column
# CloudWatch Logs PutLogEvents limits.
MAX_EVENTS_PER_PUT = 10_000
MAX_BYTES_PER_PUT = 1_048_576
EVENT_OVERHEAD_BYTES = 26


@dataclass(frozen=True)
class LogLine:
    timestamp_ms: int
    message: str  # exactly the text CloudWatch stores


def emf_metrics(lines: Iterable[LogLine]) -> dict[str, float]:
    """Sum of the values of every CloudWatch Embedded Metric Format line among `lines`."""
    totals: dict[str, float] = {}
    for line in lines:
        document = _json_object(line.message)
        if document is None or not isinstance(document.get("_aws"), dict):
            continue
        for directive in document["_aws"].get("CloudWatchMetrics", []):
            for metric in directive.get("Metrics", []):
                value = document.get(metric.get("Name"))
                if isinstance(value, int | float) and not isinstance(value, bool):
                    totals[metric["Name"]] = totals.get(metric["Name"], 0) + value
    return totals


def _json_object(text: str) -> dict[str, Any] | None:
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def readable(line: LogLine) -> str:
    """A log line for a person: START/END framing, `LEVEL message`, metrics in one line."""
    document = _json_object(line.message)
    if document is None:
        return line.message
    kind = document.get("type")
    record: dict[str, Any] = document["record"] if isinstance(document.get("record"), dict) else {}
    if kind == "platform.start":
        return f"START RequestId: {record.get('requestId')} Version: {record.get('version')}"
    if kind == "platform.initStart":
        return f"INIT_START Runtime Version: {record.get('runtimeVersion')}"
    if kind == "platform.report":
        metrics = record.get("metrics") or {}
        init = metrics.get("initDurationMs")
        return (
            f"REPORT RequestId: {record.get('requestId')} Duration: {metrics.get('durationMs')} ms "
            f"Billed Duration: {metrics.get('billedDurationMs')} ms "
            f"Max Memory Used: {metrics.get('maxMemoryUsedMB')} MB "
            + (f"Init Duration: {init} ms " if init is not None else "")
            + f"Status: {record.get('status')}"
            + (f" ({record['errorType']})" if record.get("errorType") else "")
        )
    if isinstance(document.get("_aws"), dict):
        values = emf_metrics([line])
        shown = " ".join(f"{name}={value:g}" for name, value in values.items() if value)
        return f"METRICS {shown or '(all zero)'}"
    if "level" in document and "message" in document:
        extra = document.get("errorType")
        suffix = f" [{extra}: {document.get('errorMessage')}]" if extra else ""
        return f"{document['level']:<{LEVEL_WIDTH}} {document['message']}{suffix}"
    return line.message


class LogSink(Protocol):
    def write(self, lines: list[LogLine]) -> None: ...


class PrintSink:
    """Writes lines to a text stream: readable text (default) or the raw JSON lines.

    Shards are invoked concurrently, so two invocations can end at once: each one's lines
    are written together (in Lambda each environment has a log stream of its own; here
    they share the terminal)."""

    def __init__(self, stream: TextIO | None = None, raw: bool = False, indent: str = "  "):
        self.stream, self.raw, self.indent = stream, raw, indent
        self._lock = threading.Lock()

    def write(self, lines: list[LogLine]) -> None:
        out = self.stream or sys.stdout
        continuation = "\n" + self.indent + " " * (0 if self.raw else LEVEL_WIDTH + 1)
        with self._lock:
            for line in lines:
                text = line.message if self.raw else readable(line)
                # An entry may hold several lines (the function writes one per record).
                out.write(self.indent + text.replace("\n", continuation) + "\n")
            out.flush()


def log_stream_name(seconds: float) -> str:
    """Lambda's log stream name for one execution environment: `YYYY/MM/DD/[$LATEST]<hex>`."""
    day = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y/%m/%d")
    return f"{day}/[$LATEST]{secrets.token_hex(16)}"


class CloudWatchLogsSink:
    """Writes the lines to a log group, in one log stream (one execution environment)."""

    def __init__(self, logs_client: Any, group_name: str, stream_name: str):
        self.client, self.group, self.stream = logs_client, group_name, stream_name
        self._created = False

    def write(self, lines: list[LogLine]) -> None:
        if not lines:
            return
        self._ensure_stream()
        for chunk in _put_chunks(lines):
            events = [{"timestamp": line.timestamp_ms, "message": line.message} for line in chunk]
            self.client.put_log_events(
                logGroupName=self.group, logStreamName=self.stream, logEvents=events
            )

    def _ensure_stream(self) -> None:
        if self._created:
            return
        # The stack creates the group (with its retention); Lambda creates it when missing.
        with contextlib.suppress(self.client.exceptions.ResourceAlreadyExistsException):
            self.client.create_log_group(logGroupName=self.group)
        self.client.create_log_stream(logGroupName=self.group, logStreamName=self.stream)
        self._created = True


def _put_chunks(lines: list[LogLine]) -> Iterable[list[LogLine]]:
    chunk: list[LogLine] = []
    size = 0
    for line in sorted(lines, key=lambda item: item.timestamp_ms):  # CloudWatch wants order
        line_size = len(line.message.encode()) + EVENT_OVERHEAD_BYTES
        if chunk and (len(chunk) >= MAX_EVENTS_PER_PUT or size + line_size > MAX_BYTES_PER_PUT):
            yield chunk
            chunk, size = [], 0
        chunk.append(line)
        size += line_size
    if chunk:
        yield chunk
