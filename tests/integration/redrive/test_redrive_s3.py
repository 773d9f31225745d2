"""An S3 failure destination on the embedded emulator: the batch kept whole, redriven after
the stream has forgotten it.

The stack is dev with `trigger.onFailure: s3` (a created key, as the default). The local
stream runner runs the mapping through a downstream outage: USER#u2's batches run out of
retries and the runner writes AWS's S3 invocation record (the batch in `payload`) to the
bucket; the real function quarantines the poison record there itself. Then the records are
aged past the stream's 24 h (the emulator trims them) and `redrive` replays everything from
the objects.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from streamops.emulator.server import Deployment
from streamops.redrive.readback import RECOVERED
from streamops.redrive.replay import REPLAYED
from streamops.redrive.session import EXIT_OK, Options, Result, redrive
from tests.integration.redrive.redrive_helpers import (
    Recorder,
    Seen,
    router,
    run_through_outage,
    site,
    the_fix,
)
from tests.integration.redrive.redrive_helpers import write_sample as write_seven_records
from tests.support.failure_messages import age_stream, stream_records

pytestmark = pytest.mark.integration

S3_TRIGGER = {"onFailure": "s3", "destinationKmsKey": "create"}
# aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>
KEY_LAYOUT = re.compile(
    r"^aws/lambda/(?P<uuid>[0-9a-f-]{36})/(?P<shard>[^/]+)/(?P<day>\d{4}/\d{2}/\d{2})/"
    r"(?P<time>\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2})-"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)


@pytest.fixture
def deployment(fresh_deployment: Callable[..., Deployment]) -> Deployment:
    return fresh_deployment(trigger=S3_TRIGGER)


def objects(deployment: Deployment) -> dict[str, dict[str, Any]]:
    s3 = deployment.aws("s3")
    bucket = deployment.outputs["failureBucketName"]
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {
        item["Key"]: json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
        for item in listed
    }


def run(
    deployment: Deployment, package: Recorder, *, now: dt.datetime, **options: Any
) -> tuple[Result, str]:
    out, err = io.StringIO(), io.StringIO()
    with site(deployment, package) as local:
        result = redrive(local, Options(**options), out, err, now=now)
    return result, out.getvalue() + err.getvalue()


def test_a_batch_kept_in_s3_is_replayed_after_the_stream_trimmed_it(
    deployment: Deployment, tmp_path: Path
) -> None:
    write_seven_records(deployment)
    written = stream_records(deployment)
    summary = run_through_outage(deployment, "USER#u2", tmp_path)
    assert summary.destination_batches >= 1 and summary.quarantined == 1

    # The batch is in S3, whole, in AWS's layout and format.
    found = objects(deployment)
    batches = {key: body for key, body in found.items() if key.startswith("aws/lambda/")}
    quarantined = {key: body for key, body in found.items() if key.startswith("quarantine/")}
    assert len(batches) == summary.destination_batches and len(quarantined) == 1
    kept: list[dict[str, Any]] = []
    for key, body in batches.items():
        match = KEY_LAYOUT.match(key)
        assert match, key
        assert match["uuid"] == deployment.outputs["eventSourceMappingId"]
        info = body["DDBStreamBatchInfo"]
        assert match["shard"] == info["shardId"]
        assert match["day"] == body["timestamp"][:10].replace("-", "/")
        assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert set(body) == {
            "requestContext", "responseContext", "version", "timestamp",
            "DDBStreamBatchInfo", "payload",
        }  # fmt: skip
        assert isinstance(body["payload"], str)  # "an escaped JSON string"
        records = json.loads(body["payload"])["Records"]
        assert len(records) == info["batchSize"]
        assert records[0]["dynamodb"]["SequenceNumber"] == info["startSequenceNumber"]
        assert records[-1]["dynamodb"]["SequenceNumber"] == info["endSequenceNumber"]
        kept += records
    # The outage's item, with what shared its batches (a discarded batch is kept whole).
    assert "USER#u2" in {r["dynamodb"]["Keys"]["PK"]["S"] for r in kept}
    by_sequence = {r["dynamodb"]["SequenceNumber"]: r for r in written}
    for record in kept:  # whole: exactly the stream's record
        assert record["dynamodb"] == by_sequence[record["dynamodb"]["SequenceNumber"]]["dynamodb"]
    (poison,) = quarantined.values()
    assert poison["kind"] == "quarantined-record" and poison["encoding"] == "json"

    # A day and more later: the stream has trimmed every record.
    age_stream(deployment, hours=25)
    assert stream_records(deployment) == []
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)

    seen = Seen()
    result, output = run(deployment, the_fix(seen), now=later, replay=True)

    assert result.exit_code == EXIT_OK, output
    assert result.inventory is not None
    states = result.inventory.by_kind("pointer")
    assert [state.status for state in states] == [RECOVERED] * len(batches)
    assert "from the S3 object itself" in output and "the stream drops it" not in output
    expected = sorted(
        (r["dynamodb"]["Keys"]["PK"]["S"], r["dynamodb"]["SequenceNumber"])
        for r in [*kept, poison["record"]]
    )
    assert sorted(seen.records) == expected
    assert all(outcome.status == REPLAYED for outcome in result.outcomes.values())
    # In stream order per item.
    for item in {pk for pk, _ in seen.records}:
        numbers = [int(seq) for pk, seq in seen.records if pk == item]
        assert numbers == sorted(numbers), item
    # Every object was deleted after its records were replayed: the destination is empty.
    assert objects(deployment) == {}
    assert sorted(result.deleted) == sorted(found)


def test_an_object_still_failing_stays_and_a_rerun_finishes_it(
    deployment: Deployment, tmp_path: Path
) -> None:
    write_seven_records(deployment)
    run_through_outage(deployment, "USER#u2", tmp_path)
    before = objects(deployment)
    age_stream(deployment, hours=25)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)

    # The bug is not fixed yet: USER#u2 still fails, the poison record is still poison.
    archive = tmp_path / "failed.jsonl"
    result, output = run(
        deployment, router(Seen(), broken="USER#u2"), now=later, replay=True, archive=archive
    )
    assert result.exit_code != EXIT_OK
    left = objects(deployment)
    assert set(left) == set(before)  # nothing replayed in full: every object stays
    lines = [json.loads(line) for line in archive.read_text().splitlines()]
    in_objects = sum(
        len(json.loads(body["payload"])["Records"]) for body in before.values() if "payload" in body
    )
    assert sum(1 for line in lines if line["status"] == "recovered") == in_objects + 1

    # Interrupted before anything was replayed: nothing changes.
    class Interrupted(Exception):
        pass

    class Stop:
        description = "a target interrupted at its first invocation (Ctrl-C)"
        exact_quarantine = True

        def invoke(self, records: Any) -> Any:
            raise Interrupted

    with site(deployment) as interrupted, pytest.raises(Interrupted):
        interrupted.target = Stop()
        redrive(interrupted, Options(replay=True), io.StringIO(), io.StringIO(), now=later)
    assert set(objects(deployment)) == set(left)

    # After the fix, a rerun replays what is left and empties the bucket.
    seen = Seen()
    result, output = run(deployment, the_fix(seen), now=later, replay=True)
    assert result.exit_code == EXIT_OK, output
    assert objects(deployment) == {}
    held = [
        record
        for body in before.values()
        for record in (json.loads(body["payload"])["Records"] if "payload" in body else [])
    ] + [body["record"] for body in before.values() if "record" in body]
    assert sorted(seq for _, seq in seen.records) == sorted(
        record["dynamodb"]["SequenceNumber"] for record in held
    )
