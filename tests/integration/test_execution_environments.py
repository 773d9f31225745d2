"""The function in AWS's own runtime: execution environments running awslambdaric against
the Runtime API served on 127.0.0.1 (streamops.lambda_local.function / environment).

Each test writes a tiny handler package and invokes it through ProcessFunction, as the
local mapping invokes the real package: warm reuse (module state survives, same process),
cold INIT timed, the pool's cap, a timeout (stopped and replaced), a crash and an import
error (function errors), the runtime's variables, context and JSON log lines, and the log
pipeline's filtering of what the environment wrote.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from threading import Thread
from typing import Any

import pytest

from streamops.lambda_local.function import ERROR, SUCCESS, TIMEOUT, FunctionError, ProcessFunction
from tests.support.runner_harness import function_arn, function_config

pytestmark = pytest.mark.integration

HANDLER = """
import json, logging, os, sys, time
log = logging.getLogger("fn")
INVOCATIONS = 0

def lambda_handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    action = event.get("action")
    log.info("info line %s", INVOCATIONS)
    log.warning("warn line", extra={"invocation": INVOCATIONS})
    print(json.dumps({"level": "WARN", "message": "print without timestamp"}))
    print(json.dumps({"level": "WARN", "message": "print with timestamp",
                      "timestamp": "2026-12-01T20:00:00.000Z"}))
    print("not json")
    if action == "raise":
        raise ValueError("bad record")
    if action == "exit":
        os._exit(3)
    if action == "segfault":
        import signal
        os.kill(os.getpid(), signal.SIGSEGV)
    if action == "sleep":
        time.sleep(event["seconds"])
    return {
        "invocations": INVOCATIONS,
        "pid": os.getpid(),
        "remaining_ms": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "names": {name: os.environ.get(name) for name in event.get("variables", [])},
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        "root_level": logging.getLogger().level,
    }
