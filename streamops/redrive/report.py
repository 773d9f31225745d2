"""What a redrive run prints: one block per failure message (what it holds, how long is
left before the queue or the stream drops it), the records that did not replay and why,
and the run's summary with the next step."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from streamops.redrive.inventory import (
    KIND_POINTER,
    KIND_QUARANTINE,
    KIND_UNKNOWN,
    Inventory,
    MessageState,
)
from streamops.redrive.readback import EXPIRED, INCOMPLETE, PARTIAL, RECOVERED
from streamops.redrive.replay import (
    FAILED,
    HELD_BACK,
    POISON,
    REPLAYED,
    STILL_FAILING,
    UNCERTAIN,
    Outcome,
    Recovered,
)
from streamops.redrive.session_types import EXIT_LEFT, Options, Result


def duration(seconds: float) -> str:
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s"


def _when(moment: dt.datetime | None, now: dt.datetime) -> str:
    if moment is None:
        return "unknown"
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC ({duration((now - moment).total_seconds())} ago)"


def _time_left(deadline: dt.datetime | None, now: dt.datetime, what: str) -> str:
    if deadline is None:
        return f"{what}: unknown"
    left = (deadline - now).total_seconds()
    if left <= 0:
        return f"{what}: PAST ({duration(left)} ago)"
    return f"{what} in {duration(left)} ({deadline:%Y-%m-%d %H:%M} UTC)"


KIND_ORDER = {KIND_POINTER: 0, KIND_QUARANTINE: 1, KIND_UNKNOWN: 2}


def print_inventory(
    inventory: Inventory, out: TextIO, now: dt.datetime, retention_seconds: int
) -> None:
    """One block per message: pointers first (the stream's 24 h is the tightest deadline)."""
    states = sorted(
        inventory.messages,
        key=lambda state: (
            KIND_ORDER[state.kind],
            state.stream_expires_at() or dt.datetime.max.replace(tzinfo=dt.UTC),
        ),
    )
    for index, state in enumerate(states, 1):
        print(file=out)
        print(f"[{index}] {state.kind} {state.message_id}: {state.status}", file=out)
        for line in _message_lines(state, now, retention_seconds):
            print(f"    {line}", file=out)


def _message_lines(state: MessageState, now: dt.datetime, retention_seconds: int) -> list[str]:
    message = state.message
    queued = f"in the queue since {_when(message.sent_at, now)}"
    if message.sent_at and retention_seconds:
        deadline = message.sent_at + dt.timedelta(seconds=retention_seconds)
        queued += "; " + _time_left(deadline, now, "the queue deletes it")
    lines = []
    if state.pointer is not None and state.read_back is not None:
        pointer, read = state.pointer, state.read_back
        invocations = f", {pointer.invoke_count} invocation(s)" if pointer.invoke_count else ""
        lines += [
            f"{pointer.condition}{invocations}; gave up at {_when(pointer.timestamp, now)}",
            f"stream {pointer.stream_arn}",
            f"shard {pointer.shard_id}, sequence numbers {pointer.start_sequence} to "
            f"{pointer.end_sequence}",
            f"{read.status}: {read.detail}",
        ]
        if getattr(read, "stored", False):  # an S3 object: the bucket keeps the records
            pass
        elif state.status in (RECOVERED, PARTIAL, INCOMPLETE) and read.records:
            lines.append(f"oldest record written {_when(read.oldest_created(), now)}")
            lines.append(_time_left(read.expires_at(), now, "the stream drops it"))
            old = read.past_retention(now)
            if old:
                lines.append(
                    f"WARNING: {old} record(s) are older than 24 h: AWS may trim them at any "
                    "moment; archive or replay now"
                )
        elif state.status == EXPIRED:
            lines.append("these records are gone from the stream: only this pointer is left")
    elif state.group is not None:
        group = state.group
        if group.record is not None:
            quarantined = group.record
            lines += [
                f"record id {group.record_id}, {quarantined.event_name or 'no event name'}, "
                f"sequence number {quarantined.sequence_number or 'none'}",
                f"reason: {quarantined.reason}",
                f"quarantined by {quarantined.function_name or '?'} at {quarantined.time}",
            ]
            if len(group.message_ids) > 1:
                lines.append(f"held in {len(group.message_ids)} messages (parts or copies)")
        else:
            lines.append(f"record id {group.record_id}: {group.problem}")
    elif state.unknown is not None:
        lines += [state.detail, f"body: {state.unknown.preview}"]
    lines.append(queued)
    return lines


def print_outcomes(records: Sequence[Recovered], outcomes: dict[str, Outcome], out: TextIO) -> None:
    """The records that did not replay, with why."""
    for record in records:
        outcome = outcomes.get(record.key)
        if outcome is None or outcome.status == REPLAYED:
            continue
        where = record.sequence_number or record.key
        print(f"  {outcome.status}: {where}: {outcome.detail}", file=out)


def print_summary(
    inventory: Inventory | None, result: Result, options: Options, out: TextIO
) -> None:
    if inventory is None:
        return
    kinds = Counter(state.kind for state in inventory.messages)
    statuses = Counter(state.status for state in inventory.messages if state.kind == KIND_POINTER)
    print("\nsummary", file=out)
    print(
        f"  messages: {kinds[KIND_POINTER]} pointer, {kinds[KIND_QUARANTINE]} quarantine, "
        f"{kinds[KIND_UNKNOWN]} unknown; {len(inventory.records)} record(s) recovered",
        file=out,
    )
    if statuses:
        shown = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
        print(f"  pointers: {shown}", file=out)
    handled = set(result.deleted) | set(result.dropped)
    kept = [state for state in inventory.messages if state.message_id not in handled]
    if result.replayed:
        tally = Counter(outcome.status for outcome in result.outcomes.values())
        not_tried = len(inventory.records) - len(result.outcomes)
        failing = sum(tally[status] for status in STILL_FAILING)
        print(f"  replayed: {tally[REPLAYED]} record(s)", file=out)
        print(
            f"  still failing: {failing} record(s) ({tally[FAILED]} failed, "
            f"{tally[POISON]} poison, {tally[HELD_BACK]} held back behind "
            f"a failure of the same item, {tally[UNCERTAIN]} uncertain)"
            + (f"; {not_tried} not replayed (run stopped)" if not_tried else ""),
            file=out,
        )
    if options.replay and kept:
        result.exit_code = max(result.exit_code, EXIT_LEFT)
    expired = [state for state in kept if state.expired]
    print(
        f"  expired: {sum(1 for s in inventory.messages if s.expired)} message(s)"
        + (f", {len(result.dropped)} dropped" if options.drop_expired else ""),
        file=out,
    )
    print(f"  unknown: {kinds[KIND_UNKNOWN]} message(s), never deleted", file=out)
    print(
        f"  queue: {len(result.deleted) + len(result.dropped)} message(s) deleted, "
        f"{len(kept)} kept (visible again)",
        file=out,
    )
    if expired and not options.drop_expired:
        print(
            "  expired messages are kept: `--archive FILE --drop-expired` archives and then "
            "deletes them",
            file=out,
        )
    if not result.replayed and inventory.records:
        print(f"  next: fix the cause, deploy, then run: {options.replay_command}", file=out)
