"""A redrive run: recover what reached the failure destination before the stream forgets it.

    uv run streamops redrive list --stack dev  # read-only (streamops/cli/redrive.py)
    uv run streamops redrive archive failed.jsonl --stack dev  # keep a copy
    uv run streamops redrive replay --stack dev  # after deploying the fix
    uv run streamops redrive archive lost.jsonl --stack dev --drop-expired
    uv run streamops redrive list  # demonstration, emulator (streamops/demo/redrive.py)

The failure queue holds the mapping's on-failure POINTERS (records still in the stream for
24 h after they were written, then gone) and the function's QUARANTINED records (whole).
Every message is read (received and hidden from other readers for this run only),
recovered (pointers read back from the stream), listed with how long is left, optionally
archived to a JSON lines file and/or replayed through the function in order per item.
A message is deleted only when every record it holds was replayed successfully, or, with
`--drop-expired`, when its range has expired and the archive has been written. Anything
else is released back to the queue at the end of the run, including when the run is
interrupted. See docs/redrive.md.

Exit codes: 0 nothing left to do (list and archive: the queue was read), 1 a replay left
messages in the queue (still failing, expired, unknown), 2 the queue could not be read (no
stack, an SNS destination without `--queue`, invalid arguments).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError

from streamops.doctor.checks import DeployedStack
from streamops.lambda_local.event_filter import RecordFilter, UnsupportedFilter
from streamops.progress import Bar
from streamops.redrive.archive import write_jsonl
from streamops.redrive.failure_queue import FailureQueue, QueueError
from streamops.redrive.inventory import (
    Inventory,
    archive_entries,
    take_inventory,
)
from streamops.redrive.replay import (
    REPLAYED,
    DeployedFunction,
    Outcome,
    Recovered,
    Replay,
    TargetUnavailable,
)
from streamops.redrive.report import print_inventory, print_outcomes, print_summary
from streamops.redrive.s3_destination import FailureBucket, FailureSource
from streamops.redrive.session_types import (
    EXIT_LEFT,
    EXIT_OK,
    EXIT_UNREADABLE,
    Options,
    Result,
    Site,
)
from streamops.stacks import real_stack

__all__ = [  # a run's vocabulary, importable from here as before the split
    "EXIT_LEFT",
    "EXIT_OK",
    "EXIT_UNREADABLE",
    "Options",
    "Result",
    "Site",
    "redrive",
]

# Messages stay hidden while this run holds them: long enough for one invocation at the
# function's timeout plus a margin, renewed at half-time before each invocation.
VISIBILITY_MARGIN_SECONDS = 60
SNS = "sns"


# --------------------------------------------------------------------------- the run


def redrive(
    site: Site,
    options: Options,
    out: TextIO,
    err: TextIO,
    *,
    now: dt.datetime | None = None,
    ask: Callable[[str], str] = input,
) -> Result:
    stack = site.stack
    result = Result()
    queue_url = options.queue_url or stack.outputs.get("failureQueueUrl")
    # An S3 destination is read like a queue (streamops.redrive.s3_destination).
    bucket = None if options.queue_url else stack.outputs.get("failureBucketName")
    print(site.title, file=out)
    if not queue_url and not bucket:
        if stack.config.trigger.on_failure == SNS:
            explain_sns(stack, out)
        else:
            print("redrive: the stack has no failureQueueUrl output", file=err)
        result.exit_code = EXIT_UNREADABLE
        return result

    visibility = options.visibility_seconds or 2 * (
        stack.config.function.timeout_seconds + VISIBILITY_MARGIN_SECONDS
    )
    queue: FailureSource = (
        FailureBucket(stack.aws("s3"), bucket)
        if bucket
        else FailureQueue(
            stack.aws("sqs"),
            str(queue_url),
            visibility_seconds=visibility,
            wait_seconds=options.wait_seconds,
        )
    )
    with queue:
        attributes = queue.attributes()
        print(
            f"failure bucket: s3://{bucket}" if bucket else f"failure queue: {queue_url}", file=out
        )
        _warn_redrive_policy(attributes, err)
        messages = queue.receive(options.max_messages)
        if not messages:
            print(f"the {'bucket' if bucket else 'queue'} is empty: nothing to recover", file=out)
            return result
        print(
            f"read {len(messages)} object(s): whole batches and quarantined records; an "
            "object is deleted only once its records are replayed"
            if bucket
            else f"read {len(messages)} message(s); hidden from other readers while this run "
            f"holds them (visibility timeout {visibility} s), released at the end",
            file=out,
        )
        inventory = take_inventory(
            messages,
            stack.aws("dynamodbstreams"),
            before_read=queue.keep_alive,
            record_filter=_record_filter(stack, err),
        )
        result.inventory = inventory
        moment = now or dt.datetime.now(dt.UTC)
        retention = int(attributes.get("MessageRetentionPeriod", 0))
        print_inventory(inventory, out, moment, retention)

        if options.archive is not None:
            result.archived = write_jsonl(options.archive, archive_entries(inventory))
            print(f"\narchived {result.archived} line(s) to {options.archive}", file=out)
        if options.replay:
            _replay(site, options, inventory, queue, result, out, err, ask)
        if options.drop_expired:
            _drop_expired(inventory, queue, result, out)
    result.problems.extend(queue.warnings)
    for problem in result.problems:
        print(f"redrive: {problem}", file=err)
    print_summary(inventory, result, options, out)
    return result


def _record_filter(stack: DeployedStack, err: TextIO) -> RecordFilter | None:
    """The trigger's filter patterns, to leave out what the mapping never delivered; when
    they cannot be evaluated, nothing is left out (a record replayed twice is harmless, one
    skipped would be lost)."""
    patterns = stack.config.trigger.filter_patterns
    if not patterns:
        return None
    try:
        return RecordFilter(patterns)
    except UnsupportedFilter as error:
        print(f"redrive: warning: filter patterns not applied ({error})", file=err)
        return None


def _warn_redrive_policy(attributes: dict[str, str], err: TextIO) -> None:
    if attributes.get("RedrivePolicy"):
        print(
            "redrive: warning: this queue has a redrive policy; every receive counts towards "
            f"its maxReceiveCount ({attributes['RedrivePolicy']}), after which SQS moves the "
            "message to the dead-letter queue named there",
            file=err,
        )


def _replay(
    site: Site,
    options: Options,
    inventory: Inventory,
    queue: FailureSource,
    result: Result,
    out: TextIO,
    err: TextIO,
    ask: Callable[[str], str],
) -> None:
    records = inventory.ordered_records()
    if not records:
        print("\nnothing to replay: no record was recovered", file=out)
        return
    batch_size = site.stack.config.trigger.batch_size
    if site.confirm and not options.yes:
        question = (
            f"\nreplay {len(records)} record(s) through {site.target.description}, in "
            f"batches of at most {batch_size}? [y/N] "
        )
        if not sys.stdin.isatty() and ask is input:
            print("redrive: not replaying: no terminal to confirm on; pass --yes", file=err)
            result.exit_code = EXIT_UNREADABLE
            return
        if ask(question).strip().lower() not in ("y", "yes"):
            print("not replayed", file=out)
            return
    states = {state.message_id: state for state in inventory.messages}
    progress = Bar("replaying")

    def settled(record: Recovered, outcome: Outcome) -> None:
        if outcome.status != REPLAYED:
            return
        done = [
            message_id
            for message_id in record.message_ids
            if message_id not in result.deleted
            and inventory.can_delete(states[message_id], replay.outcomes)
        ]
        if done:
            try:
                queue.delete(done)
            except QueueError as error:
                result.problems.append(str(error))
                done = [message_id for message_id in done if message_id not in queue.held_ids]
            result.deleted.extend(done)

    replay = Replay(
        site.target,
        batch_size,
        on_outcome=settled,
        before_invoke=queue.keep_alive,
        on_progress=progress.update,
    )
    result.replayed = True
    print(
        f"\nreplaying {len(records)} record(s) through {site.target.description}, "
        f"in batches of at most {batch_size}",
        file=out,
    )
    try:
        replay.run(records)
    except TargetUnavailable as error:
        result.problems.append(f"replay stopped: {error}")
    finally:
        progress.finish()
        result.outcomes = replay.outcomes
    print_outcomes(records, replay.outcomes, out)


def _drop_expired(inventory: Inventory, queue: FailureSource, result: Result, out: TextIO) -> None:
    droppable = [state.message_id for state in inventory.droppable(result.outcomes)]
    if not droppable:
        return
    try:
        queue.delete(droppable)
    except QueueError as error:
        result.problems.append(str(error))
    result.dropped = [message_id for message_id in droppable if message_id not in queue.held_ids]
    print(
        f"\ndropped {len(result.dropped)} expired message(s) (their ranges are in the archive)",
        file=out,
    )


def explain_sns(stack: DeployedStack, out: TextIO) -> None:
    """What can (and cannot) be recovered from an SNS failure destination."""
    topic = str(stack.outputs.get("failureDestinationArn", "?"))
    print(
        f"""
