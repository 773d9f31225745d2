"""Reading an S3 failure destination: the batches Lambda kept whole, and quarantined records.

Why S3 changes the redrive: for a stream mapping, Lambda writes the whole invocation record
to an S3 destination, the failed batch included (`payload`, the invocation event as an
escaped JSON string), one object per discarded batch under
`aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>` (Lambda
developer guide, "Retain discarded records for a DynamoDB event source"; aws-facts.md). The
function writes one object per poison record under `quarantine/`. So nothing is read back
from the stream: a batch is replayable days later, until the bucket's lifecycle expires it.

The bucket is read the way `FailureQueue` reads a queue, so the same run (inventory,
archive, replay in stream order per item) works on both:
- `receive` lists the two prefixes and reads every object (nothing is hidden or locked:
  S3 has no visibility timeout, so a second run at the same time would read the same
  objects; replaying a record twice is harmless, routes are idempotent);
- an object is deleted only when the caller says every record in it was replayed (with
  versioning on, that leaves a delete marker: the batch stays recoverable as a noncurrent
  version until the lifecycle removes it);
- nothing else changes the bucket, so an interrupted or killed run loses nothing: the next
  run lists the objects still there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from streamops.lambda_local.event_filter import RecordFilter
from streamops.redrive.failure_queue import FailureQueue, QueueError
from streamops.redrive.failures import BatchPointer, ReceivedMessage
from streamops.redrive.readback import RECOVERED, ReadBack

# Where each writer puts objects (components/failure_destination.py).
PREFIXES = ("aws/lambda/", "quarantine/")
MAX_DELETE_PER_CALL = 1000  # DeleteObjects
SECONDS_PER_DAY = 86400
EXPIRATION_RULE = "expire-failures"  # the lifecycle rule FailureBucket creates


class FailureBucket:
    """The failure bucket read by one run (same interface as `FailureQueue`)."""

    def __init__(
        self,
        s3: Any,
        bucket: str,
        *,
        on_read: Callable[[int, int], None] | None = None,
    ):
        self.s3, self.bucket = s3, bucket
        self.on_read = on_read  # (objects read, objects listed): progress
        self._held: dict[str, ReceivedMessage] = {}
        self.warnings: list[str] = []

    def __enter__(self) -> FailureBucket:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Nothing to release: reading an object neither hides nor locks it.
        self._held.clear()

    @property
    def held_ids(self) -> set[str]:
        """Keys read in this run and not deleted."""
        return set(self._held)

    def retention_days(self) -> int | None:
        """The lifecycle's expiration in days (None: no such rule, or it cannot be read)."""
        try:
            rules = self.s3.get_bucket_lifecycle_configuration(Bucket=self.bucket)["Rules"]
        except ClientError:
            return None
        for rule in rules:
            days = (rule.get("Expiration") or {}).get("Days")
            if rule.get("Status") == "Enabled" and isinstance(days, int):
                return days
        return None

    def attributes(self) -> dict[str, str]:
        """What the run prints as the destination's retention (as SQS names it)."""
        days = self.retention_days()
        return {"MessageRetentionPeriod": str(days * SECONDS_PER_DAY)} if days else {}

    def keys(self) -> Iterator[tuple[str, Any]]:
        """(key, LastModified) of every object under the writers' prefixes."""
        pages = self.s3.get_paginator("list_objects_v2")
        for prefix in PREFIXES:
            for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"], item["LastModified"]

    def receive(self, limit: int | None = None) -> list[ReceivedMessage]:
        """Read every object (at most `limit`); each becomes one message, its key the id."""
        listed = list(self.keys())[:limit] if limit else list(self.keys())
        messages = []
        for done, (key, modified) in enumerate(listed, 1):
            try:
                body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except self.s3.exceptions.NoSuchKey:
                continue  # deleted since the listing (another run replayed it)
            message = ReceivedMessage(key, body.decode("utf-8", "replace"), sent_at=modified)
            self._held[key] = message
            messages.append(message)
            if self.on_read is not None:
                self.on_read(done, len(listed))
        return messages

    def keep_alive(self) -> None:
        """Nothing to renew: objects stay readable (a queue would have to re-hide)."""

    def delete(self, message_ids: Iterable[str]) -> None:
        """Delete these objects; raises QueueError naming those S3 refused (they stay)."""
        keys = [key for key in message_ids if key in self._held]
        refused: list[str] = []
        for start in range(0, len(keys), MAX_DELETE_PER_CALL):
            chunk = keys[start : start + MAX_DELETE_PER_CALL]
            try:
                answer = self.s3.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": key} for key in chunk], "Quiet": True},
                )
            except (ClientError, BotoCoreError) as error:
                refused += [f"{key} ({error})" for key in chunk]
                continue
            failed = {item["Key"]: item.get("Message", "") for item in answer.get("Errors", [])}
            refused += [f"{key} ({message})" for key, message in failed.items()]
            for key in chunk:
                if key not in failed:
                    self._held.pop(key, None)
        if refused:
            raise QueueError(f"S3 kept {len(refused)} object(s): {', '.join(refused)}")


@dataclass
class StoredBatch(ReadBack):
    """A batch whose records came with its S3 object: nothing to read back, no 24 h."""

    stored: bool = True

    def expires_at(self) -> Any:
        return None  # the bucket's lifecycle, not the stream, decides

    def past_retention(self, now: Any) -> int:
        return 0


# What a redrive run reads: the failure queue, or the failure bucket read like one.
FailureSource = FailureQueue | FailureBucket


class PayloadError(ValueError):
    """An S3 invocation record whose `payload` does not hold the batch."""


def payload_records(payload: Any) -> list[dict[str, Any]]:
    """The batch in an S3 invocation record's `payload` (the invocation event as an escaped
    JSON string). Raises PayloadError when it is not an invocation event.
    """
    try:
        event = json.loads(payload) if isinstance(payload, str) else payload
    except ValueError as error:
        raise PayloadError(f"payload is not JSON ({error})") from error
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not all(isinstance(item, dict) for item in records):
        raise PayloadError("payload is not an invocation event ({'Records': [...]})")
    return records


def stored_batch(
    pointer: BatchPointer, records: list[dict[str, Any]], record_filter: RecordFilter | None
) -> StoredBatch:
    """The batch's records from its object, as the inventory's read-back result."""
    delivered = list(records)
    if record_filter is not None:  # a payload holds delivered records only; kept for symmetry
        delivered = [record for record in delivered if record_filter.passes(record)]
    expected = pointer.batch_size
    detail = f"{len(delivered)} record(s)" + (f" for a batch of {expected}" if expected else "")
    detail += " from the S3 object itself (no stream read, no 24 h deadline)"
    return StoredBatch(pointer, RECOVERED, delivered, detail)
