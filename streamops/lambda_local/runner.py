"""Local stream runner: reads a table's DynamoDB stream and invokes the function (in its
execution environments, see lambda_local.function) with the semantics of the Lambda event
source mapping (ESM) the stack deploys.

Why: there is no AWS account here, and the emulator does not run event source mappings.
The runner is that mapping, for `make local` and for tests that prove records are never
lost. It talks to any DynamoDB Streams endpoint through a boto3 `dynamodbstreams` client,
and reads everything it needs from the typed `TriggerConfig`.

The model implemented (AWS Lambda developer guide: "Using Lambda with DynamoDB", "Retain
discarded records", "Configuring partial batch response"; shared/reference/aws-facts.md):

Reading. Every shard of the stream, parents before children (a child shard is only read
once its parent is read to its end), each in order. Shards present when the runner starts
begin at `startingPosition`; shards that appear later begin at TRIM_HORIZON. Records
matching none of the trigger's filter patterns are dropped before batching.

Batching. A batch holds up to `batchSize` records and at most 6 MB of payload. With
`maxBatchingWindowSeconds` > 0, a batch that is not full waits until that long has passed
since the shard's previous invocation ended (AWS: "the next window begins as soon as the
previous function invocation completes").

Outcome of an invocation (ReportBatchItemFailures is always on in this stack):
- `batchItemFailures` empty, null or absent (or no response): success, checkpoint past
  the batch.
- valid `batchItemFailures`: checkpoint before the LOWEST reported sequence number, and
  redeliver from it, including later records that succeeded.
- an itemIdentifier that is empty, null, not a string, not in the batch, or a misnamed
  key; a raised exception; a run past `timeoutSeconds`: the whole batch failed.

Retries, splits and their accounting - the exact model:
- A whole-batch failure with `bisectOnError` and more than one record splits the batch
  in two; the first half is delivered first. A split does not consume the retry quota
  (AWS: "Splitting batches doesn't consume the retry quota"): each half keeps the retry
  count of the batch it came from.
- Otherwise (one record, or bisect off), or after a partial failure at the FIRST record,
  the batch's retry count goes up by one; past `retryAttempts` (-1: never) the batch is
  discarded with condition RetryAttemptsExhausted; else the same records are redelivered.
- A partial failure after the first record is progress: the records before it are
  checkpointed and the rest starts as a fresh batch with a retry count of 0. (The AWS run
  recorded in shared/events shows this: BatchSize 3, MaximumRetryAttempts 3, the failing
  record delivered 5 times - once in its first batch, then 1 + 3 retries on its own -
  and the on-failure message says approximateInvokeCount 4.)
- Before each delivery, when `maxRecordAgeSeconds` is not -1 and the batch's oldest record
  (by ApproximateCreationDateTime) is older than that, the batch is discarded with
  condition RecordAgeExceeded (a record can age out before its first invocation too).
- A discarded batch's on-failure message (AWS's format, lambda_local.on_failure) goes to the
  failure destination; `approximateInvokeCount` counts the invocations of exactly those
  records. Then the shard moves on. If the message cannot be sent, the runner stops with
  the error rather than skip the records.

Nothing is lost silently: every record read is checkpointed after a successful
invocation (the function may have quarantined it itself), or pointed to by an on-failure
message, or dropped by a filter pattern, or is still pending; the summary counts each.

Concurrency. Shards are polled in rounds: each readable shard contributes at most one
batch per round, and the round's batches are invoked at the same time, each in an
execution environment of its own (the function's pool bounds how many run at once:
shards x parallelizationFactor, capped by reserved concurrency). Results are judged in
shard order, so observers and the summary see the same sequence on every run.

Known differences from AWS (see docs/local.md): `parallelizationFactor` > 1 sizes the pool
but does not run several batches of ONE shard at once (AWS does, still in order per item);
a round waits for its slowest invocation before the next round starts (AWS polls each
shard on its own); retries are immediate (no backoff).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from components.config import UNBOUNDED, TriggerConfig
from streamops.lambda_local.event_filter import RecordFilter
from streamops.lambda_local.function import Function, InvocationResult
from streamops.lambda_local.on_failure import (
    RECORD_AGE_EXCEEDED,
    RETRY_ATTEMPTS_EXHAUSTED,
    FailureDestination,
    ResponseContext,
    on_failure_message,
)
from streamops.lambda_local.runner_state import (
    OUTCOME_ERROR,
    OUTCOME_INVALID,
    OUTCOME_PARTIAL,
    OUTCOME_SUCCESS,
    OUTCOME_TIMEOUT,
    Batch,
    BatchDiscarded,
    BatchInvoked,
    RunnerEvent,
    RunnerTimeout,
    ShardState,
    Summary,
    judge,
)
from streamops.stream_event import (
    MAX_PAYLOAD_BYTES,
    creation_time,
    lambda_record,
    record_bytes,
    sequence_number,
    stream_event,
)

__all__ = [  # the runner's vocabulary, importable from here as before the split
    "OUTCOME_ERROR",
    "OUTCOME_INVALID",
    "OUTCOME_PARTIAL",
    "OUTCOME_SUCCESS",
    "OUTCOME_TIMEOUT",
    "Batch",
    "BatchDiscarded",
    "BatchInvoked",
    "RunnerEvent",
    "RunnerTimeout",
    "StreamRunner",
    "Summary",
]

# DynamoDB Streams GetRecords returns at most 1000 records per call.
MAX_RECORDS_PER_READ = 1000
# Lambda polls each shard about four times a second.
POLL_INTERVAL_SECONDS = 0.25
# How often the shard list is read again (new shards appear as the table splits).
SHARD_REFRESH_SECONDS = 30.0


class StreamRunner:
    """The event source mapping for one stream and one function."""

    def __init__(
        self,
        streams: Any,
        stream_arn: str,
        trigger: TriggerConfig,
        function: Function,
        destination: FailureDestination,
        *,
        report_batch_item_failures: bool = True,
        observers: Sequence[Callable[[RunnerEvent], None]] = (),
        poll_interval: float = POLL_INTERVAL_SECONDS,
    ):
        self.streams, self.stream_arn, self.trigger = streams, stream_arn, trigger
        self.function, self.destination = function, destination
        self.clock = function.clock
        self.report_batch_item_failures = report_batch_item_failures
        self.observers = list(observers)
        self.poll_interval = poll_interval
        self.filter = RecordFilter(trigger.filter_patterns)
        self.region = function.region
        self._shards: dict[str, ShardState] = {}
        self._last_refresh: float | None = None
        self._finished_at_refresh = 0
        self._summary = Summary(enabled=trigger.enabled)
        self._executor: ThreadPoolExecutor | None = None  # started at the first concurrent round
        self._executor_size = 0

    def close(self) -> None:
        """End the function's execution environments (processes), if it has any, and the
        threads invoking shards concurrently."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        close = getattr(self.function, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> StreamRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ running
    def run_until_drained(self, timeout_seconds: float | None = None) -> Summary:
        """Process until every shard is read to its end or to its latest record, and every
        record is settled. Raises RunnerTimeout (with the summary so far) past the time."""
        if not self.trigger.enabled:
            return self.summary()
        deadline = None if timeout_seconds is None else self.clock.now() + timeout_seconds
        while True:
            progressed = self.step()
            if not progressed and self.drained():
                return self.summary()
            if deadline is not None and self.clock.now() > deadline:
                raise RunnerTimeout(f"stream not drained after {timeout_seconds} s", self.summary())
            if not progressed:
                self.clock.sleep(self.poll_interval)

    def run_forever(
        self,
        should_stop: Callable[[], bool] = lambda: False,
        each_round: Callable[[], None] = lambda: None,
    ) -> Summary:
        """Keep polling (for `make local --follow`) until `should_stop()` is true, calling
        `each_round()` before every round (e.g. to emulate TTL deletions)."""
        if not self.trigger.enabled:
            return self.summary()
        while not should_stop():
            each_round()
            if not self.step():
                self.clock.sleep(self.poll_interval)
        return self.summary()

    def step(self) -> bool:
        """One round: each readable shard delivers at most one batch; the round's batches
        are invoked at the same time (one execution environment each, as many at once as
        the function's pool allows), then judged in shard order. True if anything happened
        (records read or a batch delivered)."""
        self._refresh_shards()
        progressed = False
        deliveries: list[tuple[ShardState, Batch]] = []
        for shard in self._readable_shards():
            batch, read = self._next_delivery(shard)
            progressed = progressed or batch is not None or read > 0
            if batch is not None and self._ready(shard, batch):
                deliveries.append((shard, batch))
        results = self._invoke_all([batch for _, batch in deliveries])
        for (shard, batch), result in zip(deliveries, results, strict=True):
            self._settle(shard, batch, result)
        return progressed

    def _invoke_all(self, batches: list[Batch]) -> list[InvocationResult]:
        """Invoke each batch; concurrently when there are several (AWS polls and invokes
        the shards of a stream concurrently). Each result stays with its batch."""
        if len(batches) <= 1:
            return [self.function.invoke(stream_event(batch.records)) for batch in batches]
        if self._executor is None or self._executor_size < len(batches):
            # One thread per batch of the round: the executor's default size (CPUs + 4)
            # would hold back shards beyond it. It grows as more shards become readable.
            if self._executor is not None:
                self._executor.shutdown(wait=True)
            self._executor = ThreadPoolExecutor(len(batches), thread_name_prefix="shard")
            self._executor_size = len(batches)
        futures = [
            self._executor.submit(self.function.invoke, stream_event(batch.records))
            for batch in batches
        ]
        return [future.result() for future in futures]

    def drained(self) -> bool:
        self._refresh_shards()
        return all(shard.settled() for shard in self._shards.values())

    def summary(self) -> Summary:
        summary = self._summary
        summary.records_pending = sum(
            len(shard.buffer) + sum(len(batch.records) for batch in shard.pending)
            for shard in self._shards.values()
        )
        summary.drained = bool(self._shards) and self.drained()
        if summary.drained:
            summary.iterator_age_ms = 0
        return summary

    # ------------------------------------------------------------------ shards
    def _refresh_shards(self) -> None:
        """Read the shard list at start, every SHARD_REFRESH_SECONDS, and whenever a shard
        has been read to its end (its children appear then). DescribeStream is
        rate-limited by AWS: never on every poll."""
        now = self.clock.now()
        finished = sum(shard.finished for shard in self._shards.values())
        if (
            self._last_refresh is not None
            and now - self._last_refresh < SHARD_REFRESH_SECONDS
            and finished == self._finished_at_refresh
        ):
            return
        first = self._last_refresh is None
        self._last_refresh, self._finished_at_refresh = now, finished
        for description in self._describe_shards():
            shard_id = description["ShardId"]
            if shard_id in self._shards:
                continue
            self._shards[shard_id] = ShardState(
                shard_id=shard_id,
                parent_id=description.get("ParentShardId"),
                iterator_type=self.trigger.starting_position if first else "TRIM_HORIZON",
                window_start=now,
            )

    def _describe_shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            stream = self.streams.describe_stream(**request)["StreamDescription"]
            shards.extend(stream.get("Shards", []))
            last = stream.get("LastEvaluatedShardId")
            if not last:
                return shards
            request["ExclusiveStartShardId"] = last

    def _readable_shards(self) -> list[ShardState]:
        """Shards whose parent is read to its end (or is gone from the stream)."""
        return [
            shard
            for shard in self._shards.values()
            if not shard.finished
            and (
                shard.parent_id is None
                or shard.parent_id not in self._shards
                or self._shards[shard.parent_id].finished
            )
        ]

    def _next_delivery(self, shard: ShardState) -> tuple[Batch | None, int]:
        """The shard's next batch to deliver (a pending one - retry, split or the rest
        after a partial failure - first, else a new one from what is read) and how many
        records were read for it."""
        if shard.pending:
            return shard.pending.popleft(), 0
        read = self._read(shard)
        records = self._next_batch(shard)
        if records:
            return Batch(records), read
        if shard.end_reached and not shard.buffer:
            shard.finished = True
        return None, read

    # ------------------------------------------------------------------ reading
    def _read(self, shard: ShardState) -> int:
        """Read until a batch is full or the shard has nothing more right now."""
        total = 0
        while not shard.end_reached and len(shard.buffer) < self.trigger.batch_size:
            if shard.iterator is None:
                shard.iterator = self._iterator(shard)
            try:
                response = self.streams.get_records(
                    ShardIterator=shard.iterator,
                    Limit=min(MAX_RECORDS_PER_READ, self.trigger.batch_size - len(shard.buffer)),
                )
            except self.streams.exceptions.ExpiredIteratorException:
                shard.iterator = None  # 15 minutes unused: get a new one where we were
                continue
            records = response.get("Records", [])
            shard.iterator = response.get("NextShardIterator")
            if shard.iterator is None:
                shard.end_reached = True
            for record in records:
                self._take_in(shard, record)
            total += len(records)
            if not records:
                break
        shard.idle = total == 0
        return total

    def _iterator(self, shard: ShardState) -> str:
        request: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard.shard_id}
        if shard.last_read is None:
            request["ShardIteratorType"] = shard.iterator_type
        else:
            request["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
            request["SequenceNumber"] = shard.last_read
        return str(self.streams.get_shard_iterator(**request)["ShardIterator"])

    def _take_in(self, shard: ShardState, raw: dict[str, Any]) -> None:
        record = lambda_record(raw, self.stream_arn, self.region)
        shard.last_read = sequence_number(record)
        summary = self._summary
        summary.records_read += 1
        summary.records_by_event[str(record.get("eventName"))] += 1
        if self.filter.passes(record):
            shard.buffer.append(record)
        else:
            summary.records_filtered += 1

    def _next_batch(self, shard: ShardState) -> list[dict[str, Any]]:
        """The next batch from the buffer, or [] while the batching window is open."""
        if not shard.buffer:
            return []
        size = self.trigger.batch_size
        payload = 0
        count = 0
        for record in shard.buffer[:size]:
            payload += record_bytes(record)
            if count and payload > MAX_PAYLOAD_BYTES:
                break
            count += 1
        full = count >= size or count < min(size, len(shard.buffer))
        window = self.trigger.max_batching_window_seconds
        waiting = self.clock.now() - shard.window_start < window
        if not full and window > 0 and not shard.end_reached and waiting:
            return []
        records, shard.buffer = shard.buffer[:count], shard.buffer[count:]
        return records

    # ------------------------------------------------------------------ delivering
    def _ready(self, shard: ShardState, batch: Batch) -> bool:
        """Before a delivery: a batch whose oldest record is past maxRecordAgeSeconds is
        discarded (False); else the delivery is counted and the batch is to be invoked."""
        max_age = self.trigger.max_record_age_seconds
        oldest = creation_time(batch.records[0])
        if max_age != UNBOUNDED and oldest is not None and self.clock.now() - oldest > max_age:
            self._discard(shard, batch, RECORD_AGE_EXCEEDED)
            return False
        summary = self._summary
        numbers = batch.sequence_numbers()
        summary.records_redelivered += sum(
            1 for number in numbers if int(number) <= shard.delivered_up_to
        )
        shard.delivered_up_to = max(shard.delivered_up_to, int(numbers[-1]))
        newest = creation_time(batch.records[-1])
        if newest is not None:
            age_ms = max(0, int((self.clock.now() - newest) * 1000))
            summary.iterator_age_ms = age_ms
            summary.max_iterator_age_ms = max(summary.max_iterator_age_ms, age_ms)
        return True

    def _settle(self, shard: ShardState, batch: Batch, result: InvocationResult) -> None:
        """After an invocation: judge it, then checkpoint, redeliver, split or discard."""
        summary = self._summary
        numbers = batch.sequence_numbers()
        shard.window_start = self.clock.now()
        batch.invocations += 1
        batch.last_request_id = result.request_id
        summary.invocations += 1
        if result.cold:
            summary.cold_starts += 1
            if result.init_duration_ms is not None:
                summary.init_durations_ms.append(result.init_duration_ms)
        for name, value in result.metrics.items():
            summary.handler_metrics[name] = summary.handler_metrics.get(name, 0) + value
        outcome, failed_at = judge(result, numbers, self.report_batch_item_failures)
        summary.outcomes[outcome] += 1
        batch.last_response = (
            ResponseContext.unhandled()
            if outcome in (OUTCOME_ERROR, OUTCOME_TIMEOUT)
            else ResponseContext.returned()
        )
        self._notify(BatchInvoked(shard.shard_id, numbers, result, outcome, failed_at))

        if outcome == OUTCOME_SUCCESS:
            summary.records_succeeded += len(batch.records)
        elif outcome == OUTCOME_PARTIAL and failed_at:
            summary.records_succeeded += failed_at
            shard.pending.appendleft(Batch(batch.records[failed_at:]))
        else:
            self._failed(shard, batch, splittable=outcome != OUTCOME_PARTIAL)

    def _failed(self, shard: ShardState, batch: Batch, *, splittable: bool) -> None:
        summary = self._summary
        if splittable and self.trigger.bisect_on_error and len(batch.records) > 1:
            half = (len(batch.records) + 1) // 2
            summary.bisections += 1
            shard.pending.appendleft(Batch(batch.records[half:], retries=batch.retries))
            shard.pending.appendleft(Batch(batch.records[:half], retries=batch.retries))
            return
        batch.retries += 1
        limit = self.trigger.retry_attempts
        if limit != UNBOUNDED and batch.retries > limit:
            self._discard(shard, batch, RETRY_ATTEMPTS_EXHAUSTED)
            return
        summary.retries += 1
        shard.pending.appendleft(batch)

    def _discard(self, shard: ShardState, batch: Batch, condition: str) -> None:
        message = on_failure_message(
            condition=condition,
            request_id=batch.last_request_id or str(uuid.uuid4()),
            function_arn=self.function.function_arn,
            invoke_count=batch.invocations,
            response=batch.last_response,
            shard_id=shard.shard_id,
            stream_arn=self.stream_arn,
            records=batch.records,
            now=self.clock.now(),
        )
        # Raises rather than skip records unrecorded. The event is what the function got
        # (an S3 destination keeps it whole).
        self.destination.send(message, stream_event(batch.records))
        self._summary.failure_messages[condition] += 1
        self._summary.records_sent_to_destination += len(batch.records)
        self._notify(BatchDiscarded(shard.shard_id, batch.sequence_numbers(), condition, message))

    def _notify(self, event: RunnerEvent) -> None:
        for observer in self.observers:
            observer(event)
