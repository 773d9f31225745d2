"""A plan: the workload, the stack's config and the price book, turned into capacity and
monthly cost lines. Everything is computed here from the small pure functions of
`capacity` and `costs`; `report` only prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from components.config import LOG_RETENTION_DAYS, StackConfig
from streamops.planner import capacity as cap
from streamops.planner import costs, measure
from streamops.planner.errors import PlanError
from streamops.planner.prices import PriceBook
from streamops.planner.stack import AlarmFacts, alarm_facts, kms_keys

# DynamoDB's largest item (400 KB): a bigger average item is a typo.
MAX_ITEM_BYTES = 400 * 1024
# Beyond DynamoDB's default table size where a plan still makes sense (100 TB).
MAX_TABLE_GB = 100_000.0
# When never-expiring logs are kept, storage is shown as after this many months.
NEVER_EXPIRE_MONTHS = 12


@dataclass(frozen=True)
class Workload:
    average_per_s: float
    peak_per_s: float
    item_bytes: int
    mix: dict[str, float]  # INSERT / MODIFY / REMOVE shares, summing to 1
    log_retention_days: int
    table_gb: float
    failure_rate: float  # share of records sent to the failure destination
    alarm_notifications: float  # per month


def parse_mix(text: str) -> dict[str, float]:
    """`40/40/20` -> INSERT/MODIFY/REMOVE shares (percentages summing to 100)."""
    parts = text.replace(" ", "").split("/")
    try:
        values = [float(part) for part in parts]
    except ValueError:
        raise PlanError(
            f"mix {text!r} must be three percentages INSERT/MODIFY/REMOVE, e.g. 40/40/20"
        ) from None
    if len(values) != 3 or any(not math.isfinite(v) or v < 0 for v in values):
        raise PlanError(
            f"mix {text!r} must be three percentages INSERT/MODIFY/REMOVE (0-100), e.g. 40/40/20"
        )
    if abs(sum(values) - 100) > 1e-6:
        raise PlanError(f"mix {text!r} must add up to 100 (got {sum(values):g})")
    return {name: value / 100 for name, value in zip(measure.EVENT_NAMES, values, strict=True)}


def check_workload(workload: Workload) -> Workload:
    if workload.peak_per_s < workload.average_per_s:
        raise PlanError("the peak rate must be at least the average rate")
    if not 1 <= workload.item_bytes <= MAX_ITEM_BYTES:
        raise PlanError(
            f"item size must be 1 to {MAX_ITEM_BYTES} bytes (DynamoDB's 400 KB), "
            f"got {workload.item_bytes}"
        )
    if workload.log_retention_days not in LOG_RETENTION_DAYS:
        allowed = ", ".join(map(str, LOG_RETENTION_DAYS))
        raise PlanError(
            f"log retention {workload.log_retention_days} is not one CloudWatch allows ({allowed})"
        )
    if not 0 <= workload.table_gb <= MAX_TABLE_GB:
        raise PlanError(
            f"table size must be 0 to {MAX_TABLE_GB:,.0f} GB, got {workload.table_gb:g}"
        )
    if not 0 <= workload.failure_rate <= 1:
        raise PlanError(f"failure rate must be between 0 and 1, got {workload.failure_rate:g}")
    if workload.alarm_notifications < 0:
        raise PlanError("alarm notifications per month must not be negative")
    return workload


@dataclass(frozen=True)
class Plan:
    stack: str
    region: str
    config: StackConfig
    workload: Workload
    book: PriceBook
    constants: cap.Constants
    handler: measure.HandlerCost
    logs: measure.LogVolume
    record_bytes: float  # average stream record (envelope + images)
    capacity: cap.Capacity
    fix: cap.Fix
    alarms: AlarmFacts
    lines: list[costs.Line]
    month_seconds: float
    invocations: float
    warnings: list[str]

    @property
    def total(self) -> float:
        return costs.total(self.lines)


def average_record_bytes(workload: Workload, view: str) -> float:
    images = sum(
        measure.images_per_record(view, name) * share for name, share in workload.mix.items()
    )
    return measure.record_envelope_bytes(view) + images * workload.item_bytes


def build_plan(
    stack: str,
    region: str,
    config: StackConfig,
    workload: Workload,
    book: PriceBook,
    bench_results: Path = measure.BENCH_RESULTS,
    cold_start_results: Path = measure.COLD_START_RESULTS,
) -> Plan:
    check_workload(workload)
    c = cap.Constants.from_prices(book)
    handler = measure.handler_cost(config.function.log_level, bench_results)
    init = measure.init_cost(cold_start_results)
    facts = alarm_facts(config)
    record_bytes = average_record_bytes(workload, config.table.stream_view_type)
    table = config.table
    shards = cap.estimate_shards(
        workload.peak_per_s,
        workload.item_bytes,
        workload.table_gb,
        c,
        table.write_capacity,
        table.read_capacity,
    )

    def evaluate(knobs: cap.Knobs) -> cap.Capacity:
        return cap.evaluate(
            knobs,
            workload.average_per_s,
            workload.peak_per_s,
            shards,
            record_bytes,
            handler.us_per_record,
            facts.iterator_age_threshold_ms,
            c,
        )

    current = evaluate(cap.Knobs.from_config(config))
    fix = cap.find_fix(current, evaluate)
    month_seconds = book.model("month_days") * 86400.0
    average = current.average
    invocations = average.batches_per_s * shards.count * month_seconds
    logs = measure.measure_log_volume(
        config.function.log_level,
        table.stream_view_type,
        config.function.name,
        region or book.region,
        config.function.memory_mb,
        average.duration_ms,
    )
    cold_starts = cold_starts_per_month(current, book, month_seconds)
    lines = cost_lines(
        config,
        workload,
        book,
        c,
        current,
        logs,
        facts,
        record_bytes,
        invocations,
        month_seconds,
        cold_starts * init_billed_ms(init, config.function.memory_mb, c),
    )
    warnings = plan_warnings(config, workload, book, c, current, facts, region)
    return Plan(
        stack,
        region,
        config,
        workload,
        book,
        c,
        handler,
        logs,
        record_bytes,
        current,
        fix,
        facts,
        lines,
        month_seconds,
        invocations,
        warnings,
    )


def cold_starts_per_month(current: cap.Capacity, book: PriceBook, month_seconds: float) -> float:
    """New execution environments a month: the environments the mapping keeps busy (per
    shard, its concurrency in use, at least one), each replaced every
    ``environment_lifetime_hours`` (an estimate: see prices.json)."""
    average = current.average
    per_shard = max(1, math.ceil(average.concurrency * average.utilization))
    environments = current.shards.count * per_shard
    return environments * month_seconds / 3600 / book.model("environment_lifetime_hours")


def init_billed_ms(init: measure.InitCost, memory_mb: int, c: cap.Constants) -> int:
    """One cold start's billed INIT: the measured INIT at Lambda's CPU share for the memory
    (as the per-record cost is scaled), rounded up to the millisecond."""
    return math.ceil(init.init_ms * cap.cpu_slowdown(memory_mb, c))


def cost_lines(
    config: StackConfig,
    workload: Workload,
    book: PriceBook,
    c: cap.Constants,
    current: cap.Capacity,
    logs: measure.LogVolume,
    facts: AlarmFacts,
    record_bytes: float,
    invocations: float,
    month_seconds: float,
    init_billed_ms_per_month: float = 0.0,
) -> list[costs.Line]:
    records = workload.average_per_s * month_seconds
    memory_gb = config.function.memory_mb / 1024
    billed_ms = max(1, math.ceil(current.average.duration_ms))  # billed per 1 ms, rounded up
    # INIT is billed like the invocation since 2025-08-01 (aws-facts.md).
    gb_seconds = (invocations * billed_ms + init_billed_ms_per_month) / 1000 * memory_gb
    gb = float(book.model("gb_bytes"))
    ingested_gb = (
        invocations * logs.per_invocation + records * logs.per_record_for(workload.mix)
    ) / gb
    retention = workload.log_retention_days
    if retention:
        stored_gb = ingested_gb / book.model("month_days") * retention
        retention_text = f"{retention}-day retention"
    else:
        stored_gb = ingested_gb * NEVER_EXPIRE_MONTHS
        retention_text = f"never expires: after {NEVER_EXPIRE_MONTHS} months"
    failures = records * workload.failure_rate
    keys = kms_keys(config)
    notifications = workload.alarm_notifications if facts.enabled else 0.0
    hours = month_seconds / 3600
    lines = [
        *costs.lambda_lines(book, invocations, gb_seconds, config.function.architecture),
        *costs.log_lines(book, ingested_gb, stored_gb, retention_text),
        *costs.monitoring_lines(
            book,
            measure.custom_metric_count(),
            facts.alarms,
            facts.dashboards,
            facts.dashboard_metrics,
        ),
        *costs.destination_lines(
            book,
            config.trigger.on_failure,
            failures,
            record_bytes,
            config.trigger.destination_retention_days,
        ),
        *costs.extra_metric_lines(
            book,
            s3_request_metrics=config.trigger.on_failure == "s3" and facts.enabled,
            mapping_metrics=bool(config.trigger.metrics),
        ),
    ]
    if facts.enabled:
        lines += costs.alarm_topic_lines(book, notifications, facts.emails)
    lines += costs.kms_lines(
        book, keys, costs.kms_requests(book, keys, month_seconds, failures, notifications)
    )
    if not config.table.existing:
        table = config.table
        polls = current.shards.count * month_seconds / c.poll_interval_s
        write_units = records * cap.write_units(workload.item_bytes, c)
        lines += costs.dynamodb_lines(
            book,
            table.billing_mode,
            table.write_capacity,
            table.read_capacity,
            write_units,
            workload.table_gb,
            table.point_in_time_recovery,
            hours,
            polls,
        )
    return lines


def plan_warnings(
    config: StackConfig,
    workload: Workload,
    book: PriceBook,
    c: cap.Constants,
    current: cap.Capacity,
    facts: AlarmFacts,
    region: str,
) -> list[str]:
    warnings = []
    if region and region != book.region:
        warnings.append(
            f"the stack deploys to {region} but the price book is for {book.region}: "
            "prices differ by region"
        )
    table = config.table
    needed = math.ceil(workload.peak_per_s * cap.write_units(workload.item_bytes, c))
    if table.write_capacity is not None and table.write_capacity < needed:
        warnings.append(
            f"table.writeCapacity is {table.write_capacity} WCU but the peak needs {needed} "
            f"({workload.peak_per_s:g} writes/s of {workload.item_bytes} bytes): writes above "
            f"{table.write_capacity} units/s are throttled (provisioned, no auto scaling)"
        )
    if table.existing:
        warnings.append(
            "the table already exists: its own costs are not this stack's and are not shown"
        )
    full_ms = c.overhead_ms + current.batch_cap * current.record_ms
    if facts.duration_threshold_ms is not None and full_ms > facts.duration_threshold_ms:
        warnings.append(
            f"a full batch ({current.batch_cap} records) takes about {full_ms:,.0f} ms, over "
            f"alarms.durationThresholdMs ({facts.duration_threshold_ms}): the duration alarm "
            "fires during backlogs"
        )
    if not current.peak.falls_behind and current.peak.utilization >= 0.8:
        warnings.append(
            f"at peak the function is {current.peak.utilization:.0%} busy: random bursts above "
            "the average will age records beyond this estimate"
        )
    if workload.log_retention_days == 0:
        warnings.append(
            "function.logRetentionDays is 0 (never expire): log storage grows every month"
        )
    return warnings
