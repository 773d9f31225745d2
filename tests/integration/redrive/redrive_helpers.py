"""Redrive tests' site on the embedded emulator: the dev stack's failure queue and stream, and
the real function package from functions/stream_processor as the replay target, run in
awslambdaric execution environments (streamops.redrive.replay.LocalFunction) with a
recorder module next to it (tests/support/replay_recorder.py): it writes what the routes
processed to a file, with its process id (every replay asserts it is not this process).
"The bug" is a route added to the seed routes, and "the fix" is the recorder's route alone.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamops.demo.redrive import outage_mapping
from streamops.emulator.server import Deployment
from streamops.lambda_local.runner import Summary
from streamops.redrive.replay import (
    LocalFunction,
)
from streamops.redrive.session import (
    Options,
    Result,
    Site,
    redrive,
)
from streamops.stacks import emulated_stack
from tests.support.failure_messages import (
    put_items,
)
from tests.support.replay_recorder import HANDLER as RECORDER_HANDLER
from tests.support.replay_recorder import recorder_package, recorder_variables, seen_in

ROOT = Path(__file__).resolve().parents[3]


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


def by_pk(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        grouped.setdefault(record["dynamodb"]["Keys"]["PK"]["S"], []).append(record)
    return grouped


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
