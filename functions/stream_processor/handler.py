"""Lambda entry point (``handler.lambda_handler``): the batch loop for DynamoDB Streams.

Why it is shaped this way (the event source mapping always has ReportBatchItemFailures):

- Records are processed in stream order. On the first record whose routes raise, the loop
  STOPS and reports that record's sequence number in ``batchItemFailures``. Lambda
  checkpoints at the lowest reported sequence number and redelivers everything from there,
  so processing later records first would break per-item order and do their work twice.
- A poison record (malformed envelope, undecodable value, unknown event name, or a route
  raising ``records.PoisonRecordError``) can never succeed; retrying it would block the
  shard until it expires. It is sent, whole and with the reason, to the failure destination
  (``quarantine``), and the loop continues. If it cannot be sent (destination unset or the
  send fails) it is reported as failed instead, like any other failure. Nothing is dropped.
- A send has a time budget: after the first record, when less time is left than the send
  may take at worst (``quarantine_budget_ms``: 28 s for one message), the poison record is
  reported as failed rather than risking the invocation's timeout (which would retry the
  whole batch and send earlier quarantined records again). Lambda redelivers it first, in
  a fresh invocation with the full timeout, where it is tried whatever the time left.
  A poison record without a usable sequence number cannot be reported, so it is never
  deferred: it is tried like a first record, whatever the time left.
- A poison record that also lacks a usable sequence number, when it cannot be quarantined,
  has no identifier to report: the invocation raises, so Lambda retries the whole batch.
- What routes count (StatusChanges, PriceChanges) joins the invocation's counts only once
  the record settled: a record that then fails or is quarantined is not counted.
- Per-record lines are INFO; whether INFO is on is checked once per invocation
  (``Invocation.verbose``), so at the production level (WARN) they cost nothing. At INFO a
  record's lines are ONE entry, written after its routes ran (``Invocation.flush_notes``),
  and before its error entry when it fails.
- One EMF line with the invocation's counts is written at the end, even when it raises.
"""

from __future__ import annotations

import logging
import os

import metrics
import quarantine
import routes
from records import (
    INSERT,
    MODIFY,
    REMOVE,
    Change,
    CheckedChange,
    PoisonRecordError,
    is_ttl_identity,
    unknown_event,
)
from settings import (
    ENV_FAILURE_DESTINATION,
    ENV_FUNCTION_NAME,
    ENV_LOG_LEVEL,
    LOGGER_NAME,
    Settings,
)

TYPE_CHECKING = False  # typing is not imported at run time: it is cold-start time
if TYPE_CHECKING:
    from typing import Any

log = logging.getLogger(LOGGER_NAME)

# Kept free after a quarantine send for what follows it (a log line, the EMF line).
QUARANTINE_MARGIN_MS = 1000


def quarantine_budget_ms(parts: int) -> int:
    """The time a poison record's quarantine may take at worst: its parts are sent one after
    another, each up to ``quarantine.SEND_WORST_CASE_MS`` (27 s: 3 attempts x (3 s connect
    + 5 s read) + 3 s backoff), then ``QUARANTINE_MARGIN_MS``. One part: 28 s."""
    return parts * quarantine.SEND_WORST_CASE_MS + QUARANTINE_MARGIN_MS


# With the JSON log format and an application log level, Lambda sets the root logger's
# level (and AWS_LAMBDA_LOG_LEVEL): we inherit it untouched. With the plain text format
# Lambda leaves the root at WARNING, where the seed's INFO lines would vanish, so only then
# (in Lambda, no level configured) does this logger default to INFO as the seed's did.
if os.environ.get(ENV_FUNCTION_NAME) and not os.environ.get(ENV_LOG_LEVEL) and not log.level:
    log.setLevel(logging.INFO)


def lambda_handler(event: Any, context: Any) -> dict[str, list[dict[str, str]]]:
    return process_event(event, context)


def process_event(
    event: Any,
    context: Any = None,
    *,
    router: routes.Router | None = None,
    sender: quarantine.Sender | None = None,
    settings: Settings | None = None,
    metrics_stream: Any = None,
) -> dict[str, list[dict[str, str]]]:
    """Process one stream batch; the keyword arguments let tests and the local runner inject
    a router, a quarantine sender (instead of SQS/SNS via boto3), settings (instead of the
    environment) and where the EMF line goes (instead of stdout)."""
    settings = Settings.from_env() if settings is None else settings
    counts = metrics.new_counts()
    # Routes count into the record's own counts; they join the invocation's only once the
    # record settled (every route ran): a record that then raises is retried or quarantined
    # and would otherwise be counted again on each attempt.
    inv = routes.Invocation(
        verbose=log.isEnabledFor(logging.INFO),
        counts=metrics.new_counts(),
        logger=log,
        context=context,
    )
    try:
        records = _records_of(event)
        failures = _process(
            records, routes.ROUTER if router is None else router, inv, settings, sender, counts
        )
    finally:
        metrics.emit(
            counts,
            namespace=settings.metrics_namespace,
            function_name=settings.function_name,
            stream=metrics_stream,
            log_level=settings.log_level,
        )
    return {"batchItemFailures": failures}


