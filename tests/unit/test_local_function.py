"""Running a handler the way Lambda does: environment, context, JSON log lines, stdout,
timeouts, and the function folder imported as its own fresh copy."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import types
from pathlib import Path
from typing import Any

import pytest

from streamops.clock import ManualClock
from streamops.lambda_local.function import ERROR, SUCCESS, TIMEOUT, FunctionPackage, LocalFunction
from streamops.lambda_local.logs import PrintSink, emf_metrics, readable
from tests.support.runner_harness import function_arn, function_config


def local(handler: Any, **kwargs: Any) -> LocalFunction:
    config = kwargs.pop("config", function_config())
    return LocalFunction(
        handler,
        config,
        function_arn=function_arn(config),
        region="eu-west-1",
        clock=kwargs.pop("clock", ManualClock(start=1_700_000_000.0)),
        **kwargs,
    )


def test_the_handler_sees_lambdas_variables_and_the_functions_own_only_while_it_runs() -> None:
    seen: dict[str, str | None] = {}
    names = [
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_REGION",
        "AWS_LAMBDA_LOG_LEVEL",
        "FAILURE_DESTINATION",
    ]

    def handler(event: Any, context: Any) -> None:
        seen.update({name: os.environ.get(name) for name in names})

    before = {name: os.environ.get(name) for name in names}
    local(handler, environment={"FAILURE_DESTINATION": "https://queue"}).invoke({})

    assert seen == {
        "AWS_LAMBDA_FUNCTION_NAME": function_config().name,
        "AWS_REGION": "eu-west-1",
        "AWS_LAMBDA_LOG_LEVEL": function_config().log_level,
        "FAILURE_DESTINATION": "https://queue",
    }
    assert {name: os.environ.get(name) for name in names} == before


def test_the_context_counts_down_from_the_configured_timeout() -> None:
    clock = ManualClock(start=100.0)
    seen: list[Any] = []

    def handler(event: Any, context: Any) -> None:
        seen.append(context.get_remaining_time_in_millis())
        clock.advance(12.5)
        seen.append(context.get_remaining_time_in_millis())
        seen.append((context.function_name, context.invoked_function_arn, context.aws_request_id))

    result = local(handler, clock=clock, config=function_config(timeout_seconds=20)).invoke({})

    assert seen[:2] == [20_000, 7_500]
    assert seen[2] == (function_config().name, function_arn(function_config()), result.request_id)
    assert (result.status, result.duration) == (SUCCESS, 12.5)


def test_records_become_lambda_json_lines_at_the_configured_level_with_the_request_id() -> None:
    def handler(event: Any, context: Any) -> dict[str, Any]:
        log = logging.getLogger("stream_processor")
        log.debug("hidden at INFO")
        log.info("Processing %s for item: %s", "INSERT", "A#B", extra={"eventID": "e1"})
        try:
            raise KeyError("price")
        except KeyError:
            log.exception("Record 0 failed")
        return {"ok": True}

    result = local(handler).invoke({})

    documents = [json.loads(line.message) for line in result.lines]
    assert [document.get("type") for document in (documents[0], documents[-1])] == [
        "platform.start",
        "platform.report",
    ]
    info, error = documents[1:-1]
    assert info == {
        "timestamp": "2023-11-14T22:13:20.000Z",
        "level": "INFO",
        "message": "Processing INSERT for item: A#B",
        "logger": "stream_processor",
        "requestId": result.request_id,
        "eventID": "e1",
    }
    assert (error["level"], error["errorType"], error["errorMessage"]) == (
        "ERROR",
        "KeyError",
        "'price'",
    )
    assert error["stackTrace"], "an exception's traceback is logged"
    path, function, line = error["location"].rsplit(":", 2)
    assert (Path(path).name, function) == ("test_local_function.py", "handler")
    assert line.isdigit()
    assert list(error)[:9] == [
        "timestamp",
        "level",
        "message",
        "logger",
        "stackTrace",
        "errorType",
        "errorMessage",
        "requestId",
        "location",
    ]
    assert result.response == {"ok": True}


def test_levels_are_written_with_pythons_names_as_the_runtime_does() -> None:
    def handler(event: Any, context: Any) -> None:
        logging.getLogger("x").warning("careful")
        logging.getLogger("x").critical("down")

    result = local(handler).invoke({})

    levels = [json.loads(line.message)["level"] for line in result.lines[1:-1]]
    assert levels == ["WARNING", "CRITICAL"]


def test_stdout_lines_are_kept_and_the_emf_line_is_read_for_metrics() -> None:
    emf = {
        "_aws": {
            "Timestamp": 0,
            "CloudWatchMetrics": [
                {
                    "Namespace": "N",
                    "Dimensions": [["FunctionName"]],
                    "Metrics": [{"Name": "RecordsQuarantined", "Unit": "Count"}],
                }
            ],
        },
        "FunctionName": "f",
        "RecordsQuarantined": 2,
    }

    def handler(event: Any, context: Any) -> None:
        print("plain line")
        sys.stdout.write(json.dumps(emf) + "\n")
        sys.stdout.write("no newline at the end")

    result = local(handler).invoke({})

    messages = [line.message for line in result.lines[1:-1]]
    assert messages == ["plain line", json.dumps(emf), "no newline at the end"]
    assert result.metrics == {"RecordsQuarantined": 2}
    assert readable(result.lines[2]) == "METRICS RecordsQuarantined=2"


def test_log_records_from_other_threads_are_not_the_functions() -> None:
    def handler(event: Any, context: Any) -> None:
        other = threading.Thread(target=lambda: logging.getLogger("werkzeug").error("server"))
        other.start()
        other.join()
        logging.getLogger("stream_processor").warning("mine")

    result = local(handler).invoke({})

    assert [json.loads(line.message).get("message") for line in result.lines[1:-1]] == ["mine"]


def test_a_raised_error_and_a_timeout_are_reported_and_the_response_discarded() -> None:
    clock = ManualClock(start=0.0)

    def raises(event: Any, context: Any) -> None:
        raise RuntimeError("boom")

    def too_slow(event: Any, context: Any) -> dict[str, Any]:
        clock.advance(31)
        return {"batchItemFailures": []}

    failed = local(raises, clock=clock).invoke({})
    timed_out = local(too_slow, clock=clock).invoke({})

    assert (failed.status, type(failed.error)) == (ERROR, RuntimeError)
    assert json.loads(failed.lines[-2].message)["errorMessage"] == "boom"
    assert (timed_out.status, timed_out.response) == (TIMEOUT, None)
    assert json.loads(timed_out.lines[-2].message)["message"] == (
        "Task timed out after 30.00 seconds"
    )
    assert json.loads(timed_out.lines[-1].message)["record"]["status"] == "timeout"


def test_every_sink_gets_the_lines_and_the_readable_form_frames_each_invocation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def handler(event: Any, context: Any) -> None:
        logging.getLogger("x").info("Successfully processed 1 records")

    result = local(handler, sinks=[PrintSink()]).invoke({})

    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"  START RequestId: {result.request_id} Version: $LATEST",
        "  INFO     Successfully processed 1 records",
        f"  END RequestId: {result.request_id} Duration: 0.0 ms Status: success",
    ]


def write_package(folder: Path, marker: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "state.py").write_text(f"MARKER = {marker!r}\ncalls = []\n")
    (folder / "handler.py").write_text(
        "import os\nimport state\n"
        "IMPORTED_WITH = os.environ.get('AWS_LAMBDA_FUNCTION_NAME')\n"
        "def lambda_handler(event, context):\n"
        "    state.calls.append(event)\n"
        "    return {'marker': state.MARKER, 'calls': len(state.calls), 'env': IMPORTED_WITH}\n"
    )
    return folder


def test_each_package_copy_has_its_own_modules_and_leaves_sys_modules_alone(
    tmp_path: Path,
) -> None:
    first = FunctionPackage(write_package(tmp_path / "one", "one"))
    second = FunctionPackage(write_package(tmp_path / "two", "two"))
    outside = types.ModuleType("handler")  # another module of that name, loaded elsewhere
    saved = {name: sys.modules.pop(name, None) for name in ("state", "handler")}
    sys.modules["handler"] = outside

    results = [
        local(first).invoke({}).response,
        local(second).invoke({}).response,
        local(first).invoke({}).response,
    ]

    name = function_config().name
    assert results == [
        {"marker": "one", "calls": 1, "env": name},  # imported inside the invocation
        {"marker": "two", "calls": 1, "env": name},
        {"marker": "one", "calls": 2, "env": name},  # a warm start keeps module state
    ]
    try:
        assert "state" not in sys.modules and sys.modules["handler"] is outside
    finally:
        sys.modules.update({name: module for name, module in saved.items() if module})
        if saved["handler"] is None:
            sys.modules.pop("handler")


def test_a_package_without_its_handler_module_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"handler\.py"):
        FunctionPackage(tmp_path)


def test_emf_metrics_sum_over_lines_and_ignore_other_json() -> None:
    from streamops.lambda_local.logs import LogLine

    def emf(value: int) -> LogLine:
        metric = {"Name": "RecordsProcessed"}
        directive = {"Namespace": "N", "Dimensions": [[]], "Metrics": [metric]}
        line = {"_aws": {"CloudWatchMetrics": [directive]}, "RecordsProcessed": value}
        return LogLine(0, json.dumps(line))

    other = [LogLine(0, '{"level": "INFO", "message": "x"}'), LogLine(0, "{not json")]
    lines = [emf(3), *other, emf(4)]
    assert emf_metrics(lines) == {"RecordsProcessed": 7}


def test_each_execution_environment_has_its_own_boto3_default_session() -> None:
    """In Lambda every execution environment is its own process: credentials boto3 found in
    one (its role's, from the environment) never sign another's calls."""
    import boto3

    def handler(event: Any, context: Any) -> str:
        client = boto3.client("sts")
        return str(client._request_signer._credentials.access_key)

    outer = boto3.DEFAULT_SESSION
    first = local(handler, environment={"AWS_ACCESS_KEY_ID": "KEY1", "AWS_SECRET_ACCESS_KEY": "s"})
    second = local(handler, environment={"AWS_ACCESS_KEY_ID": "KEY2", "AWS_SECRET_ACCESS_KEY": "s"})

    keys = [function.invoke({}).response for function in (first, second, first)]

    assert keys == ["KEY1", "KEY2", "KEY1"]
    assert boto3.DEFAULT_SESSION is outer
