"""Replaying recovered records through the function, in order per item, in batches.

Targets: the deployed function (`lambda.invoke`, RequestResponse, the same event shape the
mapping sends) for a real stack, or, for the emulator, the function's package in its
execution environments (awslambdaric processes, as the local mapping runs it). Either
answers like the mapping's function: `batchItemFailures` (the lowest reported record
failed, the ones before it succeeded, the ones after it were not processed), or an error
for the whole batch.

Order: records are replayed in stream order (sequence number) per stream, so each item's
changes arrive in the order they were made. Once a record fails, the later records of the
SAME item are held back (replaying them would apply a later change before an earlier
one); other items carry on. A batch that fails as a whole is split in two and each half
replayed (as the mapping's `bisectOnError` does), down to the single record that fails.

Batches hold at most the trigger's `batchSize` records and Lambda's 6 MB payload.

Poison records: the handler quarantines a record it can never process and carries on
(its answer does not list it). Such a record is "poison": still failing, and the messages
holding it are kept. The function sends it to its failure destination itself, in AWS and
in the emulator's environments alike (a new message with the same quarantine id, which
the tool treats as the same record). Run locally, the environment's log lines name each
record the handler quarantined, so exactly which records are poison is known. The deployed
function's answer only tells how many (the `RecordsQuarantined` count of its EMF line, in
the log tail). So on AWS a quarantined record is replayed in a batch of its own, and when
a batch of several records reports a quarantine, none of them is counted as replayed
("uncertain": their messages are kept).
"""

from __future__ import annotations

import base64
import json
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.config import Config

from streamops.function_code import function_module
from streamops.stream_event import MAX_PAYLOAD_BYTES, record_bytes, stream_event


def event_json(records: Sequence[Any]) -> str:
    """The event the mapping hands the function, as compact JSON (what the payload limit counts)."""
    return json.dumps(stream_event(records), separators=(",", ":"))


# What the event adds around the records, within Lambda's payload limit.
EVENT_OVERHEAD_BYTES = len(event_json([]))
# Outcomes of one record.
REPLAYED = "replayed"
FAILED = "failed"
POISON = "poison"
HELD_BACK = "held back"
UNCERTAIN = "uncertain"
STILL_FAILING = (FAILED, POISON, HELD_BACK, UNCERTAIN)
QUARANTINED_METRIC = "RecordsQuarantined"
SOURCE_POINTER = "pointer"
SOURCE_QUARANTINE = "quarantine"


@dataclass
class Recovered:
    """One record to replay, and the failure-destination messages that hold it."""

    key: str  # "<stream ARN>#<sequence number>", or "quarantine:<id>" without one
    record: Any  # as Lambda delivers it
    source: str  # SOURCE_POINTER | SOURCE_QUARANTINE
    message_ids: list[str]
    sequence_number: str | None
    stream_arn: str | None
    shard_id: str | None
    reason: str  # the quarantine reason, or the mapping's condition

    @property
    def item(self) -> str:
        """Per-item ordering key: the stream and the item's keys."""
        ddb = self.record.get("dynamodb") if isinstance(self.record, dict) else None
        keys = ddb.get("Keys") if isinstance(ddb, dict) else None
        if keys is None:
            return self.key  # no keys: a malformed record is an item of its own
        return f"{self.stream_arn}|{json.dumps(keys, sort_keys=True)}"

    def order(self) -> tuple[str, int, str]:
        if self.sequence_number is not None and self.sequence_number.isdigit():
            return (self.stream_arn or "", int(self.sequence_number), self.key)
        return ("\uffff", 0, self.key)  # records without a sequence number go last


@dataclass(frozen=True)
class Outcome:
    status: str  # REPLAYED or one of STILL_FAILING
    detail: str = ""


@dataclass
class Invocation:
    """What one invocation told about its batch."""

    failed: list[str] = field(default_factory=list)  # itemIdentifiers reported
    error: str | None = None  # the whole batch failed
    # Re-quarantined records by sequence number (or quarantine id): exact when the target
    # captures the quarantine messages; None when it only knows how many.
    requarantined: dict[str, str] | None = None
    requarantined_count: int = 0
    reasons: dict[str, str] = field(default_factory=dict)  # sequence number -> error text


