"""Redrive on the embedded emulator: interrupted and killed replays lose no
message; a quarantined record in parts is replayed once."""

from __future__ import annotations

import io
import json
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from streamops.emulator.server import Deployment
from streamops.redrive.inventory import MISSING_PARTS
from streamops.redrive.session import (
    EXIT_OK,
    Options,
    redrive,
)
from tests.integration.redrive.redrive_helpers import (
    ROOT,
    Interrupting,
    Seen,
    router,
    run,
    site,
)
from tests.support.failure_messages import (
    on_failure_document,
    put_items,
    quarantine_bodies,
    queue_counts,
    send,
    stream_records,
)

pytestmark = pytest.mark.integration


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
