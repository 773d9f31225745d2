"""What Lambda's log pipeline does with the lines an execution environment writes, before
they reach CloudWatch Logs (JSON log format; aws-facts.md, "Lambda runtime client,
execution environments and log pipeline, as read").

Why it exists: the runtime (awslambdaric) formats what goes through ``logging`` and drops
records below ``AWS_LAMBDA_LOG_LEVEL`` itself, but anything else the function writes (a
``print``, such as the EMF metrics line) is filtered by the platform, by the rules of the
developer guide page "Log-level filtering":
- a JSON object line's level is its ``"level"`` field; a missing or invalid level is INFO;
- a missing or invalid RFC 3339 ``"timestamp"`` makes the line INFO too;
- a line that is not a JSON object has no level: INFO;
- a line below the application log level is not sent.
System records (``platform.*``) are filtered by the system log level instead (DEBUG <
INFO < WARN, default INFO): "with this setting, Lambda automatically sends 'start' and
'report' log messages", so ``platform.start`` and ``platform.report`` are INFO, sent at
DEBUG and INFO, not at WARN; ``platform.initStart`` too (seen with them in real logs at
INFO, absent at WARN: secondary). The guide's event mapping table for the other records
could not be read here, so they have no level: asking for one is an error, not a guess.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from components.config import FunctionConfig

# Application log levels, most verbose first (components.config.LOG_LEVELS order).
APPLICATION_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
SYSTEM_LEVELS = ("DEBUG", "INFO", "WARN")
DEFAULT_LEVEL = "INFO"
# Python's level names, as the runtime's JSON formatter writes them, are read as Lambda's.
_ALIASES = {"WARNING": "WARN", "CRITICAL": "FATAL"}
# The system log level of each platform record the pipeline writes (aws-facts.md, "System
# log level of each platform record, as read": the level and its source, record by record).
PLATFORM_RECORD_LEVELS = {
    "platform.initStart": "INFO",
    "platform.start": "INFO",
    "platform.report": "INFO",
}
# RFC 3339 section 5.6 date-time: full-date "T" full-time, with a required offset.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})",
)


def is_rfc3339(value: object) -> bool:
    """Whether ``value`` is an RFC 3339 date-time string that names a real moment."""
    if not isinstance(value, str) or _RFC3339.fullmatch(value) is None:
        return False
    text = value.replace(" ", "T").replace("t", "T").replace("z", "Z").replace("Z", "+00:00")
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:  # e.g. month 13, second 61
        return False
    return True


def application_level(document: object) -> str:
    """The level Lambda gives an application line, already parsed (None: not JSON)."""
    if not isinstance(document, dict):
        return DEFAULT_LEVEL
    if not is_rfc3339(document.get("timestamp")):
        return DEFAULT_LEVEL
    level = document.get("level")
    if not isinstance(level, str):
        return DEFAULT_LEVEL
    level = level.upper()
    level = _ALIASES.get(level, level)
    return level if level in APPLICATION_LEVELS else DEFAULT_LEVEL


def passes_application_level(document: object, configured: str) -> bool:
    """Whether Lambda sends an application line at the configured application log level."""
    return level_passes(application_level(document), configured)


def level_passes(level: str, configured: str) -> bool:
    """Whether an application level (Lambda's or Python's name) is at or above the
    configured one; the runtime's log frames carry their level in the frame type."""
    level = _ALIASES.get(level, level)
    if level not in APPLICATION_LEVELS:
        level = DEFAULT_LEVEL
    return APPLICATION_LEVELS.index(level) >= APPLICATION_LEVELS.index(configured)


def passes_system_level(record_type: str, configured: str = DEFAULT_LEVEL) -> bool:
    """Whether Lambda sends a ``platform.*`` record at the configured system log level."""
    level = PLATFORM_RECORD_LEVELS.get(record_type)
    if level is None:
        raise ValueError(f"{record_type} has no documented system log level (aws-facts.md)")
    return SYSTEM_LEVELS.index(level) >= SYSTEM_LEVELS.index(configured)


# --------------------------------------------------------------------------- system records
# Lambda's JSON-format system records (developer guide, "Telemetry API" event schema
# reference: platform.initStart, platform.start, platform.report), as written to the
# function's log group.


def iso_time(seconds: float) -> str:
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _record(kind: str, record: dict[str, Any], seconds: float | None = None) -> str:
    moment = time.time() if seconds is None else seconds
    return json.dumps({"time": iso_time(moment), "type": kind, "record": record})


def platform_init_start(
    config: FunctionConfig, seconds: float | None = None, phase: str = "init"
) -> str:
    """``phase`` is "invoke" when INIT ran past its limit and ran again in the invocation."""
    return _record(
        "platform.initStart",
        {
            "initializationType": "on-demand",
            "phase": phase,
            "runtimeVersion": f"{config.runtime} (local awslambdaric)",
            "functionName": config.name,
            "functionVersion": "$LATEST",
        },
        seconds,
    )


def platform_start(request_id: str, function_arn: str, seconds: float | None = None) -> str:
    return _record(
        "platform.start",
        {"requestId": request_id, "functionArn": function_arn, "version": "$LATEST"},
        seconds,
    )


def platform_report(
    request_id: str,
    *,
    duration_ms: float,
    billed_ms: int,
    memory_mb: int,
    max_memory_mb: int,
    init_ms: float | None,
    status: str,
    error_type: str | None = None,
    seconds: float | None = None,
) -> str:
    metrics: dict[str, Any] = {
        "durationMs": round(duration_ms, 3),
        "billedDurationMs": billed_ms,
        "memorySizeMB": memory_mb,
        "maxMemoryUsedMB": max_memory_mb,
    }
    if init_ms is not None:
        metrics["initDurationMs"] = round(init_ms, 3)
    record: dict[str, Any] = {"requestId": request_id, "metrics": metrics, "status": status}
    if error_type:
        record["errorType"] = error_type
    return _record("platform.report", record, seconds)