class ReplayTarget(Protocol):
    description: str
    exact_quarantine: bool

    def invoke(self, records: Sequence[Any]) -> Invocation: ...


class TargetUnavailable(Exception):
    """The target cannot be invoked at all (throttled, missing, access denied): stop."""


# --------------------------------------------------------------------------- targets


class LocalFunction:
    """The deployed function's package in the emulator, invoked in its execution
    environments (awslambdaric processes, ``lambda_local.function``) with the deployed
    function's variables, as the local mapping runs it: the handler sends what it
    quarantines to the stack's failure destination itself, as it does in AWS.

    What it quarantined is still known exactly, from what the environment wrote (kept by
    the log pipeline at every application log level the config allows): the handler's
    ERROR entry for each poison record carries its ``sequenceNumber`` (or ``eventID``) and
    ``reason``, and the EMF line counts them. When those disagree, only the count is
    given (as for the deployed function). ``close()`` (or ``with``) ends the environments.
    """

    exact_quarantine = True

    def __init__(self, function: Any, description: str = ""):
        self.function = function  # a lambda_local.function.ProcessFunction
        self.description = description or "the function's package in an execution environment"
        self.environment_ids: set[int] = set()  # process ids of the environments invoked

    @classmethod
    def for_stack(cls, stack: Any, **package: Any) -> LocalFunction:
        """``package``: ``source``, ``handler``, ``variables`` of ``local_function`` (a
        wrapped package, as the demonstration's outage or a test's recorder)."""
        from streamops.lambda_local.mapping import local_function

        handler = package.get("handler") or "handler.lambda_handler"
        return cls(
            local_function(stack, **package),
            f"the function's package in awslambdaric execution environments ({handler})",
        )

    def close(self) -> None:
        self.function.close()

    def __enter__(self) -> LocalFunction:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def invoke(self, records: Sequence[Any]) -> Invocation:
        result = self.function.invoke(stream_event(records))
        if result.environment is not None:
            self.environment_ids.add(result.environment)
        messages = [line.message for line in result.lines]
        quarantined_count, reasons = read_log_tail("\n".join(messages))
        if result.error is not None:
            return Invocation(error=str(result.error), reasons=reasons)
        invocation = _answer(result.response, None, quarantined_count, reasons)
        if invocation.error is None:
            exact = _poison_entries(messages, records, set(invocation.failed))
            if exact is not None and len(exact) == quarantined_count:
                invocation.requarantined = exact
        return invocation


def _poison_entries(
    messages: Sequence[str], records: Sequence[Any], failed: set[str]
) -> dict[str, str] | None:
    """The handler's poison-record ERROR entries (with a ``reason``), by sequence number or
    quarantine id, without the records it then reported as failed (not sent); None when
    an entry names no record of the batch."""
    by_event_id = {
        record.get("eventID"): record
        for record in records
        if isinstance(record, dict) and record.get("eventID")
    }
    found: dict[str, str] = {}
    for message in messages:
        try:
            entry = json.loads(message)
        except ValueError:
            continue
        if not isinstance(entry, dict) or entry.get("level") != "ERROR" or "reason" not in entry:
            continue
        sequence = str(entry.get("sequenceNumber") or "")
        if sequence:
            if sequence not in failed:
                found[sequence] = str(entry["reason"])
        elif entry.get("eventID") in by_event_id:
            found[quarantine_id(by_event_id[entry["eventID"]])] = str(entry["reason"])
        else:
            return None
    return found


