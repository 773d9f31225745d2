"""Checks of the function and its log group: state, settings, environment (the handler's
contract), their keys, and the log group's retention.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from components.function import (
    ENV_DESTINATION,
    ENV_DESTINATION_TYPE,
    ENV_METRICS_NAMESPACE,
    HANDLER,
    function_key_users,
    log_group_name,
)
from components.kms import logs_user, via_service
from streamops.doctor.checks.keys import _key_facts, _key_judgement, key_policy_finding
from streamops.doctor.checks.model import DeployedStack, Finding, compare, failed, group, passed


@group("function.state")
def check_function(stack: DeployedStack) -> Iterator[Finding]:
    config = stack.config.function
    function = stack.function()
    settings = function["Configuration"]
    name = settings["FunctionName"]
    state, update = settings.get("State"), settings.get("LastUpdateStatus")
    if state == "Active" and update == "Successful":
        yield passed("function.state", f"{name} is Active, last update Successful")
    else:
        reason = settings.get("StateReason") or settings.get("LastUpdateStatusReason") or ""
        yield failed(
            "function.state",
            f"{name} is {state}, last update {update} {reason}".strip(),
            "wait for a pending update; a Failed or Inactive function needs `pulumi up` "
            "(see the reason above)",
        )
    yield compare("function.handler", "handler", settings.get("Handler"), HANDLER)
    yield compare("function.runtime", "runtime", settings.get("Runtime"), config.runtime)
    yield compare(
        "function.architecture",
        "architectures",
        settings.get("Architectures"),
        [config.architecture],
    )
    yield compare("function.memory", "memory (MB)", settings.get("MemorySize"), config.memory_mb)
    yield compare(
        "function.timeout", "timeout (s)", settings.get("Timeout"), config.timeout_seconds
    )
    reserved = (function.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
    expected_reserved = None if config.reserved_concurrency < 0 else config.reserved_concurrency
    yield compare(
        "function.reservedConcurrency", "reserved concurrency", reserved, expected_reserved
    )
    logging = settings.get("LoggingConfig") or {}
    yield compare(
        "function.logging",
        "log format, level, group:",
        (logging.get("LogFormat"), logging.get("ApplicationLogLevel"), logging.get("LogGroup")),
        ("JSON", config.log_level, stack.output("logGroupName")),
    )
    yield _environment_finding(stack, (settings.get("Environment") or {}).get("Variables") or {})
    yield from _environment_key_findings(stack, settings.get("KMSKeyArn"))
    yield compare(
        "function.tracing",
        "X-Ray tracing mode",
        (settings.get("TracingConfig") or {}).get("Mode"),
        config.tracing,
    )


def _environment_key_findings(stack: DeployedStack, deployed: str | None) -> Iterator[Finding]:
    """function.environmentKmsKey: the AWS-managed key (no KMSKeyArn) or a customer one."""
    choice = stack.config.function.environment_kms_key
    name = "function.environmentKey"
    if choice == "aws-managed":
        yield compare(name, "environment KMS key", deployed, None)
        return
    key = _key_facts(stack, deployed)
    yield _key_judgement(name, "environment", choice, key)
    if key is not None and choice.startswith("arn:"):
        yield key_policy_finding(
            stack, "function.environmentKeyPolicy", "environment", choice, key.arn,
            [via_service("UseThroughLambda", "lambda")],
        )  # fmt: skip


def _environment_finding(stack: DeployedStack, variables: Mapping[str, str]) -> Finding:
    """The handler's contract: where to quarantine records and which metrics namespace."""
    kind = stack.config.trigger.on_failure
    expected = {
        ENV_DESTINATION_TYPE: kind,
        ENV_DESTINATION: stack.output(
            {"s3": "failureBucketName", "sqs": "failureQueueUrl"}.get(kind, "failureDestinationArn")
        ),
        ENV_METRICS_NAMESPACE: stack.config.function.metrics_namespace,
    }
    wrong = {
        key: variables.get(key) for key, value in expected.items() if variables.get(key) != value
    }
    if wrong:
        shown = ", ".join(
            f"{key}={value!r} (expected {expected[key]!r})" for key, value in wrong.items()
        )
        return failed("function.environment", f"environment: {shown}")
    return passed("function.environment", f"environment points at the {kind} failure destination")


@group("logGroup.retention")
def check_log_group(stack: DeployedStack) -> Iterator[Finding]:
    name = stack.output("logGroupName")
    groups = stack.aws("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    found = next((item for item in groups if item["logGroupName"] == name), None)
    if found is None:
        yield failed(
            "logGroup.retention",
            f"log group {name} does not exist: Lambda would create it with no retention",
        )
        return
    # No retentionInDays: the group never expires (config value 0).
    yield compare(
        "logGroup.retention",
        f"{name} retention (days)",
        found.get("retentionInDays", 0),
        stack.config.function.log_retention_days,
    )
    yield from _log_group_key_findings(stack, found.get("kmsKeyId"))


def _log_group_key_findings(stack: DeployedStack, deployed: str | None) -> Iterator[Finding]:
    """function.logKmsKey: none, or a customer-managed key CloudWatch Logs may use."""
    config = stack.config.function
    if config.log_kms_key == "none":
        yield compare("logGroup.encryption", "log group KMS key", deployed, None)
        return
    key = _key_facts(stack, deployed)
    yield _key_judgement("logGroup.encryption", "log group", config.log_kms_key, key)
    if key is None:
        return
    if config.log_kms_key == "create":
        users = function_key_users(config)  # one created key: log group and environment
    else:
        users = [logs_user(log_group_name(config))]
    yield key_policy_finding(
        stack, "logGroup.keyPolicy", "log group", config.log_kms_key, key.arn, users
    )
