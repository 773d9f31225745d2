"""Lambda's log-level filtering rules as the local log pipeline applies them (developer
guide, "Log-level filtering"; aws-facts.md), starting with the guide's own example."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from streamops.lambda_local.log_pipeline import (
    application_level,
    is_rfc3339,
    level_passes,
    passes_application_level,
    passes_system_level,
    platform_init_start,
    platform_report,
    platform_start,
)
from tests.support.runner_harness import function_arn, function_config

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


# AWS's example events for the records the pipeline writes (developer guide, "Lambda
# Telemetry API Event schema reference"), word for word; aws-facts.md, "System log level
# of each platform record, as read".
TELEMETRY_EXAMPLES: dict[str, dict[str, Any]] = {
    "platform.initStart": {
        "time": "2022-10-12T00:00:15.064Z",
        "type": "platform.initStart",
        "record": {
            "initializationType": "on-demand",
            "phase": "init",
            "runtimeVersion": "nodejs-14.v3",
            "runtimeVersionArn": "arn",
            "functionName": "myFunction",
            "functionVersion": "$LATEST",
            "instanceId": "82561ce0-53dd-47d1-90e0-c8f5e063e62e",
            "instanceMaxMemory": 256,
        },
    },
    "platform.start": {
        "time": "2022-10-12T00:00:15.064Z",
        "type": "platform.start",
        "record": {
            "requestId": "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa",
            "version": "$LATEST",
            "tracing": {
                "spanId": "54565fb41ac79632",
                "type": "X-Amzn-Trace-Id",
                "value": (
                    "Root=1-62e900b2-710d76f009d6e7785905449a;Parent=0efbd19962d95b05;Sampled=1"
                ),
            },
        },
    },
    "platform.report": {
        "time": "2022-10-12T00:01:15.000Z",
        "type": "platform.report",
        "record": {
            "metrics": {
                "billedDurationMs": 694,
                "durationMs": 693.92,
                "initDurationMs": 397.68,
                "maxMemoryUsedMB": 84,
                "memorySizeMB": 128,
            },
            "requestId": "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa",
        },
    },
}
# "By default, Lambda sets the system log level to INFO. With this setting, Lambda
# automatically sends "start" and "report" log messages"; DEBUG is more detail, WARN less.
SENT_AT = {"DEBUG": True, "INFO": True, "WARN": False}


@pytest.mark.parametrize("system_level", sorted(SENT_AT))
@pytest.mark.parametrize("kind", sorted(TELEMETRY_EXAMPLES))
def test_the_documented_records_are_sent_at_debug_and_info_not_at_warn(
    kind: str, system_level: str
) -> None:
    assert (
        passes_system_level(TELEMETRY_EXAMPLES[kind]["type"], system_level)
        is (SENT_AT[system_level])
    )


@pytest.mark.parametrize(
    "kind", ["platform.runtimeDone", "platform.initRuntimeDone", "platform.extension"]
)
def test_a_record_without_a_documented_level_is_refused_not_guessed(kind: str) -> None:
    with pytest.raises(ValueError, match="no documented system log level"):
        passes_system_level(kind, "INFO")


# "time" as in every example: UTC, milliseconds, "Z".
EXAMPLE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
# The documented attributes of each record ("?" ones optional), and the required ones.
DOCUMENTED = {
    "platform.initStart": (
        {"functionName", "functionVersion", "initializationType", "instanceId",
         "instanceMaxMemory", "phase", "runtimeVersion", "runtimeVersionArn"},
        {"functionName", "functionVersion", "initializationType", "phase"},
    ),
    # functionArn is not in the schema's list but is in real JSON logs of 2026
    # (aws-facts.md): the local record keeps it.
    "platform.start": ({"requestId", "version", "tracing", "functionArn"}, {"requestId"}),
    # errorType: the Status object's, "if the status is either failure or error".
    "platform.report": (
        {"metrics", "requestId", "spans", "status", "tracing", "errorType"},
        {"metrics", "requestId", "status"},
    ),
}  # fmt: skip
REPORT_METRICS_REQUIRED = {"billedDurationMs", "durationMs", "maxMemoryUsedMB", "memorySizeMB"}
REPORT_METRICS_OPTIONAL = {"initDurationMs", "restoreDurationMs"}


def our_records() -> dict[str, dict[str, Any]]:
    config = function_config()
    report = platform_report(
        "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa", duration_ms=693.9234, billed_ms=1092,
        memory_mb=128, max_memory_mb=84, init_ms=397.68, status="success", seconds=1665532875.0,
    )  # fmt: skip
    return {
        "platform.initStart": json.loads(platform_init_start(config, 1665532815.064)),
        "platform.start": json.loads(
            platform_start("6d68ca91-49c9-448d-89b8-7ca3e6dc66aa", function_arn(config), 1.5)
        ),
        "platform.report": json.loads(report),
    }


@pytest.mark.parametrize("kind", sorted(DOCUMENTED))
def test_our_records_have_the_shape_of_the_documented_examples(kind: str) -> None:
    ours, example = our_records()[kind], TELEMETRY_EXAMPLES[kind]
    assert list(ours) == list(example) == ["time", "type", "record"]
    assert ours["type"] == example["type"] == kind
    assert EXAMPLE_TIME.fullmatch(str(example["time"]))
    assert EXAMPLE_TIME.fullmatch(str(ours["time"]))
    allowed, required = DOCUMENTED[kind]
    for record in (ours["record"], example["record"]):
        assert isinstance(record, dict)
        assert set(record) <= allowed
    assert required <= set(ours["record"])


def test_our_report_metrics_are_the_documented_ones() -> None:
    report = our_records()["platform.report"]["record"]
    example = TELEMETRY_EXAMPLES["platform.report"]["record"]
    assert isinstance(report, dict) and isinstance(example, dict)
    for metrics in (report["metrics"], example["metrics"]):
        assert (
            REPORT_METRICS_REQUIRED
            <= set(metrics)
            <= (REPORT_METRICS_REQUIRED | REPORT_METRICS_OPTIONAL)
        )
        for integer in ("billedDurationMs", "maxMemoryUsedMB", "memorySizeMB"):
            assert isinstance(metrics[integer], int)
    assert report["metrics"]["durationMs"] == 693.923
    assert report["metrics"]["initDurationMs"] == 397.68
    assert report["status"] == "success" and "errorType" not in report
    assert report["requestId"] == example["requestId"]
    assert our_records()["platform.report"]["time"] == "2022-10-12T00:01:15.000Z"