def _records_of(event: Any) -> list[Any]:
    if not isinstance(event, dict):
        raise TypeError(f"event is not an object but {type(event).__name__}")
    if "Records" not in event:
        # Nothing was delivered, so nothing can be lost: e.g. a console test invoke.
        log.error("Event has no 'Records': not a DynamoDB Streams batch, nothing processed")
        return []
    records = event["Records"]
    if not isinstance(records, list):
        # Something was delivered that cannot be read record by record, and there is no
        # identifier to report: fail the invocation so the batch is retried, not dropped.
        raise TypeError(f"event 'Records' is not a list but {type(records).__name__}")
    return records


def _process(
    records: list[Any],
    router: routes.Router,
    inv: routes.Invocation,
    settings: Settings,
    sender: quarantine.Sender | None,
    counts: dict[str, int],
) -> list[dict[str, str]]:
    pending = inv.counts  # the current record's counts from its routes
    verbose = inv.verbose
    table = router.plan_table(verbose)
    shared = router.shared_plans(verbose)
    insert_plan, modify_plan, remove_plan = shared[INSERT], shared[MODIFY], shared[REMOVE]
    classify = router.classify
    routes_for = router.routes_for
    inserted = modified = removed = ttl_expiries = 0
    failed_at = -1
    failed_sequence: str | None = None
    # The loop runs 10,000 times per batch at 128 MB, so it is written flat: Change(),
    # Router.dispatch and the event counting are inlined, and a record no route runs for
    # (every INSERT and REMOVE at WARN with the seed routes) costs its envelope check only.
    for position, record in enumerate(records):
        try:
            try:
                # The envelope in its common shape, checked with plain subscripts and exact
                # type tests; any other shape (no SK, numeric keys) or a bad one goes to
                # Change(record), the authoritative check, which accepts it or raises the
                # poison error with its precise reason. Never accepts what Change refuses.
                ddb = record["dynamodb"]
                name = record["eventName"]
                keys = ddb["Keys"]
                sequence_number = ddb["SequenceNumber"]
                pk_value = keys["PK"]
                sk_value = keys["SK"]
                pk = pk_value["S"]
                sk = sk_value["S"]
                if (
                    type(pk) is not str
                    or type(sk) is not str
                    or type(sequence_number) is not str
                    or not sequence_number
                    or type(record) is not dict
                    or type(ddb) is not dict
                    or type(keys) is not dict
                    or type(pk_value) is not dict
                    or type(sk_value) is not dict
                ):
                    raise TypeError
            except (KeyError, TypeError):
                change: Change = Change(record)
                ddb = record["dynamodb"]  # an object: Change() accepted the record
                name, sequence_number = change.event_name, change.sequence_number
                pk, sk = change.pk, change.sk
            # Router.dispatch, inlined; the event name is checked here too.
            if name == MODIFY:
                plan = modify_plan
            elif name == INSERT:
                plan = insert_plan
            elif name == REMOVE:
                plan = remove_plan
            else:
                raise unknown_event(name)
            if plan is None:  # entity-specific routes apply to this event
                plans = table[name]
                entity = classify(pk, sk)
                plan = plans.get(entity)
                if plan is None:
                    plan = plans[entity] = routes_for(entity, name, verbose)
            if plan:
                change = CheckedChange(record, ddb, name, sequence_number, pk, sk)
                for route in plan:
                    route(change, inv)
                if verbose:
                    inv.flush_notes()
                _settle(pending, counts)
        except PoisonRecordError as exc:
            _settle(pending, None)
            if verbose:
                inv.flush_notes()
            if _quarantine(record, exc.reason, position, settings, sender, inv.context):
                counts[metrics.RECORDS_QUARANTINED] += 1
                continue
            failed_at, failed_sequence = position, _sequence_number_of(record)
            break
        except Exception as exc:
            _settle(pending, None)
            if verbose:
                inv.flush_notes()
            failed_at, failed_sequence = position, _sequence_number_of(record)
            log.exception(
                "Record %d failed (sequence number %s): %s: %s",
                position,
                failed_sequence,
                type(exc).__name__,
                exc,
                extra=_ids(record),
            )
            break
        # Counted only once every route succeeded: plain local counters, no dict updates.
        if name == MODIFY:
            modified += 1
        elif name == INSERT:
            inserted += 1
        else:
            removed += 1
            identity = record.get("userIdentity")
            if identity is not None and is_ttl_identity(identity):
                ttl_expiries += 1

    processed = inserted + modified + removed
    counts[metrics.RECORDS_PROCESSED] += processed
    counts[metrics.RECORDS_INSERTED] += inserted
    counts[metrics.RECORDS_MODIFIED] += modified
    counts[metrics.RECORDS_REMOVED] += removed
    counts[metrics.TTL_EXPIRIES] += ttl_expiries
    if inv.verbose:
        log.info("Successfully processed %d records", processed)
    if failed_at < 0:
        return []

    counts[metrics.RECORDS_FAILED] += 1
    later = len(records) - failed_at - 1
    if failed_sequence is None:
        log.error(
            "Record %d cannot be processed, quarantined or identified (no sequence number): "
            "failing the invocation so the whole batch of %d records is retried",
            failed_at,
            len(records),
        )
        raise RuntimeError(f"record {failed_at} failed and has no sequence number to report")
    log.warning(
        "Stopped at record %d of %d: reported sequence number %s as failed; "
        "%d later records not processed (they are redelivered after it)",
        failed_at,
        len(records),
        failed_sequence,
        later,
        extra={"sequenceNumber": failed_sequence},
    )
    return [{"itemIdentifier": failed_sequence}]


