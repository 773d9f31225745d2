"""Handler defects found in review (issue 12), and the behaviours mutation testing found
untested in handler.py: each test here failed before its fix (or kills a named mutant)."""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys
from typing import Any

import handler
import pytest
import quarantine
import routes
from function_helpers import FUNCTION_DIR, FakeContext, FakeSender, stream_record
from records import TTL_PRINCIPAL, is_ttl_identity
from settings import Settings

ONE_BODY_BUDGET_MS = quarantine.SEND_WORST_CASE_MS + handler.QUARANTINE_MARGIN_MS  # 28 s


def status_change(seq: str, pk: str = "ORDER#1") -> dict[str, Any]:
    keys = {"PK": {"S": pk}, "SK": {"S": "META"}}
    return stream_record(
        "MODIFY",
        seq=seq,
        keys=keys,
        old={**keys, "status": {"S": "paid"}, "price": {"N": "1"}},
        new={**keys, "status": {"S": "shipped"}, "price": {"N": "2"}},
    )


def router_then(route: Any) -> routes.Router:
    """The seed routes, then ``route`` for every MODIFY (runs after detect_modifications)."""
    router = routes.seed_router()
    router.add(routes.ANY, routes.MODIFY, route)
    return router


# ------------------------------------------------------------------ counted only when settled


def test_status_and_price_changes_of_a_record_that_later_fails_are_not_counted(
    run_batch: Any,
) -> None:
    def downstream_down(change: Any, inv: Any) -> None:
        if change.sequence_number == "200":
            raise ConnectionError("downstream unavailable")

    run = run_batch(
        {"Records": [status_change("100"), status_change("200")]},
        router=router_then(downstream_down),
    )
    assert run.failures == ["200"]
    assert (run.emf["StatusChanges"], run.emf["PriceChanges"]) == (1, 1)  # record 100 only


def test_changes_of_a_record_a_later_route_quarantines_are_not_counted(run_batch: Any) -> None:
    def rejects(change: Any, inv: Any) -> None:
        raise handler.PoisonRecordError("rejected by a later route")

    sender = FakeSender()
    run = run_batch({"Records": [status_change("100")]}, router=router_then(rejects), sender=sender)
    assert run.emf["RecordsQuarantined"] == 1 and len(sender.batches) == 1
    assert (run.emf["StatusChanges"], run.emf["PriceChanges"]) == (0, 0)


def test_the_changes_of_a_retried_record_are_counted_once_over_its_attempts(
    run_batch: Any,
) -> None:
    attempts = {"n": 0}

    def flaky(change: Any, inv: Any) -> None:
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise TimeoutError("first attempt times out")

    router = router_then(flaky)
    first = run_batch({"Records": [status_change("100")]}, router=router)
    second = run_batch({"Records": [status_change("100")]}, router=router)
    assert first.failures == ["100"] and second.failures == []
    assert first.emf["StatusChanges"] + second.emf["StatusChanges"] == 1


# ------------------------------------------------------------------ no sequence number


def test_a_poison_record_without_a_sequence_number_is_tried_even_when_time_is_short(
    run_batch: Any,
) -> None:
    good = stream_record("INSERT", seq="100")
    unidentified = stream_record("INSERT", seq="200")
    del unidentified["dynamodb"]["SequenceNumber"]  # malformed envelope: poison
    sender = FakeSender()
    run = run_batch(
        {"Records": [good, unidentified]},
        context=FakeContext(ONE_BODY_BUDGET_MS - 1),  # less than the budget
        sender=sender,
    )
    # It cannot be reported, so deferring it would fail the whole batch (again and again
    # with a function timeout below the budget): it is sent like a first record.
    assert run.failures == []
    assert run.emf["RecordsQuarantined"] == 1 and len(sender.batches) == 1


def test_a_short_time_still_defers_a_poison_record_that_can_be_reported(run_batch: Any) -> None:
    good = stream_record("INSERT", seq="100")
    bad = stream_record("INSERT", seq="200")
    bad["eventName"] = "UPSERT"
    sender = FakeSender()
    run = run_batch(
        {"Records": [good, bad]}, context=FakeContext(ONE_BODY_BUDGET_MS - 1), sender=sender
    )
    assert run.failures == ["200"] and sender.batches == []


# ------------------------------------------------------------------ the stored price text


