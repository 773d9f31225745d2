"""`make redrive` without a stack: the whole redrive cycle in the embedded emulator.

A fresh emulator holds nothing to recover, so the demonstration first makes failures the
way production does, then redrives them:

1. deploys the dev stack into the embedded emulator (streamops.emulator.server);
2. writes the sample data of `make local` (streamops.sample_data), which includes a record
   the function can never process (a product price changed to text);
3. runs the stack's event source mapping locally (streamops.lambda_local.mapping: the real function
   package, in awslambdaric execution environments) while a downstream service is DOWN
   for one user's changes (`outage_function`, a wrapper run inside the environments):
   those batches fail until their retries run out and the runner sends the mapping's
   on-failure pointers to the failure queue; the poison record is quarantined by the
   function itself;
4. the outage is over ("the fix is deployed"), and the requested action (list, archive,
   replay) runs on that queue exactly as it would on a real stack, the function being
   the package from functions/stream_processor in awslambdaric execution environments.
   A replay succeeds for the pointers' records and reports the quarantined record as
   still failing (its data is still bad; the function quarantines it again).

The demonstration succeeds (exit 0) when the queue ends as it should: after a replay,
only the planted poison record is left (as on a real stack, it stays until its data is
fixed); any other message left is a failure (exit 1), as on a real stack.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TextIO

from streamops.demo import outage_function
from streamops.demo.local import peek_destination, summary_lines
from streamops.doctor.checks import DeployedStack
from streamops.emulator.server import Deployment, Emulator, deploy
from streamops.lambda_local.mapping import local_function, local_mapping, wrapped_package
from streamops.lambda_local.runner import StreamRunner, Summary
from streamops.progress import step
from streamops.redrive.inventory import KIND_QUARANTINE
from streamops.redrive.replay import POISON, REPLAYED, LocalFunction
from streamops.redrive.session import EXIT_LEFT, EXIT_OK, Options, Result, Site, redrive
from streamops.sample_data import sample_changes, write_changes
from streamops.stacks import emulated_stack

DEMO_STACK = "dev"
OUTAGE_ITEM = "PRODUCT#p1"  # the sample's mouse: created, then its price drops
DRAIN_TIMEOUT_SECONDS = 120


def outage_package(into: Path) -> Path:
    """The function's package plus the outage wrapper (``outage.lambda_handler``)."""
    return wrapped_package(into, Path(outage_function.__file__), "outage")


def outage_mapping(stack: DeployedStack, outage_item: str, workdir: Path) -> StreamRunner:
    """The stack's mapping, its environments running the function behind the outage."""
    function = local_function(
        stack,
        source=outage_package(workdir / "outage-package"),
        handler="outage.lambda_handler",
        variables={outage_function.PARTITION_KEY_VARIABLE: outage_item},
    )
    return local_mapping(stack, function=function)


def produce_failures(
    deployment: Deployment, workdir: Path, outage_item: str = OUTAGE_ITEM
) -> tuple[StreamRunner, Summary]:
    """Write the sample and run the mapping through the outage until the stream is drained."""
    runner = outage_mapping(emulated_stack(deployment), outage_item, workdir)
    table = deployment.outputs["tableName"]
    write_changes(deployment.aws("dynamodb"), table, sample_changes(time.time()))
    with runner:
        return runner, runner.run_until_drained(timeout_seconds=DRAIN_TIMEOUT_SECONDS)


def only_the_planted_poison_is_left(result: Result) -> bool:
    """After a replay: every record that did not replay is poison (bad data), and every
    message still in the queue is a quarantined record (the one the sample plants)."""
    if result.inventory is None or not result.replayed:
        return False
    handled = set(result.deleted) | set(result.dropped)
    kept = [state for state in result.inventory.messages if state.message_id not in handled]
    not_replayed = [o for o in result.outcomes.values() if o.status != REPLAYED]
    return (
        bool(kept)
        and all(state.kind == KIND_QUARANTINE for state in kept)
        and all(outcome.status == POISON for outcome in not_replayed)
        and len(result.outcomes) == len(result.inventory.records)
    )


def demonstrate(options: Options, out: TextIO, err: TextIO) -> Result:
    with Emulator() as emulator, tempfile.TemporaryDirectory() as workdir:
        with step(f"deploying stack {DEMO_STACK} into the embedded emulator"):
            deployment = deploy(emulator, DEMO_STACK)
        print(
            f"== Stack {DEMO_STACK} deployed into the embedded emulator ({emulator.endpoint}, "
            f"account {deployment.account_id})",
            file=out,
        )
        print(
            f"== Writing the sample data and running the event source mapping while the "
            f"downstream service is down for {OUTAGE_ITEM}'s changes",
            file=out,
        )
        with step("running the event source mapping through the outage"):
            runner, summary = produce_failures(deployment, Path(workdir))
        for line in summary_lines(summary, peek_destination(deployment), deployment, runner):
            print(f"  {line}", file=out)
        print("== The outage is over (the fix is deployed): redrive\n", file=out)
        stack = emulated_stack(deployment)
        title = (
            f"redrive: stack {DEMO_STACK} deployed into the embedded emulator "
            f"(account {deployment.account_id})"
        )
        with LocalFunction.for_stack(stack) as target:  # the package as deployed, fixed
            result = redrive(Site(title, stack, target, confirm=False), options, out, err)
        if result.exit_code == EXIT_LEFT and only_the_planted_poison_is_left(result):
            print(
                "\ndemonstration complete: every record the outage failed was replayed; the "
                "planted poison record stays in the queue, as it would on a real stack, until "
                "its data is fixed",
                file=out,
            )
            result.exit_code = EXIT_OK
        return result
