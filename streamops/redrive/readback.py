"""Reading a discarded batch back from the stream, before the stream forgets it.

The mapping's on-failure document only points at the batch: stream ARN, shard, first and
last sequence number. The records themselves are in the stream for 24 hours after they
were written, and then gone. This reads them back the way AWS documents it
(DescribeStream to find the shard, GetShardIterator AT_SEQUENCE_NUMBER at the first
sequence number, GetRecords following NextShardIterator until past the last one) and says
plainly when they cannot be read any more:

- `expired`: the stream or the shard no longer exists (a closed shard is removed, and a
  disabled stream deleted, 24 h later), or every record of the range has been trimmed
  (GetShardIterator answers TrimmedDataAccessException and nothing of the range is left);
- `partially expired`: the range's first records were trimmed, the later ones recovered;
- `incomplete`: the end of the range was not reached (an open shard returned nothing more,
  or the read failed for another reason, e.g. access denied): run again later;
- `recovered`: every record of the range that the stream holds.

A range can hold more records than the failed batch. Records matching none of the
trigger's filter patterns were never delivered: they are left out (and counted). With
`parallelizationFactor` > 1, other items' records went to concurrent batches: they are
recovered too (replaying a record twice is harmless: delivery is at least once and the
handler idempotent; skipping one that was in the batch would lose it). The count is shown
next to the batch size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from streamops.lambda_local.event_filter import RecordFilter
from streamops.redrive.failures import STREAM_RETENTION, BatchPointer
from streamops.stream_event import creation_time, lambda_record

RECOVERED = "recovered"
PARTIAL = "partially expired"
EXPIRED = "expired"
INCOMPLETE = "incomplete"

# GetRecords returns at most 1000 records per call.
RECORDS_PER_READ = 1000
# An open shard answers an empty page when nothing newer has been written; after this many
# in a row, the end of the range is not coming (yet).
MAX_EMPTY_READS = 5
# A shard iterator expires 15 minutes after it is handed out; re-requested at most this often.
MAX_ITERATOR_RENEWALS = 5
TRIMMED = "TrimmedDataAccessException"
NOT_FOUND = "ResourceNotFoundException"
EXPIRED_ITERATOR = "ExpiredIteratorException"


@dataclass
class ReadBack:
    """What the stream still holds of one pointer's range."""

    pointer: BatchPointer
    status: str
    records: list[dict[str, Any]] = field(default_factory=list)  # Lambda's form, in order
    detail: str = ""

    def oldest_created(self) -> dt.datetime | None:
        times = [created_at(record) for record in self.records]
        known = [moment for moment in times if moment is not None]
        return min(known) if known else self.pointer.first_arrival

    def expires_at(self) -> dt.datetime | None:
        oldest = self.oldest_created()
        return None if oldest is None else oldest + STREAM_RETENTION

    def past_retention(self, now: dt.datetime) -> int:
        """Recovered records older than 24 h: AWS may trim them at any moment."""
        return sum(
            1
            for record in self.records
            if (moment := created_at(record)) is not None and now - moment > STREAM_RETENTION
        )


class _Trimmed(Exception):
    pass


class _Gone(Exception):
    pass


