"""The free-tier hint: the fewest settings to change so that a workload costs $0.00.

Why: "will this stay free?" is usually answered "no" by two lines -- Lambda requests (one
invocation per poll that finds records, when batches are small and the window is 0) and
log ingestion (per-record INFO lines). Both depend on three settings: the batch size, the
batching window and the log level. The hint tries them, fewest changes first and smallest
values first, rebuilds the whole plan for each (the same model, prices and measurements)
and keeps the first that costs $0.00 while still keeping up under the alarm threshold.
Lines these settings cannot change (on-demand writes, PITR, keys...) are named instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace

from components.config import BATCH_SIZE, BATCHING_WINDOW_SECONDS, StackConfig
from streamops.planner.capacity import BATCH_SIZE_STEPS, WINDOW_STEPS
from streamops.planner.costs import Line
from streamops.planner.model import Plan

# The lines the three settings change; any other billed line is out of their reach.
REACHABLE = {"requests (invocations)", "log ingestion"}
# Log levels whose per-record lines are on, and the level that turns them off.
VERBOSE_LEVELS = ("TRACE", "DEBUG", "INFO")
QUIET_LEVEL = "WARN"


@dataclass(frozen=True)
class FreeTierHint:
    changes: list[tuple[str, object, object]]  # (setting, from, to)
    plan: Plan | None  # the plan with the changes; None when no such change exists
    out_of_reach: list[Line]  # billed lines the settings cannot change


def cents(value: float) -> int:
    return round(value * 100)


def billed(plan: Plan) -> list[Line]:
    return [line for line in plan.lines if cents(line.dollars) > 0]


def out_of_reach(plan: Plan) -> list[Line]:
    return [
        line
        for line in billed(plan)
        if line.name not in REACHABLE and not line.name.startswith("log storage")
    ]


def candidates(config: StackConfig) -> list[tuple[int, int, str]]:
    """(batch size, window, log level) to try: fewest changes first, then smallest."""
    trigger, level = config.trigger, config.function.log_level
    _, high_batch = BATCH_SIZE
    _, high_window = BATCHING_WINDOW_SECONDS
    batches = [trigger.batch_size] + [
        v for v in BATCH_SIZE_STEPS if trigger.batch_size < v <= high_batch
    ]
    windows = [trigger.max_batching_window_seconds] + [
        v for v in WINDOW_STEPS if trigger.max_batching_window_seconds < v <= high_window
    ]
    levels = [level] + ([QUIET_LEVEL] if level in VERBOSE_LEVELS else [])
    combos = list(itertools.product(range(len(batches)), range(len(windows)), range(len(levels))))
    combos.sort(key=lambda c: (sum(1 for i in c if i), c[2], c[0] + c[1], c))
    return [(batches[b], windows[w], levels[lv]) for b, w, lv in combos]


def with_settings(config: StackConfig, batch: int, window: int, level: str) -> StackConfig:
    trigger = replace(config.trigger, batch_size=batch, max_batching_window_seconds=window)
    return replace(config, trigger=trigger, function=replace(config.function, log_level=level))


def free_tier_hint(plan: Plan, rebuild: Callable[[StackConfig], Plan]) -> FreeTierHint | None:
    """None when the plan is already free; otherwise the smallest free configuration."""
    if cents(plan.total) == 0:
        return None
    blocked = out_of_reach(plan)
    if blocked:
        return FreeTierHint([], None, blocked)
    config = plan.config
    current = (
        config.trigger.batch_size,
        config.trigger.max_batching_window_seconds,
        config.function.log_level,
    )
    names = ("trigger.batchSize", "trigger.maxBatchingWindowSeconds", "function.logLevel")
    for choice in candidates(config)[1:]:
        candidate = rebuild(with_settings(config, *choice))
        if cents(candidate.total) == 0 and candidate.capacity.ok():
            changes = [
                (name, old, new)
                for name, old, new in zip(names, current, choice, strict=True)
                if old != new
            ]
            return FreeTierHint(changes, candidate, [])
    return FreeTierHint([], None, [])
