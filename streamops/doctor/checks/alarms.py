"""Deployed-stack checks: what is actually deployed, compared with the stack's config.

Why: mocked unit tests prove what the program asks AWS for; these checks read back what
AWS (or the embedded emulator) actually holds, after `pulumi up` or after someone changed
things by hand. They are the seed tutorial's verification list and its "Lambda not
triggering" troubleshooting list done by code: table active and streaming, function
healthy and configured, mapping enabled on the table's current stream with every
trigger setting as configured, failure destination present and encrypted, the execution
role granting exactly what the function needs, log retention, alarms and dashboard.

One module, used by the integration tests and by `doctor`. Each check returns Findings
with a stable name (`mapping.batchSize`), whether it passed, what was read, and on
failure what to do. Expectations come from the typed config (components/config.py) and
the stack outputs; the expected IAM policy is built by the same function the program
uses (components.function.execution_policy), never copied.

Each group reads, then judges. If a read fails (resource gone, access denied, output
missing), the group reports one failing finding under its first name with the error, so
a missing resource is reported by name instead of crashing the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from components.alarms import (
    GREATER_THAN,
    NOT_BREACHING,
    TOPIC_KEY_USER,
    AlarmSpec,
    DashboardFacts,
    FailureTarget,
    alarm_specs,
    alarm_topic_key_policy,
    alarm_topic_policy,
    dashboard_body,
    name_prefix,
)
from components.config import (
    VIEWS_WITH_IMAGE,
    AlarmsConfig,
    StackConfig,
    placeholder_subscribers,
)
from components.failure_destination import (
    AWS_MANAGED_SNS_KEY,
    DESTINATION_KEY_USERS,
    LANDINGS_METRICS_FILTER,
    SECONDS_PER_DAY,
    lifecycle_rules,
    tls_only_policy,
)
from components.function import (
    ACTIVE_TRACING,
    ENV_DESTINATION,
    ENV_DESTINATION_TYPE,
    ENV_METRICS_NAMESPACE,
    HANDLER,
    LAMBDA_TRUST_POLICY,
    execution_policy,
    function_key_users,
    log_group_name,
)
from components.kms import Account, KeyUser, key_policy, logs_user, via_service
from components.table import TABLE_KEY_USER
from components.trigger import REPORT_BATCH_ITEM_FAILURES
from streamops.aws import AwsClients
from streamops.doctor.key_policies import missing_grants

AWS_MANAGED_DYNAMODB_KEY = "alias/aws/dynamodb"
REDEPLOY = "run `pulumi up` to put the configured value back (or change the config)"


@dataclass(frozen=True)
class Finding:
    name: str  # stable identifier, e.g. "mapping.batchSize"
    ok: bool
    detail: str  # what was read (and expected, when it differs)
    fix: str = ""  # what to do about it (failures only)


@dataclass
class DeployedStack:
    """A deployed stack: its outputs, its typed config, and clients for its account."""

    outputs: Mapping[str, Any]
    config: StackConfig
    aws: AwsClients
    _reads: dict[str, Any] = field(default_factory=dict, repr=False)

    def output(self, key: str) -> Any:
        if key not in self.outputs:
            raise MissingOutput(key)
        return self.outputs[key]

    def read(self, key: str, fetch: Callable[[], Any]) -> Any:
        """Read once per run: several groups look at the same table or function."""
        if key not in self._reads:
            self._reads[key] = fetch()
        return self._reads[key]

    def table(self) -> dict[str, Any]:
        name = self.output("tableName")
        return self.read("table", lambda: self.aws("dynamodb").describe_table(TableName=name))[
            "Table"
        ]

    def function(self) -> dict[str, Any]:
        name = self.output("functionName")
        return self.read("function", lambda: self.aws("lambda").get_function(FunctionName=name))

    def mapping(self) -> dict[str, Any]:
        uuid = self.output("eventSourceMappingId")
        return self.read("mapping", lambda: self.aws("lambda").get_event_source_mapping(UUID=uuid))

    def queue_attributes(self) -> dict[str, str]:
        url = self.output("failureQueueUrl")
        return self.read(
            "queue",
            lambda: self.aws("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"]),
        )["Attributes"]

    def bucket_name(self) -> str:
        return str(self.output("failureBucketName"))

    def bucket_encryption(self) -> dict[str, Any]:
        """The failure bucket's default encryption rule (empty when S3 returns none)."""
        name = self.bucket_name()
        answer = self.read(
            "bucket-encryption",
            lambda: self.aws("s3").get_bucket_encryption(Bucket=name),
        )
        rules = answer["ServerSideEncryptionConfiguration"]["Rules"]
        return rules[0] if rules else {}

    def topic_attributes(self) -> dict[str, str]:
        arn = self.output("failureDestinationArn")
        return self.read("topic", lambda: self.aws("sns").get_topic_attributes(TopicArn=arn))[
            "Attributes"
        ]

    def arn_part(self, index: int) -> str:
        """Partition (1), region (3) or account (4) of the function's ARN."""
        return str(self.output("functionArn")).split(":")[index]

    def account(self) -> Account:
        return Account(self.arn_part(1), self.arn_part(3), self.arn_part(4))


class MissingOutput(KeyError):
    def __str__(self) -> str:
        return f"stack output {self.args[0]!r} is missing (is this the right stack?)"


def passed(name: str, detail: str) -> Finding:
    return Finding(name, True, detail)


