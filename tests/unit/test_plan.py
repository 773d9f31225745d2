"""The capacity and cost planner (streamops/planner/, its command line streamops/cli/plan.py).

Arithmetic is checked against numbers worked out by hand (the working is in the comments),
on a fixture price book and a fixture benchmark file with round numbers of their own, so
the tests neither copy the real prices nor break when bench/results.json is regenerated.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from components.config import parse_stack_config
from streamops.cli import plan as plan_cli
from streamops.planner import capacity, costs, measure
from streamops.planner.errors import PlanError
from streamops.planner.model import Workload, build_plan, parse_mix
from streamops.planner.prices import PRICES_FILE, PriceBook, load_prices
from streamops.planner.rates import parse_rate
from streamops.planner.report import render, why_free
from streamops.planner.stack import KeyUse, alarm_facts, kms_keys
from tests.support.stacks import stack_config

P = "dynamodb-stream-processor"

# Round prices (dollars per unit as `value` / `per`) and allowances, for hand-checking.
FIXTURE_PRICES = {
    "lambda.requests": 0.20,  # per 1,000,000
    "lambda.gb_seconds.arm64": 0.00001,
    "lambda.gb_seconds.x86_64": 0.00002,
    "logs.ingestion": 0.50,
    "logs.storage": 0.03,
    "cloudwatch.custom_metrics": 0.30,
    "cloudwatch.alarms": 0.10,
    "cloudwatch.dashboards": 3.00,
    "sqs.requests": 0.40,  # per 1,000,000
    "sns.publishes": 0.50,  # per 1,000,000
    "sns.email": 2.00,  # per 100,000
    "kms.keys": 1.00,
    "kms.requests": 0.03,  # per 10,000
    "dynamodb.write_capacity": 0.001,
    "dynamodb.read_capacity": 0.0001,
    "dynamodb.write_requests": 1.00,  # per 1,000,000
    "dynamodb.storage": 0.25,
    "dynamodb.pitr": 0.20,
    "dynamodb.stream_reads_by_lambda": 0.0,
}
FIXTURE_FREE = {
    "lambda.requests": 1_000_000,
    "lambda.gb_seconds": 400_000,
    "logs.data": 5,
    "cloudwatch.custom_metrics": 10,
    "cloudwatch.alarms": 10,
    "cloudwatch.dashboards": 3,
    "sqs.requests": 1_000_000,
    "kms.requests": 20_000,
    "dynamodb.write_capacity": 25,
    "dynamodb.read_capacity": 25,
    "dynamodb.storage": 25,
}
BENCH = {
    "python": "3.11",
    "machine": "fixture",
    "note": "fixture numbers",
    "handler": {"us_per_record_warn": 5.0, "us_per_record_info": 50.0},
}


def write_book(tmp_path: Path, **free_overrides: Any) -> Path:
    document = json.loads(PRICES_FILE.read_text())
    for key, value in FIXTURE_PRICES.items():
        document["prices"][key]["value"] = value
    for key, value in {**FIXTURE_FREE, **free_overrides}.items():
        document["free_tier"][key]["value"] = value
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def book(tmp_path: Path) -> PriceBook:
    return load_prices(write_book(tmp_path))


@pytest.fixture
def bench(tmp_path: Path) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(BENCH))
    return path


def slow_bench(tmp_path: Path, us: float) -> Path:
    path = tmp_path / "slow-results.json"
    path.write_text(
        json.dumps({**BENCH, "handler": {"us_per_record_warn": us, "us_per_record_info": us}})
    )
    return path


def typed(stack: str = "dev", **sections: Any):
    return parse_stack_config(stack_config(stack, **sections), stack)


def workload(average: float, peak: float | None = None, **overrides: Any) -> Workload:
    values: dict[str, Any] = dict(
        average_per_s=average,
        peak_per_s=peak or average,
        item_bytes=1024,
        mix={"INSERT": 0.4, "MODIFY": 0.4, "REMOVE": 0.2},
        log_retention_days=7,
        table_gb=1.0,
        failure_rate=0.0,
        alarm_notifications=30,
    )
    values.update(overrides)
    return Workload(**values)


# --------------------------------------------------------------------------- rates


@pytest.mark.parametrize(
    ("text", "per_second"),
    [
        ("5/s", 5.0),
        ("300/min", 5.0),  # 300 / 60
        ("1000000/day", 1_000_000 / 86_400),  # 11.574...
        ("2.5M/month", 2_500_000 / (30 * 86_400)),  # a 30-day month: 0.9645...
        ("1.5k/hour", 1_500 / 3_600),
        (" 12 / seconds ", 12.0),
    ],
)
def test_rates_in_every_unit(text: str, per_second: float):
    assert parse_rate(text, 30) == pytest.approx(per_second)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-5/s", "must be more than zero"),
        ("0/s", "must be more than zero"),
        ("5", "is not a rate"),
        ("five/s", "is not a rate"),
        ("5/fortnight", "unknown unit 'fortnight'"),
        ("2000000/s", "more than 1,000,000/s"),
        ("1000G/s", "is not a rate"),
    ],
)
def test_bad_rates_are_refused(text: str, message: str):
    with pytest.raises(PlanError, match=re.escape(message)):
        parse_rate(text, 30, "write rate")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("50/50", "three percentages"),
        ("40/40/30", "add up to 100 (got 110)"),
        ("-10/60/50", "three percentages"),
        ("a/b/c", "three percentages"),
    ],
)
def test_bad_mix_is_refused(text: str, message: str):
    with pytest.raises(PlanError, match=re.escape(message)):
        parse_mix(text)


def test_mix_becomes_shares():
    assert parse_mix("50/30/20") == {"INSERT": 0.5, "MODIFY": 0.3, "REMOVE": 0.2}


# --------------------------------------------------------------------------- price book


def test_the_real_price_book_names_a_source_or_a_reason_for_every_figure():
    book = load_prices()
    assert (book.region, book.currency) == ("us-east-1", "USD")
    for section in ("prices", "free_tier"):
        for figure in book.figures[section].values():
            assert figure.sources or figure.missing, f"{section}.{figure.key} has no source"
            assert all(source for source in figure.sources)


def test_a_null_figure_without_a_reason_is_refused(tmp_path: Path):
    document = json.loads(PRICES_FILE.read_text())
    document["prices"]["logs.ingestion"] = {"value": None}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(PlanError, match=r"logs\.ingestion is null without a 'missing' reason"):
        load_prices(path)


def test_a_figure_citing_an_unknown_source_is_refused(tmp_path: Path):
    document = json.loads(PRICES_FILE.read_text())
    document["prices"]["logs.ingestion"]["source"] = ["nowhere"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(PlanError, match="cites unknown sources"):
        load_prices(path)


# --------------------------------------------------------------------------- cost lines


def test_lambda_requests_exactly_at_and_just_past_the_free_tier(book: PriceBook):
    at, past = (costs.lambda_lines(book, n, 0, "arm64")[0] for n in (1_000_000, 1_000_001))
    assert (at.billable, at.dollars, at.covered) == (0, 0, True)
    assert "covered by Lambda free tier: 1,000,000 requests/month" in (why_free(at) or "")
    # 1 request past the allowance at $0.20 per million = $0.0000002
    assert (past.billable, past.covered) == (1, False)
    assert past.dollars == pytest.approx(0.20 / 1_000_000)


def test_lambda_gb_seconds_at_and_past_the_free_tier_by_architecture(book: PriceBook):
    at = costs.lambda_lines(book, 0, 400_000, "arm64")[1]
    assert at.dollars == 0 and at.covered
    # 400,001 GB-s: 1 billable x $0.00001 (arm64 fixture)
    past = costs.lambda_lines(book, 0, 400_001, "arm64")[1]
    assert past.billable == pytest.approx(1) and past.dollars == pytest.approx(0.00001)
    # 500,000 GB-s: 100,000 billable x $0.00001 (arm64 fixture) = $1.00; x86 at $0.00002 = $2
    assert costs.lambda_lines(book, 0, 500_000, "arm64")[1].dollars == pytest.approx(1.00)
    assert costs.lambda_lines(book, 0, 500_000, "x86_64")[1].dollars == pytest.approx(2.00)


def test_logs_share_one_allowance_used_by_ingestion_first(book: PriceBook):
    # 4 GB ingested + 1 GB stored = the 5 GB pool exactly: nothing billed
    ingest, store = costs.log_lines(book, 4.0, 1.0, "7-day retention")
    assert (ingest.dollars, store.dollars) == (0, 0)
    # 5 GB ingested uses the whole pool; 1.5 GB-month stored is all billed: 1.5 x 0.03 = 0.045
    ingest, store = costs.log_lines(book, 5.0, 1.5, "7-day retention")
    assert ingest.dollars == 0 and ingest.covered
    assert store.billable == pytest.approx(1.5) and store.dollars == pytest.approx(0.045)
    # 5.5 GB ingested: 0.5 GB billable x $0.50 = $0.25
    assert costs.log_lines(book, 5.5, 0, "7-day retention")[0].dollars == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("index", "limit", "price"),
    [(0, 10, 0.30), (1, 10, 0.10), (2, 3, 3.00)],  # custom metrics, alarms, dashboards
)
def test_metrics_alarms_dashboards_at_and_past_the_free_tier(
    book: PriceBook, index: int, limit: int, price: float
):
    at = costs.monitoring_lines(book, limit, limit, limit)[index]
    past = costs.monitoring_lines(book, limit + 1, limit + 1, limit + 1)[index]
    assert at.dollars == 0 and at.covered
    assert past.billable == 1 and past.dollars == pytest.approx(price)


def test_sqs_requests_at_and_past_the_free_tier_and_64_kb_chunks(book: PriceBook):
    assert costs.destination_lines(book, "sqs", 1_000_000, 1000)[0].dollars == 0
    # 1,000,001 messages: 1 billable request at $0.40 per million
    past = costs.destination_lines(book, "sqs", 1_000_001, 1000)[0]
    assert past.billable == 1 and past.dollars == pytest.approx(0.40 / 1_000_000)
    # a 65,537-byte message is two 64 KB chunks: two requests
    assert costs.sqs_requests(3, 65_537) == 6
    assert costs.sqs_requests(3, 65_536) == 3


def test_kms_keys_and_requests_at_and_past_the_free_tier(book: PriceBook):
    keys = [
        KeyUse("table", "table.kmsKey", "create"),
        KeyUse("failure sqs", "trigger.destinationKmsKey", "sqs-managed"),
    ]
    key_line, at = costs.kms_lines(book, keys, 20_000)
    assert key_line.usage == 1 and key_line.dollars == pytest.approx(1.00)  # no free keys
    assert at.dollars == 0 and at.covered
    # 20,001 requests: 1 billable x $0.03 / 10,000 = $0.000003
    assert costs.kms_lines(book, keys, 20_001)[1].dollars == pytest.approx(0.03 / 10_000)
    # 30,000 requests: 10,000 billable x $0.03 per 10,000 = $0.03
    assert costs.kms_lines(book, keys, 30_000)[1].dollars == pytest.approx(0.03)


def test_kms_requests_follow_the_key_cache_periods(book: PriceBook):
    month = 30 * 86_400
    table = KeyUse("table", "table.kmsKey", "create")
    owned = KeyUse("table", "table.kmsKey", "aws-owned")
    # table key: 2 callers x (2,592,000 s / 300 s) = 17,280 requests; AWS-owned: none
    assert costs.kms_requests(book, [table], month, 0, 0) == pytest.approx(17_280)
    assert costs.kms_requests(book, [owned], month, 0, 0) == 0
    # SQS key: one data key per 300 s at most -> min(100 messages, 8,640) = 100
    sqs = KeyUse("failure sqs", "trigger.destinationKmsKey", "create")
    assert costs.kms_requests(book, [sqs], month, 100, 0) == 100
    # alarm topic key: 2 per publish x 30 notifications = 60
    topic = KeyUse("alarm topic", "alarms.topicKmsKey", "create")
    assert costs.kms_requests(book, [topic], month, 0, 30) == 60


def test_dynamodb_provisioned_capacity_at_and_past_the_free_tier(book: PriceBook):
    hours = 720.0  # 30 days
    at = costs.dynamodb_lines(book, "PROVISIONED", 25, 25, 0, 1, False, hours, 0)
    assert [line.dollars for line in at[:3]] == [0, 0, 0]
    # 26 WCU: 1 WCU x 720 h = 720 WCU-hours x $0.001 = $0.72; 26 RCU: 720 x $0.0001 = $0.072
    past = costs.dynamodb_lines(book, "PROVISIONED", 26, 26, 0, 1, False, hours, 0)
    assert past[0].billable == pytest.approx(720) and past[0].dollars == pytest.approx(0.72)
    assert past[1].dollars == pytest.approx(0.072)


def test_dynamodb_on_demand_storage_and_pitr(book: PriceBook):
    lines = costs.dynamodb_lines(book, "PAY_PER_REQUEST", None, None, 3_000_000, 30, True, 720, 0)
    by_name = {line.name: line for line in lines}
    # 3,000,000 write units x $1.00 per million, no free tier = $3.00
    assert by_name["write requests (on-demand)"].dollars == pytest.approx(3.00)
    # storage 30 GB - 25 free = 5 x $0.25 = $1.25; PITR 30 GB x $0.20 = $6.00
    assert by_name["storage"].dollars == pytest.approx(1.25)
    assert by_name["point-in-time recovery"].dollars == pytest.approx(6.00)


# --------------------------------------------------------------------------- capacity


@pytest.fixture
def c(book: PriceBook) -> capacity.Constants:
    return capacity.Constants.from_prices(book)


def test_duration_scales_with_lambdas_cpu_share(c: capacity.Constants):
    # 128 MB is 128/1769 of a vCPU: 1769 / 128 = 13.8203125 times slower than one core
    assert capacity.cpu_slowdown(128, c) == pytest.approx(13.8203125)
    assert capacity.cpu_slowdown(1769, c) == 1 and capacity.cpu_slowdown(4096, c) == 1
    # 10 records x 50 us x 13.8203125 = 6.91015625 ms + 2 ms overhead = 8.91015625 ms
    assert capacity.batch_duration_ms(10, 50, 128, c) == pytest.approx(8.91015625)


def test_shards_from_writes_storage_and_provisioned_capacity(c: capacity.Constants):
    # 2,500 writes/s of 1 KB = 2,500 WCU / 1,000 per partition -> 3
    assert capacity.estimate_shards(2500, 1024, 1, c).count == 3
    # 1,025-byte items use 2 write units: 600 x 2 = 1,200 -> 2
    assert capacity.estimate_shards(600, 1025, 1, c).by_writes == 2
    # 45 GB / 10 GB per partition -> 5
    assert capacity.estimate_shards(1, 1024, 45, c).count == 5
    # provisioned 3,000 RCU + 1,500 WCU: 3000/3000 + 1500/1000 = 2.5 -> 3
    assert capacity.estimate_shards(1, 1024, 1, c, 1500, 3000).by_provisioned == 3


def test_payload_caps_the_batch(c: capacity.Constants):
    # 6 MB = 6,291,456 bytes / 3,000-byte records = 2,097 records
    assert capacity.batch_cap(10_000, 3000, c) == 2097
    assert capacity.batch_cap(100, 3000, c) == 100


def test_batches_without_a_window_follow_the_polls(c: capacity.Constants):
    knobs = capacity.Knobs(10, 0, 1, 128, 10, 30)
    # 5 records/s, polled every 0.25 s: N ~ Poisson(1.25); a poll invokes when N >= 1
    # (and twice when N >= 11, negligible): 4 x (1 - e^-1.25) = 4 x 0.7134952 = 2.853981
    records, batches = capacity.natural_batches(5, knobs, 10, c)
    assert batches == pytest.approx(4 * (1 - math.exp(-1.25)), rel=1e-6)
    assert records == pytest.approx(5 / batches)


def test_batches_with_a_window_fill_from_the_first_record(c: capacity.Constants):
    knobs = capacity.Knobs(100, 1, 1, 128, 10, 30)
    # 40 records/s, 1 s window: 1 + Poisson(40) records (under the cap of 100) = 41
    records, batches = capacity.natural_batches(40, knobs, 100, c)
    assert records == pytest.approx(41, rel=1e-9)
    assert batches == pytest.approx(40 / 41)


def test_a_shard_that_cannot_keep_up_is_detected_with_its_lag_growth(c: capacity.Constants):
    knobs = capacity.Knobs(10, 0, 1, 128, 10, 30)
    # 500 us/record at 128 MB: 6.91015625 ms/record; a full batch of 10 = 71.1015625 ms;
    # one at a time: 10 / 0.0711015625 s = 140.6439 records/s < 500 arriving
    flow = capacity.shard_flow(500, knobs, 10, 500.0, 1, c)
    assert flow.falls_behind and math.isinf(flow.age_ms)
    assert flow.max_throughput == pytest.approx(140.6439, rel=1e-6)
    # age grows 60 x (1 - 140.6439 / 500) = 43.1227 s per minute
    assert flow.lag_growth_s_per_min == pytest.approx(43.1227, rel=1e-5)


def test_a_busy_shard_grows_its_batches_until_it_keeps_up(c: capacity.Constants):
    # A batch that takes longer than a poll interval keeps the shard busy: with a 300 ms
    # overhead, 1 ms/record (1,000 us at 1,769 MB) and 50 records/s, polled batches of
    # ~12.5 records (4 a second) would need 4 x 312.5 ms = 1.25 s of work every second.
    # Batches grow until the shard just keeps up: n = r x o / (c - r x s)
    # = 50 x 0.3 / (1 - 50 x 0.001) = 15 / 0.95 = 15.789 records, d = 315.789 ms
    slow = replace(c, overhead_ms=300.0)
    knobs = capacity.Knobs(100, 0, 1, 1769, 10, 30)
    flow = capacity.shard_flow(50, knobs, 100, 1000.0, 1, slow)
    assert not flow.falls_behind and flow.utilization == 1.0
    assert flow.records_per_batch == pytest.approx(15 / 0.95)
    assert flow.duration_ms == pytest.approx(300 + 15 / 0.95)
    # age: half a busy cycle (315.789 ms / 2) + the batch's own 315.789 ms = 473.68 ms
    assert flow.age_ms == pytest.approx(1.5 * (300 + 15 / 0.95))


def test_reserved_concurrency_caps_parallelization_across_shards():
    knobs = capacity.Knobs(10, 0, 4, 128, 6, 30)
    # 6 reserved over 3 shards: 2 each, below the factor of 4
    assert capacity.concurrency_per_shard(knobs, 3) == 2
    assert capacity.concurrency_per_shard(replace(knobs, reserved_concurrency=-1), 3) == 4


# --------------------------------------------------------------------------- whole plans


def test_a_config_that_falls_behind_gets_a_change_that_fixes_it(book: PriceBook, tmp_path: Path):
    config = typed("dev")
    slow = slow_bench(tmp_path, 500.0)
    plan = build_plan("dev", "us-east-1", config, workload(500), book, slow)
    assert plan.capacity.peak.falls_behind
    # factor 2: 281/s, 3: 422/s, 4: 563/s > 500 (140.64/s each); batch sizes cannot do it
    # (at most 1 / 6.91 ms = 145/s) and the window is already 0
    assert plan.fix.best is not None
    assert plan.fix.best.describe() == "raise trigger.parallelizationFactor from 1 to 4"
    # memory 512 MB: 1769/512 = 3.455 -> 1.727 ms/record -> 10 / 19.27 ms = 519/s > 500
    assert [change.describe() for change in plan.fix.alternatives] == [
        "raise function.memoryMb from 128 to 512"
    ]
    fixed = typed("dev", trigger={"parallelizationFactor": 4})
    replan = build_plan("dev", "us-east-1", fixed, workload(500), book, slow)
    assert not replan.capacity.peak.falls_behind and replan.capacity.ok()
    assert "FALLS BEHIND" in render(plan) and "raise trigger.parallelizationFactor" in render(plan)


def test_a_window_longer_than_the_threshold_is_shortened(book: PriceBook, bench: Path):
    config = typed("dev", trigger={"batchSize": 100, "maxBatchingWindowSeconds": 120})
    # 0.1 records/s: a batch stays open the full 120 s (99 more records would take 990 s);
    # age = 0.125 + 120 / 2 s = 60.1 s > 30 s. 60 s -> 30.1 s, still over; 30 s -> 15.1 s
    plan = build_plan("dev", "us-east-1", config, workload(0.1), book, bench)
    assert plan.capacity.peak.age_ms > plan.capacity.threshold_ms == 30_000
    assert plan.fix.best is not None
    assert plan.fix.best.describe() == "lower trigger.maxBatchingWindowSeconds from 120 to 30"
    assert plan.fix.best.result.peak.age_ms == pytest.approx(15_125, abs=5)


def test_a_configuration_that_keeps_up_needs_no_fix(book: PriceBook, bench: Path):
    plan = build_plan("prod", "us-east-1", typed("prod"), workload(200, 2000), book, bench)
    assert plan.capacity.ok() and plan.fix.best is None
    assert "keeps up" in render(plan)


def test_the_threshold_comes_from_the_alarms_section(book: PriceBook, bench: Path):
    config = typed("dev", alarms={"iteratorAgeThresholdMs": 100})
    plan = build_plan("dev", "us-east-1", config, workload(5), book, bench)
    # 5/s without a window: age = 125 ms (half a poll) + a 3.21 ms batch > 100 ms
    assert plan.capacity.threshold_ms == 100
    assert plan.capacity.peak.age_ms == pytest.approx(125 + plan.capacity.peak.duration_ms)
    assert "OVER THE ALARM" in render(plan)
    assert "threshold from: alarms.iteratorAgeThresholdMs" in render(plan)


def test_alarms_dashboard_and_topic_are_counted_from_the_alarms_component():
    facts = alarm_facts(typed("dev"))
    # errors, duration, iterator age, throttles, failure queue, quarantined records
    assert (facts.enabled, facts.alarms, facts.dashboards) == (True, 6, 1)
    assert 0 < facts.dashboard_metrics <= 50  # inside the free tier's 50 metrics a dashboard
    assert facts.duration_threshold_ms == 20_000
    off = alarm_facts(typed("dev", alarms={"enabled": False}))
    assert (off.alarms, off.dashboards, off.emails) == (0, 0, 0)
    emails = typed("dev", alarms={"emails": ["a@example.com", "b@example.com"]})
    assert alarm_facts(emails).emails == 2


def cold_start_file(tmp_path: Path, init_ms: float) -> Path:
    path = tmp_path / "cold_start.json"
    path.write_text(json.dumps({"python": "3.11", "init_ms": {"handler": init_ms}}))
    return path


def test_dev_invocations_and_gb_seconds_by_hand(book: PriceBook, bench: Path, tmp_path: Path):
    cold = cold_start_file(tmp_path, 300.0)
    plan = build_plan("dev", "us-east-1", typed("dev"), workload(5), book, bench, cold)
    # invocations: 2.853981 batches/s x 2,592,000 s = 7,397,519
    assert plan.invocations == pytest.approx(2.853981 * 2_592_000, rel=1e-6)
    # a batch of 1.7519 records x 50 us x 13.8203 = 1.2106 ms + 2 = 3.21 ms, billed 4 ms:
    # 7,397,519 x 0.004 s x 0.125 GB = 3,698.76 GB-s
    # plus INIT, billed since 2025-08-01: 1 shard x 1 environment, replaced every 2 hours:
    # 360 cold starts x ceil(300 ms x 13.8203) = 4,147 ms x 0.125 GB = 186.6 GB-s
    compute = next(line for line in plan.lines if line.name == "compute (arm64)")
    init_gb_s = 360 * 4.147 * 0.125
    assert compute.usage == pytest.approx(plan.invocations * 0.004 * 0.125 + init_gb_s)
    assert compute.covered


def test_a_longer_init_costs_more_compute(book: PriceBook, bench: Path, tmp_path: Path):
    fast = build_plan(
        "dev", "us-east-1", typed("dev"), workload(5), book, bench, cold_start_file(tmp_path, 10)
    )
    slow_path = tmp_path / "slow"
    slow_path.mkdir()
    slow = build_plan(
        "dev", "us-east-1", typed("dev"), workload(5), book, bench, cold_start_file(slow_path, 1000)
    )
    usage = [
        next(line for line in p.lines if line.name == "compute (arm64)").usage for p in (fast, slow)
    ]
    assert usage[1] - usage[0] == pytest.approx(360 * (13821 - 139) / 1000 * 0.125)


def test_provisioned_writes_above_capacity_are_warned(book: PriceBook, bench: Path):
    plan = build_plan("dev", "us-east-1", typed("dev"), workload(50), book, bench)
    assert any("table.writeCapacity is 5 WCU but the peak needs 50" in w for w in plan.warnings)


def test_kms_keys_are_counted_from_the_config():
    # dev: AWS-owned table key, SSE-SQS queue, unencrypted alarm topic, no log group key:
    # nothing billed
    dev = kms_keys(typed("dev"))
    assert [(key.created, key.requests_billed) for key in dev] == [(False, False)] * 4
    # prod creates all four keys (one serves the function's log group and environment)
    prod = kms_keys(typed("prod"))
    assert {key.setting for key in prod if key.created} == {
        "table.kmsKey",
        "trigger.destinationKmsKey",
        "alarms.topicKmsKey",
        "function.logKmsKey/environmentKmsKey",
    }
    # a given log group key is billed for its requests, not as a key-month
    key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    given = kms_keys(typed("dev", function={"logKmsKey": key_arn}))
    assert [(k.purpose, k.created, k.requests_billed) for k in given][-1] == (
        "function logs",
        False,
        True,
    )


def test_bad_workloads_are_refused(book: PriceBook, bench: Path):
    config = typed("dev")
    for bad, message in [
        (workload(50, 5), "peak rate must be at least the average"),
        (workload(5, item_bytes=0), "item size must be 1 to"),
        (workload(5, log_retention_days=8), "log retention 8 is not one CloudWatch allows"),
        (workload(5, failure_rate=2), "failure rate must be between 0 and 1"),
        (workload(5, table_gb=-1), "table size must be"),
    ]:
        with pytest.raises(PlanError, match=re.escape(message)):
            build_plan("dev", "us-east-1", config, bad, book, bench)


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


# --------------------------------------------------------------------------- S3 destination


def test_s3_puts_and_storage_are_priced_from_the_book(book: PriceBook):
    # 200,000 objects of 5 KB kept 30 days: 200 x $0.005 = $1.00 of PUTs; storage is one
    # month's volume (200,000 x 5,120 B = 0.9537 GiB) x $0.023 = $0.0219
    puts, storage = costs.destination_lines(book, "s3", 200_000, 5_120, 30)
    assert (puts.service, puts.unit, puts.free) == ("S3", "PUT requests", None)
    assert puts.dollars == pytest.approx(1.00)
    assert storage.usage == pytest.approx(200_000 * 5_120 / 2**30)
    assert storage.dollars == pytest.approx(200_000 * 5_120 / 2**30 * 0.023)
    # a lifecycle of 3 days keeps a tenth of that
    assert costs.destination_lines(book, "s3", 200_000, 5_120, 3)[1].usage == pytest.approx(
        storage.usage / 10
    )


def test_prod_prices_the_bucket_its_request_metrics_and_the_mapping_metrics(
    book: PriceBook, bench: Path
):
    plan = build_plan(
        "prod", "us-east-1", typed("prod"), workload(5, failure_rate=0.01), book, bench
    )
    lines = {line.name: line for line in plan.lines}
    assert {"failure bucket PUTs", "failure bucket storage"} <= set(lines)
    assert "failure queue sends" not in lines
    # 16 request metrics and 5 EventCount metrics at $0.30, no allowance applied
    assert lines["S3 request metrics (failure bucket)"].dollars == pytest.approx(16 * 0.30)
    assert lines["event source mapping metrics (EventCount)"].dollars == pytest.approx(5 * 0.30)
    # dev keeps SQS and no mapping metrics: none of these lines
    dev = build_plan("dev", "us-east-1", typed("dev"), workload(5), book, bench)
    names = {line.name for line in dev.lines}
    assert not names & {"failure bucket PUTs", "S3 request metrics (failure bucket)",
                        "event source mapping metrics (EventCount)"}  # fmt: skip