class DeployedFunction:
    """The stack's function in AWS, invoked as the mapping invokes it."""

    exact_quarantine = False

    def __init__(self, lambda_client: Any, function_name: str):
        self.client, self.function_name = lambda_client, function_name
        self.description = f"function {function_name} (lambda:InvokeFunction)"

    @staticmethod
    def client_config(timeout_seconds: int) -> Config:
        """Wait for the whole invocation, and never retry it behind the caller's back (a
        retried invoke would replay the batch again without anyone knowing)."""
        return Config(
            connect_timeout=10, read_timeout=timeout_seconds + 30, retries={"max_attempts": 1}
        )

    def invoke(self, records: Sequence[Any]) -> Invocation:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.client.invoke(
                FunctionName=self.function_name,
                InvocationType="RequestResponse",
                LogType="Tail",
                Payload=event_json(records).encode(),
            )
        except (ClientError, BotoCoreError) as error:
            raise TargetUnavailable(f"cannot invoke {self.function_name}: {error}") from error
        payload = answer["Payload"].read()
        tail = base64.b64decode(answer.get("LogResult") or "").decode("utf-8", "replace")
        quarantined_count, reasons = read_log_tail(tail)
        if answer.get("FunctionError"):
            return Invocation(
                error=f"{answer['FunctionError']} error: {_error_message(payload)}",
                reasons=reasons,
            )
        try:
            response = json.loads(payload) if payload else None
        except ValueError:
            return Invocation(error=f"the function's answer is not JSON: {payload[:200]!r}")
        return _answer(response, None, quarantined_count, reasons)


def _error_message(payload: bytes) -> str:
    try:
        body = json.loads(payload)
    except ValueError:
        return payload[:200].decode("utf-8", "replace")
    if isinstance(body, dict):
        return f"{body.get('errorType', '')}: {body.get('errorMessage', '')}".strip(": ")
    return str(body)[:200]


def read_log_tail(tail: str) -> tuple[int, dict[str, str]]:
    """From the last 4 KB of an invocation's log: the EMF line's RecordsQuarantined, and
    error entries naming a sequence number (Lambda's JSON log format keeps `extra` fields)."""
    quarantined = 0
    reasons: dict[str, str] = {}
    for line in tail.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        entry = _unwrapped_metrics(entry)
        if "_aws" in entry and isinstance(entry.get(QUARANTINED_METRIC), int | float):
            quarantined += int(entry[QUARANTINED_METRIC])
        if entry.get("level") == "ERROR" and entry.get("sequenceNumber"):
            reasons.setdefault(str(entry["sequenceNumber"]), str(entry.get("message", "")))
    return quarantined, reasons


def _unwrapped_metrics(entry: dict[str, Any]) -> dict[str, Any]:
    """An EMF document written with print() is a raw line; should the runtime wrap a stdout
    line as {"message": "<text>"}, the document is that text."""
    message = entry.get("message")
    if "_aws" not in entry and isinstance(message, str) and '"_aws"' in message:
        try:
            inner = json.loads(message)
        except ValueError:
            return entry
        if isinstance(inner, dict):
            return inner
    return entry


def _answer(
    response: Any,
    quarantined: dict[str, str] | None,
    quarantined_count: int,
    reasons: dict[str, str],
) -> Invocation:
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    invocation = Invocation(
        requarantined=quarantined, requarantined_count=quarantined_count, reasons=reasons
    )
    if not failures:
        return invocation
    if not isinstance(failures, list):
        invocation.error = f"batchItemFailures is not a list: {failures!r}"
        return invocation
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or not identifier:
            invocation.error = f"unusable batch item failure {failure!r}"
            return invocation
        invocation.failed.append(identifier)
    return invocation


# --------------------------------------------------------------------------- replaying


def quarantine_id(record: Any) -> str:
    """The id the function gives this record when it quarantines it."""
    quarantine = function_module("quarantine")
    body = quarantine.build_messages(record, "", function_name="")[0]
    return str(json.loads(body)["id"])


