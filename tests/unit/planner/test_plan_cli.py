"""The planner (streamops/planner/, streamops/cli/plan.py): measured inputs and the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from streamops.cli import plan as plan_cli
from streamops.planner import measure
from streamops.planner.errors import PlanError
from streamops.planner.model import build_plan
from streamops.planner.prices import load_prices
from tests.unit.planner.plan_helpers import (
    typed,
    workload,
)

# --------------------------------------------------------------------------- measured inputs


def test_the_handler_cost_is_read_for_the_stacks_log_level(bench: Path):
    assert measure.handler_cost("INFO", bench).us_per_record == 50.0
    assert measure.handler_cost("DEBUG", bench).figure == "handler.us_per_record_info"
    assert measure.handler_cost("WARN", bench).us_per_record == 5.0
    assert measure.handler_cost("ERROR", bench).figure == "handler.us_per_record_warn"


def test_a_missing_benchmark_says_how_to_make_one(tmp_path: Path):
    with pytest.raises(PlanError, match="run `make bench`"):
        measure.handler_cost("INFO", tmp_path / "absent.json")
    (tmp_path / "empty.json").write_text("{}")
    with pytest.raises(PlanError, match=r"no positive handler\.us_per_record_warn"):
        measure.handler_cost("WARN", tmp_path / "empty.json")


def test_log_bytes_are_measured_from_the_handler():
    info = measure.measure_log_volume("INFO", "NEW_AND_OLD_IMAGES", "fn", "us-east-1", 128, 3)
    warn = measure.measure_log_volume("WARN", "NEW_AND_OLD_IMAGES", "fn", "us-east-1", 128, 3)
    # INFO writes the seed's lines per record (2-4 JSON lines of ~150 bytes); WARN none
    # (only the EMF counters gain a digit)
    assert all(150 < info.per_record[name] < 1000 for name in measure.EVENT_NAMES)
    assert all(warn.per_record[name] < 1 for name in measure.EVENT_NAMES)
    # per invocation: the EMF line, Lambda's start + report lines, and at INFO the summary
    assert warn.per_invocation == warn.emf_line + warn.platform_lines
    assert info.per_invocation > warn.per_invocation
    assert info.emf_line > 500  # 9 metric names, their values, the namespace and dimension


def test_log_bytes_are_counted_as_the_lambda_runtime_formats_the_line():
    import logging

    from awslambdaric.lambda_runtime_log_utils import JsonFormatter

    record = logging.LogRecord("stream_processor", logging.INFO, "", 0, "hi %s", ("x",), None)
    record.sequenceNumber = "42"
    counter = measure._ByteCounter()
    counter.emit(record)
    line = JsonFormatter().format(record)  # the runtime's own line, with the request id set
    assert counter.bytes == len(line.encode()) and line.endswith("\n")
    document = json.loads(line)
    assert list(document) == [
        "timestamp",
        "level",
        "message",
        "logger",
        "requestId",
        "sequenceNumber",
    ]
    assert document["requestId"] == measure.SAMPLE_REQUEST_ID


# --------------------------------------------------------------------------- the CLI


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(plan_cli.app, list(argv))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stack", "staging", "--writes", "5/s"], "no stack 'staging'"),
        (["--stack", "dev", "--writes=-5/s"], "must be more than zero"),
        (["--stack", "dev", "--writes", "-5/s"], "must be more than zero"),
        (["--stack", "dev", "--writes", "0/s"], "must be more than zero"),
        (["--stack", "dev", "--writes", "5000000/s"], "more than 1,000,000/s"),
        (["--stack", "dev", "--writes", "fast"], "is not a rate"),
        (["--stack", "dev", "--writes", "5/s", "--mix", "50/50/50"], "must add up to 100"),
        (["--stack", "dev", "--writes", "5/s", "--peak", "1/s"], "at least the average"),
        (["--stack", "", "--writes", "5/s"], "--stack is empty"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(capsys, argv: list[str], message: str):
    code, out, err = cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("plan: error: ") and message in err


def test_a_missing_option_is_a_usage_error_with_exit_code_2(capsys):
    code, out, err = cli(capsys, "--stack", "dev")
    assert code == 2 and out == "" and "Missing option '--writes'" in err


def test_json_is_the_same_plan_as_the_table(capsys, bench: Path):
    code, out, _ = cli(capsys, "--stack", "dev", "--writes", "5/s", "--bench", str(bench), "--json")
    assert code == 0
    document = json.loads(out)
    _, table, _ = cli(capsys, "--stack", "dev", "--writes", "5/s", "--bench", str(bench))
    total = table.split("total per month")[1].split("\n")[0].split()[-1]
    assert total == f"${document['totalPerMonth']:,.2f}"
    assert document["stack"] == "dev" and document["workload"]["average_per_s"] == 5
    assert sum(line["dollars"] for line in document["lines"]) == pytest.approx(
        document["totalPerMonth"], abs=0.01 * len(document["lines"])
    )
    assert document["capacity"]["shards"]["count"] >= 1


def test_unknown_stack_lists_the_stacks_that_exist(capsys):
    _, _, err = cli(capsys, "--stack", "staging", "--writes", "5/s")
    assert "stacks: ['dev', 'prod']" in err


def test_dev_at_a_free_rate_prints_zero_and_the_allowances(capsys, bench: Path):
    # 0.1 writes/s: 4 x (1 - e^-0.025) = 0.0988 invocations/s = 256,000 a month (< 1M),
    # about 0.5 GB of logs (< 5 GB): every line inside an allowance
    code, out, _ = cli(capsys, "--stack", "dev", "--writes", "0.1/s", "--bench", str(bench))
    assert code == 0
    assert "total per month" in out and out.split("total per month")[1].split("\n")[
        0
    ].strip().endswith("$0.00")
    assert "covered by Lambda free tier: 1,000,000 requests/month" in out
    assert "covered by Lambda free tier: 400,000 GB-s/month" in out
    assert "covered by CloudWatch free tier: 5 GB/month" in out
    assert "covered by DynamoDB free tier: 25 provisioned WCU" in out
    assert "Billed:" not in out


def test_dev_at_5_per_second_shows_what_is_billed(capsys, bench: Path):
    # 7.4 million invocations (> 1M free) and ~16 GB of INFO logs (> 5 GB free)
    code, out, _ = cli(capsys, "--stack", "dev", "--writes", "5/s", "--bench", str(bench))
    assert code == 0
    billed = out.split("Billed:")[1].split("\n\n")[0]
    assert "Lambda requests (invocations)" in billed and "CloudWatch log ingestion" in billed
    assert "beyond Lambda free tier: 1,000,000 requests/month" in billed
    # the lines still inside their allowances say which one covers them, at $0.00
    assert "| $0.00" in out
    assert "covered by Lambda free tier: 400,000 GB-s/month" in out
    assert "covered by CloudWatch free tier: 10 alarm metrics/month" in out
    assert "covered by DynamoDB free tier: 25 provisioned WCU = 18,000 WCU-hours" in out


def test_a_rate_past_the_free_tier_bills_more(capsys, bench: Path):
    totals = []
    for rate in ("5/s", "50/s"):
        _, out, _ = cli(capsys, "--stack", "dev", "--writes", rate, "--bench", str(bench))
        totals.append(
            float(out.split("total per month")[1].split("$")[1].split()[0].replace(",", ""))
        )
    assert 0 < totals[0] < totals[1]


def test_the_free_tier_hint_names_settings_that_make_dev_free_and_they_do(capsys, bench: Path):
    _, out, _ = cli(capsys, "--stack", "dev", "--writes", "5/s", "--bench", str(bench))
    hint = out.split("Free tier: to make this workload cost $0.00, change ")[1].split("\n")[0]
    changes = dict(change.split(" ", 1) for change in hint.split("; "))
    # At 5/s Lambda requests alone need >= 13 records a batch (12,960,000 records / 1,000,000
    # free requests), so the batch size must grow; which other settings the hint adds (window,
    # log level) depends on the measured log volume, so they are applied as printed.
    old, new = (int(v) for v in changes["trigger.batchSize"].split(" -> "))
    assert old == 10 and new >= 13
    sections: dict[str, dict[str, Any]] = {}
    for setting, change in changes.items():
        section, key = setting.split(".")
        value = change.split(" -> ")[1]
        sections.setdefault(section, {})[key] = int(value) if value.isdigit() else value
    config = typed("dev", **sections)
    book = load_prices()
    plan = build_plan("dev", "us-east-1", config, workload(5), book, bench)
    assert round(plan.total, 2) == 0 and plan.capacity.ok()
    assert plan.invocations <= 1_000_000


def test_the_free_tier_hint_names_lines_no_setting_can_free(capsys, bench: Path):
    _, out, _ = cli(capsys, "--stack", "prod", "--writes", "200/s", "--bench", str(bench))
    line = out.split("Free tier: out of reach by batch size, window or log level: ")[1]
    assert "DynamoDB write requests (on-demand)" in line and "KMS customer-managed keys" in line
