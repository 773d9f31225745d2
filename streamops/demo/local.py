"""`streamops local`: the whole pipeline on this machine, in one command, with no AWS account.

    uv run streamops local                 # dev stack: deploy, write a sample, process it
    uv run streamops local --follow        # ... then keep processing what you write
    uv run streamops local --stack prod --port 4566 --raw-logs

What it does, in order (the seed tutorial's "Bài tập 4", end to end):
1. starts the embedded emulator (a moto server on 127.0.0.1) and deploys the stack into it
   (streamops.emulator.server: the real Pulumi program, each resource created through boto3), in
   moto's default account so the AWS CLI and boto3 reach it without extra settings;
2. writes a realistic sample of the seed's e-commerce data (streamops.sample_data) and lets
   the emulated TTL process delete the session that has expired;
3. runs the stack's event source mapping locally (streamops.lambda_local.mapping: the real
   function, in execution environments running awslambdaric) until the stream is drained, printing
   the function's log lines as they are written (they also go to the log group);
4. prints a summary: records by event name, invocations, retries, failures, what reached
   the failure destination, final iterator age.
With --follow it then keeps running and prints the endpoint and example commands.

Exit status (streamops/cli/local.py): 0 when the stream was drained with every record
accounted for, 1 otherwise, 2 when the stack cannot be deployed (bad config).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from moto.core import DEFAULT_ACCOUNT_ID

from streamops.emulator.server import Deployment, Emulator, deploy
from streamops.emulator.ttl import expire_items
from streamops.lambda_local.logs import PrintSink
from streamops.lambda_local.mapping import local_mapping
from streamops.lambda_local.on_failure import is_on_failure_message
from streamops.lambda_local.runner import (
    OUTCOME_SUCCESS,
    BatchDiscarded,
    BatchInvoked,
    RunnerEvent,
    StreamRunner,
    Summary,
)
from streamops.progress import step
from streamops.sample_data import Change, sample_changes, write_changes

DRAIN_TIMEOUT_SECONDS = 300
TTL_SWEEP_SECONDS = 5.0  # --follow: how often the emulated TTL process looks for expired items
QUARANTINE_KIND = "quarantined-record"  # functions/stream_processor/quarantine.py KIND
PEEK_ROUNDS = 20


@dataclass
class LocalRun:
    deployment: Deployment
    runner: StreamRunner
    summary: Summary
    destination: list[dict[str, Any]]  # message bodies in the failure queue (SQS only)


def run_local(
    emulator: Emulator,
    stack: str,
    out: TextIO,
    *,
    account_id: str = DEFAULT_ACCOUNT_ID,
    raw_logs: bool = False,
    drain_timeout: float = DRAIN_TIMEOUT_SECONDS,
) -> LocalRun:
    """Deploy, write the sample, process it; print everything to `out`."""
    with step(f"deploying stack {stack} into the embedded emulator"):
        deployment = deploy(emulator, stack, account_id=account_id)
    outputs = deployment.outputs
    say = _printer(out)
    say(f"== Stack {stack} deployed into the embedded emulator")
    say(f"  endpoint     {emulator.endpoint} (account {account_id}, {deployment.region})")
    say(f"  table        {outputs['tableName']} (stream {outputs['streamArn']})")
    say(f"  function     {outputs['functionName']} (logs {outputs['logGroupName']})")
    say(f"  failures to  {outputs['failureDestinationArn']}")

    runner = local_mapping(
        deployment, sinks=[PrintSink(out, raw=raw_logs)], observers=[_mapping_notes(say)]
    )
    now = time.time()
    changes = sample_changes(now)
    say(f"\n== Writing {len(changes)} changes to {outputs['tableName']}")
    write_changes(
        deployment.aws("dynamodb"), outputs["tableName"], changes, on_change=_change_note(say)
    )
    expired = expire_items(account_id, deployment.region, outputs["tableName"], now)
    say(
        f"  TTL          {expired} expired item(s) deleted by the emulated TTL process: "
        f"DynamoDB writes a REMOVE record for each, so the stream holds "
        f"{len(changes) + expired} records for these {len(changes)} changes"
    )

    trigger = deployment.config.trigger
    say(
        f"\n== Event source mapping: batch size {trigger.batch_size}, window "
        f"{trigger.max_batching_window_seconds} s, retries {trigger.retry_attempts}, max record "
        f"age {trigger.max_record_age_seconds} s, bisect {_on_off(trigger.bisect_on_error)}"
    )
    if not trigger.enabled:
        say("  the mapping is disabled (trigger.enabled: false): records stay in the stream")
    summary = runner.run_until_drained(timeout_seconds=drain_timeout)
    destination = peek_destination(deployment)
    say("\n== Summary")
    for line in summary_lines(summary, destination, deployment, runner):
        say(f"  {line}")
    for line in accounting_lines(summary, len(changes), expired):
        say(f"  {line}")
    return LocalRun(deployment, runner, summary, destination)


def follow(
    run: LocalRun,
    emulator: Emulator,
    out: TextIO,
    should_stop: Callable[[], bool] = lambda: False,
) -> Summary:
    """Keep the mapping running until `should_stop()` (or Ctrl-C); print how to write."""
    say = _printer(out)
    outputs = run.deployment.outputs
    endpoint, region = emulator.endpoint, run.deployment.region
    say(f"\n== Following {outputs['tableName']} at {endpoint} (Ctrl-C to stop)")
    say("  From a shell (any credentials work with the emulator):")
    say("    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing")
    say(f"    export AWS_DEFAULT_REGION={region}")
    item = json.dumps({"PK": {"S": "USER#u9"}, "SK": {"S": "PROFILE"}, "status": {"S": "active"}})
    say(f"    aws --endpoint-url {endpoint} dynamodb put-item \\")
    say(f"        --table-name {outputs['tableName']} --item '{item}'")
    say("  From Python:")
    say(
        f"    boto3.client('dynamodb', endpoint_url='{endpoint}', region_name='{region}', "
        "aws_access_key_id='testing', aws_secret_access_key='testing')"
    )
    next_sweep = 0.0

    def sweep() -> None:
        nonlocal next_sweep
        now = time.time()
        if now >= next_sweep:
            next_sweep = now + TTL_SWEEP_SECONDS
            account, table = run.deployment.account_id, outputs["tableName"]
            expire_items(account, region, table, now)

    summary = run.runner.run_forever(should_stop, each_round=sweep)
    say("\n== Summary (whole session)")
    destination = peek_destination(run.deployment)
    for line in summary_lines(summary, destination, run.deployment, run.runner):
        say(f"  {line}")
    return summary


def peek_destination(deployment: Deployment) -> list[dict[str, Any]]:
    """The failure queue's messages, read without consuming them (SQS); [] for SNS."""
    if deployment.config.trigger.on_failure != "sqs":
        return []
    sqs = deployment.aws("sqs")
    url = deployment.outputs["failureQueueUrl"]
    seen: dict[str, dict[str, Any]] = {}
    for _ in range(PEEK_ROUNDS):
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        fresh = [message for message in messages if message["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen[message["MessageId"]] = json.loads(message["Body"])
    return list(seen.values())


def summary_lines(
    summary: Summary,
    destination: list[dict[str, Any]],
    deployment: Deployment,
    runner: StreamRunner,
) -> list[str]:
    events = _counts(summary.records_by_event)
    outcomes = _counts(summary.outcomes)
    failed = summary.invocations - summary.outcomes.get(OUTCOME_SUCCESS, 0)
    lines = [
        f"records read         {summary.records_read} ({events or 'none'})",
        f"invocations          {summary.invocations} ({outcomes or 'none'})",
        f"retries              {summary.retries} (bisections {summary.bisections}, "
        f"records delivered again {summary.records_redelivered})",
        f"failures             {failed} invocation(s) not fully successful, "
        f"{summary.quarantined} record(s) quarantined by the function",
        f"settled              {summary.records_succeeded} processed, "
        f"{summary.records_sent_to_destination} sent to the failure destination by the mapping, "
        f"{summary.records_filtered} filtered out, {summary.records_pending} pending",
    ]
    metrics = ", ".join(f"{name} {value:g}" for name, value in summary.handler_metrics.items())
    lines.append(f"function metrics     {metrics or 'none'} (from its EMF lines)")
    lines.append(_start_line(summary))
    lines.extend(_destination_lines(summary, destination, deployment))
    age = "drained" if summary.drained else "NOT drained"
    lines.append(
        f"iterator age         {summary.iterator_age_ms} ms "
        f"({age}; max {summary.max_iterator_age_ms} ms)"
    )
    streams = getattr(runner.function, "log_streams", [])
    lines.append(
        f"function logs        {deployment.outputs['logGroupName']} "
        f"({len(streams)} log stream(s), one per execution environment)"
    )
    return lines


def accounting_lines(summary: Summary, written: int, ttl_deleted: int) -> list[str]:
    """How the counts above relate: the records the stream holds are this run's changes plus
    the TTL deletions; the mapping counts a quarantined record as processed (its batch
    succeeded), the function counts it apart (RecordsQuarantined, not RecordsProcessed)."""
    processed = summary.handler_metrics.get("RecordsProcessed")
    lines = [
        f"accounting           {summary.records_read} records read = {written} changes "
        f"written + {ttl_deleted} TTL deletion(s) (REMOVE records written by DynamoDB)"
    ]
    if processed is not None and summary.quarantined:
        lines.append(
            f"                     {summary.records_succeeded} settled as processed by the "
            f"mapping = {processed:g} the function processed (RecordsProcessed) + "
            f"{summary.quarantined} it quarantined (counted apart, RecordsQuarantined)"
        )
    return lines


def _start_line(summary: Summary) -> str:
    """Cold vs warm invocations and the INIT time the cold ones paid (and were billed)."""
    warm = summary.invocations - summary.cold_starts
    inits = summary.init_durations_ms
    timing = (
        f"INIT {sum(inits) / len(inits):.0f} ms on average, {max(inits):.0f} ms at most, "
        f"billed with the invocation"
        if inits
        else "no INIT"
    )
    return f"cold / warm          {summary.cold_starts} cold start(s), {warm} warm ({timing})"


def _destination_lines(
    summary: Summary, destination: list[dict[str, Any]], deployment: Deployment
) -> list[str]:
    conditions = _counts(summary.failure_messages)
    pointers = f"{summary.destination_batches} on-failure batch(es) from the mapping" + (
        f" ({conditions})" if conditions else ""
    )
    if deployment.config.trigger.on_failure != "sqs":
        return [
            f"failure destination  topic {deployment.outputs['failureDestinationArn']}: "
            f"{summary.quarantined} quarantined record(s), {pointers} (a topic keeps no "
            "messages to show)"
        ]
    lines = [f"failure destination  {len(destination)} message(s) in the queue: {pointers}"]
    for body in destination:
        if body.get("kind") == QUARANTINE_KIND:
            keys = (body.get("record") or {}).get("dynamodb", {}).get("Keys", {})
            item = "#".join(str(value.get("S", value)) for value in keys.values())
            lines.append(f"  quarantined record {item}: {body.get('reason')}")
        elif is_on_failure_message(body):
            info = body["DDBStreamBatchInfo"]
            lines.append(
                f"  on-failure ({body['requestContext']['condition']}): {info['batchSize']} "
                f"record(s) of {info['shardId']} from {info['startSequenceNumber']} to "
                f"{info['endSequenceNumber']}"
            )
        else:
            lines.append(f"  other message: {json.dumps(body)[:120]}")
    return lines


def _counts(counter: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counter.items()))


def _on_off(value: bool) -> str:
    return "on" if value else "off"


def _printer(out: TextIO) -> Callable[[str], None]:
    def say(text: str) -> None:
        out.write(text + "\n")
        out.flush()

    return say


def _change_note(say: Callable[[str], None]) -> Callable[[Change], None]:
    def note(change: Change) -> None:
        say(f"  {change.action:<6} {change.key():<32} {change.note}")

    return note


def _mapping_notes(say: Callable[[str], None]) -> Callable[[RunnerEvent], None]:
    """One line for what the mapping does besides a plain success."""

    def note(event: RunnerEvent) -> None:
        if isinstance(event, BatchInvoked) and event.outcome != OUTCOME_SUCCESS:
            say(
                f"  mapping: batch of {len(event.sequence_numbers)} ({event.outcome}) "
                f"from {event.sequence_numbers[0]}: will be retried, split or discarded"
            )
        elif isinstance(event, BatchDiscarded):
            say(
                f"  mapping: {event.condition}: on-failure message for "
                f"{len(event.sequence_numbers)} record(s) sent to the failure destination"
            )

    return note