The failure destination is the SNS topic {topic}.
A topic keeps no messages: each one was delivered to the topic's subscribers when it was
published, and is gone from the topic. So this tool cannot read the topic; it can read a
QUEUE subscribed to it (pass its URL with --queue, or QUEUE= to make), from the moment that
queue was subscribed. The pointers' records themselves are still in the stream for 24 h after
they were written, so a queue subscribed now still saves the records of failures that reach
the topic from now on.""",
        file=out,
    )
    queues = _subscribed_queues(stack, topic)
    if queues:
        print("\nSQS queues subscribed to the topic:", file=out)
        for arn, url, raw in queues:
            delivery = "raw delivery" if raw else "SNS envelope (unwrapped by this tool)"
            print(f"  {arn} ({delivery})", file=out)
            command = f"uv run streamops redrive list --stack {stack.config.stack}"
            print(f"    run: {command} --queue {url}", file=out)
        return
    region, account = topic.split(":")[3:5] if topic.count(":") >= 5 else ("REGION", "ACCOUNT")
    name = f"{stack.outputs.get('functionName', 'function')}-failure-copy"
    queue_arn = f"arn:aws:sqs:{region}:{account}:{name}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
            }
        ],
    }
    stack_name = stack.config.stack
    print(
        f"""
No SQS queue is subscribed. To keep what the topic receives from now on, create one that
the topic may send to, and subscribe it (raw delivery keeps the bodies as published):

  aws sqs create-queue --queue-name {name} --attributes file://queue-attributes.json
  aws sns subscribe --topic-arn {topic} --protocol sqs \\
      --notification-endpoint {queue_arn} --attributes RawMessageDelivery=true

