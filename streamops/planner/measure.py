"""What the plan measures instead of assuming: the handler's cost and its log volume.

- Cost per record: read at run time from the benchmark's output (bench/results.json,
  `handler.us_per_record_warn` / `_info`, written by `make bench`). Never copied into code:
  the file is regenerated when the handler gets faster or slower.
- Log bytes: the real handler (functions/stream_processor) is run on small sample batches
  with its logger captured by the Lambda Python runtime's own JSON log formatter
  (`awslambdaric`'s JsonFormatter), plus its EMF line and
  Lambda's own `platform.start` / `platform.report` lines in their documented JSON shapes.
  Bytes per invocation = an empty batch's; bytes per record = the growth per record in a
  batch of each event type.
"""

from __future__ import annotations

import functools
import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from awslambdaric.lambda_runtime_log_utils import JsonFormatter

from streamops.function_code import function_module
from streamops.lambda_local.logs import PYTHON_LEVELS
from streamops.planner.errors import PlanError

ROOT = Path(__file__).resolve().parents[2]
BENCH_RESULTS = ROOT / "bench" / "results.json"
COLD_START_RESULTS = ROOT / "bench" / "cold_start.json"  # bench/bench_cold_start.py

EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")
# Lambda's application log levels -> the Python level the runtime sets on the root logger.
# Which benchmark figure applies: at WARN and above the per-record INFO lines are off.
BENCH_KEY_FOR_LEVEL = {
    "TRACE": "info",
    "DEBUG": "info",
    "INFO": "info",
    "WARN": "warn",
    "ERROR": "warn",
    "FATAL": "warn",
}
# Realistic sizes for the identifiers Lambda writes on every line (a UUID request id, a
# 12-digit account); the values themselves do not matter, their length does.
SAMPLE_REQUEST_ID = "79b5e81f-9cdd-4145-b1f6-7c50ef8a2a36"
SAMPLE_ACCOUNT = "123456789012"
SAMPLE_STREAM_ARN = (
    "arn:aws:dynamodb:us-east-1:123456789012:table/demo/stream/2026-11-28T00:00:00.000"
)
# Records per sample batch: 3 entities (user, product, order) x 4 MODIFY variants (no
# change, status, price, both), so each shape appears equally often.
SAMPLE_RECORDS = 12
ENTITY_KEYS = (
    ("USER#u-000123", "PROFILE"),
    ("PRODUCT#p-000123", "METADATA"),
    ("USER#u-000123", "ORDER#o-0000123"),
)
IMAGES_BY_VIEW: dict[
    str, dict[str, tuple[str, ...]]
] = {  # which images a record of each event carries, per stream view
    "NEW_AND_OLD_IMAGES": {
        "INSERT": ("NewImage",),
        "MODIFY": ("OldImage", "NewImage"),
        "REMOVE": ("OldImage",),
    },
    "NEW_IMAGE": {"INSERT": ("NewImage",), "MODIFY": ("NewImage",), "REMOVE": ()},
    "OLD_IMAGE": {"INSERT": (), "MODIFY": ("OldImage",), "REMOVE": ("OldImage",)},
    "KEYS_ONLY": {"INSERT": (), "MODIFY": (), "REMOVE": ()},
}


@dataclass(frozen=True)
class HandlerCost:
    """The handler's measured CPU time per record on the benchmark machine."""

    us_per_record: float
    figure: str  # which key of bench/results.json, e.g. handler.us_per_record_info
    machine: str  # what the benchmark ran on (python version, CPU architecture)
    note: str  # the benchmark's own caveat


@dataclass(frozen=True)
class LogVolume:
    """Bytes ingested by CloudWatch Logs, measured at one log level."""

    per_invocation: float  # EMF line + platform lines (+ the INFO summary line)
    per_record: dict[str, float]  # event name -> bytes of that record's own lines
    emf_line: int
    platform_lines: int

    def per_record_for(self, mix: dict[str, float]) -> float:
        """Average bytes per record for a share of each event name (shares sum to 1)."""
        return sum(self.per_record[name] * share for name, share in mix.items())


# --------------------------------------------------------------------------- benchmark


def handler_cost(log_level: str, path: Path = BENCH_RESULTS) -> HandlerCost:
    """The benchmark's cost per record for `log_level` (WARN and above -> warn, else info)."""
    level_key = BENCH_KEY_FOR_LEVEL[log_level]
    key = f"us_per_record_{level_key}"
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PlanError(f"cannot read {path} ({error}): run `make bench` to measure") from error
    value = (results.get("handler") or {}).get(key) if isinstance(results, dict) else None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise PlanError(f"{path} has no positive handler.{key}: run `make bench` to measure")
    machine = f"python {results.get('python', '?')} on {results.get('machine', '?')}"
    return HandlerCost(float(value), f"handler.{key}", machine, str(results.get("note", "")))


@dataclass(frozen=True)
class InitCost:
    """The INIT phase of one cold start, as measured (median) by bench/bench_cold_start.py
    in an awslambdaric execution environment on this machine."""

    init_ms: float
    machine: str


def init_cost(path: Path = COLD_START_RESULTS) -> InitCost:
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PlanError(
            f"cannot read {path} ({error}): run bench/bench_cold_start.py to measure"
        ) from error
    value = (results.get("init_ms") or {}).get("handler") if isinstance(results, dict) else None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise PlanError(f"{path} has no positive init_ms.handler: run bench/bench_cold_start.py")
    machine = f"python {results.get('python', '?')} on {results.get('machine', '?')}"
    return InitCost(float(value), machine)


# --------------------------------------------------------------------------- log volume


def function_modules() -> dict[str, ModuleType]:
    """The function's own modules, imported as Lambda does (its folder is the code root)."""
    return {name: function_module(name) for name in ("handler", "metrics", "settings")}


