"""End-to-end probe of a deployed pipeline: changes go into the table, and the function's
work comes out where an operator would look for it.

Two findings, in the deployed-stack checks' form (streamops.doctor.checks.Finding):
- `probe.testItem`: the seed's test item (LAMBDA#test-processing / EVENT#001) is written
  (deleted first, so it is an INSERT); within the time allowed the function's line
  `Processing INSERT for item: LAMBDA#test-processing#EVENT#001` must appear in its log
  group. At a log level above INFO that line is off by design, and the evidence is the
  function's metrics line (EMF) counting an insert after the write. The item is removed.
- `probe.poison`: a product is written and its price changed to text (a poison record for
  the function: it quarantines it); within the time allowed its quarantine message must be
  in the failure queue (read, then deleted), or for an SNS destination the function must
  log that it quarantined that record. The product is removed.

Unlike the read-only checks, the probe WRITES: the seed's test item and keys under
`PRODUCT#probe`. On AWS the event source mapping processes the stream by itself; on the
emulator `pump` runs the local stream runner (streamops.lambda_local.mapping) while the probe waits.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from streamops.clock import Clock, SystemClock
from streamops.doctor.checks import DeployedStack, Finding, failed, passed
from streamops.sample_data import SEED_TEST_ITEM, SEED_TEST_LINE, dynamodb_item

PROBE_TIMEOUT_SECONDS = 180.0  # AWS: a new mapping can take a minute or two to start reading
POLL_SECONDS = 1.0
INFO_LEVELS = ("TRACE", "DEBUG", "INFO")
QUARANTINE_KIND = "quarantined-record"  # functions/stream_processor/quarantine.py KIND
QUARANTINED_LINE = "Quarantined poison record"
POISON_PK = "PRODUCT#probe"
WAIT_FIX = (
    "run `make doctor` (is the mapping enabled, on this table's current stream?); look at the "
    "function's Errors and Throttles metrics and its log group"
)


def run_probe(
    stack: DeployedStack,
    *,
    pump: Callable[[], object] = lambda: None,
    timeout: float = PROBE_TIMEOUT_SECONDS,
    clock: Clock | None = None,
) -> list[Finding]:
    """Both probes; a probe that cannot write or read reports one failing finding."""
    clock = clock or SystemClock()
    findings = []
    for name, probe in (("probe.testItem", _test_item), ("probe.poison", _poison)):
        try:
            findings.append(probe(stack, pump, timeout, clock))
        except (ClientError, BotoCoreError, KeyError) as error:
            findings.append(
                failed(name, f"cannot run: {error}", "check the stack outputs and credentials")
            )
    return findings


def _wait(
    found: Callable[[], bool], pump: Callable[[], object], timeout: float, clock: Clock
) -> float | None:
    """Seconds until `found()` held, or None after `timeout`."""
    start = clock.now()
    while True:
        pump()
        if found():
            return clock.now() - start
        if clock.now() - start >= timeout:
            return None
        clock.sleep(POLL_SECONDS)


def _log_messages(stack: DeployedStack, since_ms: int) -> Iterator[str]:
    logs = stack.aws("logs")
    request: dict[str, Any] = {"logGroupName": stack.output("logGroupName"), "startTime": since_ms}
    while True:
        page = logs.filter_log_events(**request)
        for event in page.get("events", []):
            yield event["message"]
        if not page.get("nextToken"):
            return
        request["nextToken"] = page["nextToken"]


def _test_item(
    stack: DeployedStack, pump: Callable[[], object], timeout: float, clock: Clock
) -> Finding:
    dynamodb = stack.aws("dynamodb")
    table = stack.output("tableName")
    key = dynamodb_item({"PK": SEED_TEST_ITEM["PK"], "SK": SEED_TEST_ITEM["SK"]})
    verbose = stack.config.function.log_level in INFO_LEVELS
    dynamodb.delete_item(TableName=table, Key=key)
    since_ms = int(clock.now() * 1000)
    dynamodb.put_item(TableName=table, Item=dynamodb_item(SEED_TEST_ITEM))
    try:
        if verbose:
            wanted = f"the function's line '{SEED_TEST_LINE}'"
            elapsed = _wait(
                lambda: any(SEED_TEST_LINE in line for line in _log_messages(stack, since_ms)),
                pump,
                timeout,
                clock,
            )
        else:
            wanted = "a metrics (EMF) line counting an insert (INFO lines are off at this level)"
            elapsed = _wait(
                lambda: any(_counts_an_insert(line) for line in _log_messages(stack, since_ms)),
                pump,
                timeout,
                clock,
            )
    finally:
        dynamodb.delete_item(TableName=table, Key=key)
    group = stack.output("logGroupName")
    if elapsed is None:
        return failed(
            "probe.testItem",
            f"wrote the seed's test item to {table}; no sign of {wanted} in {group} within "
            f"{timeout:g} s",
            WAIT_FIX,
        )
    return passed(
        "probe.testItem",
        f"wrote the seed's test item to {table}; {wanted} reached {group} after "
        f"{elapsed:.1f} s; item removed",
    )


def _counts_an_insert(line: str) -> bool:
    try:
        document = json.loads(line)
    except ValueError:
        return False
    if not isinstance(document, dict) or "_aws" not in document:
        return False
    return bool(document.get("RecordsInserted", 0) > 0)


def _poison(
    stack: DeployedStack, pump: Callable[[], object], timeout: float, clock: Clock
) -> Finding:
    dynamodb = stack.aws("dynamodb")
    table = stack.output("tableName")
    token = f"probe-{secrets.token_hex(8)}"
    item = {"PK": POISON_PK, "SK": "DETAILS", "name": "probe", "price": 1}
    key = dynamodb_item({"PK": POISON_PK, "SK": "DETAILS"})
    since_ms = int(clock.now() * 1000)
    dynamodb.put_item(TableName=table, Item=dynamodb_item(item))
    # The price changed to text: the function cannot process it, however often retried.
    dynamodb.put_item(TableName=table, Item=dynamodb_item({**item, "price": token}))
    try:
        if stack.config.trigger.on_failure == "sqs":
            where = f"queue {stack.output('failureQueueUrl')}"
            elapsed = _wait(lambda: _take_quarantined(stack, token), pump, timeout, clock)
        elif stack.config.trigger.on_failure == "s3":
            where = f"bucket {stack.output('failureBucketName')}"
            elapsed = _wait(lambda: _take_quarantined_object(stack, token), pump, timeout, clock)
        else:
            where = f"topic {stack.output('failureDestinationArn')} (the function's log says so)"
            elapsed = _wait(
                lambda: _logged_quarantine(_log_messages(stack, since_ms), token),
                pump,
                timeout,
                clock,
            )
    finally:
        dynamodb.delete_item(TableName=table, Key=key)
    if elapsed is None:
        return failed(
            "probe.poison",
            f"changed {POISON_PK}'s price to text ({token}); its quarantine message did not "
            f"reach the {where} within {timeout:g} s",
            WAIT_FIX + "; the function needs sqs:SendMessage / sns:Publish on the destination",
        )
    return passed(
        "probe.poison",
        f"changed {POISON_PK}'s price to text ({token}); quarantined to the {where} after "
        f"{elapsed:.1f} s; item and message removed",
    )


def _take_quarantined(stack: DeployedStack, token: str) -> bool:
    """Whether the probe's quarantine message is in the queue; if so, delete it. Others
    are left untouched (read with no visibility timeout)."""
    sqs = stack.aws("sqs")
    url = stack.output("failureQueueUrl")
    page = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    for message in page.get("Messages", []):
        try:
            body = json.loads(message["Body"])
        except ValueError:
            continue
        if (
            isinstance(body, dict)
            and body.get("kind") == QUARANTINE_KIND
            and token in str(body.get("reason", ""))
        ):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            return True
    return False


def _take_quarantined_object(stack: DeployedStack, token: str) -> bool:
    """Whether the probe's quarantine object is in the bucket (one object per poison record,
    under quarantine/); if so, delete it. Other objects are left untouched."""
    s3, bucket = stack.aws("s3"), stack.output("failureBucketName")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="quarantine/").get("Contents", [])
    for item in listed:
        body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
        if QUARANTINE_KIND in body and token in body:
            s3.delete_object(Bucket=bucket, Key=item["Key"])
            return True
    return False


def _logged_quarantine(lines: Iterator[str], token: str) -> bool:
    """The function logged the poison record carrying `token` and then its quarantine."""
    sequence = None
    for line in lines:
        if token in line:
            sequence = _field(line, "sequenceNumber")
        elif sequence and QUARANTINED_LINE in line and _field(line, "sequenceNumber") == sequence:
            return True
    return False


def _field(line: str, name: str) -> Any:
    try:
        document = json.loads(line)
    except ValueError:
        return None
    return document.get(name) if isinstance(document, dict) else None
