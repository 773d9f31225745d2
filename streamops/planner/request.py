"""One plan request: a stack and a workload as the operator states them ("5/s", "40/40/20"),
validated, turned into a Plan (streamops/planner/model.py) and its report.

    uv run streamops plan --stack dev --writes 5/s [--peak 50/s] [--item-bytes 1024]
        [--mix 40/40/20] [--log-retention-days 7] [--table-gb 1] [--failure-rate 0]
        [--alarm-notifications 30]

Reads the stack's typed config (Pulumi.<stack>.yaml through components/config/), the
handler's measured cost (the committed, reviewed bench/results.json) and the price book
(planner/prices.json). Bad input -- a malformed, negative or absurd rate, an unknown stack,
a mix that does not add up -- raises PlanError (the command line: one line on stderr and
exit code 2, streamops/cli/plan.py). The model: streamops/planner, docs/plan.md.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.config import StackConfig
from streamops.planner import measure
from streamops.planner.errors import PlanError
from streamops.planner.free_tier import free_tier_hint
from streamops.planner.model import Plan, Workload, build_plan, parse_mix
from streamops.planner.prices import PRICES_FILE, PriceBook, load_prices
from streamops.planner.rates import parse_rate
from streamops.planner.report import render
from streamops.planner.stack import load_stack

# Workload options whose defaults are assumptions kept in the price book (planner/prices.json):
# option, price book key, help.
ASSUMED = {
    "item_bytes": ("item_bytes", "average item size in bytes"),
    "table_gb": ("table_gb", "table size in GB, for storage and PITR"),
    "failure_rate": ("failure_rate", "share of records sent to the failure destination"),
    "alarm_notifications": ("alarm_notifications_per_month", "alarm notifications a month"),
}


@dataclass
class Request:
    stack: str
    writes: str
    peak: str | None = None
    mix: str | None = None  # None: the price book's assumption
    log_retention_days: int | None = None  # None: function.logRetentionDays
    item_bytes: int | None = None
    table_gb: float | None = None
    failure_rate: float | None = None
    alarm_notifications: float | None = None


def book_defaults(prices: Path = PRICES_FILE) -> dict[str, Any]:
    """The defaults the price book assumes, by Request field (for --help)."""
    book = load_prices(prices)
    defaults: dict[str, Any] = {"mix": "/".join(f"{v:g}" for v in book.assumption("mix"))}
    defaults.update({field: book.assumption(key) for field, (key, _) in ASSUMED.items()})
    return defaults


def make_plan(
    request: Request, prices: Path = PRICES_FILE, bench: Path = measure.BENCH_RESULTS
) -> tuple[Plan, str]:
    """The plan and its printed report; raises PlanError (or ConfigError) for bad input."""
    book: PriceBook = load_prices(prices)
    for option, value in (("--stack", request.stack), ("--writes", request.writes)):
        if not value.strip():
            raise PlanError(f"{option} is empty: e.g. streamops plan --stack dev --writes 5/s")
    config, region = load_stack(request.stack)
    month_days = int(book.model("month_days"))
    average = parse_rate(request.writes, month_days, "write rate")
    peak = parse_rate(request.peak, month_days, "peak rate") if request.peak else average
    defaults = book_defaults(prices)

    def given(name: str) -> Any:
        value = getattr(request, name)
        return defaults[name] if value is None else value

    retention = request.log_retention_days
    workload = Workload(
        average_per_s=average,
        peak_per_s=peak,
        item_bytes=int(given("item_bytes")),
        mix=parse_mix(given("mix")),
        log_retention_days=config.function.log_retention_days if retention is None else retention,
        table_gb=float(given("table_gb")),
        failure_rate=float(given("failure_rate")),
        alarm_notifications=float(given("alarm_notifications")),
    )

    def plan_for(stack_config: StackConfig) -> Plan:
        return build_plan(request.stack, region, stack_config, workload, book, bench)

    plan = plan_for(config)
    return plan, render(plan, free_tier_hint(plan, plan_for))


def plan_document(plan: Plan) -> dict[str, Any]:
    """The plan for `--json`: the workload, each cost line, the capacity, the warnings."""
    return {
        "stack": plan.stack,
        "region": plan.region,
        "workload": dataclasses.asdict(plan.workload),
        "totalPerMonth": round(plan.total, 2),
        "lines": [
            {**dataclasses.asdict(line), "dollars": round(line.dollars, 2)} for line in plan.lines
        ],
        "invocationsPerMonth": plan.invocations,
        "handlerCost": dataclasses.asdict(plan.handler),
        "capacity": {**dataclasses.asdict(plan.capacity), "ok": plan.capacity.ok()},
        "fix": dataclasses.asdict(plan.fix),
        "warnings": plan.warnings,
    }
