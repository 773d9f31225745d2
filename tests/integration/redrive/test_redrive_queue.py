"""Redrive on the embedded emulator: list, archive and replay of what is in the
failure queue, and of records past the stream's retention."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamops.emulator.server import Deployment
from streamops.redrive.inventory import COMPLETE, KIND_QUARANTINE, KIND_UNKNOWN
from streamops.redrive.readback import EXPIRED, PARTIAL, RECOVERED
from streamops.redrive.replay import (
    FAILED,
    HELD_BACK,
    POISON,
    REPLAYED,
)
from streamops.redrive.session import (
    EXIT_LEFT,
    EXIT_OK,
)
from tests.integration.redrive.redrive_helpers import (
    Seen,
    router,
    run,
)
from tests.support.failure_messages import (
    age_stream,
    on_failure_document,
    put_items,
    quarantine_bodies,
    queue_counts,
    send,
    stream_records,
)

pytestmark = pytest.mark.integration


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