with queue-attributes.json (14 days' retention, SSE-SQS, the topic allowed to send):

  {
            json.dumps(
                {
                    "MessageRetentionPeriod": "1209600",
                    "SqsManagedSseEnabled": "true",
                    "Policy": json.dumps(policy),
                }
            )
        }

Then: uv run streamops redrive list --stack {stack_name} --queue <the queue URL>
Or make SQS the failure destination: `trigger.onFailure: sqs` in Pulumi.{stack_name}.yaml.""",
        file=out,
    )


def _subscribed_queues(stack: DeployedStack, topic: str) -> list[tuple[str, str, bool]]:
    """(queue ARN, queue URL, raw delivery) of the topic's SQS subscriptions."""
    sns, sqs = stack.aws("sns"), stack.aws("sqs")
    found = []
    try:
        pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic)
        subscriptions = [item for page in pages for item in page.get("Subscriptions", [])]
    except (ClientError, BotoCoreError):
        return []
    for subscription in subscriptions:
        if subscription.get("Protocol") != "sqs":
            continue
        arn = subscription["Endpoint"]
        _, _, _, _, account, name = arn.split(":", 5)
        try:
            url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            attributes = sns.get_subscription_attributes(
                SubscriptionArn=subscription["SubscriptionArn"]
            )["Attributes"]
        except (ClientError, BotoCoreError):
            continue
        found.append((arn, url, attributes.get("RawMessageDelivery") == "true"))
    return found


# --------------------------------------------------------------------------- sites


def real_site(stack_name: str, profile: str | None = None) -> Site:
    stack = real_stack(stack_name, profile=profile)
    function = DeployedFunction(
        stack.aws.configured(
            "lambda", DeployedFunction.client_config(stack.config.function.timeout_seconds)
        ),
        str(stack.output("functionName")),
    )
    title = f"redrive: stack {stack_name} ({stack.aws.region}, AWS)"
    return Site(title, stack, function, confirm=True)
