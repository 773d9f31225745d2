"""The planner (streamops/planner/, streamops/cli/plan.py): rates, price book, cost lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from streamops.planner import costs
from streamops.planner.errors import PlanError
from streamops.planner.model import build_plan, parse_mix
from streamops.planner.prices import PRICES_FILE, PriceBook, load_prices
from streamops.planner.rates import parse_rate
from streamops.planner.report import why_free
from streamops.planner.stack import KeyUse
from tests.unit.planner.plan_helpers import (
    typed,
    workload,
)

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
