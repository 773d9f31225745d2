"""Redrive on the embedded emulator: list, archive and replay what reached the failure queue.

Each test deploys the dev stack into a fresh emulated account, writes items (so their
records are really in the table's stream) and puts failure messages in the failure queue
in their writers' exact shapes (tests/support/failure_messages.py). The replay target is
the real function package from functions/stream_processor, run in awslambdaric execution
environments (streamops.redrive.replay.LocalFunction) with a recorder module next to it
(tests/support/replay_recorder.py): it writes what the routes processed to a file, with its
process id (every replay asserts it is not this process). "The bug" is a route added to
the seed routes, and "the fix" is the recorder's route alone.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from typer.testing import CliRunner

from streamops.cli import redrive as redrive_cli
from streamops.demo.redrive import outage_mapping
from streamops.emulator.server import Deployment, Emulator, deploy
from streamops.lambda_local.runner import Summary
from streamops.redrive.inventory import COMPLETE, KIND_QUARANTINE, KIND_UNKNOWN, MISSING_PARTS
from streamops.redrive.readback import EXPIRED, PARTIAL, RECOVERED
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
    EXIT_UNREADABLE,
    Options,
    Result,
    Site,
    redrive,
)
from streamops.stacks import emulated_stack
from tests.support.failure_messages import (
    age_stream,
    on_failure_document,
    put_items,
    quarantine_bodies,
    queue_counts,
    send,
    stream_records,
)
from tests.support.replay_recorder import HANDLER as RECORDER_HANDLER
from tests.support.replay_recorder import recorder_package, recorder_variables, seen_in
from tests.support.stacks import stack_config

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


class Seen:
    """What the replayed function's routes processed, read from the file the recorder
    writes inside its execution environment: (PK, sequence number), in order."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="redrive-seen-"))
        weakref.finalize(self, shutil.rmtree, self.directory, True)
        self.file = self.directory / "seen.jsonl"

    @property
    def records(self) -> list[tuple[str, str]]:
        return [(pk, number) for pk, number, _ in seen_in(self.file)]

    @property
    def processes(self) -> set[int]:
        return {pid for _, _, pid in seen_in(self.file)}


@dataclass
class Recorder:
    """The function's package with a test's routes (tests/support/replay_recorder.py)."""

    seen: Seen
    variables: dict[str, str]


def router(
    seen: Seen, *, broken: str | None = None, poison: str | None = None, crash: str | None = None
) -> Recorder:
    """The seed routes plus a recorder; `broken` items raise (a bug), `poison` items are
    declared poison (quarantined), `crash` items end the environment's process."""
    variables = recorder_variables(seen.file, broken=broken, poison=poison, crash=crash)
    return Recorder(seen, variables)


@contextmanager
def site(deployment: Deployment, package: Recorder | None = None) -> Iterator[Site]:
    """The emulator's site, its target the function in awslambdaric execution environments
    (the recorder package when given); the environments are ended on leaving."""
    stack = emulated_stack(deployment)
    if package is None:
        target = LocalFunction.for_stack(stack)
    else:
        source = recorder_package(package.seen.directory / f"package-{secrets.token_hex(4)}")
        target = LocalFunction.for_stack(
            stack, source=source, handler=RECORDER_HANDLER, variables=package.variables
        )
    earlier = package.seen.processes if package is not None else set()
    with target:
        yield Site("redrive: emulator", stack, target, confirm=False)
    if package is not None:
        # Replayed in this site's environments, never in this process.
        assert os.getpid() not in package.seen.processes
        assert package.seen.processes - earlier <= target.environment_ids


def run(
    deployment: Deployment, package: Recorder | None = None, **options: Any
) -> tuple[Result, str]:
    out, err = io.StringIO(), io.StringIO()
    options.setdefault("wait_seconds", 0)
    with site(deployment, package) as local:
        result = redrive(local, Options(**options), out, err)
    return result, out.getvalue() + err.getvalue()


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


