"""Every deployed-stack check runs and passes on a correct deployment.

On the emulator this also proves the checks raise no false alarms across the shapes a
stack can take (customer-managed keys, SNS destination, filters, disabled trigger, an
existing table); with --stack NAME it is the post-`pulumi up` verification of that stack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from streamops.doctor.checks import DeployedStack, Finding, run_checks
from streamops.emulator.server import Deployment, Emulator, deploy, new_account_id
from streamops.stacks import emulated_stack
from tests.support.stacks import stack_config

pytestmark = pytest.mark.integration

# What the issue asks to be verified, by name; each must be reported on every stack.
REQUIRED_CHECKS = {
    "table.status",
    "table.stream",
    "function.state",
    "function.runtime",
    "function.architecture",
    "function.memory",
    "function.timeout",
    "function.reservedConcurrency",
    "function.logging",
    "logGroup.retention",
    "mapping.enabled",
    "mapping.source",
    "mapping.batchSize",
    "mapping.startingPosition",
    "mapping.batchingWindow",
    "mapping.retryAttempts",
    "mapping.maxRecordAge",
    "mapping.bisectOnError",
    "mapping.parallelization",
    "mapping.reportBatchItemFailures",
    "mapping.filters",
    "mapping.failureDestination",
    "failureDestination.exists",
    "failureDestination.encryption",
    "role.trust",
    "role.policy",
    "function.tracing",
    "function.environmentKey",
    "logGroup.encryption",
}
ALARM_CHECKS = {
    "alarms.topic",
    "alarms.topicPolicy",
    "alarms.subscriptions",
    "alarms.names",
    "alarm.function-errors",
    "alarm.function-duration",
    "alarm.iterator-age",
    "alarm.function-throttles",
    "alarm.records-quarantined",
    "dashboard",
}
FAILURE_ALARM = {
    "s3": "alarm.failure-bucket-landings",
    "sqs": "alarm.failure-queue-not-empty",
    "sns": "alarm.failure-topic-published",
}
# The failure bucket's settings (components/failure_destination.py), checked one by one.
BUCKET_CHECKS = {
    "failureDestination.publicAccess",
    "failureDestination.ownership",
    "failureDestination.versioning",
    "failureDestination.retention",
    "failureDestination.tlsOnly",
}
# Settings of a table the program creates (an existing table keeps its own).
CREATED_TABLE_CHECKS = {
    "table.pointInTimeRecovery",
    "table.deletionProtection",
    "table.encryption",
    "table.ttl",
}


def failures(findings: list[Finding]) -> str:
    return "\n".join(f"{f.name}: {f.detail} (fix: {f.fix})" for f in findings if not f.ok)


def assert_all_pass(stack: DeployedStack, required: set[str]) -> list[Finding]:
    findings = run_checks(stack)
    names = [finding.name for finding in findings]
    assert len(names) == len(set(names)), f"a check name is reported twice: {names}"
    assert required <= set(names), f"checks not run: {sorted(required - set(names))}"
    assert all(finding.ok for finding in findings), failures(findings)
    return findings


def required_checks(stack: DeployedStack) -> set[str]:
    """Every check the issue lists, plus those that apply to this stack's shape."""
    required = set(REQUIRED_CHECKS)
    if not stack.config.table.existing:
        required |= CREATED_TABLE_CHECKS
    if stack.config.alarms.enabled:
        required |= ALARM_CHECKS | {FAILURE_ALARM[stack.config.trigger.on_failure]}
    # A customer-managed key's policy is checked wherever one is used.
    config = stack.config
    if not config.table.existing and config.table.kms_key not in ("aws-owned", "aws-managed"):
        required.add("table.keyPolicy")
    if config.trigger.destination_kms_key not in ("managed", "sse-s3"):
        required.add("failureDestination.keyPolicy")
    if config.function.log_kms_key != "none":
        required.add("logGroup.keyPolicy")
    if config.trigger.on_failure == "s3":
        required |= BUCKET_CHECKS | {"mapping.metrics"}
    return required