def custom_metric_count() -> int:
    """CloudWatch custom metrics the EMF line creates: each name x its one dimension set
    (FunctionName), for one function."""
    metrics = function_modules()["metrics"]
    return len(metrics.METRIC_NAMES)


class _ByteCounter(logging.Handler):
    """Bytes of the lines the Lambda Python runtime writes: awslambdaric's own JsonFormatter
    (its lines end with a newline), with the request id its filter adds."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.bytes = 0

    def emit(self, record: logging.LogRecord) -> None:
        record.aws_request_id = SAMPLE_REQUEST_ID
        self.bytes += len(self.format(record).encode("utf-8"))


@contextmanager
def _captured(logger_name: str, level: int) -> Iterator[_ByteCounter]:
    """Route the function's logger to a byte counter at `level`, then restore it."""
    logger = logging.getLogger(logger_name)
    saved = (logger.level, logger.propagate, list(logger.handlers))
    counter = _ByteCounter()
    logger.handlers = [counter]
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield counter
    finally:
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        logger.handlers = saved[2]


def sample_record(event_name: str, index: int, view: str, sequence: int) -> dict[str, Any]:
    """One stream record of the seed's entities; MODIFY variants change status and/or price."""
    pk, sk = ENTITY_KEYS[index % len(ENTITY_KEYS)]
    variant = index % 4  # 0: nothing, 1: status, 2: price, 3: both (MODIFY only)
    old = {"PK": {"S": pk}, "SK": {"S": sk}, "status": {"S": "paid"}, "price": {"N": "19.9"}}
    new = dict(old)
    if variant in (1, 3):
        new["status"] = {"S": "shipped"}
    if variant in (2, 3):
        new["price"] = {"N": "17.5"}
    ddb: dict[str, Any] = {
        "ApproximateCreationDateTime": 1764355050,
        "Keys": {"PK": {"S": pk}, "SK": {"S": sk}},
        "SequenceNumber": f"{4421584500000000017450439091 + sequence}",
        "SizeBytes": 100,
        "StreamViewType": view,
    }
    for image in IMAGES_BY_VIEW[view][event_name]:
        ddb[image] = old if image == "OldImage" else new
    return {
        "eventID": f"{sequence:032x}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": ddb,
        "eventSourceARN": SAMPLE_STREAM_ARN,
    }


def record_envelope_bytes(view: str) -> float:
    """Bytes of a stream record without its images (keys, ids, ARN...), averaged over the
    event names: what a record weighs besides the item images it carries."""
    sizes = []
    for name in EVENT_NAMES:
        record = sample_record(name, 0, view, 0)
        for image in ("OldImage", "NewImage"):
            record["dynamodb"].pop(image, None)
        sizes.append(len(json.dumps(record, separators=(",", ":"))))
    return sum(sizes) / len(sizes)


def images_per_record(view: str, event_name: str) -> int:
    return len(IMAGES_BY_VIEW[view][event_name])


def platform_lines(function_name: str, region: str, memory_mb: int, duration_ms: float) -> str:
    """Lambda's per-invocation system lines in the JSON log format (Lambda telemetry schema:
    `platform.start` and `platform.report` events)."""
    time = "2026-11-28T18:37:30.470Z"
    arn = f"arn:aws:lambda:{region}:{SAMPLE_ACCOUNT}:function:{function_name}"
    start = {
        "time": time,
        "type": "platform.start",
        "record": {"requestId": SAMPLE_REQUEST_ID, "functionArn": arn, "version": "$LATEST"},
    }
    report = {
        "time": time,
        "type": "platform.report",
        "record": {
            "requestId": SAMPLE_REQUEST_ID,
            "metrics": {
                "durationMs": round(duration_ms, 3),
                "billedDurationMs": max(1, int(-(-duration_ms // 1))),
                "memorySizeMB": memory_mb,
                "maxMemoryUsedMB": min(memory_mb, 48),
            },
            "status": "success",
        },
    }
    return "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in (start, report))


def measure_log_volume(
    log_level: str,
    view: str,
    function_name: str,
    region: str,
    memory_mb: int,
    duration_ms: float,
) -> LogVolume:
    """Run the handler on sample batches at `log_level` and count the bytes it logs."""
    empty, emf, per_record = handler_log_bytes(log_level, view, function_name)
    platform = len(platform_lines(function_name, region, memory_mb, duration_ms).encode())
    return LogVolume(empty + emf + platform, dict(per_record), emf, platform)


@functools.lru_cache(maxsize=32)
def handler_log_bytes(
    log_level: str, view: str, function_name: str
) -> tuple[int, int, tuple[tuple[str, float], ...]]:
    """(log bytes of an empty batch, its EMF line's bytes, bytes per record by event name).
    Cached: the handler's output for a level does not change within a run."""
    modules = function_modules()
    handler, settings_module = modules["handler"], modules["settings"]
    settings = settings_module.Settings(function_name=function_name)
    level = PYTHON_LEVELS[log_level]

    def logged_bytes(records: list[dict[str, Any]]) -> tuple[int, int]:
        emf = io.StringIO()
        with _captured(settings_module.LOGGER_NAME, level) as counter:
            handler.process_event({"Records": records}, None, settings=settings, metrics_stream=emf)
        return counter.bytes, len(emf.getvalue().encode("utf-8"))

    empty_logs, emf_bytes = logged_bytes([])
    per_record = []
    for name in EVENT_NAMES:
        batch = [sample_record(name, i, view, i) for i in range(SAMPLE_RECORDS)]
        logs, emf = logged_bytes(batch)
        per_record.append((name, ((logs + emf) - (empty_logs + emf_bytes)) / SAMPLE_RECORDS))
    return empty_logs, emf_bytes, tuple(per_record)
