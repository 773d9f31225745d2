"""What a redrive run found: each message, what it holds, and whether it may be deleted.

Built from the messages received from the failure queue: pointers are read back from the
stream (streamops.redrive.readback), quarantined records reassembled (streamops.redrive.failures).
Each record is held once, however many messages cover it (a record quarantined twice, a
range delivered twice, a quarantined record also inside a pointer's range), and each
message knows the records it covers. The deletion rule lives here: a message may be
deleted only when every record it covers has been replayed and it holds nothing else
(a pointer whose range expired, a quarantined record still missing parts and an unknown
message are never deleted by a replay).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from streamops.lambda_local.event_filter import RecordFilter
from streamops.redrive.failures import (
    BatchPointer,
    QuarantineGroup,
    ReceivedMessage,
    UnknownMessage,
    group_quarantined,
    parse,
    partition,
)
from streamops.redrive.readback import EXPIRED, PARTIAL, RECOVERED, ReadBack, created_at, read_back
from streamops.redrive.replay import REPLAYED, SOURCE_POINTER, SOURCE_QUARANTINE, Outcome, Recovered
from streamops.redrive.s3_destination import PayloadError, payload_records, stored_batch

KIND_POINTER = "pointer"
KIND_QUARANTINE = "quarantine"
KIND_UNKNOWN = "unknown"
# Message statuses besides the read-back ones (recovered / partially expired / expired /
# incomplete) for pointers.
COMPLETE = "complete"  # a quarantined record, every part here
MISSING_PARTS = "missing parts"
UNREADABLE = "unreadable"


@dataclass
class MessageState:
    message: ReceivedMessage
    kind: str
    status: str
    detail: str
    keys: list[str] = field(default_factory=list)  # records this message covers
    pointer: BatchPointer | None = None
    read_back: ReadBack | None = None
    group: QuarantineGroup | None = None
    unknown: UnknownMessage | None = None

    @property
    def message_id(self) -> str:
        return self.message.message_id

    def stream_expires_at(self) -> dt.datetime | None:
        """When the stream starts dropping this pointer's records (None: not a pointer)."""
        if self.read_back is not None:
            return self.read_back.expires_at()
        return None

    @property
    def expired(self) -> bool:
        return self.status in (EXPIRED, PARTIAL)


@dataclass
class Inventory:
    messages: list[MessageState]
    records: dict[str, Recovered]

    def by_kind(self, kind: str) -> list[MessageState]:
        return [state for state in self.messages if state.kind == kind]

    def ordered_records(self) -> list[Recovered]:
        return sorted(self.records.values(), key=Recovered.order)

    @staticmethod
    def can_delete(state: MessageState, outcomes: dict[str, Outcome]) -> bool:
        """Every record of the message was replayed, and it holds nothing else."""
        return (
            state.status in (RECOVERED, COMPLETE)
            and bool(state.keys)
            and all(_replayed(outcomes, key) for key in state.keys)
        )

    def droppable(self, outcomes: dict[str, Outcome]) -> list[MessageState]:
        """Expired pointers with nothing left to replay: fully expired ones, and partly
        expired ones whose surviving records were all replayed in this run."""
        return [
            state
            for state in self.messages
            if state.status == EXPIRED
            or (state.status == PARTIAL and all(_replayed(outcomes, key) for key in state.keys))
        ]


def _replayed(outcomes: dict[str, Outcome], key: str) -> bool:
    outcome = outcomes.get(key)
    return outcome is not None and outcome.status == REPLAYED


