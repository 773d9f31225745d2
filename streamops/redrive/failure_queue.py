"""Reading the failure queue without losing a message.

SQS has no "peek": a message is read by receiving it, which hides it from other readers
for the visibility timeout, and it only leaves the queue when it is deleted with its
receipt handle. So the rules here are:

- every message received is HELD (hidden) for this run, its visibility extended before it
  could lapse (`keep_alive`, called before each step that may take long);
- a message is deleted only when the caller says its content is safe (replayed, or
  archived and explicitly dropped);
- everything still held when the run ends, normally or by an exception (Ctrl-C
  included), is released at once (visibility 0). If the process dies without running
  that (killed, machine gone), SQS makes the messages visible again when the visibility
  timeout runs out: late, but nothing is lost.

A message received twice in one scan (SQS standard queues deliver at least once) is held
once, under its latest receipt handle (only the latest one can delete it).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from streamops.redrive.failures import ReceivedMessage

# SQS limits: 10 messages per receive/batch call, visibility timeout at most 12 hours.
MAX_PER_CALL = 10
MAX_VISIBILITY_SECONDS = 12 * 3600
DEFAULT_VISIBILITY_SECONDS = 120
# Long polling: an empty short-poll answer does not mean an empty queue (it samples servers).
DEFAULT_WAIT_SECONDS = 2


class QueueError(Exception):
    """SQS refused a delete or visibility change: the message stays in the queue."""


@dataclass
class _Held:
    message: ReceivedMessage
    receipt_handle: str


class FailureQueue:
    """A queue being read by one run; use as a context manager so held messages are released."""

    def __init__(
        self,
        sqs: Any,
        url: str,
        *,
        visibility_seconds: int = DEFAULT_VISIBILITY_SECONDS,
        wait_seconds: int = DEFAULT_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not 1 <= visibility_seconds <= MAX_VISIBILITY_SECONDS:
            raise ValueError(f"visibility timeout must be 1..{MAX_VISIBILITY_SECONDS} s")
        self.sqs, self.url = sqs, url
        self.visibility_seconds, self.wait_seconds = visibility_seconds, wait_seconds
        self.clock = clock
        self._held: dict[str, _Held] = {}
        self._hidden_since = 0.0
        self.warnings: list[str] = []

    def __enter__(self) -> FailureQueue:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Never raise from here: it would hide the exception that ended the run. A message
        # that cannot be released comes back by itself when its visibility timeout ends.
        try:
            self.release()
        except (QueueError, ClientError, BotoCoreError) as error:
            self.warnings.append(str(error))

    @property
    def held(self) -> list[ReceivedMessage]:
        return [held.message for held in self._held.values()]

    @property
    def held_ids(self) -> set[str]:
        return set(self._held)

    def attributes(self) -> dict[str, str]:
        return dict(
            self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["All"])["Attributes"]
        )

    def receive(self, limit: int | None = None) -> list[ReceivedMessage]:
        """Receive (and hold) messages until the queue answers none, or `limit` are held."""
        while limit is None or len(self._held) < limit:
            wanted = MAX_PER_CALL if limit is None else min(MAX_PER_CALL, limit - len(self._held))
            self.keep_alive()
            answer = self.sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=wanted,
                VisibilityTimeout=self.visibility_seconds,
                WaitTimeSeconds=self.wait_seconds,
                AttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
            )
            messages = answer.get("Messages", [])
            if not messages:
                break
            if not self._held:
                self._hidden_since = self.clock()
            for raw in messages:
                message = _received(raw)
                self._held[message.message_id] = _Held(message, raw["ReceiptHandle"])
        return self.held

    def keep_alive(self) -> None:
        """Extend the held messages' visibility once half the timeout has passed."""
        if self._held and self.clock() - self._hidden_since >= self.visibility_seconds / 2:
            self._change_visibility(list(self._held), self.visibility_seconds)
            self._hidden_since = self.clock()

    def delete(self, message_ids: Iterable[str]) -> None:
        """Delete held messages; raises QueueError naming any SQS refused (they stay)."""
        ids = [message_id for message_id in message_ids if message_id in self._held]
        failed = self._batch("delete_message_batch", ids, {})
        for message_id in ids:
            if message_id not in failed:
                del self._held[message_id]
        if failed:
            raise QueueError(f"SQS did not delete message(s) {_describe(failed)}; they stay")

    def release(self, message_ids: Iterable[str] | None = None) -> None:
        """Make held messages visible again now (all of them by default)."""
        ids = list(self._held) if message_ids is None else list(message_ids)
        ids = [message_id for message_id in ids if message_id in self._held]
        failed = self._change_visibility(ids, 0, strict=False)
        for message_id in ids:
            self._held.pop(message_id, None)
        if failed:
            # Not fatal: these come back by themselves when the visibility timeout ends.
            raise QueueError(
                f"could not release message(s) {_describe(failed)}: they become visible again "
                f"within {self.visibility_seconds} s"
            )

    def _change_visibility(
        self, ids: list[str], seconds: int, *, strict: bool = True
    ) -> dict[str, str]:
        failed = self._batch("change_message_visibility_batch", ids, {"VisibilityTimeout": seconds})
        if failed and strict:
            raise QueueError(f"could not keep message(s) {_describe(failed)} hidden")
        return failed

    def _batch(self, operation: str, ids: list[str], extra: dict[str, Any]) -> dict[str, str]:
        """Run a *_batch SQS call over `ids` (10 per call); message id -> error for failures."""
        failed: dict[str, str] = {}
        call = getattr(self.sqs, operation)
        for offset in range(0, len(ids), MAX_PER_CALL):
            chunk = ids[offset : offset + MAX_PER_CALL]
            entries = [
                {"Id": str(index), "ReceiptHandle": self._held[message_id].receipt_handle, **extra}
                for index, message_id in enumerate(chunk)
            ]
            answer = call(QueueUrl=self.url, Entries=entries)
            for failure in answer.get("Failed", []):
                message_id = chunk[int(failure["Id"])]
                failed[message_id] = f"{failure.get('Code', '?')}: {failure.get('Message', '')}"
        return failed


def _received(raw: dict[str, Any]) -> ReceivedMessage:
    attributes = raw.get("Attributes") or {}
    sent = attributes.get("SentTimestamp")
    return ReceivedMessage(
        message_id=raw["MessageId"],
        body=raw.get("Body", ""),
        sent_at=dt.datetime.fromtimestamp(int(sent) / 1000, dt.UTC) if sent else None,
        receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
    )


def _describe(failed: dict[str, str]) -> str:
    return ", ".join(f"{message_id} ({error})" for message_id, error in failed.items())