def failed(name: str, detail: str, fix: str = REDEPLOY) -> Finding:
    return Finding(name, False, detail, fix)


def compare(name: str, label: str, actual: Any, expected: Any, fix: str = REDEPLOY) -> Finding:
    """Pass when the deployed value equals the configured one."""
    if actual == expected:
        return passed(name, f"{label} {_show(actual)}")
    return failed(name, f"{label} is {_show(actual)}, configured {_show(expected)}", fix)


def _show(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ", ".join(_show(item) for item in value) if value else "none"
    if isinstance(value, tuple):
        return " / ".join(_show(item) for item in value)
    return str(value)


Group = Callable[[DeployedStack], Iterable[Finding]]
GROUPS: list[tuple[str, Group]] = []


def group(first_name: str) -> Callable[[Group], Group]:
    """Register a check group; `first_name` reports a failure to read its resources."""

    def register(function: Group) -> Group:
        GROUPS.append((first_name, function))
        return function

    return register


def run_checks(stack: DeployedStack) -> list[Finding]:
    """Every check, in a stable order."""
    findings: list[Finding] = []
    for first_name, check in GROUPS:
        try:
            # All or nothing: a group that cannot read reports one failure, not half a list.
            findings.extend(list(check(stack)))
        except (ClientError, BotoCoreError, MissingOutput) as error:
            findings.append(
                failed(
                    first_name,
                    f"cannot read: {error}",
                    "check that the stack is deployed (`pulumi up`) and that your AWS "
                    "credentials and region point at its account",
                )
            )
    return findings


# --- Table and stream ------------------------------------------------------------------
@group("table.status")
def check_table(stack: DeployedStack) -> Iterator[Finding]:
    config = stack.config.table
    table = stack.table()
    name = table["TableName"]
    created = not config.existing
    if created:
        dynamodb = stack.aws("dynamodb")
        backups = dynamodb.describe_continuous_backups(TableName=name)
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        encryption_key = _key_facts(
            stack, (table.get("SSEDescription") or {}).get("KMSMasterKeyArn")
        )

    status = table["TableStatus"]
    yield compare(
        "table.status",
        f"table {name} status",
        status,
        "ACTIVE",
        fix="wait until the table is ACTIVE; if it stays "
        f"{status}, look at the table in the DynamoDB console",
    )
    yield _stream_finding(stack, table)
    if not created:
        return  # an existing table keeps its own settings: only its stream matters here
    recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    yield compare(
        "table.pointInTimeRecovery",
        "point-in-time recovery",
        recovery["PointInTimeRecoveryStatus"] == "ENABLED",
        config.point_in_time_recovery,
    )
    yield compare(
        "table.deletionProtection",
        "deletion protection",
        bool(table.get("DeletionProtectionEnabled")),
        config.deletion_protection,
    )
    yield _table_encryption_finding(config.kms_key, table, encryption_key)
    if encryption_key is not None and config.kms_key not in ("aws-owned", "aws-managed"):
        yield key_policy_finding(
            stack, "table.keyPolicy", "table", config.kms_key, encryption_key.arn,
            [TABLE_KEY_USER],
        )  # fmt: skip
    if config.ttl_attribute:
        enabled = ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
        yield compare(
            "table.ttl",
            "TTL attribute",
            ttl.get("AttributeName") if enabled else None,
            config.ttl_attribute,
        )
    else:
        yield compare("table.ttl", "TTL status", ttl.get("TimeToLiveStatus"), "DISABLED")


def _stream_finding(stack: DeployedStack, table: dict[str, Any]) -> Finding:
    config = stack.config
    spec = table.get("StreamSpecification") or {}
    name = table["TableName"]
    enable = (
        f"aws dynamodb update-table --table-name {name} --stream-specification "
        f"StreamEnabled=true,StreamViewType={config.table.stream_view_type}"
    )
    if not spec.get("StreamEnabled"):
        return failed(
            "table.stream",
            f"table {name} has no stream enabled: the function receives nothing",
            f"`pulumi up` (or `{enable}`), then `pulumi up` so the mapping follows the "
            "new stream ARN",
        )
    view = spec.get("StreamViewType")
    if not config.table.existing:
        return compare("table.stream", "stream enabled, view", view, config.table.stream_view_type)
    missing = [
        image
        for image in sorted(config.trigger.images_needed())
        if view not in VIEWS_WITH_IMAGE[image]
    ]
    if missing:
        return failed(
            "table.stream",
            f"stream view {view} does not carry {', '.join(missing)}, which the filters read",
            "switch the table's stream to NEW_AND_OLD_IMAGES",
        )
    return passed("table.stream", f"stream enabled, view {view}")


@dataclass(frozen=True)
class KeyFacts:
    arn: str
    customer_managed: bool
    enabled: bool
    rotation: bool
    aliases: tuple[str, ...]


def _key_facts(stack: DeployedStack, key: str | None) -> KeyFacts | None:
    """What KMS says about the key `key` (ARN, id or alias), or None if there is none."""
    if not key:
        return None
    kms = stack.aws("kms")
    metadata = kms.describe_key(KeyId=key)["KeyMetadata"]
    key_id = metadata["KeyId"]
    aliases = tuple(alias["AliasName"] for alias in kms.list_aliases(KeyId=key_id)["Aliases"])
    customer = metadata.get("KeyManager") == "CUSTOMER" and not any(
        alias.startswith("alias/aws/") for alias in aliases
    )
    rotation = customer and kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]
    return KeyFacts(
        arn=metadata["Arn"],
        customer_managed=customer,
        enabled=metadata.get("KeyState") == "Enabled",
        rotation=bool(rotation),
        aliases=aliases,
    )