def take_inventory(
    messages: Sequence[ReceivedMessage],
    streams: Any,
    *,
    before_read: Any = None,
    record_filter: RecordFilter | None = None,
) -> Inventory:
    """Parse every message and recover its records (reads pointers back from the stream,
    keeping the records `record_filter` passes). `before_read` is called before each stream
    read-back (to keep the messages hidden)."""
    parsed = [parse(message) for message in messages]
    by_id = {message.message_id: message for message in messages}
    pointers, parts, unknown = partition(parsed)
    states: dict[str, MessageState] = {}
    records: dict[str, Recovered] = {}

    for pointer in pointers:
        read: ReadBack
        if pointer.payload is not None:  # an S3 object: the batch itself, no stream read
            try:
                read = stored_batch(pointer, payload_records(pointer.payload), record_filter)
            except PayloadError as error:
                message = by_id[pointer.message_id]
                unreadable = UnknownMessage(message.message_id, str(error), message.body[:120])
                states[pointer.message_id] = MessageState(
                    message, KIND_UNKNOWN, UNREADABLE, str(error), unknown=unreadable
                )
                continue
        else:
            if before_read is not None:
                before_read()
            read = read_back(streams, pointer, record_filter)
        state = MessageState(
            by_id[pointer.message_id],
            KIND_POINTER,
            read.status,
            read.detail,
            pointer=pointer,
            read_back=read,
        )
        for record in read.records:
            sequence = str(record["dynamodb"]["SequenceNumber"])
            key = _add(
                records,
                Recovered(
                    key=f"{pointer.stream_arn}#{sequence}",
                    record=record,
                    source=SOURCE_POINTER,
                    message_ids=[],
                    sequence_number=sequence,
                    stream_arn=pointer.stream_arn,
                    shard_id=pointer.shard_id,
                    reason=pointer.condition,
                ),
                pointer.message_id,
            )
            state.keys.append(key)
        states[pointer.message_id] = state

    for group in group_quarantined(parts):
        quarantined = _add_quarantined(records, group) if group.complete else None
        for message_id in group.message_ids:
            states[message_id] = MessageState(
                by_id[message_id],
                KIND_QUARANTINE,
                COMPLETE if quarantined else MISSING_PARTS,
                group.record.reason if quarantined else group.problem,
                keys=[quarantined] if quarantined else [],
                group=group,
            )

    for item in unknown:
        states[item.message_id] = MessageState(
            by_id[item.message_id], KIND_UNKNOWN, UNREADABLE, item.reason, unknown=item
        )
    return Inventory([states[message.message_id] for message in messages], records)


def _add(records: dict[str, Recovered], record: Recovered, message_id: str) -> str:
    existing = records.setdefault(record.key, record)
    if message_id not in existing.message_ids:
        existing.message_ids.append(message_id)
    return record.key


def _add_quarantined(records: dict[str, Recovered], group: QuarantineGroup) -> str:
    quarantined = group.record
    sequence = quarantined.sequence_number
    stream_arn = quarantined.event_source_arn
    if not (isinstance(sequence, str) and sequence.isdigit() and isinstance(stream_arn, str)):
        sequence = None
    key = f"{stream_arn}#{sequence}" if sequence else f"quarantine:{group.record_id}"
    recovered = records.get(key)
    if recovered is None:
        recovered = records[key] = Recovered(
            key=key,
            record=quarantined.record,
            source=SOURCE_QUARANTINE,
            message_ids=[],
            sequence_number=sequence,
            stream_arn=stream_arn if isinstance(stream_arn, str) else None,
            shard_id=None,
            reason=quarantined.reason,
        )
    else:  # also inside a pointer's range: the function already judged it poison
        recovered.source, recovered.reason = SOURCE_QUARANTINE, quarantined.reason
    for message_id in group.message_ids:
        if message_id not in recovered.message_ids:
            recovered.message_ids.append(message_id)
    return key


# --------------------------------------------------------------------------- archive


def archive_entries(inventory: Inventory) -> Iterator[dict[str, Any]]:
    """One JSON object per recovered record, in replay order; then one per message that
    yielded no record (an expired range, a quarantined record missing parts, an unknown
    message), so the archive says what could NOT be recovered too."""
    for record in inventory.ordered_records():
        created = created_at(record.record) if isinstance(record.record, dict) else None
        yield {
            "status": "recovered",
            "source": record.source,
            "messageIds": record.message_ids,
            "streamArn": record.stream_arn,
            "shardId": record.shard_id,
            "sequenceNumber": record.sequence_number,
            "reason": record.reason,
            "approximateCreationDateTime": created.isoformat() if created else None,
            "record": record.record,
        }
    for state in inventory.messages:
        if state.keys and state.status != PARTIAL:
            continue
        entry: dict[str, Any] = {
            "status": state.status,
            "source": state.kind,
            "messageIds": [state.message_id],
            "reason": state.detail,
            "record": None,
        }
        if state.pointer is not None:
            pointer = state.pointer
            entry.update(
                streamArn=pointer.stream_arn,
                shardId=pointer.shard_id,
                startSequenceNumber=pointer.start_sequence,
                endSequenceNumber=pointer.end_sequence,
                batchSize=pointer.batch_size,
                condition=pointer.condition,
                recoveredSequenceNumbers=[
                    str(record["dynamodb"]["SequenceNumber"])
                    for record in (state.read_back.records if state.read_back else [])
                ],
            )
        else:
            entry["body"] = state.message.body
        yield entry
