"""Redrive on the embedded emulator: the replay target, and what the mapping itself
sent (on-failure pointers) through an outage; the demonstration."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from streamops.cli import redrive as redrive_cli
from streamops.emulator.server import Deployment
from streamops.redrive.inventory import COMPLETE
from streamops.redrive.readback import EXPIRED, RECOVERED
from streamops.redrive.replay import (
    FAILED,
    HELD_BACK,
    POISON,
    REPLAYED,
    LocalFunction,
    quarantine_id,
)
from streamops.redrive.session import (
    EXIT_LEFT,
    EXIT_OK,
    Options,
    redrive,
)
from tests.integration.redrive.redrive_helpers import (
    Interrupting,
    Seen,
    router,
    run,
    run_through_outage,
    site,
    the_fix,
    write_sample,
)
from tests.support.failure_messages import (
    age_stream,
    put_items,
    queue_counts,
    stream_records,
)

pytestmark = pytest.mark.integration


def test_the_emulated_function_answers_from_its_own_process_as_the_handler_did(
    deployment: Deployment, capfd: pytest.CaptureFixture[str]
) -> None:
    """The emulator's replay target runs the package in awslambdaric environments: failures,
    their reasons, exactly which records it quarantined (also one without a sequence
    number, by its quarantine id), a crash as an error for the whole batch; nothing on
    this console, and the routes ran in the environment's process, not this one."""
    put_items(deployment, ("USER#poison", "PROFILE"), ("USER#ok", "PROFILE"))
    put_items(deployment, ("USER#down", "PROFILE"), ("USER#crash", "PROFILE"))
    poisoned, ok, down, crashing = stream_records(deployment)
    numbers = [record["dynamodb"]["SequenceNumber"] for record in (poisoned, ok, down)]
    nameless = json.loads(json.dumps(poisoned))
    del nameless["dynamodb"]["SequenceNumber"]
    seen = Seen()
    package = router(seen, broken="USER#down", poison="USER#poison", crash="USER#crash")

    with site(deployment, package) as local:
        target = local.target
        assert isinstance(target, LocalFunction)
        answer = target.invoke([poisoned, ok, down])
        alone = target.invoke([nameless])
        crashed = target.invoke([ok, crashing])

    assert answer.error is None and answer.failed == [numbers[2]]
    assert answer.requarantined == {numbers[0]: "USER#poison cannot be processed"}
    assert answer.requarantined_count == 1
    assert "downstream refused USER#down" in answer.reasons[numbers[2]]
    assert alone.error is None and list(alone.requarantined or {}) == [quarantine_id(nameless)]
    assert crashed.error is not None and "Runtime.ExitError" in crashed.error
    assert seen.records == [("USER#ok", numbers[1])] * 2
    assert seen.processes and os.getpid() not in seen.processes
    assert seen.processes <= target.environment_ids
    assert len(target.environment_ids) == 1  # warm: one environment served all three
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_runner_failures_are_listed_archived_replayed_and_gone_after_the_fix(
    deployment: Deployment, tmp_path: Path
) -> None:
    write_sample(deployment)
    stream = stream_records(deployment)
    summary = run_through_outage(deployment, "USER#u2", tmp_path)
    assert summary.destination_batches >= 1 and summary.quarantined == 1
    poison = stream[2]["dynamodb"]["SequenceNumber"]

    archive = tmp_path / "failed.jsonl"
    result, output = run(deployment, archive=archive)

    assert result.exit_code == EXIT_OK and result.inventory is not None
    kinds = sorted((state.kind, state.status) for state in result.inventory.messages)
    assert kinds == [("pointer", RECOVERED)] * summary.destination_batches + [
        ("quarantine", COMPLETE)
    ]
    assert "reason: price is not a number: {'S': 'free'}" in output
    lines = [json.loads(line) for line in archive.read_text().splitlines()]
    pointed = [line for line in lines if line["source"] == "pointer"]
    assert len(pointed) == summary.records_sent_to_destination
    by_number = {record["dynamodb"]["SequenceNumber"]: record for record in stream}
    assert all(line["record"] == by_number[line["sequenceNumber"]] for line in pointed)
    (quarantined,) = [line for line in lines if line["source"] == "quarantine"]
    assert quarantined["sequenceNumber"] == poison
    assert quarantined["record"] == by_number[poison]
    assert queue_counts(deployment) == (summary.destination_batches + 1, 0)

    seen = Seen()  # replayed before anything is fixed: the outage is still on
    result, output = run(deployment, router(seen, broken="USER#u2"), replay=True)

    failing = {
        key.rsplit("#", 1)[1]: outcome.status
        for key, outcome in result.outcomes.items()
        if outcome.status != REPLAYED
    }
    u2 = [r["dynamodb"]["SequenceNumber"] for r in stream if "USER#u2" in json.dumps(r)]
    # profile, order, profile again: the order is another item, the profile's second change
    # waits behind its first
    assert failing == {u2[0]: FAILED, u2[1]: FAILED, u2[2]: HELD_BACK, poison: POISON}
    assert result.exit_code == EXIT_LEFT
    assert "USER#u2" not in [pk for pk, _ in seen.records]

    seen = Seen()
    result, output = run(deployment, the_fix(seen), replay=True)

    assert result.exit_code == EXIT_OK, output
    assert queue_counts(deployment) == (0, 0)
    assert set(number for _, number in seen.records) >= {*u2, poison}
    numbers = [int(number) for _, number in seen.records]
    assert numbers == sorted(numbers)