def _key_judgement(name: str, what: str, choice: str, key: KeyFacts | None) -> Finding:
    """A customer-managed key as configured: created by the stack, or the given ARN."""
    if key is None:
        return failed(name, f"{what} is not encrypted with a customer-managed key", REDEPLOY)
    if choice.startswith("arn:") and key.arn != choice:
        return failed(name, f"{what} uses key {key.arn}, configured {choice}")
    if not key.customer_managed:
        return failed(name, f"{what} uses {key.arn}, which is not a customer-managed key")
    if not key.enabled:
        return failed(
            name,
            f"{what} key {key.arn} is not enabled: reads and writes fail",
            "enable the key (aws kms enable-key) or restore it if it is pending deletion",
        )
    if choice == "create" and not key.rotation:
        return failed(name, f"{what} key {key.arn} has automatic rotation off")
    return passed(name, f"{what} encrypted with customer-managed key {key.arn}")


def _table_encryption_finding(choice: str, table: dict[str, Any], key: KeyFacts | None) -> Finding:
    name = "table.encryption"
    sse = table.get("SSEDescription") or {}
    kms_enabled = sse.get("Status") in ("ENABLED", "UPDATING") and sse.get("SSEType") == "KMS"
    if choice == "aws-owned":
        if kms_enabled:
            return failed(
                name, f"table uses KMS key {sse.get('KMSMasterKeyArn')}, configured aws-owned"
            )
        return passed(name, "encrypted with the AWS-owned key (DynamoDB default)")
    if not kms_enabled:
        return failed(
            name, f"table is not KMS-encrypted (SSE {sse or 'none'}), configured {choice}"
        )
    if choice == "aws-managed":
        if key is not None and AWS_MANAGED_DYNAMODB_KEY in key.aliases:
            return passed(name, f"encrypted with the AWS-managed key {AWS_MANAGED_DYNAMODB_KEY}")
        return failed(name, f"table uses {sse.get('KMSMasterKeyArn')}, configured aws-managed")
    return _key_judgement(name, "table", choice, key)


# --- Function and its log group --------------------------------------------------------
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


def key_policy_finding(
    stack: DeployedStack,
    name: str,
    what: str,
    choice: str,
    key_arn: str,
    users: list[KeyUser],
) -> Finding:
    """A created key has exactly the policy components/kms.py builds; a key given by ARN
    (its owner's policy) must at least let the stack's services use it."""
    deployed = json.loads(
        stack.aws("kms").get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
    )
    account = stack.account()
    if choice == "create":
        wanted = grants(key_policy(account, users))
        found = grants(deployed)
        if found != wanted:
            return failed(
                name,
                f"key policy of {what} key {key_arn}: {describe_difference(found, wanted)}",
                REDEPLOY,
            )
        return passed(name, f"{what} key policy: administration + {len(users)} conditioned use(s)")
    problems = missing_grants(deployed, account, users)
    if problems:
        return failed(
            name,
            f"policy of the configured {what} key {key_arn} " + "; ".join(problems),
            "the key's owner must add the missing statement (see README, Security: key "
            "policies), or configure another key",
        )
    return passed(
        name, f"policy of the configured {what} key {key_arn} allows what the stack needs"
    )


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


# --- Event source mapping --------------------------------------------------------------
@group("mapping.enabled")
def check_mapping(stack: DeployedStack) -> Iterator[Finding]:
    trigger = stack.config.trigger
    uuid = stack.output("eventSourceMappingId")
    mapping = stack.mapping()
    current_stream = stack.table().get("LatestStreamArn")

    expected_state = "Enabled" if trigger.enabled else "Disabled"
    yield compare(
        "mapping.enabled",
        f"mapping {uuid} state",
        mapping.get("State"),
        expected_state,
        fix=f"aws lambda update-event-source-mapping --uuid {uuid} "
        f"--{'enabled' if trigger.enabled else 'no-enabled'} (or `pulumi up`)",
    )
    yield _source_finding(stack, mapping, current_stream)
    settings = (
        ("mapping.batchSize", "batch size", "BatchSize", trigger.batch_size),
        ("mapping.startingPosition", "starting position", "StartingPosition",
         trigger.starting_position),
        ("mapping.batchingWindow", "batching window (s)", "MaximumBatchingWindowInSeconds",
         trigger.max_batching_window_seconds),
        ("mapping.retryAttempts", "retry attempts", "MaximumRetryAttempts", trigger.retry_attempts),
        ("mapping.maxRecordAge", "maximum record age (s)", "MaximumRecordAgeInSeconds",
         trigger.max_record_age_seconds),
        ("mapping.bisectOnError", "bisect batch on error", "BisectBatchOnFunctionError",
         trigger.bisect_on_error),
        ("mapping.parallelization", "parallelization factor", "ParallelizationFactor",
         trigger.parallelization_factor),
        ("mapping.reportBatchItemFailures", "function response types", "FunctionResponseTypes",
         [REPORT_BATCH_ITEM_FAILURES]),
    )  # fmt: skip
    for name, label, key, expected in settings:
        yield compare(name, label, mapping.get(key), expected)
    deployed_filters = [
        item["Pattern"] for item in (mapping.get("FilterCriteria") or {}).get("Filters") or []
    ]
    yield compare(
        "mapping.filters",
        "filter patterns",
        sorted(_canonical_json(pattern) for pattern in deployed_filters),
        sorted(_canonical_json(pattern) for pattern in trigger.filter_patterns),
    )
    destination = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
        "Destination"
    )
    yield compare(
        "mapping.failureDestination",
        "on-failure destination",
        destination,
        stack.output("failureDestinationArn"),
        fix="without it, batches that run out of retries are dropped with no trace: " + REDEPLOY,
    )
    yield compare(
        "mapping.metrics",
        "mapping metrics (metrics_config)",
        sorted((mapping.get("MetricsConfig") or {}).get("Metrics") or []),
        sorted(trigger.metrics),
    )


