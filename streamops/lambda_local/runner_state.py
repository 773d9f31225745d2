"""What the stream runner keeps track of: the outcome of one invocation as the mapping
judges it, the batches of a shard and their retry accounting, the observer events and the
run's summary. Plain data: the rules that move it live in ``runner``.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from streamops.lambda_local.function import ERROR, SUCCESS, TIMEOUT, InvocationResult
from streamops.lambda_local.on_failure import ResponseContext
from streamops.stream_event import sequence_number

# Outcomes of one invocation, as the mapping sees it.
OUTCOME_SUCCESS = "success"
OUTCOME_PARTIAL = "partial"  # valid batchItemFailures
OUTCOME_ERROR = "error"  # the handler raised
OUTCOME_TIMEOUT = "timeout"
OUTCOME_INVALID = "invalid-response"  # batchItemFailures the mapping cannot use


class RunnerTimeout(RuntimeError):
    """The stream was not drained within the time allowed."""

    def __init__(self, message: str, summary: Summary):
        super().__init__(message)
        self.summary = summary


@dataclass
class Batch:
    """Records of one shard delivered together, and what happened to them so far."""

    records: list[dict[str, Any]]
    retries: int = 0  # failed attempts counted against retryAttempts
    invocations: int = 0  # invocations of exactly these records
    last_request_id: str | None = None
    last_response: ResponseContext = field(default_factory=ResponseContext)

    def sequence_numbers(self) -> list[str]:
        return [sequence_number(record) for record in self.records]


@dataclass
class BatchInvoked:
    """Observer event: one invocation and how the mapping judged it."""

    shard_id: str
    sequence_numbers: list[str]
    result: InvocationResult
    outcome: str
    failed_at: int | None  # index of the lowest reported failure (OUTCOME_PARTIAL)


@dataclass
class BatchDiscarded:
    """Observer event: records given up on; `message` went to the failure destination."""

    shard_id: str
    sequence_numbers: list[str]
    condition: str
    message: dict[str, Any]


RunnerEvent = BatchInvoked | BatchDiscarded


@dataclass
class Summary:
    records_read: int = 0
    records_by_event: Counter[str] = field(default_factory=Counter)
    records_filtered: int = 0
    records_succeeded: int = 0  # checkpointed after a successful (or partial) invocation
    records_sent_to_destination: int = 0  # pointed to by on-failure messages
    records_pending: int = 0  # read, not yet settled (0 once drained)
    records_redelivered: int = 0  # deliveries of records delivered before
    invocations: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    retries: int = 0  # redeliveries counted against retryAttempts
    bisections: int = 0
    failure_messages: Counter[str] = field(default_factory=Counter)  # by condition
    handler_metrics: dict[str, float] = field(default_factory=dict)  # summed EMF values
    cold_starts: int = 0  # invocations that started a new execution environment
    init_durations_ms: list[float] = field(default_factory=list)  # their INIT phases
    iterator_age_ms: int = 0  # last invocation's; 0 once drained
    max_iterator_age_ms: int = 0
    drained: bool = False
    enabled: bool = True

    @property
    def destination_batches(self) -> int:
        return sum(self.failure_messages.values())

    @property
    def quarantined(self) -> int:
        """Records the function itself sent to the destination (its EMF metric)."""
        return int(self.handler_metrics.get("RecordsQuarantined", 0))

    @property
    def unaccounted(self) -> int:
        """Records read but in no other count: must be 0."""
        return (
            self.records_read
            - self.records_filtered
            - self.records_succeeded
            - self.records_sent_to_destination
            - self.records_pending
        )


@dataclass
class ShardState:
    shard_id: str
    parent_id: str | None
    iterator_type: str
    iterator: str | None = None
    end_reached: bool = False  # GetRecords returned no next iterator: closed and read
    idle: bool = False  # the last read returned nothing new
    finished: bool = False
    buffer: list[dict[str, Any]] = field(default_factory=list)  # read, not yet batched
    pending: deque[Batch] = field(default_factory=deque)  # to (re)deliver, in order
    last_read: str | None = None  # sequence number of the last record read
    delivered_up_to: int = -1  # highest sequence number delivered so far
    window_start: float = 0.0

    def settled(self) -> bool:
        return not self.buffer and not self.pending and (self.finished or self.idle)


def judge(
    result: InvocationResult, numbers: list[str], report_batch_item_failures: bool = True
) -> tuple[str, int | None]:
    """The mapping's reading of one invocation: its outcome and, for a partial failure, the
    index of the lowest reported sequence number (ReportBatchItemFailures)."""
    if result.status == TIMEOUT:
        return OUTCOME_TIMEOUT, None
    if result.status == ERROR:
        return OUTCOME_ERROR, None
    assert result.status == SUCCESS
    if not report_batch_item_failures:
        return OUTCOME_SUCCESS, None
    response = result.response
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not failures:  # null, empty list, absent key, or no response at all
        return OUTCOME_SUCCESS, None
    if not isinstance(failures, list):
        return OUTCOME_INVALID, None
    positions = {number: index for index, number in enumerate(numbers)}
    indexes = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in positions:
            return OUTCOME_INVALID, None
        indexes.append(positions[identifier])
    return OUTCOME_PARTIAL, min(indexes)