"""


def package(tmp_path: Path, source: str = HANDLER, name: str = "handler.py") -> Path:
    root = tmp_path / "task"
    root.mkdir(exist_ok=True)
    (root / name).write_text(textwrap.dedent(source))
    return root


def function(root: Path, handler: str = "handler.lambda_handler", **config: Any) -> ProcessFunction:
    settings = function_config(**{"timeout_seconds": 5, "log_level": "WARN", **config})
    return ProcessFunction(
        root,
        handler,
        settings,
        function_arn=function_arn(settings),
        region="eu-west-1",
        environment={"FAILURE_DESTINATION": "https://queue"},
    )


def test_a_warm_environment_is_reused_and_keeps_module_state(tmp_path: Path) -> None:
    with function(package(tmp_path)) as fn:
        first, second = fn.invoke({}), fn.invoke({})

    assert (first.status, second.status) == (SUCCESS, SUCCESS)
    assert first.response["invocations"] == 1 and second.response["invocations"] == 2
    assert first.response["pid"] == second.response["pid"] == first.environment
    assert (first.cold, second.cold) == (True, False)
    assert first.init_duration_ms is not None and first.init_duration_ms > 0
    assert second.init_duration_ms is None
    # INIT is billed with the cold invocation (since 2025-08-01).
    assert first.billed_duration_ms >= first.init_duration_ms + first.duration * 1000
    assert second.billed_duration_ms < second.duration * 1000 + 1 + 1e-6


def test_the_runtime_gets_lambdas_variables_context_and_headers(tmp_path: Path) -> None:
    names = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL",
             "AWS_REGION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "FAILURE_DESTINATION",
             "AWS_LAMBDA_LOG_STREAM_NAME", "LAMBDA_TASK_ROOT"]  # fmt: skip
    root = package(tmp_path)
    with function(root) as fn:
        result = fn.invoke({"variables": names})
    seen = result.response
    config = function_config()
    assert seen["names"] == {
        "AWS_LAMBDA_FUNCTION_NAME": config.name,
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": "WARN",
        "AWS_REGION": "eu-west-1",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
        "FAILURE_DESTINATION": "https://queue",
        "AWS_LAMBDA_LOG_STREAM_NAME": fn.log_streams[0],
        "LAMBDA_TASK_ROOT": str(root),
    }
    assert seen["request_id"] == result.request_id
    assert seen["arn"] == function_arn(config)
    assert 0 < seen["remaining_ms"] <= 5000
    assert seen["trace"].startswith("Root=1-")
    assert seen["root_level"] == 30  # awslambdaric set the root logger from the level


def test_the_log_pipeline_keeps_what_lambda_keeps_at_warn(tmp_path: Path) -> None:
    with function(package(tmp_path)) as fn:
        result = fn.invoke({})
    documents = [json.loads(line.message) for line in result.lines if line.message[0] == "{"]
    types = [document.get("type") for document in documents if "type" in document]
    assert types == ["platform.initStart", "platform.start", "platform.report"]
    messages = [document.get("message") for document in documents]
    # awslambdaric formatted the logging record (INFO dropped by the runtime at WARN).
    warn = next(document for document in documents if document.get("message") == "warn line")
    assert (warn["level"], warn["requestId"], warn["invocation"]) == (
        "WARNING",
        result.request_id,
        1,
    )
    assert "info line 1" not in messages
    # The platform: a print with level and timestamp is kept; without timestamp it is INFO
    # and dropped; a non-JSON line is INFO and dropped.
    assert "print with timestamp" in messages
    assert "print without timestamp" not in messages
    assert all(line.message != "not json" for line in result.lines)
    report = documents[-1]["record"]
    assert set(report["metrics"]) == {
        "durationMs", "billedDurationMs", "memorySizeMB", "maxMemoryUsedMB", "initDurationMs"
    }  # fmt: skip
    assert report["metrics"]["maxMemoryUsedMB"] > 0


@pytest.mark.parametrize(
    ("system_level", "records"),
    [
        ("DEBUG", ["platform.initStart", "platform.start", "platform.report"]),
        ("INFO", ["platform.initStart", "platform.start", "platform.report"]),
        ("WARN", []),
    ],
)
def test_the_platform_records_follow_the_system_log_level(
    tmp_path: Path, system_level: str, records: list[str]
) -> None:
    """At the default INFO Lambda "automatically sends 'start' and 'report' log messages"
    (guide, "Log-level filtering"); WARN is less detail: none of them."""
    settings = function_config(timeout_seconds=5, log_level="WARN")
    with ProcessFunction(
        package(tmp_path), "handler.lambda_handler", settings,
        function_arn=function_arn(settings), region="eu-west-1", system_log_level=system_level,
    ) as fn:  # fmt: skip
        result = fn.invoke({})
    documents = [json.loads(line.message) for line in result.lines if line.message[0] == "{"]
    assert [document["type"] for document in documents if "type" in document] == records
    assert any(document.get("message") == "warn line" for document in documents)


def test_at_info_the_non_json_and_untimed_lines_are_kept(tmp_path: Path) -> None:
    with function(package(tmp_path), log_level="INFO") as fn:
        result = fn.invoke({})
    messages = [line.message for line in result.lines]
    assert "not json" in messages
    assert any("print without timestamp" in message for message in messages)
    assert any('"info line 1"' in message for message in messages)


def test_a_raised_error_is_the_runtimes_error_document_and_the_environment_stays(
    tmp_path: Path,
) -> None:
    with function(package(tmp_path)) as fn:
        failed = fn.invoke({"action": "raise"})
        after = fn.invoke({})
    assert failed.status == ERROR
    assert isinstance(failed.error, FunctionError)
    assert failed.error.error_type == "ValueError"
    assert failed.error.document["errorMessage"] == "bad record"
    logged = [json.loads(line.message) for line in failed.lines if '"errorType"' in line.message]
    assert logged and logged[0]["errorType"] == "ValueError" and logged[0]["level"] == "ERROR"
    assert after.status == SUCCESS and not after.cold  # a raised error keeps the environment
    assert after.response["invocations"] == 2


def test_a_timeout_stops_the_invocation_and_replaces_the_environment(tmp_path: Path) -> None:
    with function(package(tmp_path), timeout_seconds=1) as fn:
        timed_out = fn.invoke({"action": "sleep", "seconds": 30})
        after = fn.invoke({})
    assert timed_out.status == TIMEOUT and timed_out.response is None
    assert timed_out.duration < 3, "the invocation was not stopped at the timeout"
    report = json.loads(timed_out.lines[-1].message)["record"]
    # The Status object carries errorType "if the status is either failure or error"
    # (Telemetry API schema); a real timeout's REPORT shows "Status: timeout" only.
    assert report["status"] == "timeout" and "errorType" not in report
    assert after.status == SUCCESS and after.cold
    assert after.environment != timed_out.environment
    assert after.response["invocations"] == 1


def test_a_crash_is_a_function_error_and_the_next_invocation_starts_cold(tmp_path: Path) -> None:
    with function(package(tmp_path)) as fn:
        crashed = fn.invoke({"action": "exit"})
        after = fn.invoke({})
    assert crashed.status == ERROR
    assert isinstance(crashed.error, FunctionError)
    assert crashed.error.error_type == "Runtime.ExitError"
    # The document Lambda returns (AWS re:Post knowledge center "lambda-runtime-error"):
    # {"errorType": "Runtime.ExitError", "errorMessage": "RequestId: <id> Error: Runtime
    # exited with error: exit status 129"}.
    assert crashed.error.document == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {crashed.request_id} Error: Runtime exited with error: "
        "exit status 3",
    }
    assert after.status == SUCCESS and after.cold and after.environment != crashed.environment


def test_a_signal_is_named_as_lambdas_runtime_names_it(tmp_path: Path) -> None:
    with function(package(tmp_path)) as fn:
        crashed = fn.invoke({"action": "segfault"})
    assert crashed.status == ERROR and isinstance(crashed.error, FunctionError)
    assert crashed.error.error_type == "Runtime.ExitError"
    assert crashed.error.document["errorMessage"] == (
        f"RequestId: {crashed.request_id} Error: Runtime exited with error: "
        "signal: segmentation fault"
    )


def test_an_import_error_is_an_init_error_for_every_invocation(tmp_path: Path) -> None:
    root = package(
        tmp_path, "import not_installed_anywhere\n\ndef lambda_handler(e, c):\n    return 1\n"
    )
    with function(root) as fn:
        first, second = fn.invoke({}), fn.invoke({})
    for result in (first, second):
        assert result.status == ERROR and result.cold
        assert isinstance(result.error, FunctionError)
        assert result.error.error_type == "Runtime.ImportModuleError"
        assert "not_installed_anywhere" in result.error.document["errorMessage"]
    assert fn.environments_started == 2


def test_the_pool_starts_an_environment_only_when_none_is_free_up_to_its_size(
    tmp_path: Path,
) -> None:
    root = package(tmp_path)
    settings = function_config(timeout_seconds=5, log_level="WARN")
    with ProcessFunction(
        root, "handler.lambda_handler", settings, function_arn=function_arn(settings),
        region="eu-west-1", max_environments=2,
    ) as fn:  # fmt: skip
        results: list[Any] = []
        threads = [
            Thread(target=lambda: results.append(fn.invoke({"action": "sleep", "seconds": 0.5})))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert fn.environments_started == 2, "more environments than the mapping can use"
        assert sorted(result.cold for result in results) == [False, False, True, True]
        assert len({result.environment for result in results}) == 2


def test_a_warm_invocation_does_not_wait_for_delayed_acks(tmp_path: Path) -> None:
    """Found by measuring: with Nagle's algorithm on the Runtime API's sockets, each warm
    invocation waited twice for the runtime client's delayed ACK (about 40 ms each on Linux),
    so a 1 ms handler took ~88 ms. A median well under one such wait shows it is gone; it is
    a bound with 40 ms of headroom, not a benchmark (bench/bench_cold_start.py measures)."""
    root = package(tmp_path, "def lambda_handler(event, context):\n    return None\n")
    with function(root) as fn:
        results = [fn.invoke({}) for _ in range(21)]

    warm = sorted(result.duration * 1000 for result in results[1:])
    assert all(result.status == SUCCESS for result in results)
    assert warm[len(warm) // 2] < 20, f"median warm invocation {warm[len(warm) // 2]:.1f} ms"


SLOW_INIT = """
import os, pathlib, time
STARTS = pathlib.Path(os.environ["FAILURE_DESTINATION"])  # a file: one line per INIT
with STARTS.open("a") as starts:
    starts.write(f"{os.getpid()}\\n")