def _settle(pending: dict[str, int], counts: dict[str, int] | None) -> None:
    """Add a record's route counts to the invocation's (``counts``), or drop them (None),
    and zero them for the next record."""
    for name, value in pending.items():
        if value:
            if counts is not None:
                counts[name] += value
            pending[name] = 0


def _sequence_number_of(record: Any) -> str | None:
    ddb = record.get("dynamodb") if type(record) is dict else None
    sequence = ddb.get("SequenceNumber") if type(ddb) is dict else None
    return sequence if type(sequence) is str and sequence else None


def _ids(record: Any) -> dict[str, str]:
    """JSON-safe identifiers for a log line's extra fields (Lambda's JSON format adds them)."""
    event_id = record.get("eventID") if type(record) is dict else None
    return {
        "eventID": event_id if type(event_id) is str else "",
        "sequenceNumber": _sequence_number_of(record) or "",
    }


def _quarantine(
    record: Any,
    reason: str,
    position: int,
    settings: Settings,
    sender: quarantine.Sender | None,
    context: Any = None,
) -> bool:
    """Send a poison record to the failure destination; False when it could not be sent, or
    when too little time is left to send it (see ``_time_is_short``)."""
    ids = _ids(record)
    log.error(
        "Poison record %d (sequence number %s): %s",
        position,
        ids["sequenceNumber"] or "none",
        reason,
        extra={**ids, "reason": reason},
    )
    if sender is None:
        if not settings.destination:
            log.error(
                "%s is not set: cannot quarantine poison record %d; reporting it as failed",
                ENV_FAILURE_DESTINATION,
                position,
                extra=ids,
            )
            return False
        try:
            sender = quarantine.sender_for(
                settings.destination_type, settings.destination, region=settings.region
            )
        except ValueError as exc:
            log.error(
                "Cannot quarantine poison record %d: %s; reporting it as failed",
                position,
                exc,
                extra=ids,
            )
            return False
    try:
        bodies = quarantine.build_messages(
            record,
            reason,
            function_name=settings.function_name,
            max_bytes=quarantine.max_message_bytes(settings.destination_type),
        )
        # Deferring is reporting: a record without a sequence number cannot be reported,
        # so it is tried like a first record (deferring it would fail the whole batch).
        if (
            position
            and ids["sequenceNumber"]
            and _time_is_short(context, len(bodies), position, ids)
        ):
            return False
        sender(bodies)
    except Exception as exc:
        log.exception(
            "Could not quarantine poison record %d (%s: %s); reporting it as failed",
            position,
            type(exc).__name__,
            exc,
            extra=ids,
        )
        return False
    log.warning(
        "Quarantined poison record %d in %d message(s) to %s",
        position,
        len(bodies),
        settings.destination or "the injected sender",
        extra=ids,
    )
    return True


def _time_is_short(context: Any, parts: int, position: int, ids: dict[str, str]) -> bool:
    """Whether the invocation has less time left than sending ``parts`` may take at worst.

    A slow destination would otherwise run the invocation into its timeout: the WHOLE batch
    is retried, the records quarantined before this one are sent again, and it can happen
    on every retry. Reporting this record as failed instead keeps the order and costs one
    redelivery: Lambda starts the next invocation at this record, with the full timeout.
    Only asked for a record after the first (``position`` > 0): the first record of a batch
    would be the first of its redelivery too, with no more time than now (a function
    timeout below the budget), so deferring it would block the shard for good.
    """
    remaining_time = getattr(context, "get_remaining_time_in_millis", None)
    if remaining_time is None:  # no Lambda context: run locally or by a test
        return False
    remaining_ms = remaining_time()
    budget_ms = quarantine_budget_ms(parts)
    if remaining_ms >= budget_ms:
        return False
    log.warning(
        "Not enough time left to quarantine poison record %d: %d ms left, sending %d "
        "message(s) may take %d ms; reporting it as failed (Lambda redelivers it first, "
        "in a fresh invocation)",
        position,
        remaining_ms,
        parts,
        budget_ms,
        extra=ids,
    )
    return True