def _source_finding(
    stack: DeployedStack, mapping: dict[str, Any], current_stream: str | None
) -> Finding:
    source, function = mapping.get("EventSourceArn"), mapping.get("FunctionArn")
    problems = []
    if source != current_stream:
        problems.append(f"reads {source}, but the table's current stream is {current_stream}")
    if source != stack.output("streamArn"):
        problems.append(
            f"reads {source}, the stack output streamArn is {stack.output('streamArn')}"
        )
    if function != stack.output("functionArn"):
        problems.append(f"invokes {function}, expected {stack.output('functionArn')}")
    if problems:
        return failed(
            "mapping.source",
            "; ".join(problems),
            "`pulumi up` recreates the mapping on the table's current stream (a stream "
            "disabled and enabled again gets a new ARN)",
        )
    return passed("mapping.source", f"table's current stream -> {function}")


def _canonical_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return text


# --- Failure destination ---------------------------------------------------------------
@group("failureDestination.exists")
def check_failure_destination(stack: DeployedStack) -> Iterator[Finding]:
    trigger = stack.config.trigger
    arn = stack.output("failureDestinationArn")
    if trigger.on_failure == "s3":
        yield from _bucket_findings(stack, arn)
    elif trigger.on_failure == "sqs":
        attributes = stack.queue_attributes()
        key = _key_facts(stack, attributes.get("KmsMasterKeyId"))
        if attributes.get("QueueArn") != arn:
            yield failed(
                "failureDestination.exists",
                f"queue is {attributes.get('QueueArn')}, expected {arn}",
            )
            return
        yield passed(
            "failureDestination.exists",
            f"SQS queue {arn} ({attributes.get('ApproximateNumberOfMessages', '?')} messages)",
        )
        yield _queue_encryption_finding(trigger.destination_kms_key, attributes, key)
        yield from _destination_key_policy(stack, key)
        yield compare(
            "failureDestination.retention",
            "message retention (s)",
            int(attributes.get("MessageRetentionPeriod", 0)),
            trigger.destination_retention_days * SECONDS_PER_DAY,
        )
    else:
        attributes = stack.topic_attributes()
        key_id = attributes.get("KmsMasterKeyId")
        key = _key_facts(stack, key_id) if key_id and key_id != AWS_MANAGED_SNS_KEY else None
        yield passed("failureDestination.exists", f"SNS topic {arn}")
        if trigger.destination_kms_key == "managed":
            yield compare(
                "failureDestination.encryption", "topic KMS key", key_id, AWS_MANAGED_SNS_KEY
            )
        else:
            yield _key_judgement(
                "failureDestination.encryption", "topic", trigger.destination_kms_key, key
            )
            yield from _destination_key_policy(stack, key)


def _destination_key_policy(stack: DeployedStack, key: KeyFacts | None) -> Iterator[Finding]:
    trigger = stack.config.trigger
    if key is not None and trigger.destination_kms_key != "managed":
        yield key_policy_finding(
            stack, "failureDestination.keyPolicy", "failure destination",
            trigger.destination_kms_key, key.arn, [DESTINATION_KEY_USERS[trigger.on_failure]],
        )  # fmt: skip