def test_the_price_line_prints_the_number_as_stored(run_batch: Any) -> None:
    keys = {"PK": {"S": "PRODUCT#1"}, "SK": {"S": "META"}}
    record = stream_record(
        "MODIFY",
        keys=keys,
        old={**keys, "price": {"N": "0.0000005"}},
        new={**keys, "price": {"N": "1.50"}},
    )
    run = run_batch({"Records": [record]})
    assert "Price changed from 0.0000005 to 1.50" in run.lines


def test_a_missing_price_still_reads_as_the_seeds_zero(run_batch: Any) -> None:
    keys = {"PK": {"S": "PRODUCT#1"}, "SK": {"S": "META"}}
    record = stream_record("MODIFY", keys=keys, old={**keys}, new={**keys, "price": {"N": "3"}})
    run = run_batch({"Records": [record]})
    assert "Price changed from 0 to 3" in run.lines


# ------------------------------------------------------------------ mutants left alive


def test_the_budget_boundary_exactly_enough_time_is_enough(run_batch: Any) -> None:
    good = stream_record("INSERT", seq="100")
    bad = stream_record("INSERT", seq="200")
    bad["eventName"] = "UPSERT"
    at_budget, below = FakeSender(), FakeSender()
    exact = run_batch(
        {"Records": [good, bad]}, context=FakeContext(ONE_BODY_BUDGET_MS), sender=at_budget
    )
    short = run_batch(
        {"Records": [good, bad]}, context=FakeContext(ONE_BODY_BUDGET_MS - 1), sender=below
    )
    assert ONE_BODY_BUDGET_MS == 28_000 == handler.quarantine_budget_ms(1)
    assert exact.failures == [] and len(at_budget.batches) == 1
    assert short.failures == ["200"] and below.batches == []


@pytest.mark.parametrize(
    ("identity", "expected"),
    [
        ({"type": "Service", "principalId": TTL_PRINCIPAL}, True),
        ({"type": "User", "principalId": TTL_PRINCIPAL}, False),
        ({"type": "Service", "principalId": "lambda.amazonaws.com"}, False),
        ({"principalId": TTL_PRINCIPAL}, False),
        ([("type", "Service"), ("principalId", TTL_PRINCIPAL)], False),
        (None, False),
    ],
)
def test_only_dynamodbs_ttl_service_identity_is_a_ttl_expiry(identity: Any, expected: bool) -> None:
    assert is_ttl_identity(identity) is expected


def test_ttl_expiries_count_only_removes_by_the_ttl_service(run_batch: Any) -> None:
    ttl = {"type": "Service", "principalId": TTL_PRINCIPAL}
    other = {"type": "Service", "principalId": "other.amazonaws.com"}
    run = run_batch(
        {
            "Records": [
                stream_record("REMOVE", seq="1", userIdentity=ttl),
                stream_record("REMOVE", seq="2", userIdentity=other),
                stream_record("REMOVE", seq="3"),
            ]
        }
    )
    assert (run.emf["RecordsRemoved"], run.emf["TtlExpiries"]) == (3, 1)


@pytest.mark.parametrize("sequence", ["", 12345, None])
def test_a_record_without_a_usable_sequence_number_is_poison(run_batch: Any, sequence: Any) -> None:
    record = stream_record("INSERT", seq="100")
    record["dynamodb"]["SequenceNumber"] = sequence
    sender = FakeSender()
    run = run_batch({"Records": [record]}, sender=sender)
    assert run.emf["RecordsQuarantined"] == 1 and run.emf["RecordsProcessed"] == 0
    assert len(sender.batches) == 1


def _logger_level_on_import(environment: dict[str, str]) -> str:
    """The package logger's level after a fresh import of handler in a clean process."""
    code = "import handler, logging; print(logging.getLevelName(handler.log.level))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=FUNCTION_DIR,
        env={"PATH": "/usr/bin:/bin", **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_in_lambda_without_a_configured_level_the_logger_defaults_to_info() -> None:
    assert _logger_level_on_import({"AWS_LAMBDA_FUNCTION_NAME": "fn"}) == "INFO"


@pytest.mark.parametrize(
    "environment",
    [{}, {"AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_LAMBDA_LOG_LEVEL": "WARN"}],
)
def test_outside_lambda_or_with_a_configured_level_the_logger_is_left_alone(
    environment: dict[str, str],
) -> None:
    assert _logger_level_on_import(environment) == "NOTSET"


def test_settings_are_read_per_invocation() -> None:
    assert Settings.from_env({"AWS_LAMBDA_LOG_LEVEL": " warn "}).log_level == "WARN"
    assert importlib.import_module("handler") is handler
    assert logging.getLogger("stream_processor") is handler.log
