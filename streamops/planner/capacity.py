"""Capacity: will the function keep up with the stream, and how old do records get?

The model (every constant comes from streamops/planner/prices.json `model`, every limit from
components/config/):

1. Shards. A DynamoDB stream has about one shard per table partition. Partitions are
   estimated from the PEAK write rate (a partition takes 1,000 write units a second, a
   write of S bytes uses ceil(S / 1 KB) units), the table size (10 GB a partition) and, for
   provisioned tables, the provisioned capacity (1,000 WCU / 3,000 RCU a partition).
   DynamoDB never merges partitions, so the peak sets the count. Writes are assumed to
   spread evenly over the partitions' keys.
2. Batches. Per shard, records arrive at rate r (Poisson). Without a batching window
   Lambda polls every 250 ms and invokes once per `batchSize` records found:
   invocations per poll = E[ceil(N / batchSize)], N ~ Poisson(r x 0.25 s). With a window of
   W seconds a batch opens at its first record and closes after W s or at `batchSize`:
   records per batch = E[min(batchSize, 1 + Poisson(r x W))]. `batchSize` is also capped by
   the 6 MB payload (records of the average size, images per the stream view and mix).
3. Time per batch. d(n) = overhead + n x cost per record x max(1, 1769 MB / memory): the
   handler's benchmark cost per record (bench/results.json, at the stack's log level) scaled
   by Lambda's CPU share (1,769 MB = one vCPU), plus a fixed per-invocation overhead.
4. Concurrency. Each shard runs up to `parallelizationFactor` batches at once, capped by
   `reservedConcurrency` shared across shards: c = min(factor, reserved / shards).
5. Keeping up. A shard's most throughput is c x B / d(B) records a second (full batches).
   Above it the backlog, and so the iterator age, grows without bound (reported as seconds
   of age gained per minute). Below it, when the natural batches keep the shard busier than
   c allows, batches grow until the shard just keeps up: n = r x overhead / (c - r x cost).
6. Iterator age. Expected age of a record when its batch is done: the wait to be read (half
   a poll interval, or half the time a batch stays open, or half a busy cycle) plus the
   processing time of its batch. (AWS's IteratorAge stops at hand-off to the function;
   adding the processing time gives the delay until the change is handled, a safe side.)
   It is compared with the alarm threshold (alarms.iteratorAgeThresholdMs).
7. The fix. For a configuration that falls behind or crosses the threshold at peak, one
   setting at a time is changed, in this order (cheapest first): batchSize up, the batching
   window down, parallelizationFactor up, memory up, reservedConcurrency up. The first
   value the same model accepts is the suggestion; the first per setting are alternatives.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from components.config import (
    BATCH_SIZE,
    BATCHING_WINDOW_SECONDS,
    MEMORY_MB,
    PARALLELIZATION_FACTOR,
    UNBOUNDED,
    StackConfig,
)
from streamops.planner.prices import PriceBook

# Values tried when searching for a fix (each within the config's limits).
BATCH_SIZE_STEPS = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
WINDOW_STEPS = (0, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300)
MEMORY_STEPS = (128, 256, 512, 1024, 1769, 2048, 3008, 4096, 6144, 8192, 10240)
# Poisson sums are cut this many standard deviations around the mean.
POISSON_SPREAD = 12


@dataclass(frozen=True)
class Constants:
    """The model's AWS facts (streamops/planner/prices.json `model`)."""

    poll_interval_s: float
    overhead_ms: float
    full_vcpu_mb: int
    payload_bytes: int
    partition_write_units: int
    partition_read_units: int
    partition_storage_gb: float
    write_unit_bytes: int

    @classmethod
    def from_prices(cls, book: PriceBook) -> Constants:
        return cls(
            poll_interval_s=book.model("poll_interval_ms") / 1000,
            overhead_ms=float(book.model("per_invocation_overhead_ms")),
            full_vcpu_mb=int(book.model("full_vcpu_memory_mb")),
            payload_bytes=int(book.model("invocation_payload_bytes")),
            partition_write_units=int(book.model("partition_write_units")),
            partition_read_units=int(book.model("partition_read_units")),
            partition_storage_gb=float(book.model("partition_storage_gb")),
            write_unit_bytes=int(book.model("write_unit_bytes")),
        )


@dataclass(frozen=True)
class Knobs:
    """The settings capacity depends on; a fix changes exactly one."""

    batch_size: int
    window_s: int
    parallelization: int
    memory_mb: int
    reserved_concurrency: int  # -1: unreserved
    timeout_s: int

    @classmethod
    def from_config(cls, config: StackConfig) -> Knobs:
        return cls(
            batch_size=config.trigger.batch_size,
            window_s=config.trigger.max_batching_window_seconds,
            parallelization=config.trigger.parallelization_factor,
            memory_mb=config.function.memory_mb,
            reserved_concurrency=config.function.reserved_concurrency,
            timeout_s=config.function.timeout_seconds,
        )


