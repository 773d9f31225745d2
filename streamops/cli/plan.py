"""`streamops plan --stack dev --writes 5/s`: what a workload costs a month and whether the
stack's settings keep up with it, before `pulumi up`. The model: streamops/planner/.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from streamops.cli.output import EXIT_OK, JSON_OPTION, fail, print_json

HELP = "percent of INSERT/MODIFY/REMOVE records (default: the price book's, 40/40/20)"


def _assumed(text: str) -> str:
    return f"{text} (default: the price book's assumption)"


def command(
    stack: str = typer.Option(..., "--stack", help="stack name: Pulumi.<stack>.yaml"),
    writes: str = typer.Option(
        ..., "--writes", help="average write rate, e.g. 5/s, 300/min, 2.5M/month"
    ),
    peak: str | None = typer.Option(None, "--peak", help="peak write rate (default: the average)"),
    mix: str | None = typer.Option(None, "--mix", help=HELP),
    log_retention_days: int | None = typer.Option(
        None, "--log-retention-days", help="log retention in days (default: the stack's)"
    ),
    item_bytes: int | None = typer.Option(
        None, "--item-bytes", help=_assumed("average item size in bytes")
    ),
    table_gb: float | None = typer.Option(
        None, "--table-gb", help=_assumed("table size in GB, for storage and PITR")
    ),
    failure_rate: float | None = typer.Option(
        None, "--failure-rate", help=_assumed("share of records sent to the failure destination")
    ),
    alarm_notifications: float | None = typer.Option(
        None, "--alarm-notifications", help=_assumed("alarm notifications a month")
    ),
    as_json: bool = JSON_OPTION,
    bench: Path | None = typer.Option(None, "--bench", hidden=True),  # tests: a fixed figure
) -> None:
    """Monthly cost and capacity of a stack at a write rate (exit 2 on bad input)."""
    # The planner is imported when the command runs (pulumi): `--help` stays fast.
    from components.config import ConfigError
    from streamops.planner import measure
    from streamops.planner.errors import PlanError
    from streamops.planner.request import Request, make_plan, plan_document

    request = Request(
        stack=stack,
        writes=writes,
        peak=peak,
        mix=mix,
        log_retention_days=log_retention_days,
        item_bytes=item_bytes,
        table_gb=table_gb,
        failure_rate=failure_rate,
        alarm_notifications=alarm_notifications,
    )
    try:
        plan, text = make_plan(request, bench=bench or measure.BENCH_RESULTS)
    except PlanError as error:
        fail("plan", error)
    except ConfigError as error:
        fail("plan", f"the stack's config is invalid: {'; '.join(error.problems)}")
    if as_json:
        print_json(plan_document(plan))
    else:
        sys.stdout.write(text)
    raise typer.Exit(EXIT_OK)


app = typer.Typer()
app.command()(command)

if __name__ == "__main__":
    app()