def by_pk(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        grouped.setdefault(record["dynamodb"]["Keys"]["PK"]["S"], []).append(record)
    return grouped


@pytest.fixture
def deployment(fresh_deployment: Callable[..., Deployment]) -> Deployment:
    return fresh_deployment()


def run_through_outage(deployment: Deployment, outage: str, workdir: Path) -> Summary:
    """The stack's mapping, run by the local stream runner over what was written, while a
    downstream service is down for `outage`'s changes: its batches run out of retries and
    the runner sends the on-failure pointers; poison records are quarantined by the real
    function (it sends to the failure queue itself)."""
    with outage_mapping(emulated_stack(deployment), outage, workdir) as runner:
        summary = runner.run_until_drained(timeout_seconds=60)
    assert summary.drained and summary.unaccounted == 0
    return summary


def the_fix(seen: Seen) -> Recorder:
    """The function after the fix: its routes process every record (and record them)."""
    return Recorder(seen, recorder_variables(seen.file, routes="fix"))


def write_sample(deployment: Deployment) -> None:
    """Seven records: the third is poison (the function quarantines it), the fourth is the
    first of three USER#u2 changes (the outage)."""
    put_items(deployment, ("PRODUCT#1", "METADATA"))
    put_items(deployment, ("PRODUCT#2", "METADATA"), price="9.99")
    put_items(deployment, ("PRODUCT#2", "METADATA"), price="free")  # poison: quarantined
    put_items(deployment, ("USER#u2", "PROFILE"), ("PRODUCT#3", "METADATA"))
    put_items(deployment, ("USER#u2", "ORDER#o1"))
    put_items(deployment, ("USER#u2", "PROFILE"), status="suspended")


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


def test_list_shows_every_message_and_leaves_them_all_in_the_queue(
    deployment: Deployment,
) -> None:
    put_items(deployment, ("PRODUCT#1", "METADATA"), ("PRODUCT#2", "METADATA"))
    put_items(deployment, ("USER#9", "PROFILE"))
    stream = stream_records(deployment)
    send(
        deployment,
        on_failure_document(deployment, stream[:2]),
        *quarantine_bodies(stream[2], "USER#9 cannot be processed"),
        "not a failure message",
    )

    result, output = run(deployment)

    assert result.exit_code == EXIT_OK
    assert result.inventory is not None
    statuses = sorted((state.kind, state.status) for state in result.inventory.messages)
    assert statuses == [("pointer", RECOVERED), ("quarantine", COMPLETE), ("unknown", "unreadable")]
    assert "recovered: 2 record(s) for a batch of 2" in output
    assert "the stream drops it in 23h" in output
    assert "reason: USER#9 cannot be processed" in output
    assert "not JSON" in output and "body: not a failure message" in output
    assert "queue: 0 message(s) deleted, 3 kept (visible again)" in output
    assert queue_counts(deployment) == (3, 0)  # released at once, nothing in flight


def test_archive_holds_every_recovered_record_and_what_could_not_be_recovered(
    deployment: Deployment, tmp_path: Path
) -> None:
    put_items(deployment, ("PRODUCT#1", "METADATA"), ("USER#1", "PROFILE"), ("USER#2", "PROFILE"))
    stream = stream_records(deployment)
    pointer_id, *quarantine_ids = send(
        deployment,
        on_failure_document(deployment, stream[:2]),
        *quarantine_bodies(stream[2], "bad user"),
    )
    (unknown_id,) = send(deployment, {"hello": "world"})
    archive = tmp_path / "failed.jsonl"

    result, output = run(deployment, archive=archive)

    lines = [json.loads(line) for line in archive.read_text().splitlines()]
    assert result.archived == len(lines) == 4
    recovered = [line for line in lines if line["status"] == "recovered"]
    assert [line["record"] for line in recovered] == stream  # whole records, stream order
    assert [line["source"] for line in recovered] == ["pointer", "pointer", "quarantine"]
    assert recovered[0]["messageIds"] == [pointer_id]
    assert recovered[0]["sequenceNumber"] == stream[0]["dynamodb"]["SequenceNumber"]
    assert recovered[0]["reason"] == "RetryAttemptsExhausted"
    assert recovered[2]["messageIds"] == quarantine_ids and recovered[2]["reason"] == "bad user"
    (unknown,) = [line for line in lines if line["source"] == KIND_UNKNOWN]
    assert unknown["messageIds"] == [unknown_id] and json.loads(unknown["body"]) == {
        "hello": "world"
    }
    assert queue_counts(deployment) == (3, 0)  # archiving deletes nothing
    assert f"archived 4 line(s) to {archive}" in output


def test_replay_keeps_what_still_fails_and_empties_the_queue_after_the_fix(
    deployment: Deployment,
) -> None:
    put_items(deployment, ("PRODUCT#1", "METADATA"), ("PRODUCT#2", "METADATA"))
    put_items(deployment, ("USER#broken", "PROFILE"), ("PRODUCT#3", "METADATA"))
    put_items(deployment, ("USER#broken", "PROFILE"), status="active")  # a later change
    put_items(deployment, ("USER#poison", "PROFILE"))
    stream = stream_records(deployment)
    healthy, with_broken, poison = stream[:2], stream[2:5], stream[5]
    healthy_id, broken_id, *poison_ids = send(
        deployment,
        on_failure_document(deployment, healthy),
        on_failure_document(deployment, with_broken),
        *quarantine_bodies(poison, "USER#poison cannot be processed"),
    )

    seen = Seen()
    result, output = run(
        deployment, router(seen, broken="USER#broken", poison="USER#poison"), replay=True
    )

    outcomes = {key.split("#")[-1]: outcome.status for key, outcome in result.outcomes.items()}
    sequence = [record["dynamodb"]["SequenceNumber"] for record in stream]
    assert outcomes == {
        sequence[0]: REPLAYED,
        sequence[1]: REPLAYED,
        sequence[2]: FAILED,  # the first USER#broken change
        sequence[3]: REPLAYED,  # PRODUCT#3 carries on
        sequence[4]: HELD_BACK,  # the later USER#broken change waits behind the first
        sequence[5]: POISON,
    }
    assert result.deleted == [healthy_id]
    assert result.exit_code == EXIT_LEFT
    assert "downstream refused USER#broken" in output
    assert "still failing: 3 record(s) (1 failed, 1 poison, 1 held back" in output
    # Kept: the batch and the poison record's parts; and the function, run as deployed,
    # quarantined the poison record again itself (one new message, as in AWS).
    assert queue_counts(deployment) == (1 + len(poison_ids) + 1, 0)

    seen = Seen()
    result, output = run(deployment, router(seen), replay=True)  # the fix is deployed

    assert result.exit_code == EXIT_OK and result.inventory is not None
    (requarantined,) = set(result.deleted) - {broken_id, *poison_ids}
    kinds = {state.message_id: state.kind for state in result.inventory.messages}
    assert kinds[requarantined] == KIND_QUARANTINE
    assert queue_counts(deployment) == (0, 0)
    replayed = [pk for pk, _ in seen.records]
    assert replayed == ["USER#broken", "PRODUCT#3", "USER#broken", "USER#poison"]
    numbers = [number for _, number in seen.records]
    assert numbers == sorted(numbers, key=int)  # stream order, so each item's in order
    assert "replayed: 4 record(s)" in output


def test_records_past_retention_are_reported_and_kept_until_archived_and_dropped(
    deployment: Deployment, tmp_path: Path
) -> None:
    put_items(deployment, ("PRODUCT#1", "METADATA"), ("PRODUCT#2", "METADATA"))
    stream = stream_records(deployment)
    gone_shard = on_failure_document(deployment, stream, shard="shardId-00000001-closedlongago")
    expired_id, gone_id = send(deployment, on_failure_document(deployment, stream), gone_shard)
    age_stream(deployment, hours=25)

    result, output = run(deployment, router(Seen()), replay=True)

    assert result.inventory is not None
    assert [state.status for state in result.inventory.messages] == [EXPIRED, EXPIRED]
    assert "older than the stream's 24 h retention (TrimmedDataAccessException)" in output
    assert "shard shardId-00000001-closedlongago is no longer in the stream" in output
    assert "these records are gone from the stream: only this pointer is left" in output
    assert result.outcomes == {} and result.deleted == []
    assert result.exit_code == EXIT_LEFT
    assert "expired: 2 message(s)" in output and "--archive FILE --drop-expired" in output
    assert queue_counts(deployment) == (2, 0)

    archive = tmp_path / "lost.jsonl"
    result, output = run(deployment, archive=archive, drop_expired=True)

    lines = [json.loads(line) for line in archive.read_text().splitlines()]
    assert {line["messageIds"][0] for line in lines} == {expired_id, gone_id}
    assert all(line["status"] == EXPIRED and line["record"] is None for line in lines)
    (lost,) = [line for line in lines if line["messageIds"] == [expired_id]]
    assert (lost["startSequenceNumber"], lost["endSequenceNumber"]) == (
        stream[0]["dynamodb"]["SequenceNumber"],
        stream[1]["dynamodb"]["SequenceNumber"],
    )
    assert sorted(result.dropped) == sorted([expired_id, gone_id])
    assert queue_counts(deployment) == (0, 0)


def test_a_partly_expired_range_replays_what_is_left_and_is_dropped_only_after_that(
    deployment: Deployment, tmp_path: Path
) -> None:
    put_items(deployment, ("PRODUCT#1", "METADATA"), ("PRODUCT#2", "METADATA"))
    put_items(deployment, ("PRODUCT#3", "METADATA"))
    stream = stream_records(deployment)
    (message_id,) = send(deployment, on_failure_document(deployment, stream))
    age_stream(deployment, hours=25, count=1)

    seen = Seen()
    result, output = run(
        deployment, router(seen), replay=True, archive=tmp_path / "a.jsonl", drop_expired=True
    )

    assert result.inventory is not None
    assert result.inventory.messages[0].status == PARTIAL
    assert "the range's first records were trimmed (older than 24 h); 2 record(s)" in output
    assert [pk for pk, _ in seen.records] == ["PRODUCT#2", "PRODUCT#3"]
    assert result.deleted == [] and result.dropped == [message_id]
    archived = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert [line["status"] for line in archived] == ["recovered", "recovered", PARTIAL]
    assert archived[2]["recoveredSequenceNumbers"] == [
        record["dynamodb"]["SequenceNumber"] for record in stream[1:]
    ]
    assert queue_counts(deployment) == (0, 0)


class Interrupting:
    """A target that is interrupted (Ctrl-C) at its `at`-th invocation."""

    def __init__(self, target: LocalFunction, at: int):
        self.target, self.at, self.calls = target, at, 0
        self.description, self.exact_quarantine = target.description, True

    def invoke(self, records: Any) -> Any:
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt
        return self.target.invoke(records)


def test_an_interrupted_replay_loses_no_message(
    fresh_deployment: Callable[..., Deployment],
) -> None:
    deployment = fresh_deployment(trigger={"batchSize": 1})
    put_items(deployment, *[(f"PRODUCT#{index}", "METADATA") for index in range(4)])
    stream = stream_records(deployment)
    ids = send(deployment, *[on_failure_document(deployment, [record]) for record in stream])
    seen = Seen()
    with site(deployment, router(seen)) as local, pytest.raises(KeyboardInterrupt):
        local.target = Interrupting(local.target, at=3)  # type: ignore[arg-type]
        redrive(local, Options(replay=True, wait_seconds=0), io.StringIO(), io.StringIO())

    assert len(seen.records) == 2
    assert queue_counts(deployment) == (2, 0)  # the two replayed ones are gone, the rest back
    result, _ = run(deployment, router(seen), replay=True)
    assert result.exit_code == EXIT_OK
    assert sorted(result.deleted) == sorted(ids[2:])
    assert [number for _, number in seen.records] == [
        record["dynamodb"]["SequenceNumber"] for record in stream
    ]
    assert queue_counts(deployment) == (0, 0)


KILLED_RUN = textwrap.dedent(
    """
    import io, json, sys
    from pathlib import Path
    from streamops.aws import AwsClients
    from streamops.doctor.checks import DeployedStack
    from components.config import parse_stack_config
    from streamops.redrive.session import Options, Site, redrive
    from streamops.redrive.replay import LocalFunction
    from tests.support.replay_recorder import HANDLER, recorder_package, recorder_variables
    from tests.support.stacks import stack_config

    endpoint, account, region, outputs, marker, workdir = sys.argv[1:7]
    outputs = json.loads(outputs)
    stack = DeployedStack(
        outputs,
        parse_stack_config(stack_config("dev", trigger={"batchSize": 1}), "dev"),
        AwsClients.emulated(endpoint, account, region),
    )
    variables = recorder_variables(
        Path(workdir) / "seen.jsonl", hang_at=2, hang_marker=Path(marker)
    )
    package = recorder_package(Path(workdir) / "package")
    with LocalFunction.for_stack(
        stack, source=package, handler=HANDLER, variables=variables
    ) as target:
        redrive(
            Site("killed", stack, target, confirm=False),
            Options(replay=True, wait_seconds=0, visibility_seconds=3),
            io.StringIO(),
            io.StringIO(),
        )
    """
)


def test_a_killed_replay_loses_no_message(
    fresh_deployment: Callable[..., Deployment], tmp_path: Path
) -> None:
    """Killed with SIGKILL mid-replay (no cleanup runs; the hanging execution environment,
    its own process, is ended by the test): what was replayed is deleted, the rest comes
    back when the visibility timeout ends, and a second run finishes the job."""
    deployment = fresh_deployment(trigger={"batchSize": 1})
    put_items(deployment, *[(f"PRODUCT#{index}", "METADATA") for index in range(3)])
    stream = stream_records(deployment)
    send(deployment, *[on_failure_document(deployment, [record]) for record in stream])
    marker = tmp_path / "hanging"
    script = tmp_path / "killed_run.py"
    script.write_text(KILLED_RUN)
    process = subprocess.Popen(
        [
            sys.executable,
            str(script),
            deployment.endpoint,
            deployment.account_id,
            deployment.region,
            json.dumps(deployment.outputs),
            str(marker),
            str(tmp_path),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() or not marker.read_text():
            assert process.poll() is None, "the replay ended before it was killed"
            assert time.monotonic() < deadline, "the replay never reached its second record"
            time.sleep(0.05)
        assert queue_counts(deployment) == (0, 2)  # one deleted, two held by the run
        environment = int(marker.read_text())  # the hanging record is in another process
        assert environment not in (process.pid, os.getpid())
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
        if marker.exists() and marker.read_text():  # nobody is left to end the environment
            os.kill(int(marker.read_text()), signal.SIGKILL)

    deadline = time.monotonic() + 20
    while queue_counts(deployment) != (2, 0):
        assert time.monotonic() < deadline, (
            f"messages did not come back: {queue_counts(deployment)}"
        )
        time.sleep(0.25)
    seen = Seen()
    result, _ = run(deployment, router(seen), replay=True)
    assert result.exit_code == EXIT_OK
    assert [number for _, number in seen.records] == [
        record["dynamodb"]["SequenceNumber"] for record in stream[1:]
    ]
    assert queue_counts(deployment) == (0, 0)


def test_a_quarantined_record_in_parts_is_replayed_once_whole_and_every_part_deleted(
    deployment: Deployment,
) -> None:
    put_items(deployment, ("USER#big", "PROFILE"), note=secrets.token_hex(3000))
    (record,) = stream_records(deployment)
    parts = quarantine_bodies(record, "too odd", max_bytes=2048)
    copy = quarantine_bodies(record, "too odd")  # the same record quarantined again, whole
    assert len(parts) > 2 and len(copy) == 1
    first_ids = send(deployment, *parts[:-1])

    result, output = run(deployment, router(Seen()), replay=True)

    assert result.inventory is not None
    assert {state.status for state in result.inventory.messages} == {MISSING_PARTS}
    assert f"{len(parts) - 1} of {len(parts)} parts received" in output
    assert result.deleted == [] and queue_counts(deployment) == (len(parts) - 1, 0)

    last_ids = send(deployment, parts[-1], *copy)
    seen = Seen()
    result, _ = run(deployment, router(seen), replay=True)

    assert seen.records == [("USER#big", record["dynamodb"]["SequenceNumber"])]
    assert sorted(result.deleted) == sorted(first_ids + last_ids)
    assert queue_counts(deployment) == (0, 0)


def test_an_sns_destination_is_explained_and_a_subscribed_queue_is_redriven(
    fresh_deployment: Callable[..., Deployment],
) -> None:
    deployment = fresh_deployment(trigger={"onFailure": "sns"})
    topic = deployment.outputs["failureDestinationArn"]
    assert "failureQueueUrl" not in deployment.outputs

    result, output = run(deployment)

    assert result.exit_code == EXIT_UNREADABLE and result.inventory is None
    assert f"The failure destination is the SNS topic {topic}." in output
    assert "A topic keeps no messages" in output
    assert "No SQS queue is subscribed" in output
    assert f"aws sns subscribe --topic-arn {topic} --protocol sqs" in output

    sqs, sns = deployment.aws("sqs"), deployment.aws("sns")
    url = sqs.create_queue(QueueName="failure-copy")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)  # not raw: enveloped

    result, output = run(deployment)
    assert f"uv run streamops redrive list --stack dev --queue {url}" in output
    assert "SNS envelope (unwrapped by this tool)" in output

    put_items(deployment, ("PRODUCT#1", "METADATA"), ("USER#1", "PROFILE"))
    stream = stream_records(deployment)
    pointer = json.dumps(on_failure_document(deployment, stream[:1]))
    for body in [pointer, *quarantine_bodies(stream[1], "odd user")]:
        sns.publish(TopicArn=topic, Message=body)

    seen = Seen()
    result, output = run(deployment, router(seen), replay=True, queue_url=url)

    assert result.inventory is not None
    assert sorted(state.status for state in result.inventory.messages) == [COMPLETE, RECOVERED]
    assert [pk for pk, _ in seen.records] == ["PRODUCT#1", "USER#1"]
    assert result.exit_code == EXIT_OK
    assert queue_counts(deployment, url) == (0, 0)


def test_the_command_line_on_a_deployed_stack_lists_archives_and_asks_before_replaying(
    emulator_only: Emulator,
    through_pulumi_cli: Callable[[Deployment, str], None],
    tmp_path: Path,
) -> None:
    """`--stack dev` end to end through the Pulumi CLI and the default AWS credentials (the
    emulator standing in for AWS; names changed so as not to meet other tests' dev stack in
    moto's default account)."""
    config = stack_config(
        "dev", table={"name": "redrive-cli-table"}, function={"name": "redrive-cli-function"}
    )
    deployment = deploy(emulator_only, "dev", config, account_id=DEFAULT_ACCOUNT_ID)
    through_pulumi_cli(deployment, "dev")
    put_items(deployment, ("PRODUCT#1", "METADATA"))
    stream = stream_records(deployment)
    send(deployment, on_failure_document(deployment, stream), "{}")
    archive = tmp_path / "failed.jsonl"

    listed = CliRunner().invoke(
        redrive_cli.app, ["list", "--stack", "dev", "--wait", "0", "--json"]
    )
    assert listed.exit_code == EXIT_OK, listed.output
    document = json.loads(listed.stdout)
    assert document["messages"] == 2
    assert [record["status"] for record in document["records"]] == ["recovered", "unreadable"]
    assert queue_counts(deployment) == (2, 0)  # read-only

    archived = CliRunner().invoke(
        redrive_cli.app, ["archive", str(archive), "--stack", "dev", "--wait", "0"]
    )
    assert archived.exit_code == EXIT_OK, archived.output
    output = archived.stdout
    assert output.startswith("redrive: stack dev (us-east-1, AWS)")
    assert "recovered: 1 record(s) for a batch of 1" in output
    assert [json.loads(line)["status"] for line in archive.read_text().splitlines()] == [
        "recovered",
        "unreadable",
    ]

    replayed = CliRunner().invoke(redrive_cli.app, ["replay", "--stack", "dev", "--wait", "0"])
    assert replayed.exit_code == EXIT_UNREADABLE
    assert "not replaying: no terminal to confirm on; pass --yes" in replayed.stderr
    assert "replaying 1 record(s)" not in replayed.stdout
    assert queue_counts(deployment) == (2, 0)


@pytest.mark.parametrize(("answer", "replayed"), [("n", False), ("", False), ("yes", True)])
def test_a_real_stack_is_replayed_only_when_the_operator_says_yes(
    deployment: Deployment, answer: str, replayed: bool
) -> None:
    put_items(deployment, ("PRODUCT#1", "METADATA"))
    send(deployment, on_failure_document(deployment, stream_records(deployment)))
    asked: list[str] = []
    seen = Seen()

    def ask(question: str) -> str:
        asked.append(question)
        return answer

    out = io.StringIO()
    with site(deployment, router(seen)) as confirming:
        confirming.confirm = True
        options = Options(replay=True, wait_seconds=0)
        result = redrive(confirming, options, out, io.StringIO(), ask=ask)

    assert asked == [
        "\nreplay 1 record(s) through the function's package in awslambdaric execution "
        "environments (recorder.lambda_handler), in batches of at most 10? [y/N] "
    ]
    assert bool(seen.records) is replayed
    assert queue_counts(deployment) == ((0, 0) if replayed else (1, 0))
    assert result.exit_code == (EXIT_OK if replayed else EXIT_LEFT)
    assert ("not replayed" in out.getvalue()) is not replayed


def test_records_the_trigger_filters_out_are_not_replayed(
    fresh_deployment: Callable[..., Deployment],
) -> None:
    # INSERTs only, the supported way: an INSERT has no old image (the key is in every image).
    inserts_only = {"dynamodb": {"OldImage": {"PK": {"S": [{"exists": False}]}}}}
    deployment = fresh_deployment(trigger={"filterPatterns": [inserts_only]})
    put_items(deployment, ("PRODUCT#1", "METADATA"), ("PRODUCT#2", "METADATA"))
    put_items(deployment, ("PRODUCT#1", "METADATA"), price="3")  # MODIFY: never delivered
    put_items(deployment, ("PRODUCT#3", "METADATA"))
    stream = stream_records(deployment)
    delivered = [record for record in stream if record["eventName"] == "INSERT"]
    send(deployment, on_failure_document(deployment, delivered))

    seen = Seen()
    result, output = run(deployment, the_fix(seen), replay=True)

    assert "3 record(s) for a batch of 3 (1 more in the range match none" in output
    assert [number for _, number in seen.records] == [
        record["dynamodb"]["SequenceNumber"] for record in delivered
    ]
    assert result.exit_code == EXIT_OK and queue_counts(deployment) == (0, 0)