def read_back(
    streams: Any, pointer: BatchPointer, record_filter: RecordFilter | None = None
) -> ReadBack:
    """The records of `pointer`'s range, with a status; never raises for AWS errors.
    With `record_filter` (the trigger's filter patterns), records matching none of them are
    left out: the mapping never delivered them, so they were not in the failed batch."""
    start, end = int(pointer.start_sequence), int(pointer.end_sequence)
    try:
        if pointer.shard_id not in _shard_ids(streams, pointer.stream_arn):
            return ReadBack(
                pointer,
                EXPIRED,
                detail=f"shard {pointer.shard_id} is no longer in the stream (a closed shard "
                "is removed 24 h after it closes, with its records)",
            )
        trimmed = False
        try:
            iterator = _iterator(streams, pointer, "AT_SEQUENCE_NUMBER", pointer.start_sequence)
        except _Trimmed:
            trimmed = True
            iterator = _iterator(streams, pointer, "TRIM_HORIZON")
        raw, reached_end, problem = _scan(streams, pointer, iterator, start, end)
    except _Gone as gone:
        return ReadBack(pointer, EXPIRED, detail=str(gone))
    except ClientError as error:
        return ReadBack(pointer, INCOMPLETE, detail=f"cannot read the stream: {error}")

    region = pointer.stream_arn.split(":")[3]
    records = [lambda_record(item, pointer.stream_arn, region) for item in raw]
    in_range = len(records)
    if record_filter is not None:
        records = [record for record in records if record_filter.passes(record)]
    expected = pointer.batch_size
    count = f"{len(records)} record(s)" + (f" for a batch of {expected}" if expected else "")
    if len(records) < in_range:
        count += (
            f" ({in_range - len(records)} more in the range match none of the trigger's filter "
            "patterns: never delivered, left out)"
        )
    if trimmed and not records:
        return ReadBack(
            pointer,
            EXPIRED,
            detail="every record of the range is older than the stream's 24 h retention "
            "(TrimmedDataAccessException)",
        )
    if trimmed:
        return ReadBack(
            pointer,
            PARTIAL,
            records,
            f"the range's first records were trimmed (older than 24 h); {count} recovered",
        )
    if not reached_end:
        return ReadBack(pointer, INCOMPLETE, records, f"{problem}; {count} read so far")
    if not records:
        return ReadBack(
            pointer,
            INCOMPLETE,
            detail="the shard holds no record in the range (not trimmed)"
            if not in_range
            else f"{count}: did the filter patterns change since?",
        )
    return ReadBack(pointer, RECOVERED, records, count)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _shard_ids(streams: Any, stream_arn: str) -> set[str]:
    shards: set[str] = set()
    request: dict[str, Any] = {"StreamArn": stream_arn}
    while True:
        try:
            description = streams.describe_stream(**request)["StreamDescription"]
        except ClientError as error:
            if _error_code(error) == NOT_FOUND:
                raise _Gone(
                    f"stream {stream_arn} no longer exists (a stream is deleted 24 h after it "
                    "is disabled or its table deleted, with its records)"
                ) from error
            raise
        shards.update(shard["ShardId"] for shard in description.get("Shards", []))
        last = description.get("LastEvaluatedShardId")
        if not last:
            return shards
        request["ExclusiveStartShardId"] = last


def _iterator(
    streams: Any, pointer: BatchPointer, kind: str, sequence_number: str | None = None
) -> str:
    request: dict[str, Any] = {
        "StreamArn": pointer.stream_arn,
        "ShardId": pointer.shard_id,
        "ShardIteratorType": kind,
    }
    if sequence_number is not None:
        request["SequenceNumber"] = sequence_number
    try:
        return str(streams.get_shard_iterator(**request)["ShardIterator"])
    except ClientError as error:
        if _error_code(error) == TRIMMED:
            raise _Trimmed() from error
        if _error_code(error) == NOT_FOUND:
            raise _Gone(
                f"shard {pointer.shard_id} of {pointer.stream_arn} no longer exists "
                "(removed 24 h after it closed, with its records)"
            ) from error
        raise


def _pages(streams: Any, pointer: BatchPointer, iterator: str | None) -> Iterator[list[dict]]:
    """GetRecords pages, following NextShardIterator until the shard's end (None)."""
    renewals = 0
    last: str | None = None
    while iterator:
        try:
            page = streams.get_records(ShardIterator=iterator, Limit=RECORDS_PER_READ)
        except ClientError as error:
            if _error_code(error) != EXPIRED_ITERATOR or renewals >= MAX_ITERATOR_RENEWALS:
                raise
            renewals += 1
            iterator = (
                _iterator(streams, pointer, "AFTER_SEQUENCE_NUMBER", last)
                if last
                else _iterator(streams, pointer, "AT_SEQUENCE_NUMBER", pointer.start_sequence)
            )
            continue
        records = page.get("Records", [])
        if records:
            last = str(records[-1]["dynamodb"]["SequenceNumber"])
        yield records
        iterator = page.get("NextShardIterator")


def _scan(
    streams: Any, pointer: BatchPointer, iterator: str, start: int, end: int
) -> tuple[list[dict[str, Any]], bool, str]:
    """(records in [start, end], whether the range's end was reached, why not)."""
    found: list[dict[str, Any]] = []
    empty = 0
    try:
        for page in _pages(streams, pointer, iterator):
            for record in page:
                number = int(record["dynamodb"]["SequenceNumber"])
                if number > end:
                    return found, True, ""
                if number >= start:
                    found.append(record)
                if number == end:
                    return found, True, ""
            empty = 0 if page else empty + 1
            if empty >= MAX_EMPTY_READS:
                return found, False, "the shard holds nothing up to the end sequence number yet"
    except ClientError as error:
        if _error_code(error) == TRIMMED:
            return found, False, "records were trimmed while being read"
        raise
    # A closed shard read to its end: nothing more can come.
    return found, True, ""


def created_at(record: dict[str, Any]) -> dt.datetime | None:
    """A record's ApproximateCreationDateTime as a UTC time."""
    seconds = creation_time(record)
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.UTC)