def _bucket_findings(stack: DeployedStack, arn: str) -> Iterator[Finding]:
    """The failure bucket as the program configures it (components/failure_destination.py):
    private, owner-enforced, TLS only, versioned, expiring, encrypted as configured."""
    s3, name, trigger = stack.aws("s3"), stack.bucket_name(), stack.config.trigger
    if arn != f"arn:aws:s3:::{name}" and not arn.endswith(f":::{name}"):
        yield failed("failureDestination.exists", f"bucket ARN {arn} does not name {name}")
        return
    s3.head_bucket(Bucket=name)
    yield passed("failureDestination.exists", f"S3 bucket {name}")
    rule = stack.bucket_encryption()
    by_default = rule.get("ApplyServerSideEncryptionByDefault") or {}
    if trigger.destination_kms_key == "sse-s3":
        yield compare(
            "failureDestination.encryption", "bucket encryption", by_default.get("SSEAlgorithm"),
            "AES256",
        )  # fmt: skip
    elif by_default.get("SSEAlgorithm") != "aws:kms":
        yield failed(
            "failureDestination.encryption",
            f"bucket encryption is {by_default.get('SSEAlgorithm')!r}, configured aws:kms",
        )
    else:
        key = _key_facts(stack, by_default.get("KMSMasterKeyID"))
        yield _key_judgement(
            "failureDestination.encryption", "bucket", trigger.destination_kms_key, key
        )
    try:
        block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    except ClientError:  # NoSuchPublicAccessBlockConfiguration: nothing blocked
        block = {}
    yield compare(
        "failureDestination.publicAccess", "public access blocks (ACLs, policy, ignore, restrict)",
        tuple(block.get(flag) for flag in ("BlockPublicAcls", "BlockPublicPolicy",
                                            "IgnorePublicAcls", "RestrictPublicBuckets")),
        (True, True, True, True),
    )  # fmt: skip
    try:
        ownership = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
    except ClientError:  # OwnershipControlsNotFoundError: ACLs apply
        ownership = []
    yield compare(
        "failureDestination.ownership", "object ownership",
        [item.get("ObjectOwnership") for item in ownership], ["BucketOwnerEnforced"],
    )  # fmt: skip
    yield compare(
        "failureDestination.versioning", "versioning",
        s3.get_bucket_versioning(Bucket=name).get("Status"), "Enabled",
    )  # fmt: skip
    yield _bucket_lifecycle_finding(s3, name, trigger.destination_retention_days)
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
    except ClientError as error:  # NoSuchBucketPolicy: nothing denies plain HTTP
        policy = {"Statement": [], "error": str(error)}
    expected = tls_only_policy(arn)["Statement"][0]
    yield (
        passed("failureDestination.tlsOnly", "bucket policy denies requests without TLS")
        if expected in policy.get("Statement", [])
        else failed(
            "failureDestination.tlsOnly",
            "bucket policy has no TLS-only Deny statement"
            + (f" ({policy['error']})" if "error" in policy else ""),
        )
    )