def test_every_check_runs_and_passes(deployed: DeployedStack) -> None:
    assert_all_pass(deployed, required_checks(deployed))


FILTERS = [
    {"dynamodb": {"NewImage": {"PK": {"S": [{"exists": True}]}}}},
    {"dynamodb": {"NewImage": {"status": {"S": ["x"]}}}},
]

ONCALL = {"notify": "subscribers", "notifyReason": None, "emails": ["oncall@shop-ops.net"]}
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    # prod's committed subscriber is a reserved example address that doctor rejects
    # (tested in test_doctor.py); a deployed prod names a real one.
    "prod: customer-managed keys, PITR, deletion protection, S3 destination": (
        "prod",
        {"alarms": ONCALL},
    ),
    "dev with the function's key (log group + environment) and active tracing": (
        "dev",
        {"function": {"logKmsKey": "create", "environmentKmsKey": "create", "tracing": "Active"}},
    ),
    "alarms to an HTTPS endpoint": (
        "dev",
        {
            "alarms": {
                "notify": "subscribers",
                "notifyReason": None,
                "httpsEndpoints": ["https://pager.shop-ops.net/sns"],
            }
        },
    ),
    "S3 destination with SSE-S3 (a relaxation), no mapping metrics": (
        "dev",
        {"trigger": {"onFailure": "s3", "destinationKmsKey": "sse-s3"}},
    ),
    "SNS failure destination (AWS-managed key)": (
        "dev",
        {"trigger": {"onFailure": "sns", "destinationRetentionDays": None}},
    ),
    "SNS failure destination with a created key": (
        "dev",
        {"trigger": {"onFailure": "sns", "destinationKmsKey": "create"}},
    ),
    "filters, no retry limit but a record age": (
        "dev",
        {"trigger": {"filterPatterns": FILTERS, "retryAttempts": -1}},
    ),
    "trigger disabled by config": ("dev", {"trigger": {"enabled": False}}),
    "alarms disabled by config": ("dev", {"alarms": {"enabled": False}}),
    "alarm emails subscribed": ("dev", {"alarms": ONCALL}),
    "table with the AWS-managed key, no TTL": (
        "dev",
        {"table": {"kmsKey": "aws-managed", "ttlAttribute": None}},
    ),
    "on-demand table, unreserved concurrency, logs kept forever": (
        "dev",
        {
            "table": {
                "billingMode": "PAY_PER_REQUEST",
                "readCapacity": None,
                "writeCapacity": None,
            },
            "function": {"reservedConcurrency": -1, "logRetentionDays": 0},
        },
    ),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_checks_pass_on_every_stack_shape(
    fresh_deployment: Callable[..., Deployment], variant: str
) -> None:
    stack, overrides = VARIANTS[variant]
    deployment = fresh_deployment(stack, **{k: _without_nones(v) for k, v in overrides.items()})
    deployed = emulated_stack(deployment)
    findings = assert_all_pass(deployed, required_checks(deployed))
    if not deployed.config.alarms.enabled:
        assert not {f.name for f in findings} & (ALARM_CHECKS - {"alarms.topic"})


def _without_nones(section: dict[str, Any]) -> dict[str, Any]:
    from tests.support.stacks import DELETE

    return {key: DELETE if value is None else value for key, value in section.items()}


def test_checks_pass_on_an_existing_table(emulator: Emulator, real_stack_name: str | None) -> None:
    if real_stack_name:
        pytest.skip("creates resources: runs on the embedded emulator only")
    account = new_account_id()
    emulator.aws(account)("dynamodb").create_table(
        TableName="orders-existing",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    config = stack_config("dev")
    config["dynamodb-stream-processor:table"] = {"existingTableName": "orders-existing"}
    deployment = deploy(emulator, "dev", config, account_id=account)

    deployed = emulated_stack(deployment)
    findings = assert_all_pass(deployed, required_checks(deployed))
    assert not CREATED_TABLE_CHECKS & {finding.name for finding in findings}
