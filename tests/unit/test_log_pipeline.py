"""Lambda's log-level filtering rules as the local log pipeline applies them (developer
guide, "Log-level filtering"; aws-facts.md), starting with the guide's own example."""

from __future__ import annotations

import json

import pytest

from streamops.lambda_local.log_pipeline import (
    application_level,
    is_rfc3339,
    level_passes,
    passes_application_level,
    passes_system_level,
)

# The developer guide's example: "Lambda interprets the following output ... as a DEBUG
# level log."
GUIDE_EXAMPLE = (
    '{"level": "debug", "msg": "my debug log", "timestamp": "2024-11-02T16:51:31.587199Z"}'
)


def test_the_guides_example_is_a_debug_line() -> None:
    document = json.loads(GUIDE_EXAMPLE)
    assert application_level(document) == "DEBUG"
    assert passes_application_level(document, "DEBUG")
    assert not passes_application_level(document, "INFO")


@pytest.mark.parametrize(
    "document",
    [
        {"level": "ERROR"},  # no timestamp
        {"level": "ERROR", "timestamp": "2024-11-02 16:51"},  # not RFC 3339
        {"level": "ERROR", "timestamp": "2024-13-02T16:51:31Z"},  # month 13
        {"level": "ERROR", "timestamp": 1730566291587},  # epoch ms: not RFC 3339
        {"level": "LOUD", "timestamp": "2024-11-02T16:51:31Z"},  # invalid level
        {"timestamp": "2024-11-02T16:51:31Z"},  # no level
        None,  # not a JSON object (plain text)
        ["ERROR"],
    ],
)
def test_without_a_valid_level_and_timestamp_a_line_is_info(document: object) -> None:
    assert application_level(document) == "INFO"
    assert passes_application_level(document, "INFO")
    assert not passes_application_level(document, "WARN")


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2024-11-02T16:51:31.587199Z", True),
        ("2024-11-02T16:51:31Z", True),  # awslambdaric's JsonFormatter
        ("2024-11-02T16:51:31+07:00", True),
        ("2024-11-02t16:51:31z", True),
        ("2024-11-02T16:51:31", False),  # no offset
        ("2024-11-02", False),
        ("", False),
    ],
)
def test_rfc3339(value: str, valid: bool) -> None:
    assert is_rfc3339(value) is valid


def test_pythons_level_names_are_read_as_lambdas() -> None:
    assert level_passes("WARNING", "WARN") and not level_passes("WARNING", "ERROR")
    assert level_passes("CRITICAL", "FATAL")


def test_system_records_follow_the_system_log_level() -> None:
    for kind in ("platform.initStart", "platform.start", "platform.report"):
        assert passes_system_level(kind, "INFO") and not passes_system_level(kind, "WARN")
    assert not passes_system_level("platform.runtimeDone", "INFO")
