"""The local function's log lines: Lambda's JSON log format, and where the lines go.

Why Lambda's JSON format: the deployed function is configured with `log_format: JSON`, so
in CloudWatch each application log record is one JSON object (`timestamp`, `level`,
`message`, `logger`, `requestId`, plus any `extra` fields) and each invocation is framed
by `platform.start` / `platform.report` records. Writing the same lines locally means the
emulator's log group can be searched exactly as the real one (the deployed-stack checks
look for the seed's lines there), and the handler's EMF metrics line passes through as
the plain stdout line it is.

Sinks: `PrintSink` shows the lines to a person (readable text, or the raw JSON lines),
`CloudWatchLogsSink` writes them into `/aws/lambda/<function>` of the emulator (or AWS).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import math
import secrets
import sys
import traceback
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
# Attributes every LogRecord has, and those the runtime sets: anything else on a record
# came from `extra=` and is written as a field of its own.
_RESERVED_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "aws_request_id",
    "tenant_id",
    "_frame_type",
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


def iso_time(seconds: float) -> str:
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def application_line(record: logging.LogRecord, request_id: str, seconds: float) -> str:
    """One Python log record as the Lambda Python runtime's JSON log format writes it
    (awslambdaric JsonFormatter): these keys in this order, Python's level names, the
    exception's type, message, traceback and location, every `extra` field, no nulls."""
    failure = record.exc_info if record.exc_info and record.exc_info[0] is not None else None
    document: dict[str, Any] = {
        "timestamp": iso_time(seconds),
        "level": logging.getLevelName(min(50, max(0, record.levelno)) // 10 * 10),
        "message": record.getMessage(),
        "logger": record.name,
        "stackTrace": traceback.format_tb(failure[2]) if failure else None,
        "errorType": failure[0].__name__ if failure and failure[0] else None,
        "errorMessage": str(failure[1]) if failure else None,
        "requestId": request_id,
        "location": f"{record.pathname}:{record.funcName}:{record.lineno}" if failure else None,
    }
    for name, value in vars(record).items():
        if name not in _RESERVED_RECORD_FIELDS and name not in document:
            document[name] = value
    kept = {name: value for name, value in document.items() if value is not None}
    return json.dumps(kept, ensure_ascii=False, default=str)


def unhandled_error_line(error: BaseException, request_id: str, seconds: float) -> str:
    """What the runtime logs when the handler raises."""
    return json.dumps(
        {
            "timestamp": iso_time(seconds),
            "level": "ERROR",
            "message": f"{type(error).__name__}: {error}",
            "errorType": type(error).__name__,
            "errorMessage": str(error),
            "stackTrace": traceback.format_tb(error.__traceback__),
            "requestId": request_id,
        }
    )


def timeout_line(timeout_seconds: float, request_id: str, seconds: float) -> str:
    return json.dumps(
        {
            "timestamp": iso_time(seconds),
            "level": "ERROR",
            "message": f"Task timed out after {timeout_seconds:.2f} seconds",
            "requestId": request_id,
        }
    )


def platform_start(request_id: str, function_arn: str, seconds: float) -> str:
    return json.dumps(
        {
            "time": iso_time(seconds),
            "type": "platform.start",
            "record": {"requestId": request_id, "functionArn": function_arn, "version": "$LATEST"},
        }
    )


def platform_report(
    request_id: str, seconds: float, duration_s: float, memory_mb: int, status: str
) -> str:
    duration_ms = round(duration_s * 1000, 2)
    return json.dumps(
        {
            "time": iso_time(seconds),
            "type": "platform.report",
            "record": {
                "requestId": request_id,
                "metrics": {
                    "durationMs": duration_ms,
                    "billedDurationMs": max(1, math.ceil(duration_ms)),
                    "memorySizeMB": memory_mb,
                },
                "status": status,
            },
        }
    )


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
    if kind == "platform.report":
        metrics = record.get("metrics") or {}
        return (
            f"END RequestId: {record.get('requestId')} Duration: {metrics.get('durationMs')} ms "
            f"Status: {record.get('status')}"
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
    """Writes lines to a text stream: readable text (default) or the raw JSON lines."""

    def __init__(self, stream: TextIO | None = None, raw: bool = False, indent: str = "  "):
        self.stream, self.raw, self.indent = stream, raw, indent

    def write(self, lines: list[LogLine]) -> None:
        out = self.stream or sys.stdout
        for line in lines:
            text = line.message if self.raw else readable(line)
            # An entry may hold several lines (the function writes one entry per record).
            continuation = "\n" + self.indent + " " * (0 if self.raw else LEVEL_WIDTH + 1)
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
