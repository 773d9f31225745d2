"""The planner (streamops/planner/, streamops/cli/plan.py): capacity and whole plans."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from pathlib import Path

import pytest

from streamops.planner import capacity
from streamops.planner.errors import PlanError
from streamops.planner.model import build_plan
from streamops.planner.prices import PriceBook
from streamops.planner.report import render
from streamops.planner.stack import alarm_facts, kms_keys
from tests.unit.planner.plan_helpers import (
    slow_bench,
    typed,
    workload,
)

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
