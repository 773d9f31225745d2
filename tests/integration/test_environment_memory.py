"""An execution environment bounded by the function's memory size, as Lambda bounds it
(aws-facts.md, "Out of memory in an execution environment, as read"): a handler that goes
past ``memory_mb`` is killed, the invocation is a function error ``Runtime.OutOfMemory``
with the report's ``status: error`` and ``maxMemoryUsedMB`` at the memory size, and the
next invocation starts cold in a new environment. A handler under the limit is untouched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from streamops.lambda_local.function import ERROR, SUCCESS, FunctionError, InvocationResult
from tests.integration.test_execution_environments import function, package

pytestmark = pytest.mark.integration

MEMORY_MB = 128
# b"\x01" * n writes every byte, so the pages are resident (bytes(n) would not be: calloc).
ALLOCATING = """
import os, time
HELD = []

def lambda_handler(event, context):
    data = b"\\x01" * (event["mb"] << 20)
    if event.get("hold"):
        HELD.append(data)
        time.sleep(event["hold"])
    return {"pid": os.getpid(), "mb": len(data) >> 20}
"""


def report_of(result: InvocationResult) -> dict[str, Any]:
    (report,) = [
        json.loads(line.message)["record"]
        for line in result.lines
        if '"type": "platform.report"' in line.message
    ]
    return report


def assert_out_of_memory(result: InvocationResult) -> None:
    assert result.status == ERROR and result.response is None
    assert isinstance(result.error, FunctionError)
    assert result.error.error_type == "Runtime.OutOfMemory"
    assert result.error.document["errorType"] == "Runtime.OutOfMemory"
    assert "signal: killed" in str(result.error.document["errorMessage"])
    report = report_of(result)
    assert (report["status"], report["errorType"]) == ("error", "Runtime.OutOfMemory")
    metrics = report["metrics"]
    # Lambda reports the memory size itself as Max Memory Used of an OOM invocation.
    assert metrics["maxMemoryUsedMB"] == metrics["memorySizeMB"] == MEMORY_MB
    assert result.max_memory_mb == MEMORY_MB


def test_a_handler_holding_more_than_its_memory_is_killed_before_its_timeout(
    tmp_path: Path,
) -> None:
    with function(package(tmp_path, ALLOCATING), memory_mb=MEMORY_MB) as fn:
        killed = fn.invoke({"mb": 2 * MEMORY_MB, "hold": 30})
        after = fn.invoke({"mb": 1})
    assert_out_of_memory(killed)
    assert killed.duration < 3, "the environment was not stopped when it went past its memory"
    assert after.status == SUCCESS and after.cold, "the environment was not replaced"
    assert after.environment != killed.environment
    assert fn.environments_started == 2


def test_a_burst_past_the_memory_between_two_polls_is_still_out_of_memory(
    tmp_path: Path,
) -> None:
    """Allocated and freed before the watchdog looks: the process's peak (VmHWM) keeps it."""
    with function(package(tmp_path, ALLOCATING), memory_mb=MEMORY_MB) as fn:
        burst = fn.invoke({"mb": 2 * MEMORY_MB})
        after = fn.invoke({"mb": 1})
    assert_out_of_memory(burst)
    assert after.status == SUCCESS and after.cold and after.environment != burst.environment


def test_a_handler_under_its_memory_is_unaffected_and_reports_its_peak(tmp_path: Path) -> None:
    with function(package(tmp_path, ALLOCATING), memory_mb=MEMORY_MB) as fn:
        first = fn.invoke({"mb": 40})
        second = fn.invoke({"mb": 1})
    assert (first.status, second.status) == (SUCCESS, SUCCESS)
    assert first.response == {"pid": first.environment, "mb": 40}
    assert not second.cold and second.environment == first.environment
    for result in (first, second):
        report = report_of(result)
        assert report["status"] == "success" and "errorType" not in report
    peak = report_of(first)["metrics"]["maxMemoryUsedMB"]
    # The peak is the process's: the 40 MB block on top of the runtime, under the limit;
    # it stays the environment's peak on the next invocation (VmHWM, as Lambda reports).
    assert 40 < peak < MEMORY_MB
    assert report_of(second)["metrics"]["maxMemoryUsedMB"] >= peak


def test_init_past_the_memory_is_out_of_memory_and_the_next_invocation_starts_cold(
    tmp_path: Path,
) -> None:
    source = 'DATA = b"\\x01" * (256 << 20)\n\ndef lambda_handler(event, context):\n    return 1\n'
    with function(package(tmp_path, source), memory_mb=MEMORY_MB) as fn:
        first, second = fn.invoke({}), fn.invoke({})
    for result in (first, second):
        assert result.cold
        assert_out_of_memory(result)
    assert fn.environments_started == 2
