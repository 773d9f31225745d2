"""The printed plan: the monthly cost table, why each $0.00 line is free, then capacity.

Why this layout: the first question is "what will it cost and why" (every line with the
allowance that covers it), the second "will it keep up" (the capacity figures, the verdict
against the alarm threshold and, if it lags, the one change that fixes it). Every
assumption the figures rest on is printed with them.
"""

from __future__ import annotations

from collections.abc import Sequence

from streamops.planner.capacity import Capacity, Fix, Flow, cpu_slowdown
from streamops.planner.costs import Line
from streamops.planner.free_tier import FreeTierHint
from streamops.planner.model import Plan
from streamops.planner.rates import format_rate

HEADERS = ("line", "usage", "free tier", "billable", "$")


def amount(value: float, unit: str) -> str:
    """A quantity for the table: data to the MB, small counts to 2 decimals, others whole."""
    if unit in ("GB", "GB-month"):
        return f"{value:,.3f} {unit}"
    if abs(value) < 100 and value != int(value):
        return f"{value:,.2f} {unit}"
    return f"{value:,.0f} {unit}"


def dollars(value: float) -> str:
    return f"${value:,.2f}"


def free_column(line: Line) -> str:
    if line.free is None:
        return "none" if line.free_text == "none" else "not found"
    return amount(line.free, line.unit)