def test_runner_failures_past_retention_are_reported_not_skipped(
    deployment: Deployment, tmp_path: Path
) -> None:
    write_sample(deployment)
    summary = run_through_outage(deployment, "USER#u2", tmp_path)
    age_stream(deployment, hours=25)

    result, output = run(deployment, the_fix(Seen()), replay=True)

    assert result.inventory is not None
    pointers = result.inventory.by_kind("pointer")
    assert [state.status for state in pointers] == [EXPIRED] * summary.destination_batches
    assert output.count("these records are gone from the stream") == len(pointers)
    assert f"expired: {len(pointers)} message(s)" in output
    assert result.exit_code == EXIT_LEFT
    assert queue_counts(deployment) == (len(pointers), 0)  # the quarantined one replayed

    archive = tmp_path / "lost.jsonl"
    result, output = run(deployment, archive=archive, drop_expired=True)

    lines = [json.loads(line) for line in archive.read_text().splitlines()]
    assert [line["status"] for line in lines] == [EXPIRED] * len(pointers)
    assert sum(line["batchSize"] for line in lines) == summary.records_sent_to_destination
    assert len(result.dropped) == len(pointers) and queue_counts(deployment) == (0, 0)


def test_an_interrupted_replay_of_runner_failures_loses_no_message(
    fresh_deployment: Callable[..., Deployment], tmp_path: Path
) -> None:
    deployment = fresh_deployment(trigger={"batchSize": 2})
    write_sample(deployment)
    summary = run_through_outage(deployment, "USER#u2", tmp_path)
    messages = summary.destination_batches + summary.quarantined
    assert messages >= 3
    seen = Seen()
    with site(deployment, the_fix(seen)) as interrupted, pytest.raises(KeyboardInterrupt):
        interrupted.target = Interrupting(interrupted.target, at=2)  # type: ignore[arg-type]
        redrive(interrupted, Options(replay=True, wait_seconds=0), io.StringIO(), io.StringIO())

    visible, in_flight = queue_counts(deployment)
    assert in_flight == 0 and 1 <= messages - visible < messages  # some done, the rest back
    result, _ = run(deployment, the_fix(seen), replay=True)
    assert result.exit_code == EXIT_OK
    assert len(result.deleted) == visible
    assert queue_counts(deployment) == (0, 0)


def test_make_redrive_without_a_stack_demonstrates_the_whole_cycle() -> None:
    """`make redrive ACTION=replay`: the demonstration's replay ends as it should (only the
    planted poison record is left), so it exits 0 (it exited 1: seen failing first)."""
    result = CliRunner().invoke(redrive_cli.app, ["replay", "--wait", "0"])
    output = result.stdout
    assert result.exit_code == EXIT_OK, result.output
    assert "on-failure (RetryAttemptsExhausted)" in output  # produced by the runner
    assert "== The outage is over (the fix is deployed): redrive" in output
    assert re.search(r"replayed: \d+ record\(s\)", output)
    assert "still failing: 1 record(s) (0 failed, 1 poison" in output
    assert "price is not a number" in output
    assert "demonstration complete" in output


def test_the_demonstration_list_says_how_to_replay_with_this_cli() -> None:
    """The list step named `--replay`, an option of no command a make user has (seen
    failing first); it names the command that replays."""
    result = CliRunner().invoke(redrive_cli.app, ["list", "--wait", "0"])
    assert result.exit_code == EXIT_OK, result.output
    assert "next: fix the cause, deploy, then run: uv run streamops redrive replay\n" in (
        result.stdout
    )
    assert "--replay" not in result.stdout
