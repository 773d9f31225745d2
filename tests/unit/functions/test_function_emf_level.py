"""The EMF line must survive Lambda's application log-level filter.

With the JSON log format, Lambda filters what the function writes to stdout by the line's
"level" field, and a JSON line without one counts as INFO: at the production level (WARN)
an EMF line without a level would be dropped, no metrics extracted, and the
records-quarantined alarm would never fire.
"""

from __future__ import annotations

import io
import json

import handler
import pytest
from function_helpers import stream_record
from settings import Settings

# Lambda's application levels, lowest first (TRACE < DEBUG < INFO < WARN < ERROR < FATAL).
LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


def passes_lambda_filter(line: str, configured: str) -> bool:
    """What Lambda does with a JSON stdout line under application_log_level."""
    level = json.loads(line).get("level", "INFO")
    level = "WARN" if level == "WARNING" else level
    if level not in LEVELS:
        level = "INFO"
    return LEVELS.index(level) >= LEVELS.index(configured)


@pytest.mark.parametrize("configured", LEVELS)
def test_the_emf_line_passes_every_application_log_level(configured: str) -> None:
    out = io.StringIO()
    settings = Settings.from_env({"AWS_LAMBDA_LOG_LEVEL": configured})
    handler.process_event(
        {"Records": [stream_record("INSERT")]}, settings=settings, metrics_stream=out
    )
    (line,) = out.getvalue().splitlines()
    assert json.loads(line)["_aws"]["CloudWatchMetrics"]
    assert passes_lambda_filter(line, configured)


def test_without_a_configured_level_the_emf_line_is_info() -> None:
    out = io.StringIO()
    handler.process_event(
        {"Records": [stream_record("INSERT")]}, settings=Settings.from_env({}), metrics_stream=out
    )
    assert json.loads(out.getvalue())["level"] == "INFO"
