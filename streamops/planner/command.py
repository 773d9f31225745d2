"""`make plan STACK=dev WRITES=5/s`: what a workload costs a month and whether the stack's
settings keep up with it, before `pulumi up`.

    python -m streamops.planner.command --stack dev --writes 5/s [--peak 50/s] [--item-bytes 1024]
        [--mix 40/40/20] [--log-retention-days 7] [--table-gb 1] [--failure-rate 0]
        [--alarm-notifications 30]

Reads the stack's typed config (Pulumi.<stack>.yaml through components/config.py), the
handler's measured cost (bench/results.json) and the price book (planner/prices.json).
Bad input -- a malformed, negative or absurd rate, an unknown stack, a mix that does not
add up -- is one line on stderr and exit code 2. The model: streamops/planner, docs/plan.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from components.config import ConfigError, StackConfig
from streamops.planner import measure
from streamops.planner.errors import PlanError
from streamops.planner.free_tier import free_tier_hint
from streamops.planner.model import Plan, Workload, build_plan, parse_mix
from streamops.planner.prices import PRICES_FILE, PriceBook, load_prices
from streamops.planner.rates import parse_rate
from streamops.planner.report import render
from streamops.planner.stack import load_stack

USAGE_ERROR = 2
# Workload options whose defaults are assumptions kept in the price book (planner/prices.json).
ASSUMED = (
    ("--item-bytes", int, "item_bytes", "average item size in bytes"),
    ("--table-gb", float, "table_gb", "table size in GB, for storage and PITR"),
    ("--failure-rate", float, "failure_rate", "share of records sent to the failure destination"),
    (
        "--alarm-notifications",
        float,
        "alarm_notifications_per_month",
        "alarm notifications a month",
    ),
)


class _Parser(argparse.ArgumentParser):
    """Usage errors as PlanError: one line and exit code 2 like every other bad input."""

    def error(self, message: str) -> NoReturn:
        if "expected one argument" in message:
            message += " (for a value starting with '-', write --writes=VALUE)"
        raise PlanError(message)


def parser(book: PriceBook) -> argparse.ArgumentParser:
    """Options; the defaults of the workload assumptions come from the price book."""
    p = _Parser(
        prog="python -m streamops.planner.command",
        description="Monthly cost and capacity of a stack at a write rate.",
    )
    p.add_argument("--stack", required=True, help="stack name: Pulumi.<stack>.yaml")
    p.add_argument(
        "--writes", required=True, help="average write rate, e.g. 5/s, 300/min, 2.5M/month"
    )
    p.add_argument("--peak", help="peak write rate (default: the average)")
    p.add_argument(
        "--mix",
        default="/".join(f"{v:g}" for v in book.assumption("mix")),
        help="percent of INSERT/MODIFY/REMOVE records (default %(default)s)",
    )
    p.add_argument(
        "--log-retention-days",
        type=int,
        help="log retention in days (default: function.logRetentionDays)",
    )
    for option, kind, key, text in ASSUMED:
        default = book.assumption(key)
        p.add_argument(option, type=kind, default=default, help=f"{text} (default {default})")
    p.add_argument("--bench", type=Path, default=measure.BENCH_RESULTS, help=argparse.SUPPRESS)
    return p


def run(argv: Sequence[str], prices: Path = PRICES_FILE) -> str:
    """The plan as text; raises PlanError for bad input."""
    book = load_prices(prices)
    args = parser(book).parse_args(argv)
    for option, value in (("--stack", args.stack), ("--writes", args.writes)):
        if not value.strip():
            raise PlanError(f"{option} is empty: e.g. make plan STACK=dev WRITES=5/s")
    config, region = load_stack(args.stack)
    month_days = int(book.model("month_days"))
    average = parse_rate(args.writes, month_days, "write rate")
    peak = parse_rate(args.peak, month_days, "peak rate") if args.peak else average
    retention = args.log_retention_days
    workload = Workload(
        average_per_s=average,
        peak_per_s=peak,
        item_bytes=args.item_bytes,
        mix=parse_mix(args.mix),
        log_retention_days=config.function.log_retention_days if retention is None else retention,
        table_gb=args.table_gb,
        failure_rate=args.failure_rate,
        alarm_notifications=args.alarm_notifications,
    )

    def plan_for(stack_config: StackConfig) -> Plan:
        return build_plan(args.stack, region, stack_config, workload, book, args.bench)

    plan = plan_for(config)
    return render(plan, free_tier_hint(plan, plan_for))


def main(argv: Sequence[str] | None = None) -> int:
    try:
        sys.stdout.write(run(sys.argv[1:] if argv is None else argv))
    except PlanError as error:
        print(f"plan: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except ConfigError as error:
        problems = "; ".join(error.problems)
        print(f"plan: error: the stack's config is invalid: {problems}", file=sys.stderr)
        return USAGE_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