def _bucket_lifecycle_finding(s3: Any, name: str, days: int) -> Finding:
    """Expiration after the configured days, for current and noncurrent versions."""
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    except ClientError as error:
        return failed("failureDestination.retention", f"no lifecycle configuration ({error})")
    (expire, *_rest) = lifecycle_rules(days)
    found: dict[str, Any] = next((rule for rule in rules if rule.get("ID") == expire["id"]), {})
    actual = (
        found.get("Status"),
        (found.get("Expiration") or {}).get("Days"),
        (found.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays"),
        (found.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation"),
    )
    wanted = (
        "Enabled",
        days,
        days,
        expire["abort_incomplete_multipart_upload"]["days_after_initiation"],
    )
    return compare(
        "failureDestination.retention",
        "lifecycle (status, expiration days, noncurrent days, abort uploads days)",
        actual,
        wanted,
    )


def _queue_encryption_finding(
    choice: str, attributes: dict[str, str], key: KeyFacts | None
) -> Finding:
    name = "failureDestination.encryption"
    if choice == "managed":
        if attributes.get("KmsMasterKeyId"):
            return failed(
                name, f"queue uses KMS key {attributes['KmsMasterKeyId']}, configured SSE-SQS"
            )
        if attributes.get("SqsManagedSseEnabled") != "true":
            return failed(name, "queue is not encrypted at rest (SSE-SQS off, no KMS key)")
        return passed(name, "encrypted with SSE-SQS")
    return _key_judgement(name, "queue", choice, key)


# --- Execution role --------------------------------------------------------------------
@group("role.trust")
def check_role(stack: DeployedStack) -> Iterator[Finding]:
    iam = stack.aws("iam")
    role_name = stack.function()["Configuration"]["Role"].rsplit("/", 1)[-1]
    role = iam.get_role(RoleName=role_name)["Role"]
    inline = {
        policy: iam.get_role_policy(RoleName=role_name, PolicyName=policy)["PolicyDocument"]
        for policy in _all_pages(iam, "list_role_policies", "PolicyNames", RoleName=role_name)
    }
    attached = [
        policy["PolicyArn"]
        for policy in _all_pages(
            iam, "list_attached_role_policies", "AttachedPolicies", RoleName=role_name
        )
    ]
    expected = expected_execution_policy(stack)

    trust, wanted_trust = (
        grants(_document(role["AssumeRolePolicyDocument"])),
        grants(LAMBDA_TRUST_POLICY),
    )
    if trust == wanted_trust:
        yield passed("role.trust", f"{role_name} can be assumed by lambda.amazonaws.com only")
    else:
        yield failed(
            "role.trust",
            f"{role_name} trust policy: {describe_difference(trust, wanted_trust)}",
            "restore the trust policy to lambda.amazonaws.com sts:AssumeRole only (`pulumi up`)",
        )
    deployed = (
        set().union(*(grants(_document(doc)) for doc in inline.values())) if inline else set()
    )
    problems = []
    if attached:
        problems.append(f"managed policies attached: {', '.join(attached)}")
    if deployed != grants(expected):
        problems.append(describe_difference(deployed, grants(expected)))
    if problems:
        yield failed(
            "role.policy",
            f"{role_name}: " + "; ".join(problems),
            "remove the extra permissions / attachments and run `pulumi up`: the role must grant "
            "exactly the stream reads, its own log writes and the failure destination",
        )
    else:
        count = sum(len(_statements(_document(doc))) for doc in inline.values())
        yield passed(
            "role.policy",
            f"{role_name}: {len(inline)} inline policy, {count} statements, exactly the needed "
            "actions on the needed ARNs, no managed policies",
        )


def expected_execution_policy(stack: DeployedStack) -> dict[str, Any]:
    """The policy document the program builds, for this deployment's ARNs."""
    config = stack.config
    partition, region, account = stack.arn_part(1), stack.arn_part(3), stack.arn_part(4)
    log_group_arn = (
        f"arn:{partition}:logs:{region}:{account}:log-group:{stack.output('logGroupName')}"
    )
    return execution_policy(
        stream_arn=stack.output("streamArn"),
        log_group_arn=log_group_arn,
        destination_kind=config.trigger.on_failure,
        destination_arn=stack.output("failureDestinationArn"),
        destination_kms_key_arn=_destination_key_arn(stack),
        table_kms_key_arn=_table_key_arn(stack),
        tracing_active=config.function.tracing == ACTIVE_TRACING,
    )


def _destination_key_arn(stack: DeployedStack) -> str | None:
    choice = stack.config.trigger.destination_kms_key
    if choice in ("managed", "sse-s3"):
        return None
    if choice.startswith("arn:"):
        return choice
    if stack.config.trigger.on_failure == "s3":
        by_default = stack.bucket_encryption().get("ApplyServerSideEncryptionByDefault") or {}
        bucket_key = _key_facts(stack, by_default.get("KMSMasterKeyID"))
        return bucket_key.arn if bucket_key else None
    attributes = (
        stack.queue_attributes()
        if stack.config.trigger.on_failure == "sqs"
        else stack.topic_attributes()
    )
    key = _key_facts(stack, attributes.get("KmsMasterKeyId"))
    return key.arn if key else None


def _table_key_arn(stack: DeployedStack) -> str | None:
    choice = stack.config.table.kms_key
    if choice.startswith("arn:"):
        return choice
    if stack.config.table.existing or choice == "create":
        # The program takes the key of an existing table from the table itself.
        return (stack.table().get("SSEDescription") or {}).get("KMSMasterKeyArn") or None
    return None


Grant = tuple[str, str, str, str, str]  # effect, action, resource, principal, condition


def grants(document: Mapping[str, Any]) -> set[Grant]:
    """A policy as a set of single grants, so documents compare regardless of layout.

    Actions are compared case-insensitively (IAM does); Sids are ignored (they grant
    nothing). NotAction / NotResource are kept as their own (never expected) grants.
    """
    result: set[Grant] = set()
    for statement in _statements(document):
        effect = statement.get("Effect", "")
        principal = json.dumps(_principal(statement.get("Principal")), sort_keys=True)
        condition = json.dumps(statement.get("Condition"), sort_keys=True)
        actions = [a.lower() for a in _as_list(statement.get("Action"))] + [
            f"not:{a.lower()}" for a in _as_list(statement.get("NotAction"))
        ]
        resources = _as_list(statement.get("Resource")) + [
            f"not:{r}" for r in _as_list(statement.get("NotResource"))
        ]
        for action in actions:
            for resource in resources or [""]:
                result.add((effect, action, resource, principal, condition))
    return result


def describe_difference(deployed: set[Grant], expected: set[Grant]) -> str:
    def show(items: set[Grant]) -> str:
        return ", ".join(
            f"{effect} {action} on {resource or '(no resource)'}"
            + (f" for {principal}" if principal != "null" else "")
            + (f" if {condition}" if condition != "null" else "")
            for effect, action, resource, principal, condition in sorted(items)
        )

    parts = []
    if deployed - expected:
        parts.append(f"extra: {show(deployed - expected)}")
    if expected - deployed:
        parts.append(f"missing: {show(expected - deployed)}")
    return "; ".join(parts) or "identical"


def _principal(value: Any) -> Any:
    """`{"Service": "x"}` and `{"Service": ["x"]}` are the same principal."""
    if isinstance(value, dict):
        return {kind: sorted(_as_list(names)) for kind, names in value.items()}
    return value


def _statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, dict):  # Principal-like maps are not expected in Action/Resource
        return [json.dumps(value, sort_keys=True)]
    return [value] if isinstance(value, str) else list(value)


def _document(value: Any) -> dict[str, Any]:
    """boto3 decodes IAM policy documents to dicts; other clients give JSON text."""
    return json.loads(value) if isinstance(value, str) else dict(value)


def _all_pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    items: list[Any] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page[key])
    return items


# --- Alarms and dashboard --------------------------------------------------------------
def expected_alarms(stack: DeployedStack) -> list[tuple[str, AlarmSpec]]:
    """(name, spec) of every alarm the program creates for this stack, in its order."""
    config = stack.config
    failure = _failure_target(stack)
    specs = alarm_specs(config.alarms, config.function, stack.output("functionName"), failure)
    prefix = name_prefix(config.project, config.stack)
    return [(f"{prefix}-{spec.purpose}", spec) for spec in specs]


def _failure_target(stack: DeployedStack) -> FailureTarget:
    """The failure destination as the alarms name it (bucket, queue or topic name)."""
    kind = stack.config.trigger.on_failure
    failure_arn = str(stack.output("failureDestinationArn"))
    metrics_filter = (
        LANDINGS_METRICS_FILTER if kind == "s3" and stack.config.alarms.enabled else None
    )
    return FailureTarget(kind, failure_arn.rsplit(":", 1)[-1], metrics_filter)


def _alarm_arn(stack: DeployedStack, name: str) -> str:
    partition, region, account = stack.arn_part(1), stack.arn_part(3), stack.arn_part(4)
    return f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{name}"