@dataclass(frozen=True)
class Shards:
    count: int
    by_writes: int
    by_storage: int
    by_provisioned: int


@dataclass(frozen=True)
class Flow:
    """One shard at one arrival rate."""

    rate: float  # records/s arriving on the shard
    records_per_batch: float
    batches_per_s: float
    duration_ms: float  # of one batch of records_per_batch
    concurrency: float  # batches the shard may run at once
    utilization: float  # share of that concurrency busy (1.0: no headroom)
    max_throughput: float  # records/s with full batches
    falls_behind: bool
    age_ms: float  # expected; inf when falling behind
    lag_growth_s_per_min: float  # iterator age gained per minute when falling behind
    times_out: bool  # a batch of the size used runs past the function timeout


@dataclass(frozen=True)
class Capacity:
    knobs: Knobs
    shards: Shards
    batch_cap: int  # batchSize after the 6 MB payload cap
    record_ms: float  # processing time per record at this memory
    average: Flow
    peak: Flow
    threshold_ms: int

    def ok(self) -> bool:
        """Keeps up at peak, under the iterator-age threshold, without timeouts."""
        peak = self.peak
        return not peak.falls_behind and not peak.times_out and peak.age_ms <= self.threshold_ms


@dataclass(frozen=True)
class Change:
    setting: str  # full config key, e.g. trigger.parallelizationFactor
    old: int
    new: int
    result: Capacity

    def describe(self) -> str:
        verb = "raise" if self.new > self.old else "lower"
        return f"{verb} {self.setting} from {self.old} to {self.new}"


@dataclass(frozen=True)
class Fix:
    best: Change | None
    alternatives: list[Change] = field(default_factory=list)


# --------------------------------------------------------------------------- arithmetic


def cpu_slowdown(memory_mb: int, c: Constants) -> float:
    """How much slower than one full core: Lambda's CPU share grows with memory up to
    one vCPU at 1,769 MB; a single-threaded handler gains nothing above it."""
    return max(1.0, c.full_vcpu_mb / memory_mb)


def record_ms(us_per_record: float, memory_mb: int, c: Constants) -> float:
    return us_per_record * cpu_slowdown(memory_mb, c) / 1000


def batch_duration_ms(records: float, us_per_record: float, memory_mb: int, c: Constants) -> float:
    return c.overhead_ms + records * record_ms(us_per_record, memory_mb, c)


def write_units(item_bytes: int, c: Constants) -> int:
    """Write units one standard write of the item uses (1 KB each, rounded up)."""
    return max(1, math.ceil(item_bytes / c.write_unit_bytes))


