"""`make redrive` without a stack: the whole redrive cycle in the embedded emulator.

A fresh emulator holds nothing to recover, so the demonstration first makes failures the
way production does, then redrives them:

1. deploys the dev stack into the embedded emulator (streamops.emulator.server);
2. writes the sample data of `make local` (streamops.sample_data), which includes a record
   the function can never process (a product price changed to text);
3. runs the stack's event source mapping locally (streamops.lambda_local.mapping: the real function
   package, invoked by the local stream runner) while a downstream service is DOWN for one
   user's changes (`DownstreamOutage`): those batches fail until their retries run out and
   the runner sends the mapping's on-failure pointers to the failure queue; the poison
   record is quarantined by the function itself;
4. the outage is over ("the fix is deployed"), and the requested action (list, archive,
   replay) runs on that queue exactly as it would on a real stack, with the handler from
   functions/stream_processor as the function. A replay succeeds for the pointers' records
   and reports the quarantined record as still failing (its data is still bad).

The demonstration succeeds (exit 0) when the queue ends as it should: after a replay,
only the planted poison record is left (as on a real stack, it stays until its data is
fixed); any other message left is a failure (exit 1), as on a real stack.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TextIO

from streamops.demo.local import peek_destination, summary_lines
from streamops.emulator.server import Deployment, Emulator, deploy
from streamops.lambda_local.mapping import local_mapping
from streamops.lambda_local.runner import StreamRunner, Summary
from streamops.progress import step
from streamops.redrive.inventory import KIND_QUARANTINE
from streamops.redrive.replay import POISON, REPLAYED, LocalHandler
from streamops.redrive.session import EXIT_LEFT, EXIT_OK, Options, Result, Site, redrive
from streamops.sample_data import sample_changes, write_changes
from streamops.stacks import emulated_stack

DEMO_STACK = "dev"
OUTAGE_ITEM = "PRODUCT#p1"  # the sample's mouse: created, then its price drops
DRAIN_TIMEOUT_SECONDS = 120


class DownstreamOutage:
    """The real handler, while a downstream service is down for one item's changes.

    Records before the item's first record in a batch are processed by the real handler;
    that record is reported as failed, exactly as the handler reports a record whose route
    raised (it stops there, and the mapping retries from it). Batches without the item go
    to the handler untouched.
    """

    def __init__(self, handler: Callable[[Any, Any], Any], partition_key: str):
        self.handler, self.partition_key = handler, partition_key

    def __call__(self, event: Any, context: Any) -> Any:
        records = event.get("Records", []) if isinstance(event, dict) else []
        for position, record in enumerate(records):
            keys = (record.get("dynamodb") or {}).get("Keys") or {}
            if (keys.get("PK") or {}).get("S") != self.partition_key:
                continue
            if position:
                before = self.handler({**event, "Records": records[:position]}, context)
                if (before or {}).get("batchItemFailures"):
                    return before
            return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
        return self.handler(event, context)


def produce_failures(
    deployment: Deployment, outage_item: str = OUTAGE_ITEM
) -> tuple[StreamRunner, Summary]:
    """Write the sample and run the mapping through the outage until the stream is drained."""
    stack = emulated_stack(deployment)
    runner = local_mapping(stack)
    runner.function.handler = DownstreamOutage(runner.function.handler, outage_item)
    table = deployment.outputs["tableName"]
    write_changes(deployment.aws("dynamodb"), table, sample_changes(time.time()))
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
    with Emulator() as emulator:
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
            runner, summary = produce_failures(deployment)
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
