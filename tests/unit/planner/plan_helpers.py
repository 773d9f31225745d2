"""The planner tests' fixture price book, benchmark and workloads: round numbers for
hand-checking, independent of the real prices and of bench/results.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from components.config import parse_stack_config
from streamops.planner.model import Workload
from streamops.planner.prices import PRICES_FILE
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
