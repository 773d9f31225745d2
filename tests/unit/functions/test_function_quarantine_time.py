"""Quarantine sends get a time budget: a slow failure destination must not run the
invocation into its timeout (the whole batch retried, quarantined records sent again,
possibly a timeout loop). Too little time left: the poison record is reported as failed
and Lambda redelivers it, first in a fresh invocation with the full timeout."""

from __future__ import annotations

from typing import Any

import handler
import pytest
import quarantine
from function_helpers import FakeContext, FakeSender, stream_record

ONE_BODY_BUDGET_MS = quarantine.SEND_WORST_CASE_MS + handler.QUARANTINE_MARGIN_MS


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


def test_too_little_time_left_reports_the_poison_record_as_failed(run_batch: Any) -> None:
    sender = FakeSender()
    records = [stream_record(seq="1"), poison("2"), stream_record(seq="3")]

    run = run_batch(
        {"Records": records}, sender=sender, context=FakeContext(ONE_BODY_BUDGET_MS - 1)
    )

    assert run.failures == ["2"]
    assert sender.batches == []
    assert (run.emf["RecordsProcessed"], run.emf["RecordsQuarantined"]) == (1, 0)
    assert run.emf["RecordsFailed"] == 1
    assert any("Not enough time left to quarantine poison record 1" in m for m in run.messages)

    # Lambda redelivers from the failed record, in a fresh invocation with the full time.
    again = run_batch({"Records": records[1:]}, sender=sender, context=FakeContext(30_000))
    assert again.failures == []
    assert (again.emf["RecordsQuarantined"], again.emf["RecordsProcessed"]) == (1, 1)


def test_enough_time_left_quarantines_as_before(run_batch: Any) -> None:
    sender = FakeSender()
    records = [stream_record(seq="1"), poison("2"), stream_record(seq="3")]
    run = run_batch({"Records": records}, sender=sender, context=FakeContext(ONE_BODY_BUDGET_MS))
    assert run.failures == []
    assert len(sender.batches) == 1 and run.emf["RecordsQuarantined"] == 1


def test_the_first_record_is_always_tried(run_batch: Any) -> None:
    # A redelivery starts with this record and has no more time than this invocation had:
    # deferring it would block the shard forever (a function timeout below the budget).
    sender = FakeSender()
    run = run_batch({"Records": [poison("2")]}, sender=sender, context=FakeContext(2_000))
    assert run.failures == [] and run.emf["RecordsQuarantined"] == 1


def test_the_budget_grows_with_the_number_of_parts(run_batch: Any) -> None:
    big = poison("2", size=400_000)  # incompressible: several parts, sent one after another
    parts = len(quarantine.build_messages(big, "r", function_name="test-fn"))
    assert parts > 1
    enough_for_one = FakeContext(ONE_BODY_BUDGET_MS)
    sender = FakeSender()
    run = run_batch(
        {"Records": [stream_record(seq="1"), big]}, sender=sender, context=enough_for_one
    )
    assert run.failures == ["2"] and sender.batches == []
    enough_for_all = FakeContext(  # exactly the budget: enough
        parts * quarantine.SEND_WORST_CASE_MS + handler.QUARANTINE_MARGIN_MS
    )
    run = run_batch(
        {"Records": [stream_record(seq="1"), big]}, sender=sender, context=enough_for_all
    )
    assert run.failures == [] and len(sender.batches[0]) == parts


@pytest.mark.parametrize("context", [None, object()])
def test_without_a_lambda_clock_nothing_is_deferred(run_batch: Any, context: Any) -> None:
    sender = FakeSender()
    run = run_batch(
        {"Records": [stream_record(seq="1"), poison("2")]}, sender=sender, context=context
    )
    assert run.failures == [] and run.emf["RecordsQuarantined"] == 1