time.sleep(float(os.environ.get("INIT_SECONDS", "1.5")))

def lambda_handler(event, context):
    return {"pid": os.getpid(), "remaining_ms": context.get_remaining_time_in_millis()}
"""


def slow_init_function(tmp_path: Path, init_seconds: float, **config: Any) -> ProcessFunction:
    settings = function_config(**{"log_level": "WARN", **config})
    return ProcessFunction(
        package(tmp_path, SLOW_INIT),
        "handler.lambda_handler",
        settings,
        function_arn=function_arn(settings),
        region="eu-west-1",
        environment={
            "FAILURE_DESTINATION": str(tmp_path / "starts"),
            "INIT_SECONDS": str(init_seconds),
        },
        system_log_level="DEBUG",
    )


def test_init_has_its_own_limit_not_the_function_timeout(tmp_path: Path) -> None:
    """The guide: "The Init phase is limited to 10 seconds", whatever the function timeout.
    Seen failing first: a 1.5 s INIT under a 1 s timeout was an INIT timeout."""
    with slow_init_function(tmp_path, 1.5, timeout_seconds=1) as fn:
        result = fn.invoke({})

    assert result.status == SUCCESS, result.error
    assert result.cold and result.init_duration_ms is not None
    assert result.init_duration_ms >= 1500
    assert 0 < result.response["remaining_ms"] <= 1000  # the invocation still has its 1 s
    assert len((tmp_path / "starts").read_text().split()) == 1


def test_an_init_past_its_limit_runs_again_within_the_invocation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "If all three tasks do not complete within 10 seconds, Lambda retries the Init phase
    at the time of the first function invocation with the configured function timeout."
    The limit is shortened here so that the test takes a second, not ten."""
    from streamops.lambda_local import environment

    monkeypatch.setattr(environment, "INIT_LIMIT_SECONDS", 0.4)
    with slow_init_function(tmp_path, 0.8, timeout_seconds=5) as fn:
        result = fn.invoke({})

    first, second = (tmp_path / "starts").read_text().split()
    assert result.status == SUCCESS, result.error
    assert result.response["pid"] == int(second) != int(first)
    assert result.response["remaining_ms"] <= 5000 - 800  # INIT's rerun used the timeout
    starts = [json.loads(line.message) for line in result.lines]
    (init_start,) = [line for line in starts if line.get("type") == "platform.initStart"]
    assert init_start["record"]["phase"] == "invoke"


def test_an_init_rerun_past_the_function_timeout_is_a_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamops.lambda_local import environment

    monkeypatch.setattr(environment, "INIT_LIMIT_SECONDS", 0.3)
    with slow_init_function(tmp_path, 3, timeout_seconds=1) as fn:
        result = fn.invoke({})
        assert result.status == TIMEOUT
        assert fn.environments == 0, "the environment is replaced"
    assert len((tmp_path / "starts").read_text().split()) == 2