def table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for index, row in enumerate(rows):
        cells = [
            cell.rjust(width) if column >= 1 else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        out.append(" | ".join(cells).rstrip())
        if index == 0:
            out.append("-+-".join("-" * width for width in widths))
    return out


def why_free(line: Line) -> str | None:
    """Why a line costs $0.00, or None when it costs something."""
    if round(line.dollars, 2) > 0:
        return None
    label = f"{line.service} {line.name}"
    if line.unit_price == 0 and line.note:
        return f"{label}: free ({line.note})"
    if line.usage == 0:
        return f"{label}: not used" + (f" ({line.note})" if line.note else "")
    if line.covered:
        return f"{label}: covered by {line.free_text}"
    if line.free is None and line.free_text.startswith("not found"):
        return f"{label}: free tier {line.free_text}; billed ${line.dollars:.6f}, under a cent"
    billed = amount(line.billable, line.unit)
    return f"{label}: {billed} billed, ${line.dollars:.6f}: under a cent"


def billed_reason(line: Line) -> str:
    allowance = f"beyond {line.free_text}" if line.free is not None else "(no free tier)"
    price = line.price_text or f"${line.unit_price:.6g} per {line.unit}"
    note = f" ({line.note})" if line.note else ""
    return (
        f"{line.service} {line.name}: {amount(line.billable, line.unit)} {allowance}, at "
        f"{price} -> {dollars(line.dollars)}{note}"
    )


def cost_section(plan: Plan) -> list[str]:
    rows = [HEADERS]
    for line in plan.lines:
        rows.append(
            (
                f"{line.service} {line.name}",
                amount(line.usage, line.unit),
                free_column(line),
                amount(line.billable, line.unit),
                dollars(line.dollars),
            )
        )
    rows.append(("total per month", "", "", "", dollars(plan.total)))
    out = [
        f"Monthly cost ({plan.book.model('month_days')}-day month, {plan.book.currency}, "
        f"prices for {plan.book.region} read {plan.book.read_on})",
        "",
    ]
    out += table(rows)
    reasons = [reason for reason in map(why_free, plan.lines) if reason]
    if reasons:
        out += ["", "Why each $0.00 line costs nothing:"] + [f"  - {r}" for r in reasons]
    billed = [line for line in plan.lines if round(line.dollars, 2) > 0]
    if billed:
        out += ["", "Billed:"] + [f"  - {billed_reason(line)}" for line in billed]
    out += [
        "",
        "Free tiers are per account (DynamoDB's per region): other workloads in the account "
        "use the same allowances.",
    ]
    return out


def flow_rows(average: Flow, peak: Flow, threshold: int) -> list[tuple[str, str, str]]:
    def age(flow: Flow) -> str:
        if flow.falls_behind:
            return f"unbounded (+{flow.lag_growth_s_per_min:,.1f} s per minute)"
        return f"{flow.age_ms:,.0f} ms"

    def both(fmt: str, attribute: str) -> tuple[str, str]:
        return fmt.format(getattr(average, attribute)), fmt.format(getattr(peak, attribute))

    return [
        ("", "average", "peak"),
        ("records/s per shard", format_rate(average.rate), format_rate(peak.rate)),
        ("records per batch", *both("{:,.2f}", "records_per_batch")),
        ("batches/s per shard", *both("{:,.2f}", "batches_per_s")),
        ("time per batch", *both("{:,.2f} ms", "duration_ms")),
        ("concurrency busy", *both("{:.0%}", "utilization")),
        ("most records/s per shard", *both("{:,.0f}", "max_throughput")),
        ("expected iterator age", age(average), age(peak)),
        ("alarm threshold", f"{threshold:,} ms", f"{threshold:,} ms"),
    ]


def verdict(capacity: Capacity) -> str:
    peak = capacity.peak
    if peak.falls_behind:
        return (
            f"FALLS BEHIND at peak: a shard takes {peak.rate:,.1f} records/s but processes "
            f"at most {peak.max_throughput:,.1f}; the iterator age grows "
            f"{peak.lag_growth_s_per_min:,.1f} s every minute"
        )
    if peak.times_out:
        return "a batch runs past function.timeoutSeconds: it would be retried until it expires"
    if peak.age_ms > capacity.threshold_ms:
        return (
            f"OVER THE ALARM at peak: records wait about {peak.age_ms:,.0f} ms, above the "
            f"{capacity.threshold_ms:,} ms threshold"
        )
    return (
        f"keeps up: at peak records wait about {peak.age_ms:,.0f} ms, under the "
        f"{capacity.threshold_ms:,} ms threshold"
    )


def fix_lines(fix: Fix) -> list[str]:
    if fix.best is None and not fix.alternatives:
        return []
    if fix.best is None:
        return ["no single setting fixes it: split the load or change several settings"]
    result = fix.best.result.peak
    out = [
        f"smallest change: {fix.best.describe()} "
        f"(then at peak: iterator age {result.age_ms:,.0f} ms, "
        f"most {result.max_throughput:,.0f} records/s per shard)"
    ]
    out += [f"  or: {change.describe()}" for change in fix.alternatives]
    return out


def capacity_section(plan: Plan) -> list[str]:
    capacity = plan.capacity
    knobs = capacity.knobs
    config = plan.config
    handler = plan.handler
    book = plan.book
    shards = capacity.shards
    slowdown = cpu_slowdown(knobs.memory_mb, plan.constants)
    reserved = (
        "unreserved"
        if knobs.reserved_concurrency < 0
        else f"reserved concurrency {knobs.reserved_concurrency} over {shards.count} shard(s)"
    )
    out = [
        "Capacity",
        "",
        f"shards (estimated): {shards.count} -- by peak writes {shards.by_writes}, by table size "
        f"{shards.by_storage}, by provisioned capacity {shards.by_provisioned} "
        f"({book.model_figure('partition_write_units').note})",
        f"handler cost: {handler.us_per_record:.2f} us/record ({handler.figure} in "
        f"bench/results.json, log level {config.function.log_level}, {handler.machine})",
        f"at {knobs.memory_mb} MB Lambda gives {min(1.0, 1 / slowdown):.3f} of a vCPU "
        f"(1,769 MB = 1 vCPU): x{slowdown:.2f} -> {capacity.record_ms:.3f} ms/record, plus "
        f"{book.model('per_invocation_overhead_ms'):g} ms per invocation (overhead, prices.json)",
        f"batches: up to {capacity.batch_cap} records (trigger.batchSize {knobs.batch_size}; "
        f"6 MB holds {book.model('invocation_payload_bytes') // max(1, int(plan.record_bytes)):,} "
        f"records of ~{plan.record_bytes:,.0f} bytes), window {knobs.window_s} s, "
        f"parallelization {knobs.parallelization} ({reserved}), polls every "
        f"{book.model('poll_interval_ms')} ms",
        "",
    ]
    out += table(flow_rows(capacity.average, capacity.peak, capacity.threshold_ms))
    out += ["", f"threshold from: {plan.alarms.threshold_from}", f"verdict: {verdict(capacity)}"]
    out += fix_lines(plan.fix)
    return out


def header(plan: Plan) -> list[str]:
    w = plan.workload
    mix = " / ".join(f"{name} {share:.0%}" for name, share in w.mix.items())
    peak = "peak " + format_rate(w.peak_per_s)
    if w.peak_per_s == w.average_per_s:
        peak += " (no --peak: the average)"
    records = w.average_per_s * plan.month_seconds
    return [
        f"Plan for stack {plan.stack} ({plan.region or 'region not set'}): "
        f"{plan.config.function.name}, {plan.config.function.architecture}, "
        f"{plan.config.function.memory_mb} MB, log level {plan.config.function.log_level}",
        f"workload: {format_rate(w.average_per_s)} average, {peak}; items of "
        f"{w.item_bytes:,} bytes; mix {mix}; logs kept {w.log_retention_days or 'forever'} "
        f"days; table {w.table_gb:g} GB; failure rate {w.failure_rate:g}",
        f"per month: {records:,.0f} records in {plan.invocations:,.0f} invocations; logs "
        f"{plan.logs.per_invocation:,.0f} bytes per invocation + "
        f"{plan.logs.per_record_for(w.mix):,.0f} per record (measured, see docs/plan.md)",
        "",
    ]


def hint_lines(hint: FreeTierHint | None) -> list[str]:
    if hint is None:
        return []
    if hint.out_of_reach:
        names = "; ".join(
            f"{line.service} {line.name} {dollars(line.dollars)}" for line in hint.out_of_reach
        )
        return ["", f"Free tier: out of reach by batch size, window or log level: {names}"]
    if hint.plan is None:
        return ["", "Free tier: no batch size, batching window or log level makes this rate free"]
    changes = "; ".join(f"{setting} {old} -> {new}" for setting, old, new in hint.changes)
    then = hint.plan
    return [
        "",
        f"Free tier: to make this workload cost $0.00, change {changes}",
        f"  (then {then.invocations:,.0f} invocations a month, iterator age about "
        f"{then.capacity.peak.age_ms:,.0f} ms at peak; the same model and prices)",
    ]


def render(plan: Plan, hint: FreeTierHint | None = None) -> str:
    out = header(plan) + cost_section(plan) + hint_lines(hint) + [""] + capacity_section(plan)
    if plan.warnings:
        out += ["", "Warnings:"] + [f"  - {warning}" for warning in plan.warnings]
    missing = [
        f"{section}.{figure.key}: {figure.note}"
        for section, figures in plan.book.figures.items()
        for figure in figures.values()
        if figure.missing
    ]
    if missing:
        out += ["", "Figures not found (see streamops/planner/prices.json):"] + [
            f"  - {m}" for m in missing
        ]
    return "\n".join(out) + "\n"
