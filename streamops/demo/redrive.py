"""`make redrive` without a stack: the whole redrive cycle in the embedded emulator.

A fresh emulator holds nothing to recover, so the demonstration first makes failures the
way production does, then redrives them:

1. deploys the dev stack into the embedded emulator (streamops.emulator.server);
2. writes the sample data of `make local` (streamops.demo.sample_data), which includes a record
   the function can never process (a product price changed to text);
3. runs the stack's event source mapping locally (streamops.lambda_local.mapping: the real function
   package, in awslambdaric execution environments) while a downstream service is DOWN
   for one user's changes (`outage_function`, a wrapper run inside the environments):
   those batches fail until their retries run out and the runner sends the mapping's
   on-failure pointers to the failure queue; the poison record is quarantined by the
   function itself;
4. the outage is over ("the fix is deployed"), and the requested action (list, archive,
   replay) runs on that queue exactly as it would on a real stack, with the handler from
   functions/stream_processor as the function. A replay succeeds for the pointers' records
   and reports the quarantined record as still failing (its data is still bad).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import TextIO

from components.function import FUNCTION_SOURCE
from streamops.demo import outage_function
from streamops.demo.command import peek_destination, summary_lines
from streamops.demo.sample_data import sample_changes, write_changes
from streamops.doctor.checks import DeployedStack
from streamops.emulator.server import Deployment, Emulator, deploy
from streamops.lambda_local.mapping import local_function, local_mapping
from streamops.lambda_local.runner import StreamRunner, Summary
from streamops.redrive.command import Options, Site, redrive
from streamops.redrive.replay import LocalHandler
from streamops.stacks import emulated_stack

DEMO_STACK = "dev"
OUTAGE_ITEM = "PRODUCT#p1"  # the sample's mouse: created, then its price drops
DRAIN_TIMEOUT_SECONDS = 120


def outage_package(into: Path) -> Path:
    """The function's package plus the outage wrapper (``outage.lambda_handler``)."""
    into.mkdir(parents=True, exist_ok=True)
    for module in FUNCTION_SOURCE.glob("*.py"):
        shutil.copy2(module, into / module.name)
    shutil.copy2(Path(outage_function.__file__), into / "outage.py")
    return into


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


def demonstrate(options: Options, out: TextIO, err: TextIO) -> int:
    with Emulator() as emulator, tempfile.TemporaryDirectory() as workdir:
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
        runner, summary = produce_failures(deployment, Path(workdir))
        for line in summary_lines(summary, peek_destination(deployment), deployment, runner):
            print(f"  {line}", file=out)
        print("== The outage is over (the fix is deployed): redrive\n", file=out)
        stack = emulated_stack(deployment)
        target = LocalHandler.for_stack(
            deployment.outputs, deployment.config.function.metrics_namespace
        )
        title = (
            f"redrive: stack {DEMO_STACK} deployed into the embedded emulator "
            f"(account {deployment.account_id})"
        )
        return redrive(Site(title, stack, target, confirm=False), options, out, err).exit_code
