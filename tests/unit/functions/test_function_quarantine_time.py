"""Quarantine sends get a time budget: a slow failure destination must not run the
invocation into its timeout (the whole batch retried, quarantined records sent again,
possibly a timeout loop). Too little time left: the poison record is reported as failed
and Lambda redelivers it, first in a fresh invocation with the full timeout."""

from __future__ import annotations

from typing import Any

import handler
import quarantine
from function_helpers import stream_record

ONE_BODY_BUDGET_MS = quarantine.SEND_WORST_CASE_MS + handler.QUARANTINE_MARGIN_MS


class FakeContext:
    """The Lambda context's clock, frozen at ``remaining_ms``."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def poison(seq: str, *, size: int = 0) -> dict[str, Any]:
    record = stream_record("INSERT", seq=seq, new={"blob": {"S": _noise(size)}})
    record["eventName"] = "UPSERT"  # unknown event: poison
    return record


def _noise(size: int) -> str:
    import random

    rng = random.Random(size)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(size))


def test_the_send_budget_is_derived_from_the_client_configuration() -> None:
    # 3 attempts x (3 s connect + 5 s read) + backoff before retries 1 and 2 (<= 1 s, 2 s)
    assert quarantine.SEND_WORST_CASE_MS == 3 * (3 + 5) * 1000 + (1 + 2) * 1000
    config = quarantine._client("sqs", "us-east-1").meta.config
    quarantine._clients.clear()
    assert (config.connect_timeout, config.read_timeout) == (
        quarantine.CONNECT_TIMEOUT_SECONDS,
        quarantine.READ_TIMEOUT_SECONDS,
    )
    # botocore's "max_attempts" counts RETRIES (3 meant 4 attempts, 39 s at worst: more than
    # the dev stack's whole 30 s timeout); "total_max_attempts" counts attempts.
    assert config.retries["total_max_attempts"] == quarantine.MAX_ATTEMPTS
    assert config.retries["mode"] == "standard"