@group("alarms.topic")
def check_alarms(stack: DeployedStack) -> Iterator[Finding]:
    config = stack.config.alarms
    if not config.enabled:
        names = stack.outputs.get("alarmNames") or []
        if names:
            yield failed("alarms.topic", f"alarms.enabled is false but the stack has {names}")
        else:
            yield passed("alarms.topic", "alarms disabled by config (alarms.enabled: false)")
        return
    sns, cloudwatch = stack.aws("sns"), stack.aws("cloudwatch")
    topic_arn = stack.output("alarmTopicArn")
    attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    key = _key_facts(stack, attributes.get("KmsMasterKeyId"))
    key_policy = (
        json.loads(stack.aws("kms").get_key_policy(KeyId=key.arn, PolicyName="default")["Policy"])
        if key is not None
        else None
    )
    subscriptions = _all_pages(
        sns, "list_subscriptions_by_topic", "Subscriptions", TopicArn=topic_arn
    )
    expected = expected_alarms(stack)
    found = {
        alarm["AlarmName"]: alarm
        for alarm in cloudwatch.describe_alarms(AlarmNames=[name for name, _ in expected])[
            "MetricAlarms"
        ]
    }

    yield _alarm_topic_finding(stack, key, key_policy)
    partition, region, account = stack.arn_part(1), stack.arn_part(3), stack.arn_part(4)
    wanted_policy = grants(alarm_topic_policy(topic_arn, partition, region, account))
    deployed_policy = grants(_document(attributes.get("Policy") or "{}"))
    if deployed_policy == wanted_policy:
        yield passed(
            "alarms.topicPolicy", "only CloudWatch alarms of this account may publish to the topic"
        )
    else:
        yield failed(
            "alarms.topicPolicy",
            f"topic policy: {describe_difference(deployed_policy, wanted_policy)}",
            "CloudWatch alarms (and no one else) must be allowed to publish: " + REDEPLOY,
        )
    yield _subscriptions_finding(config, subscriptions)
    yield from _forward_topic_findings(stack)
    listed = list(stack.outputs.get("alarmNames") or [])
    if sorted(listed) != sorted(name for name, _ in expected):
        yield failed(
            "alarms.names", f"stack output alarmNames {listed}, expected {[n for n, _ in expected]}"
        )
    else:
        yield passed("alarms.names", f"{len(listed)} alarms: {', '.join(listed)}")
    for name, spec in expected:
        yield _alarm_finding(stack, name, spec, found.get(name))


def _alarm_topic_finding(
    stack: DeployedStack, key: KeyFacts | None, key_policy: dict[str, Any] | None
) -> Finding:
    choice = stack.config.alarms.topic_kms_key
    if choice == "none":
        if key is not None:
            return failed("alarms.topic", f"topic uses key {key.arn}, configured none")
        return passed(
            "alarms.topic", "alarm topic exists (unencrypted, as configured: topicKmsKey none)"
        )
    judged = _key_judgement("alarms.topic", "alarm topic", choice, key)
    if not judged.ok or key is None or key_policy is None:
        return judged
    if choice != "create":  # a configured key: its owner's policy must let CloudWatch in
        problems = missing_grants(key_policy, stack.account(), [TOPIC_KEY_USER])
        if problems:
            return failed(
                "alarms.topic",
                f"policy of the configured topic key {key.arn} " + "; ".join(problems),
                "CloudWatch cannot publish to a topic whose key it may not use: the key's "
                "owner must add the statement (README, Security: key policies)",
            )
        return passed("alarms.topic", f"{judged.detail}; its key policy lets CloudWatch use it")
    # A created key must let CloudWatch use it, and nothing else (aws-facts: KMS gotchas).
    wanted = grants(alarm_topic_key_policy(stack.account()))
    deployed = grants(key_policy)
    if deployed != wanted:
        return failed(
            "alarms.topic",
            f"key policy of {key.arn}: {describe_difference(deployed, wanted)}",
            "CloudWatch cannot publish to a topic whose key it may not use: " + REDEPLOY,
        )
    return passed("alarms.topic", f"{judged.detail}; its key policy lets CloudWatch use it")


def _subscriptions_finding(config: AlarmsConfig, subscriptions: list[dict[str, Any]]) -> Finding:
    """Every configured subscriber is subscribed AND confirmed: an unconfirmed email or
    HTTPS endpoint receives nothing (and AWS deletes it after 3 days)."""
    name = "alarms.subscriptions"
    wanted = set(subscriptions_of(config))
    deployed = {
        (item.get("Protocol"), item.get("Endpoint"))
        for item in subscriptions
        if item.get("Protocol") in ("email", "https")
    }
    if deployed != wanted:
        return failed(
            name,
            f"subscriptions {_show(sorted(map(_endpoint, deployed)))}, configured "
            f"{_show(sorted(map(_endpoint, wanted)))}",
            "an unconfirmed subscription is deleted by AWS after 3 days: `pulumi up --refresh` "
            "subscribes the configured endpoints again",
        )
    pending = sorted(
        item["Endpoint"]
        for item in subscriptions
        if item.get("SubscriptionArn") == "PendingConfirmation"
    )
    placeholders = placeholder_subscribers(config)
    if placeholders:
        return failed(
            name,
            f"{', '.join(placeholders)}: a reserved example domain, nobody receives these alarms",
            "set alarms.emails / alarms.httpsEndpoints to the on-call address and `pulumi up`",
        )
    if pending:
        return failed(
            name,
            f"unconfirmed subscriptions (they receive nothing): {', '.join(pending)}",
            "confirm with the link in AWS's confirmation email (or the HTTPS endpoint's "
            "SubscriptionConfirmation) within 3 days",
        )
    if not config.subscribers():
        return passed(
            name,
            f"nobody is notified, as configured (alarms.notify: none: {config.notify_reason})",
        )
    reached = [*sorted(map(_endpoint, wanted)), *config.forward_topic_arns]
    return passed(name, f"alarms reach (confirmed): {', '.join(reached)}")


