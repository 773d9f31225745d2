"""The EMF line must survive Lambda's application log-level filter.

With the JSON log format, Lambda filters what the function writes to stdout outside
``logging`` by the line's "level" field, and a line with a missing or invalid level, OR a
missing or invalid RFC 3339 "timestamp", counts as INFO (developer guide, "Log-level
filtering"). At the production level (WARN) such an EMF line is dropped: no metrics
extracted, and the records-quarantined alarm never fires. The filter applied here is the
local log pipeline's (streamops.lambda_local.log_pipeline), which cites those rules.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import handler
import metrics
import pytest
from function_helpers import stream_record
from settings import Settings

from streamops.lambda_local.log_pipeline import (
    APPLICATION_LEVELS,
    application_level,
    is_rfc3339,
    passes_application_level,
)


def emf_line(configured: str | None) -> dict[str, object]:
    out = io.StringIO()
    environ = {} if configured is None else {"AWS_LAMBDA_LOG_LEVEL": configured}
    handler.process_event(
        {"Records": [stream_record("INSERT")]},
        settings=Settings.from_env(environ),
        metrics_stream=out,
    )
    (line,) = out.getvalue().splitlines()
    document = json.loads(line)
    assert isinstance(document, dict)
    return document


@pytest.mark.parametrize("configured", APPLICATION_LEVELS)
def test_the_emf_line_passes_every_application_log_level(configured: str) -> None:
    document = emf_line(configured)
    assert passes_application_level(document, configured)
    assert is_rfc3339(document["timestamp"]), "without it Lambda treats the line as INFO"


@pytest.mark.parametrize("configured", APPLICATION_LEVELS)
def test_the_emf_line_is_still_a_valid_emf_document(configured: str) -> None:
    document = emf_line(configured)
    aws = document["_aws"]
    assert isinstance(aws, dict)
    timestamp_ms = aws["Timestamp"]
    assert isinstance(timestamp_ms, int) and timestamp_ms > 1_600_000_000_000  # epoch ms
    (directive,) = aws["CloudWatchMetrics"]
    assert directive["Dimensions"] == [[metrics.DIMENSION_FUNCTION_NAME]]
    declared = [metric["Name"] for metric in directive["Metrics"]]
    assert declared == list(metrics.METRIC_NAMES)
    for name in [*declared, metrics.DIMENSION_FUNCTION_NAME]:
        assert name in document, f"{name} is declared but not at the root"
    # The line's timestamp is the same moment as the metrics' (to the millisecond).
    moment = dt.datetime.fromisoformat(str(document["timestamp"]).replace("Z", "+00:00"))
    assert round(moment.timestamp() * 1000) == timestamp_ms


def test_the_previous_line_level_without_timestamp_was_dropped_at_warn_and_error() -> None:
    # The line as the function wrote it before: a level, no timestamp.
    previous = {**emf_line("WARN")}
    del previous["timestamp"]
    assert application_level(previous) == "INFO"
    assert not passes_application_level(previous, "WARN")
    assert not passes_application_level({**emf_line("ERROR"), "timestamp": None}, "ERROR")


def test_without_a_configured_level_the_emf_line_is_info() -> None:
    assert application_level(emf_line(None)) == "INFO"
