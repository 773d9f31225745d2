"""Metric names and the one CloudWatch Embedded Metric Format (EMF) line per invocation.

Why it exists: the alarms and dashboard component builds on these exact metric names, so
they are constants here and nowhere else. Counts are kept in a plain dict while the batch
runs and written as ONE EMF line per invocation (one JSON line on stdout that CloudWatch
Logs turns into metrics): a line per record would multiply log volume and cost by the batch
size. EMF needs no SDK call and no network, so it cannot slow or fail the batch.
"""

from __future__ import annotations

import json
import sys
import time

TYPE_CHECKING = False  # typing is not imported at run time: it is cold-start time
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, TextIO

RECORDS_PROCESSED = "RecordsProcessed"  # records every route ran for without error
RECORDS_INSERTED = "RecordsInserted"  # ... of which INSERT
RECORDS_MODIFIED = "RecordsModified"  # ... of which MODIFY
RECORDS_REMOVED = "RecordsRemoved"  # ... of which REMOVE
TTL_EXPIRIES = "TtlExpiries"  # ... of which REMOVEs made by TTL
STATUS_CHANGES = "StatusChanges"  # MODIFYs whose status value changed (default routes)
PRICE_CHANGES = "PriceChanges"  # MODIFYs whose price value changed (default routes)
RECORDS_FAILED = "RecordsFailed"  # records reported in batchItemFailures (0 or 1)
RECORDS_QUARANTINED = "RecordsQuarantined"  # poison records sent to the failure destination

METRIC_NAMES = (
    RECORDS_PROCESSED,
    RECORDS_INSERTED,
    RECORDS_MODIFIED,
    RECORDS_REMOVED,
    TTL_EXPIRIES,
    STATUS_CHANGES,
    PRICE_CHANGES,
    RECORDS_FAILED,
    RECORDS_QUARANTINED,
)

DIMENSION_FUNCTION_NAME = "FunctionName"
UNIT = "Count"

# With the JSON log format Lambda filters stdout lines by their "level" field, and a line
# with no valid level, OR no valid RFC 3339 "timestamp", counts as INFO (developer guide,
# "Log-level filtering"): at WARN (the production level) such an EMF line would be dropped
# before CloudWatch extracts its metrics. The line therefore carries the configured level
# when that is above INFO, and a timestamp, so it always passes (EMF ignores extra keys).
_LEVELS_ABOVE_INFO = ("WARN", "ERROR", "FATAL")


def line_level(configured: str | None) -> str:
    """The "level" the EMF line needs to pass Lambda's filter at the configured level."""
    return configured if configured in _LEVELS_ABOVE_INFO else "INFO"


def rfc3339(timestamp_ms: int) -> str:
    """``timestamp_ms`` (epoch ms) as RFC 3339 UTC with milliseconds, e.g.
    ``2026-12-01T20:41:07.123Z`` (time.strftime: datetime is not imported, cold start)."""
    seconds, millis = divmod(timestamp_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def new_counts() -> dict[str, int]:
    """A zeroed counter for every metric: every name is emitted every time, so alarms on
    e.g. RecordsFailed see 0 rather than missing data on healthy invocations."""
    return dict.fromkeys(METRIC_NAMES, 0)


def emf_document(
    counts: Mapping[str, int],
    *,
    namespace: str,
    function_name: str,
    timestamp_ms: int | None = None,
    level: str = "INFO",
) -> dict[str, Any]:
    if timestamp_ms is None:
        timestamp_ms = int(time.time() * 1000)
    document: dict[str, Any] = {
        "timestamp": rfc3339(timestamp_ms),
        "level": level,
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [[DIMENSION_FUNCTION_NAME]],
                    "Metrics": [{"Name": name, "Unit": UNIT} for name in METRIC_NAMES],
                }
            ],
        },
        DIMENSION_FUNCTION_NAME: function_name,
    }
    for name in METRIC_NAMES:
        document[name] = int(counts.get(name, 0))
    return document


def emit(
    counts: Mapping[str, int],
    *,
    namespace: str,
    function_name: str,
    stream: TextIO | None = None,
    log_level: str | None = None,
) -> str:
    """Write the invocation's EMF line to stdout (or ``stream``) and return it;
    ``log_level`` is Lambda's application log level (see ``line_level``)."""
    line = json.dumps(
        emf_document(
            counts,
            namespace=namespace,
            function_name=function_name,
            level=line_level(log_level),
        ),
        separators=(",", ":"),
    )
    out = sys.stdout if stream is None else stream
    out.write(line + "\n")
    out.flush()
    return line