class Replay:
    """One replay run over recovered records; `on_outcome` is told as each record settles
    (so the caller can delete a message as soon as all its records are replayed)."""

    def __init__(
        self,
        target: ReplayTarget,
        batch_size: int,
        *,
        on_outcome: Callable[[Recovered, Outcome], None] = lambda record, outcome: None,
        before_invoke: Callable[[], None] = lambda: None,
        on_progress: Callable[[int, int], None] = lambda done, total: None,
    ):
        if batch_size < 1:
            raise ValueError("batch size must be at least 1")
        self.target, self.batch_size = target, batch_size
        self.on_outcome, self.before_invoke = on_outcome, before_invoke
        self.on_progress = on_progress
        self.outcomes: dict[str, Outcome] = {}
        self._blocked: dict[str, str] = {}  # item -> the sequence number that failed
        self._total = 0
        self.invocations = 0

    def run(self, records: Sequence[Recovered]) -> dict[str, Outcome]:
        pending = deque(sorted(records, key=Recovered.order))
        self._total = len(pending)
        batches: deque[list[Recovered]] = deque()  # split or leftover batches go first
        while batches or pending:
            batch = self._unblocked(batches.popleft()) if batches else self._next_batch(pending)
            if batch:
                batches.extendleft(reversed(self._deliver(batch)))
        return self.outcomes

    def _settle(self, record: Recovered, outcome: Outcome) -> None:
        self.outcomes[record.key] = outcome
        if outcome.status in (FAILED, HELD_BACK):
            self._blocked.setdefault(record.item, record.sequence_number or record.key)
        self.on_outcome(record, outcome)
        self.on_progress(len(self.outcomes), self._total)

    def _unblocked(self, batch: list[Recovered]) -> list[Recovered]:
        """`batch` without the records of items that failed earlier (held back)."""
        kept = []
        for record in batch:
            blocker = self._blocked.get(record.item)
            if blocker is None:
                kept.append(record)
            else:
                self._settle(
                    record, Outcome(HELD_BACK, f"after {blocker} of the same item, which failed")
                )
        return kept

    def _next_batch(self, pending: deque[Recovered]) -> list[Recovered]:
        batch: list[Recovered] = []
        payload = 0
        alone = not self.target.exact_quarantine
        while pending and len(batch) < self.batch_size:
            record = pending[0]
            if self._blocked.get(record.item) is not None:
                self._unblocked([pending.popleft()])
                continue
            size = record_bytes(record.record)
            by_itself = alone and record.source == SOURCE_QUARANTINE
            if batch and (payload + size > MAX_PAYLOAD_BYTES - EVENT_OVERHEAD_BYTES or by_itself):
                break
            batch.append(pending.popleft())
            payload += size
            if by_itself:
                break
        return batch

    def _deliver(self, batch: list[Recovered]) -> list[list[Recovered]]:
        """Invoke with `batch`; returns the batches still to deliver first (halves of a
        failed batch, or the records after a reported failure)."""
        self.before_invoke()
        self.invocations += 1
        result = self.target.invoke([record.record for record in batch])
        positions = {record.sequence_number: index for index, record in enumerate(batch)}
        if result.error is None and any(item not in positions for item in result.failed):
            result.error = f"reported item(s) not in the batch: {result.failed}"
        if result.error is not None:
            if len(batch) > 1:
                half = (len(batch) + 1) // 2
                return [batch[:half], batch[half:]]
            record = batch[0]
            reason = result.reasons.get(record.sequence_number or "", result.error)
            self._settle(record, Outcome(FAILED, reason))
            return []

        failed_at = min((positions[item] for item in result.failed), default=len(batch))
        ambiguous = result.requarantined is None and result.requarantined_count > 0
        for record in batch[:failed_at]:
            self._settle(record, self._processed(record, result, ambiguous, len(batch)))
        if failed_at == len(batch):
            return []
        record = batch[failed_at]
        reason = result.reasons.get(record.sequence_number or "", "reported as failed")
        self._settle(record, Outcome(FAILED, reason))
        rest = self._unblocked(batch[failed_at + 1 :])
        return [rest] if rest else []

    def _processed(
        self, record: Recovered, result: Invocation, ambiguous: bool, size: int
    ) -> Outcome:
        if ambiguous:
            if size == 1:
                return Outcome(POISON, "the function quarantined it again")
            return Outcome(
                UNCERTAIN,
                f"the function quarantined {result.requarantined_count} of the {size} records "
                "of this batch again (new quarantine messages); it does not say which",
            )
        if result.requarantined:
            key = record.sequence_number or quarantine_id(record.record)
            if key in result.requarantined:
                return Outcome(POISON, result.requarantined[key])
        return Outcome(REPLAYED)