def subscriptions_of(config: AlarmsConfig) -> list[tuple[str, str]]:
    return [("email", email) for email in config.emails] + [
        ("https", url) for url in config.https_endpoints
    ]


def _endpoint(subscription: tuple[Any, Any]) -> str:
    return f"{subscription[0]}:{subscription[1]}"


def _forward_topic_findings(stack: DeployedStack) -> Iterator[Finding]:
    """Forwarded topics exist and let CloudWatch publish (else the alarm action fails)."""
    sns = stack.aws("sns")
    for arn in stack.config.alarms.forward_topic_arns:
        name = f"alarms.forward.{arn.rsplit(':', 1)[-1]}"
        try:
            attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        except ClientError as error:
            yield failed(name, f"cannot read forwarded topic {arn}: {error}",
                         "create the topic or fix alarms.forwardToTopicArns")  # fmt: skip
            continue
        policy = _document(attributes.get("Policy") or "{}")
        publishes = any(
            statement.get("Effect") == "Allow"
            and "cloudwatch.amazonaws.com"
            in _as_list((statement.get("Principal") or {}).get("Service"))
            and any(
                a.lower() in ("sns:publish", "sns:*") for a in _as_list(statement.get("Action"))
            )
            for statement in _statements(policy)
        )
        if publishes:
            yield passed(name, f"alarms also notify {arn}, whose policy lets CloudWatch publish")
        else:
            yield failed(
                name,
                f"forwarded topic {arn} does not let cloudwatch.amazonaws.com sns:Publish: "
                "the alarm action fails and nobody there is notified",
                "add a topic policy statement for cloudwatch.amazonaws.com (see README, Alarms)",
            )


def _alarm_finding(
    stack: DeployedStack, name: str, spec: AlarmSpec, alarm: dict[str, Any] | None
) -> Finding:
    finding_name = f"alarm.{spec.purpose}"
    if alarm is None:
        return failed(
            finding_name, f"alarm {name} does not exist", f"{REDEPLOY}; it watches: {spec.title}"
        )
    config = stack.config.alarms
    topic = [stack.output("alarmTopicArn"), *config.forward_topic_arns]
    deployed = {
        "metric": (alarm.get("Namespace"), alarm.get("MetricName")),
        "dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])},
        "statistic": alarm.get("Statistic"),
        "threshold": alarm.get("Threshold"),
        "comparison": alarm.get("ComparisonOperator"),
        "period": alarm.get("Period"),
        "evaluation periods": alarm.get("EvaluationPeriods"),
        "missing data": alarm.get("TreatMissingData"),
        "actions enabled": alarm.get("ActionsEnabled"),
        "alarm actions": alarm.get("AlarmActions"),
        "OK actions": alarm.get("OKActions"),
    }
    expected = {
        "metric": (spec.namespace, spec.metric),
        "dimensions": dict(spec.dimensions),
        "statistic": spec.statistic,
        "threshold": spec.threshold,
        "comparison": GREATER_THAN,
        "period": config.period_seconds,
        "evaluation periods": config.evaluation_periods,
        "missing data": NOT_BREACHING,
        "actions enabled": True,
        "alarm actions": topic,
        "OK actions": topic,
    }
    wrong = [key for key in expected if deployed[key] != expected[key]]
    if wrong:
        shown = "; ".join(
            f"{key} {_show(deployed[key])}, expected {_show(expected[key])}" for key in wrong
        )
        return failed(finding_name, f"alarm {name}: {shown}")
    return passed(
        finding_name,
        f"{name}: {spec.metric} {spec.statistic} > {spec.threshold:g} over "
        f"{config.evaluation_periods} x {config.period_seconds} s -> topic",
    )


@group("dashboard")
def check_dashboard(stack: DeployedStack) -> Iterator[Finding]:
    config = stack.config
    if not config.alarms.enabled:
        return
    name = stack.output("dashboardName")
    body = json.loads(stack.aws("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"])
    failure = _failure_target(stack)
    expected = dashboard_body(
        DashboardFacts(
            region=stack.arn_part(3),
            function_name=stack.output("functionName"),
            failure_kind=failure.kind,
            failure_name=str(failure.name),
            alarms=config.alarms,
            function=config.function,
            alarm_arns=[_alarm_arn(stack, alarm) for alarm, _ in expected_alarms(stack)],
            failure_metrics_filter=failure.request_metrics_filter,
            mapping_id=stack.output("eventSourceMappingId") if config.trigger.metrics else None,
        )
    )
    if body != expected:
        yield failed(
            "dashboard",
            f"dashboard {name} differs from the one the program builds (edited by hand?)",
            REDEPLOY,
        )
    else:
        yield passed("dashboard", f"dashboard {name}: {len(body.get('widgets', []))} widgets")