def batch_cap(batch_size: int, record_bytes: float, c: Constants) -> int:
    """Records an invocation can hold: batchSize, or fewer when 6 MB fills first."""
    return max(1, min(batch_size, int(c.payload_bytes // max(1.0, record_bytes))))


def estimate_shards(
    peak_per_s: float,
    item_bytes: int,
    table_gb: float,
    c: Constants,
    write_capacity: int | None = None,
    read_capacity: int | None = None,
) -> Shards:
    by_writes = math.ceil(peak_per_s * write_units(item_bytes, c) / c.partition_write_units)
    by_storage = math.ceil(table_gb / c.partition_storage_gb)
    by_provisioned = 0
    if write_capacity is not None and read_capacity is not None:
        by_provisioned = math.ceil(
            read_capacity / c.partition_read_units + write_capacity / c.partition_write_units
        )
    return Shards(
        max(1, by_writes, by_storage, by_provisioned), by_writes, by_storage, by_provisioned
    )


def concurrency_per_shard(knobs: Knobs, shards: int) -> float:
    if knobs.reserved_concurrency == UNBOUNDED:
        return float(knobs.parallelization)
    return min(float(knobs.parallelization), knobs.reserved_concurrency / shards)


def poisson_expectation(mean: float, f: Callable[[int], float]) -> float:
    """E[f(N)] for N ~ Poisson(mean), summed where the probability is not negligible."""
    if mean <= 0:
        return f(0)
    spread = POISSON_SPREAD * math.sqrt(mean) + 20
    low, high = max(0, math.floor(mean - spread)), math.ceil(mean + spread)
    log_mean = math.log(mean)
    return sum(
        math.exp(k * log_mean - mean - math.lgamma(k + 1)) * f(k) for k in range(low, high + 1)
    )


def natural_batches(rate: float, knobs: Knobs, cap: int, c: Constants) -> tuple[float, float]:
    """(records per batch, batches per second) while the shard is not busy."""
    if knobs.window_s == 0:
        per_poll = poisson_expectation(
            rate * c.poll_interval_s, lambda k: math.ceil(k / cap) if k else 0
        )
        batches = per_poll / c.poll_interval_s
        return rate / batches, batches
    per_batch = poisson_expectation(rate * knobs.window_s, lambda k: min(cap, 1 + k))
    return per_batch, rate / per_batch


def read_wait_s(rate: float, knobs: Knobs, cap: int, c: Constants) -> float:
    """Average wait between a record's arrival and its batch being read while the shard is
    not busy: half a poll interval, plus half the time a window stays open."""
    wait = c.poll_interval_s / 2
    if knobs.window_s:
        wait += min(knobs.window_s, (cap - 1) / rate) / 2
    return wait


def shard_flow(
    rate: float, knobs: Knobs, cap: int, us_per_record: float, shards: int, c: Constants
) -> Flow:
    """Batches, utilization and expected iterator age for one shard at `rate` records/s."""
    per_record = record_ms(us_per_record, knobs.memory_mb, c)
    concurrency = concurrency_per_shard(knobs, shards)
    full_ms = batch_duration_ms(cap, us_per_record, knobs.memory_mb, c)
    max_throughput = concurrency * cap / (full_ms / 1000) if concurrency > 0 else 0.0
    timeout_ms = knobs.timeout_s * 1000
    if rate >= max_throughput:
        growth = 60 * (1 - max_throughput / rate)
        return Flow(
            rate,
            cap,
            max_throughput / cap,
            full_ms,
            concurrency,
            1.0,
            max_throughput,
            True,
            math.inf,
            growth,
            full_ms >= timeout_ms,
        )
    records, batches = natural_batches(rate, knobs, cap, c)
    duration = batch_duration_ms(records, us_per_record, knobs.memory_mb, c)
    utilization = batches * duration / 1000 / concurrency
    wait_s = read_wait_s(rate, knobs, cap, c)
    if utilization > 1:
        # Busy: batches grow until the shard just keeps up (n = r.o / (c - r.s)).
        records = rate * c.overhead_ms / (concurrency * 1000 - rate * per_record)
        batches = rate / records
        duration = batch_duration_ms(records, us_per_record, knobs.memory_mb, c)
        utilization = 1.0
        wait_s = max(c.poll_interval_s, duration / 1000 / concurrency) / 2
    age_ms = wait_s * 1000 + duration
    return Flow(
        rate,
        records,
        batches,
        duration,
        concurrency,
        utilization,
        max_throughput,
        False,
        age_ms,
        0.0,
        duration >= timeout_ms,
    )


def evaluate(
    knobs: Knobs,
    average_per_s: float,
    peak_per_s: float,
    shards: Shards,
    record_bytes: float,
    us_per_record: float,
    threshold_ms: int,
    c: Constants,
) -> Capacity:
    cap = batch_cap(knobs.batch_size, record_bytes, c)
    n = shards.count

    def flow(rate: float) -> Flow:
        return shard_flow(rate / n, knobs, cap, us_per_record, n, c)

    return Capacity(
        knobs,
        shards,
        cap,
        record_ms(us_per_record, knobs.memory_mb, c),
        flow(average_per_s),
        flow(peak_per_s),
        threshold_ms,
    )


# --------------------------------------------------------------------------- the fix


def candidate_changes(knobs: Knobs, shards: int) -> list[tuple[str, str, list[int]]]:
    """(config key, Knobs field, values to try in order) for each setting, cheapest first."""
    _, high_batch = BATCH_SIZE
    low_window, _ = BATCHING_WINDOW_SECONDS
    _, high_factor = PARALLELIZATION_FACTOR
    _, high_memory = MEMORY_MB
    reserved = []
    if knobs.reserved_concurrency != UNBOUNDED:
        reserved = [
            shards * factor
            for factor in range(1, high_factor + 1)
            if shards * factor > knobs.reserved_concurrency
        ]
    return [
        (
            "trigger.batchSize",
            "batch_size",
            [v for v in BATCH_SIZE_STEPS if knobs.batch_size < v <= high_batch],
        ),
        (
            "trigger.maxBatchingWindowSeconds",
            "window_s",
            [v for v in reversed(WINDOW_STEPS) if low_window <= v < knobs.window_s],
        ),
        (
            "trigger.parallelizationFactor",
            "parallelization",
            list(range(knobs.parallelization + 1, high_factor + 1)),
        ),
        (
            "function.memoryMb",
            "memory_mb",
            [v for v in MEMORY_STEPS if knobs.memory_mb < v <= high_memory],
        ),
        ("function.reservedConcurrency", "reserved_concurrency", reserved),
    ]


def find_fix(current: Capacity, reevaluate: Callable[[Knobs], Capacity]) -> Fix:
    """The smallest one-setting change that makes `current` keep up under the threshold."""
    if current.ok():
        return Fix(None)
    found: list[Change] = []
    for setting, attribute, values in candidate_changes(current.knobs, current.shards.count):
        for value in values:
            result = reevaluate(replace(current.knobs, **{attribute: value}))
            if result.ok():
                found.append(Change(setting, getattr(current.knobs, attribute), value, result))
                break
    return Fix(found[0] if found else None, found[1:])
