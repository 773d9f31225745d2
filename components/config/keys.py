"""Typed, validated stack configuration: every default and every AWS limit lives here.

Why one file: a reader (or reviewer of a `Pulumi.<stack>.yaml`) must find what a key
means, what it defaults to and what AWS allows without reading the components. The
components only ever see the frozen dataclasses built here, never raw config.

Why validate everything up front: a wrong value must stop `pulumi up` before any resource
is registered, with an error that names the full key (`dynamodb-stream-processor:trigger.
batchSize`) and the allowed range. All problems are collected and reported together, so a
user fixes a stack file in one pass. Unknown keys are errors: a typo such as `batchsize`
would otherwise silently fall back to a default.

Defaults are the production-grade, secure choice. A free-tier dev stack relaxes some of
them (no customer-managed key, no PITR, short log retention); each relaxation is an
explicit value in its stack file, never an implicit default.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.filters import dynamodb as filter_pattern_dynamodb
from components.filters.pattern import join as join_pattern_path

PROJECT = "dynamodb-stream-processor"

# ---------------------------------------------------------------------------------------
# AWS limits and allowed values (see shared/reference/aws-facts.md and the AWS guides).
# ---------------------------------------------------------------------------------------
BILLING_MODES = ("PAY_PER_REQUEST", "PROVISIONED")
STREAM_VIEW_TYPES = ("NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY")
STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST")
ARCHITECTURES = ("arm64", "x86_64")
# S3 first: the only kind that keeps the failed batch itself (Lambda writes the whole
# invocation record), so nothing depends on the stream's 24 h retention.
FAILURE_DESTINATIONS = ("s3", "sqs", "sns")
# Event source mapping metrics (opt-in, billed as custom metrics). ErrorCount and
# KafkaMetrics exist too, for Kafka sources only.
ESM_METRICS = ("EventCount",)
# Lambda's application log levels (logging_config.application_log_level).
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
# CloudWatch Logs accepts only these retention periods; 0 means "never expire".
LOG_RETENTION_DAYS = (
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

# Python runtimes and the date AWS deprecates them (Lambda stops patching them; new
# functions are blocked later). A runtime whose date has passed is rejected.
PYTHON_RUNTIME_DEPRECATION = {
    "python3.8": _dt.date(2024, 10, 14),
    "python3.9": _dt.date(2025, 12, 15),
    "python3.10": _dt.date(2026, 10, 31),
    "python3.11": _dt.date(2027, 6, 30),
    "python3.12": _dt.date(2028, 10, 31),
    "python3.13": _dt.date(2029, 6, 30),
    "python3.14": _dt.date(2029, 6, 30),
}

TABLE_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
FUNCTION_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ATTRIBUTE_NAME_MAX = 255
# KMS key choices: a literal keyword or the ARN of an existing key. Key ARNs only, not
# alias ARNs: IAM statements scoped to an alias ARN do not authorize use of the key.
KMS_KEY_ARN_RE = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
TABLE_KMS_CHOICES = ("aws-owned", "aws-managed", "create")
DESTINATION_KMS_CHOICES = ("create", "managed", "sse-s3")
# Which keywords apply to which destination kind: `managed` is SSE-SQS or alias/aws/sns,
# `sse-s3` is S3-managed keys (AES256): a relaxation, written out in the stack file.
DESTINATION_KMS_BY_KIND = {"s3": ("create", "sse-s3"), "sqs": ("create", "managed"),
                           "sns": ("create", "managed")}  # fmt: skip
# The alarm topic: no key at all, or a customer-managed one. Never the AWS-managed
# `alias/aws/sns` key: its policy cannot be changed to let CloudWatch use it, so alarms
# could not publish (see aws-facts.md, KMS gotchas).
ALARM_TOPIC_KMS_CHOICES = ("none", "create")
# The function's log group: a customer-managed key (created, or an ARN) or none (CloudWatch
# Logs still encrypts at rest with its own key).
LOG_KMS_CHOICES = ("none", "create")
# The function's environment variables: Lambda's AWS-managed key, or a customer-managed one.
ENVIRONMENT_KMS_CHOICES = ("aws-managed", "create")
# Lambda's X-Ray tracing modes (tracing_config.mode).
TRACING_MODES = ("PassThrough", "Active")
# Who alarms reach: the subscribers configured, or (explicitly, with a reason) nobody.
ALARM_NOTIFY_CHOICES = ("subscribers", "none")
# An SNS topic in this account and region that CloudWatch alarms may notify directly.
SNS_TOPIC_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
# HTTPS subscription endpoints (SNS confirms them with a SubscriptionConfirmation POST).
HTTPS_ENDPOINT_RE = re.compile(r"^https://[A-Za-z0-9.-]+(:\d{1,5})?(/\S*)?$")
# RFC 2606 / 6761 reserved names: an address there reaches nobody, by definition.
RESERVED_DOMAIN_RE = re.compile(
    r"(^|\.)(example\.(com|net|org)|[^.]+\.(example|invalid|test|localhost))$", re.IGNORECASE
)
# CloudWatch allows at most 5 actions per alarm state: the stack's topic plus 4 forwards.
MAX_FORWARD_TOPICS = 4

MEMORY_MB = (128, 10240)
TIMEOUT_SECONDS = (1, 900)
PROVISIONED_CAPACITY = (1, 40000)
BATCH_SIZE = (1, 10000)
BATCHING_WINDOW_SECONDS = (0, 300)
RETRY_ATTEMPTS = (0, 10000)  # or -1: retry until the record expires
MAX_RECORD_AGE_SECONDS = (60, 604800)  # or -1: no age limit
PARALLELIZATION_FACTOR = (1, 10)
SQS_RETENTION_DAYS = (1, 14)  # SQS: 60 s .. 14 days
# How long the failure bucket keeps an object (lifecycle expiration, whole days > 0).
# Ten years is this project's bound, not AWS's: a forgotten batch is a data-protection risk.
S3_RETENTION_DAYS = (1, 3650)
MAX_FILTERS = 5
STREAM_RETENTION_SECONDS = 86400  # DynamoDB Streams keeps each change for 24 hours
MAX_FILTER_PATTERN_CHARS = 4096
UNBOUNDED = -1

# CloudWatch alarms (PutMetricAlarm). AWS accepts periods of 10, 20, 30 s or a multiple
# of 60 s; the sub-minute ones make "high-resolution" alarms that need metrics stored at
# one-second resolution. Every metric alarmed on here (AWS/Lambda, AWS/SQS, AWS/SNS and
# the handler's EMF line) has one-minute resolution, so a sub-minute period would mostly
# see no data (counted as not breaching) and miss real failures, at a higher price: only
# multiples of 60 are accepted.
ALARM_PERIOD_STEP_SECONDS = 60
ALARM_SUB_MINUTE_PERIODS = (10, 20, 30)  # valid in AWS, rejected here (see above)
ALARM_PERIOD_SECONDS = (60, 604800)
# Period x evaluationPeriods may cover at most one day for periods under one hour, and at
# most seven days for periods of one hour or more.
ALARM_LONG_PERIOD_SECONDS = 3600
ALARM_MAX_RANGE_SECONDS = 86400
ALARM_MAX_RANGE_LONG_PERIOD_SECONDS = 604800
ALARM_EVALUATION_PERIODS = (1, ALARM_MAX_RANGE_SECONDS // ALARM_PERIOD_STEP_SECONDS)
# Count thresholds (errors per period). The upper bound only catches typos: a threshold
# no function reaches is an alarm that never fires.
ALARM_COUNT_THRESHOLD = (0, 1_000_000)
ALARM_DURATION_THRESHOLD_MS = (1, TIMEOUT_SECONDS[1] * 1000)
# Iterator age beyond the stream's retention cannot happen: the records are gone.
ALARM_ITERATOR_AGE_THRESHOLD_MS = (1, STREAM_RETENTION_SECONDS * 1000)
# An address SNS will accept for the `email` protocol: one @, no spaces, a dotted domain.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Which stream views carry which image.
VIEWS_WITH_IMAGE = {
    "OldImage": ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"),
    "NewImage": ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"),
}

# The single-table key schema the handler's routing relies on.
HASH_KEY = "PK"
RANGE_KEY = "SK"


class ConfigError(ValueError):
    """Every problem found in a stack's configuration, one per line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid stack configuration:\n  - " + "\n  - ".join(problems))


# ---------------------------------------------------------------------------------------
# Typed models (frozen: the components can read them but never change them).
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableConfig:
    name: str
    existing: bool  # True: attach to `existingTableName` instead of creating a table
    billing_mode: str
    read_capacity: int | None
    write_capacity: int | None
    stream_view_type: str
    point_in_time_recovery: bool
    deletion_protection: bool
    ttl_attribute: str | None
    kms_key: str  # "aws-owned" | "aws-managed" | "create" | key ARN


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    runtime: str
    architecture: str
    memory_mb: int
    timeout_seconds: int
    reserved_concurrency: int  # -1: unreserved (uses the account's shared pool)
    log_retention_days: int
    log_level: str
    metrics_namespace: str
    log_kms_key: str = "create"  # "none" | "create" | key ARN
    environment_kms_key: str = "create"  # "aws-managed" | "create" | key ARN
    tracing: str = "PassThrough"  # "PassThrough" | "Active"


@dataclass(frozen=True)
class TriggerConfig:
    batch_size: int
    starting_position: str
    max_batching_window_seconds: int
    retry_attempts: int
    max_record_age_seconds: int
    bisect_on_error: bool
    parallelization_factor: int
    on_failure: str  # "s3" | "sqs" | "sns"
    destination_kms_key: str  # "create" | "managed" | "sse-s3" | key ARN
    destination_retention_days: int  # queue retention (sqs) or object expiration (s3)
    destination_force_destroy: bool  # s3: let `pulumi destroy` delete a non-empty bucket
    metrics: tuple[str, ...]  # the mapping's metrics_config (empty: none)
    filter_patterns: tuple[str, ...]  # each a compact JSON document
    enabled: bool

    def images_needed(self) -> set[str]:
        """The stream images ("OldImage"/"NewImage") the filter patterns look at."""
        needed: set[str] = set()
        for pattern in self.filter_patterns:
            needed |= filter_pattern_dynamodb.images_referenced(json.loads(pattern))
        return needed


@dataclass(frozen=True)
class AlarmsConfig:
    enabled: bool  # False: no topic, no alarms, no dashboard
    errors_threshold: int
    duration_threshold_ms: int
    iterator_age_threshold_ms: int
    evaluation_periods: int
    period_seconds: int
    emails: tuple[str, ...]  # each subscribed to the alarm topic
    topic_kms_key: str  # "none" | "create" | key ARN
    https_endpoints: tuple[str, ...] = ()  # each subscribed to the alarm topic (https)
    forward_topic_arns: tuple[str, ...] = ()  # existing topics each alarm also notifies
    notify: str = "subscribers"  # "subscribers" | "none" (nobody, with notify_reason)
    notify_reason: str | None = None

    def subscribers(self) -> tuple[str, ...]:
        """Everyone an alarm reaches: emails, HTTPS endpoints and forwarded topics."""
        return (*self.emails, *self.https_endpoints, *self.forward_topic_arns)


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    table: TableConfig
    function: FunctionConfig
    trigger: TriggerConfig
    tags: Mapping[str, str] = field(default_factory=dict)
    alarms: AlarmsConfig = field(kw_only=True)


# ---------------------------------------------------------------------------------------
# Declarative field specs: one line per key, holding its default and its limits.
# ---------------------------------------------------------------------------------------
REQUIRED: Any = object()


@dataclass(frozen=True)
class Key:
    """One config key: its type, default and allowed values or range."""

    name: str  # camelCase key, as written in Pulumi.<stack>.yaml
    kind: type  # bool, int, str, list, dict
    default: Any = REQUIRED
    choices: tuple[Any, ...] | None = None
    bounds: tuple[int, int] | None = None
    also: tuple[int, ...] = ()  # values accepted outside `bounds` (e.g. -1 = unbounded)
    check: Callable[[Any], str | None] | None = None  # extra rule -> problem or None
    doc: str = ""  # what the key means, for the README's configuration reference
    allowed: str = ""  # the rule behind `check`, in words, for the same reference


def _table_name(value: str) -> str | None:
    if TABLE_NAME_RE.match(value):
        return None
    return "must be 3-255 characters of A-Z a-z 0-9 _ . - (DynamoDB table name rules)"


def _function_name(value: str) -> str | None:
    if FUNCTION_NAME_RE.match(value):
        return None
    return "must be 1-64 characters of A-Z a-z 0-9 _ - (Lambda function name rules)"


def _attribute_name(value: str) -> str | None:
    if 0 < len(value.encode()) <= ATTRIBUTE_NAME_MAX:
        return None
    return f"must be 1-{ATTRIBUTE_NAME_MAX} bytes long"


def _kms_choice(keywords: tuple[str, ...]) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if value in keywords or KMS_KEY_ARN_RE.match(value):
            return None
        allowed = " | ".join(keywords)
        return (
            f"must be one of {allowed} or a KMS key ARN "
            f"(arn:aws:kms:<region>:<account>:key/<id>), got {value!r}"
        )

    return check


def _runtime(value: str) -> str | None:
    if value not in PYTHON_RUNTIME_DEPRECATION:
        supported = ", ".join(_supported_runtimes())
        return f"must be a Python Lambda runtime: one of {supported} (got {value!r})"
    deprecated_on = PYTHON_RUNTIME_DEPRECATION[value]
    if deprecated_on <= _today():
        supported = ", ".join(_supported_runtimes())
        return (
            f"{value} was deprecated by AWS Lambda on {deprecated_on.isoformat()}: it no longer "
            f"gets security patches and new functions cannot use it; use one of {supported} "
            f"(got {value!r})"
        )
    return None


def _supported_runtimes() -> list[str]:
    today = _today()
    return [name for name, until in PYTHON_RUNTIME_DEPRECATION.items() if until > today]


def _today() -> _dt.date:
    return _dt.date.today()


# CloudWatch namespaces: printable ASCII, not starting with ':'; "AWS/" is reserved. A name
# CloudWatch refuses would make it drop the EMF line's metrics without any error.
NAMESPACE_RE = re.compile(r"^[\x20-\x39\x3b-\x7e][\x20-\x7e]{0,254}$")


def _namespace(value: str) -> str | None:
    if NAMESPACE_RE.match(value) and not value.startswith("AWS/"):
        return None
    return (
        f"must be 1-255 printable ASCII characters, not starting with ':' or 'AWS/' (got {value!r})"
    )


def _alarm_period(value: int) -> str | None:
    low, high = ALARM_PERIOD_SECONDS
    if low <= value <= high and value % ALARM_PERIOD_STEP_SECONDS == 0:
        return None
    hint = (
        f"; AWS allows {', '.join(map(str, ALARM_SUB_MINUTE_PERIODS))} s only for metrics "
        "stored at one-second resolution, and every metric alarmed on here has one-minute "
        "resolution"
        if value in ALARM_SUB_MINUTE_PERIODS
        else ""
    )
    return (
        f"must be a multiple of {ALARM_PERIOD_STEP_SECONDS} seconds between {low} and {high} "
        f"(got {value}){hint}"
    )


TABLE_KEYS = (
    Key(
        "name",
        str,
        None,
        check=_table_name,
        allowed="3-255 chars: A-Z a-z 0-9 _ . -",
        doc="Name of the table to create (keys PK and SK, strings). Required unless "
        "`existingTableName` is set.",
    ),
    Key(
        "existingTableName",
        str,
        None,
        check=_table_name,
        allowed="3-255 chars: A-Z a-z 0-9 _ . -",
        doc="Attach to this existing table instead of creating one. Its stream must be "
        "enabled with a view carrying the images the filters read; checked before "
        "anything is created.",
    ),
    Key(
        "billingMode",
        str,
        "PAY_PER_REQUEST",
        choices=BILLING_MODES,
        doc="On-demand, or provisioned capacity (the free tier covers 25 RCU/WCU).",
    ),
    Key(
        "readCapacity",
        int,
        None,
        bounds=PROVISIONED_CAPACITY,
        doc="Read capacity units; required with PROVISIONED, refused otherwise.",
    ),
    Key(
        "writeCapacity",
        int,
        None,
        bounds=PROVISIONED_CAPACITY,
        doc="Write capacity units; required with PROVISIONED, refused otherwise.",
    ),
    Key(
        "streamViewType",
        str,
        "NEW_AND_OLD_IMAGES",
        choices=STREAM_VIEW_TYPES,
        doc="What each stream record carries. Status and price change detection needs both "
        "images. On a deployed table, DynamoDB refuses a view change while the stream is "
        "enabled: disable it first; the new stream has a new ARN, so the mapping is "
        "replaced and starts again at `trigger.startingPosition`.",
    ),
    Key(
        "pointInTimeRecovery", bool, True, doc="Continuous backups (35 days). Billed per GB-month."
    ),
    Key(
        "deletionProtection",
        bool,
        True,
        doc="Refuse DeleteTable (including from `pulumi destroy`) until turned off.",
    ),
    Key(
        "ttlAttribute",
        str,
        None,
        check=_attribute_name,
        allowed="1-255 bytes",
        doc="Attribute holding an epoch-seconds expiry; expired items arrive as REMOVE "
        "records flagged as TTL expiries. Unset: TTL off.",
    ),
    Key(
        "kmsKey",
        str,
        "create",
        check=_kms_choice(TABLE_KMS_CHOICES),
        allowed="aws-owned, aws-managed, create, or a key ARN",
        doc="Encryption at rest: `aws-owned` (free), `aws-managed` (alias/aws/dynamodb), "
        "`create` (a customer-managed key with rotation, $1/month) or a key ARN.",
    ),
)
# Settings that only make sense for a table this program creates.
TABLE_CREATION_ONLY = (
    "billingMode",
    "readCapacity",
    "writeCapacity",
    "streamViewType",
    "pointInTimeRecovery",
    "deletionProtection",
    "ttlAttribute",
    "kmsKey",
)

FUNCTION_KEYS = (
    Key(
        "name",
        str,
        check=_function_name,
        allowed="1-64 chars: A-Z a-z 0-9 _ -",
        doc="Function name; its log group is /aws/lambda/<name>.",
    ),
    Key(
        "runtime",
        str,
        "python3.13",
        check=_runtime,
        allowed="python3.11 to python3.14, not past AWS deprecation",
        doc="Python runtime. Runtimes past their AWS deprecation date are refused.",
    ),
    Key(
        "architecture",
        str,
        "arm64",
        choices=ARCHITECTURES,
        doc="arm64 costs less per GB-second beyond the free tier.",
    ),
    Key("memoryMb", int, 128, bounds=MEMORY_MB, doc="Memory; CPU share grows with it."),
    Key(
        "timeoutSeconds",
        int,
        30,
        bounds=TIMEOUT_SECONDS,
        doc="Per-invocation timeout; a timed-out batch is retried like an error.",
    ),
    Key(
        "reservedConcurrency",
        int,
        10,
        bounds=(1, 100000),
        also=(UNBOUNDED,),
        doc="Concurrent executions reserved (and capped); -1 uses the shared pool. 0 "
        "would stop all processing and is refused.",
    ),
    Key(
        "logRetentionDays",
        int,
        365,
        choices=LOG_RETENTION_DAYS,
        doc="Log group retention (CloudWatch's allowed values; 0 = never expire).",
    ),
    Key(
        "logLevel",
        str,
        "INFO",
        choices=LOG_LEVELS,
        doc="Application log level (JSON logs). INFO logs a line per record; WARN "
        "keeps only problems and the metrics line.",
    ),
    Key(
        "metricsNamespace",
        str,
        "DynamoDBStreamProcessor",
        check=_namespace,
        allowed="1-255 printable ASCII chars, not starting with ':' or AWS/",
        doc="CloudWatch namespace of the handler's embedded metrics.",
    ),
    Key(
        "logKmsKey",
        str,
        "create",
        check=_kms_choice(LOG_KMS_CHOICES),
        allowed="create, none, or a key ARN",
        doc="Log group encryption (CKV_AWS_158): `create` (a customer-managed key only "
        "CloudWatch Logs may use, for this log group), a key ARN whose policy lets "
        "logs.<region>.amazonaws.com use it, or `none` (CloudWatch Logs' own encryption).",
    ),
    Key(
        "environmentKmsKey",
        str,
        "create",
        check=_kms_choice(ENVIRONMENT_KMS_CHOICES),
        allowed="create, aws-managed, or a key ARN",
        doc="Environment variable encryption (CKV_AWS_173): `create` (customer-managed, "
        "usable only through Lambda), a key ARN, or `aws-managed` (aws/lambda). With "
        "logKmsKey also `create`, one key serves both.",
    ),
    Key(
        "tracing",
        str,
        "PassThrough",
        choices=TRACING_MODES,
        doc="X-Ray tracing (CKV_AWS_50): `Active` samples and records invocations (X-Ray "
        "pricing; the role gets xray:PutTraceSegments and xray:PutTelemetryRecords on `*`, "
        "which X-Ray cannot scope); `PassThrough` records nothing itself.",
    ),
)

TRIGGER_KEYS = (
    Key(
        "batchSize",
        int,
        100,
        bounds=BATCH_SIZE,
        doc="Most records per invocation (also capped by the 6 MB payload).",
    ),
    Key(
        "startingPosition",
        str,
        "TRIM_HORIZON",
        choices=STARTING_POSITIONS,
        doc="Where a new mapping starts: the oldest record kept (24 h) or new ones only. A "
        "replaced mapping (new stream, changed position) starts there again, so with "
        "TRIM_HORIZON up to 24 h of records are processed a second time: routes must be "
        "idempotent (delivery is at least once anyway).",
    ),
    Key(
        "maxBatchingWindowSeconds",
        int,
        0,
        bounds=BATCHING_WINDOW_SECONDS,
        doc="Wait up to this long to fill a batch (fewer, fuller invocations).",
    ),
    Key(
        "retryAttempts",
        int,
        3,
        bounds=RETRY_ATTEMPTS,
        also=(UNBOUNDED,),
        doc="Retries of a failing batch before it goes to the failure destination; -1 "
        "retries until the record expires.",
    ),
    Key(
        "maxRecordAgeSeconds",
        int,
        3600,
        bounds=MAX_RECORD_AGE_SECONDS,
        also=(UNBOUNDED,),
        doc="Records older than this go to the failure destination; -1: no limit. Not "
        "both this and retryAttempts may be -1.",
    ),
    Key(
        "bisectOnError",
        bool,
        True,
        doc="Split a failing batch in two and retry the halves (splits are free retries).",
    ),
    Key(
        "parallelizationFactor",
        int,
        1,
        bounds=PARALLELIZATION_FACTOR,
        doc="Concurrent batches per shard; order is still kept per item.",
    ),
    Key(
        "onFailure",
        str,
        "s3",
        choices=FAILURE_DESTINATIONS,
        doc="Failure destination: an S3 bucket (Lambda writes the whole failed batch; "
        "redrive works days later), an SQS queue or an SNS topic (pointers only: the records "
        "must be read back from the stream within its 24 h). See README, Choosing a "
        "failure destination.",
    ),
    Key(
        "destinationKmsKey",
        str,
        "create",
        check=_kms_choice(DESTINATION_KMS_CHOICES),
        allowed="create, managed (sqs, sns), sse-s3 (s3), or a key ARN",
        doc="Destination encryption: `create` (customer-managed key), a key ARN, `managed` "
        "(SSE-SQS, or alias/aws/sns for a topic) or `sse-s3` (S3-managed keys, a relaxation). "
        "Never unencrypted.",
    ),
    Key(
        "destinationRetentionDays",
        int,
        14,
        bounds=(SQS_RETENTION_DAYS[0], S3_RETENTION_DAYS[1]),
        allowed=f"{SQS_RETENTION_DAYS[0]}-{SQS_RETENTION_DAYS[1]} (sqs), "
        f"{S3_RETENTION_DAYS[0]}-{S3_RETENTION_DAYS[1]} (s3)",
        doc="How long the destination keeps a failure: the queue's message retention (SQS) or "
        "the bucket's lifecycle expiration, also applied to replaced or deleted versions (S3). "
        "Not for SNS.",
    ),
    Key(
        "destinationForceDestroy",
        bool,
        False,
        doc="S3 only: let `pulumi destroy` delete the bucket with failed batches still in "
        "it. Off: the destroy fails instead, so no batch is lost by accident.",
    ),
    Key(
        "metrics",
        list,
        [],
        allowed="`[]` \\| `[EventCount]`",
        doc="The mapping's metrics (billed as custom metrics): `EventCount` publishes its "
        "polled, filtered, invoked, failed and dropped event counts (dashboard row).",
    ),
    Key(
        "filterPatterns",
        list,
        [],
        allowed="0-5 patterns, each at most 4096 characters of JSON",
        doc="Up to 5 Lambda event filter patterns on the record's `dynamodb` key (the only "
        "key a DynamoDB mapping filters on); records matching none are skipped without "
        "invoking. Refused before deploy: what AWS refuses and what can never match a "
        "stream record (README, Filter patterns; test one with `filter test`).",
    ),
    Key("enabled", bool, True, doc="Pause (false) or resume the mapping without deleting it."),
)

ALARMS_KEYS = (
    Key(
        "enabled",
        bool,
        True,
        doc="Alarm topic, alarms and dashboard; false creates none of them.",
    ),
    Key(
        "errorsThreshold",
        int,
        0,
        bounds=ALARM_COUNT_THRESHOLD,
        doc="Alarm when the function's Errors (Sum) in a period are above this.",
    ),
    # The seed's "duration > 20 s".
    Key(
        "durationThresholdMs",
        int,
        20000,
        bounds=ALARM_DURATION_THRESHOLD_MS,
        allowed="1 to 900000, below function.timeoutSeconds x 1000",
        doc="Alarm when the longest invocation (Duration, Maximum) is above this.",
    ),
    # The seed's "iterator age > 30 s".
    Key(
        "iteratorAgeThresholdMs",
        int,
        30000,
        bounds=ALARM_ITERATOR_AGE_THRESHOLD_MS,
        allowed="1 to 86400000, below trigger.maxRecordAgeSeconds x 1000 unless that is -1",
        doc="Alarm when IteratorAge (Maximum), the lag behind the stream, is above this.",
    ),
    Key(
        "evaluationPeriods",
        int,
        1,
        bounds=ALARM_EVALUATION_PERIODS,
        allowed="1 to 1440; times periodSeconds at most 1 day (7 days for periods >= 1 h)",
        doc="Consecutive breaching periods before an alarm fires.",
    ),
    Key(
        "periodSeconds",
        int,
        60,
        check=_alarm_period,
        allowed="a multiple of 60, 60 to 604800",
        doc="Length of one evaluation period (the metrics have one-minute resolution).",
    ),
    Key(
        "emails",
        list,
        [],
        allowed="email addresses, each once",
        doc="Subscribed to the alarm topic (each must confirm AWS's email first).",
    ),
    Key(
        "httpsEndpoints",
        list,
        [],
        allowed="https:// URLs, each once",
        doc="Subscribed to the alarm topic over HTTPS (a pager or chat webhook; it must "
        "confirm the subscription).",
    ),
    Key(
        "forwardToTopicArns",
        list,
        [],
        allowed=f"up to {MAX_FORWARD_TOPICS} SNS topic ARNs of the stack's region",
        doc="Existing SNS topics every alarm also notifies (e.g. the topic an AWS Chatbot "
        "channel or on-call tool already watches); their policy must let "
        "cloudwatch.amazonaws.com publish.",
    ),
    Key(
        "notify",
        str,
        "subscribers",
        choices=ALARM_NOTIFY_CHOICES,
        doc="`subscribers`: at least one of emails, httpsEndpoints, forwardToTopicArns is "
        "required; `none`: no subscriber is required and alarms may notify nobody, on "
        "purpose (give notifyReason).",
    ),
    Key(
        "notifyReason",
        str,
        None,
        allowed="required when notify is none",
        doc="Why nobody is notified (shown in every preview's warning).",
    ),
    Key(
        "topicKmsKey",
        str,
        "create",
        check=_kms_choice(ALARM_TOPIC_KMS_CHOICES),
        allowed="none, create, or a key ARN",
        doc="Alarm topic encryption: `create` (a key CloudWatch may use), `none`, or a key "
        "ARN whose policy lets cloudwatch.amazonaws.com Decrypt and GenerateDataKey*.",
    ),
)

TAG_KEY_MAX, TAG_VALUE_MAX, MAX_TAGS = 128, 256, 50
# Tag names and values: Unicode letters, digits and spaces plus these (IAM, SQS and others
# reject anything else at create time).
TAG_PUNCTUATION = frozenset("_.:/=+-@")


def _tag_text_ok(text: str) -> bool:
    return all(c.isalnum() or c.isspace() or c in TAG_PUNCTUATION for c in text)


# Top-level objects under the project namespace: (key, required, field specs).
SECTIONS: dict[str, tuple[bool, tuple[Key, ...]]] = {
    "table": (True, TABLE_KEYS),
    "function": (True, FUNCTION_KEYS),
    "trigger": (False, TRIGGER_KEYS),
    "alarms": (False, ALARMS_KEYS),
}
OTHER_TOP_LEVEL_KEYS = ("tags",)


# ---------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------
class _Problems:
    def __init__(self, project: str):
        self.project = project
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{self.project}:{path} {message}")


def _type_name(kind: type) -> str:
    return {bool: "a boolean", int: "an integer", str: "a string", list: "a list"}.get(
        kind, "an object"
    )


def _is_kind(value: Any, kind: type) -> bool:
    if kind is int:  # YAML booleans are ints in Python: reject them explicitly
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _parse_section(
    section: str, raw: Any, keys: tuple[Key, ...], problems: _Problems
) -> dict[str, Any]:
    """Check one config object against its key specs; return camelCase key -> value."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.add(section, f"must be an object (got {type(raw).__name__})")
        return {}
    known = {key.name for key in keys}
    for unknown in sorted(set(raw) - known):
        problems.add(
            f"{section}.{unknown}",
            f"is not a known key; allowed keys: {', '.join(sorted(known))}",
        )
    values: dict[str, Any] = {}
    for key in keys:
        path = f"{section}.{key.name}"
        if key.name not in raw or raw[key.name] is None:
            if key.default is REQUIRED:
                problems.add(path, "is required")
            values[key.name] = key.default if key.default is not REQUIRED else None
            continue
        value = raw[key.name]
        values[key.name] = value
        if not _is_kind(value, key.kind):
            problems.add(path, f"must be {_type_name(key.kind)} (got {value!r})")
            values[key.name] = None
            continue
        problem = _check_value(key, value)
        if problem:
            problems.add(path, problem)
            values[key.name] = None
    return values


def _check_value(key: Key, value: Any) -> str | None:
    if key.choices is not None and value not in key.choices:
        allowed = ", ".join(str(choice) for choice in key.choices)
        return f"must be one of {allowed} (got {value!r})"
    if key.bounds is not None and value not in key.also:
        low, high = key.bounds
        if not low <= value <= high:
            extra = "".join(f" or {allowed}" for allowed in key.also)
            return f"must be between {low} and {high}{extra} (got {value})"
    if key.check is not None:
        return key.check(value)
    return None


def _parse_table(raw: Any, problems: _Problems) -> TableConfig | None:
    v = _parse_section("table", raw, TABLE_KEYS, problems)
    given = set(raw) if isinstance(raw, dict) else set()
    if not v:
        return None
    if v["name"] and v["existingTableName"]:
        problems.add(
            "table.existingTableName",
            "cannot be combined with table.name: give `name` to create a table, or "
            "`existingTableName` to attach to one",
        )
    elif not v["name"] and not v["existingTableName"] and "name" not in given:
        problems.add("table.name", "is required (or set table.existingTableName)")
    existing = bool(v["existingTableName"])
    if existing:
        for key in sorted(given & set(TABLE_CREATION_ONLY)):
            problems.add(
                f"table.{key}",
                "only applies to a table this program creates; remove it when "
                "table.existingTableName is set (the existing table keeps its own settings)",
            )
    provisioned = v["billingMode"] == "PROVISIONED"
    for key in ("readCapacity", "writeCapacity") if not existing else ():
        if provisioned and v[key] is None and key not in given:
            problems.add(f"table.{key}", "is required when table.billingMode is PROVISIONED")
        if not provisioned and key in given and not existing:
            problems.add(
                f"table.{key}",
                f"only applies when table.billingMode is PROVISIONED (got billingMode "
                f"{v['billingMode']}); remove it or switch to PROVISIONED",
            )
    if problems.items:
        return None
    return TableConfig(
        name=v["existingTableName"] or v["name"],
        existing=existing,
        billing_mode=v["billingMode"],
        read_capacity=v["readCapacity"] if provisioned else None,
        write_capacity=v["writeCapacity"] if provisioned else None,
        stream_view_type=v["streamViewType"],
        point_in_time_recovery=v["pointInTimeRecovery"],
        deletion_protection=v["deletionProtection"],
        ttl_attribute=v["ttlAttribute"],
        kms_key=v["kmsKey"],
    )


def _parse_function(raw: Any, problems: _Problems) -> FunctionConfig | None:
    v = _parse_section("function", raw, FUNCTION_KEYS, problems)
    if problems.items:
        return None
    return FunctionConfig(
        name=v["name"],
        runtime=v["runtime"],
        architecture=v["architecture"],
        memory_mb=v["memoryMb"],
        timeout_seconds=v["timeoutSeconds"],
        reserved_concurrency=v["reservedConcurrency"],
        log_retention_days=v["logRetentionDays"],
        log_level=v["logLevel"],
        metrics_namespace=v["metricsNamespace"],
        log_kms_key=v["logKmsKey"],
        environment_kms_key=v["environmentKmsKey"],
        tracing=v["tracing"],
    )


def _check_filter_pattern(path: str, pattern: Any, problems: _Problems) -> str | None:
    """Validate one event filter pattern; return it as compact JSON, or None."""
    if not isinstance(pattern, dict) or not pattern:
        problems.add(path, f"must be a non-empty object (an event filter pattern), got {pattern!r}")
        return None
    text = json.dumps(pattern, separators=(",", ":"), sort_keys=True)
    if len(text) > MAX_FILTER_PATTERN_CHARS:
        problems.add(
            path, f"must be at most {MAX_FILTER_PATTERN_CHARS} characters as JSON (got {len(text)})"
        )
    # One model with the local runner and `filter test` (components/filters/):
    # refused here is what AWS refuses, or what could never match a stream record.
    for problem in filter_pattern_dynamodb.problems_of(pattern, HASH_KEY):
        problems.add(join_pattern_path(path, problem.path) + ":", problem.message)
    return text


def _parse_trigger(raw: Any, problems: _Problems) -> TriggerConfig | None:
    v = _parse_section("trigger", raw, TRIGGER_KEYS, problems)
    if not v:
        return None
    patterns: list[str] = []
    raw_patterns = v["filterPatterns"] or []
    if len(raw_patterns) > MAX_FILTERS:
        problems.add(
            "trigger.filterPatterns",
            f"may hold at most {MAX_FILTERS} patterns (got {len(raw_patterns)})",
        )
    for index, pattern in enumerate(raw_patterns):
        text = _check_filter_pattern(f"trigger.filterPatterns[{index}]", pattern, problems)
        if text is not None:
            patterns.append(text)
    if v["retryAttempts"] == UNBOUNDED and v["maxRecordAgeSeconds"] == UNBOUNDED:
        problems.add(
            "trigger.retryAttempts",
            "and trigger.maxRecordAgeSeconds cannot both be -1: with neither bound, one "
            "failing record blocks its shard until it expires from the stream (24 h)",
        )
    _check_destination(v, set(raw) if isinstance(raw, dict) else set(), problems)
    metrics = _check_metrics(v["metrics"] or [], problems)
    if problems.items:
        return None
    return TriggerConfig(
        batch_size=v["batchSize"],
        starting_position=v["startingPosition"],
        max_batching_window_seconds=v["maxBatchingWindowSeconds"],
        retry_attempts=v["retryAttempts"],
        max_record_age_seconds=v["maxRecordAgeSeconds"],
        bisect_on_error=v["bisectOnError"],
        parallelization_factor=v["parallelizationFactor"],
        on_failure=v["onFailure"],
        destination_kms_key=v["destinationKmsKey"],
        destination_retention_days=v["destinationRetentionDays"],
        destination_force_destroy=v["destinationForceDestroy"],
        metrics=tuple(metrics),
        filter_patterns=tuple(patterns),
        enabled=v["enabled"],
    )


def _check_destination(v: dict[str, Any], given: set[str], problems: _Problems) -> None:
    """Settings that only some destination kinds have, or whose limits depend on the kind."""
    kind = v["onFailure"]
    if kind is None:
        return
    if kind == "sns" and "destinationRetentionDays" in given:
        problems.add(
            "trigger.destinationRetentionDays",
            "only applies to an SQS or S3 failure destination (trigger.onFailure is sns)",
        )
    days = v["destinationRetentionDays"]
    if kind == "sqs" and days is not None and days > SQS_RETENTION_DAYS[1]:
        low, high = SQS_RETENTION_DAYS
        problems.add(
            "trigger.destinationRetentionDays",
            f"must be between {low} and {high} (got {days}): an SQS queue keeps a message at "
            f"most {high} days; trigger.onFailure s3 keeps failed batches longer",
        )
    if kind != "s3" and "destinationForceDestroy" in given:
        problems.add(
            "trigger.destinationForceDestroy",
            f"only applies to an S3 failure destination (trigger.onFailure is {kind})",
        )
    choice = v["destinationKmsKey"]
    if choice in DESTINATION_KMS_CHOICES and choice not in DESTINATION_KMS_BY_KIND[kind]:
        allowed = " | ".join(DESTINATION_KMS_BY_KIND[kind])
        problems.add(
            "trigger.destinationKmsKey",
            f"must be one of {allowed} or a KMS key ARN for an {kind.upper()} failure "
            f"destination (got {choice!r})",
        )


def _check_metrics(raw: list[Any], problems: _Problems) -> list[str]:
    metrics: list[str] = []
    for index, metric in enumerate(raw):
        if metric not in ESM_METRICS:
            problems.add(
                f"trigger.metrics[{index}]",
                f"must be one of {', '.join(ESM_METRICS)} (got {metric!r}); ErrorCount and "
                "KafkaMetrics are for Kafka event sources only",
            )
        elif metric in metrics:
            problems.add(f"trigger.metrics[{index}]", f"repeats {metric!r}; list it once")
        else:
            metrics.append(metric)
    return metrics


def _parse_tags(raw: Any, problems: _Problems) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.add("tags", f"must be an object of tag names to values (got {raw!r})")
        return {}
    if len(raw) > MAX_TAGS:
        problems.add("tags", f"may hold at most {MAX_TAGS} tags (got {len(raw)})")
    tags: dict[str, str] = {}
    for key, value in raw.items():
        path = f"tags.{key}"
        if not 1 <= len(key) <= TAG_KEY_MAX or key.lower().startswith("aws:"):
            problems.add(path, f"tag names must be 1-{TAG_KEY_MAX} characters, not 'aws:...'")
        elif not isinstance(value, str) or len(value) > TAG_VALUE_MAX:
            problems.add(path, f"must be a string of at most {TAG_VALUE_MAX} characters")
        elif not (_tag_text_ok(key) and _tag_text_ok(value)):
            problems.add(
                path,
                "may only hold letters, digits, spaces and _ . : / = + - @ (in its name and "
                f"value; got {value!r})",
            )
        else:
            tags[key] = value
    return tags


def _parse_alarms(raw: Any, problems: _Problems) -> AlarmsConfig | None:
    v = _parse_section("alarms", raw, ALARMS_KEYS, problems)
    if not v:
        return None
    period, evaluations = v["periodSeconds"], v["evaluationPeriods"]
    if period is not None and evaluations is not None:
        limit = (
            ALARM_MAX_RANGE_LONG_PERIOD_SECONDS
            if period >= ALARM_LONG_PERIOD_SECONDS
            else ALARM_MAX_RANGE_SECONDS
        )
        if period * evaluations > limit:
            problems.add(
                "alarms.evaluationPeriods",
                f"times alarms.periodSeconds must be at most {limit} seconds for a period of "
                f"{period} s (CloudWatch evaluates at most "
                f"{limit // ALARM_MAX_RANGE_SECONDS} day(s) of data); "
                f"got {evaluations} x {period} = {period * evaluations}",
            )
    emails = _check_emails(v["emails"] or [], problems)
    endpoints = _check_listed(
        "alarms.httpsEndpoints", v["httpsEndpoints"] or [], HTTPS_ENDPOINT_RE,
        "an https:// URL such as https://events.pagerduty.com/integration/KEY/enqueue",
        problems,
    )  # fmt: skip
    forwards = _check_listed(
        "alarms.forwardToTopicArns", v["forwardToTopicArns"] or [], SNS_TOPIC_ARN_RE,
        "an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)", problems,
    )  # fmt: skip
    if len(forwards) > MAX_FORWARD_TOPICS:
        problems.add(
            "alarms.forwardToTopicArns",
            f"may hold at most {MAX_FORWARD_TOPICS} topics (CloudWatch allows 5 actions per "
            f"alarm state, one is the stack's topic); got {len(forwards)}",
        )
    _check_notify(v, (*emails, *endpoints, *forwards), problems)
    if problems.items:
        return None
    return AlarmsConfig(
        enabled=v["enabled"],
        errors_threshold=v["errorsThreshold"],
        duration_threshold_ms=v["durationThresholdMs"],
        iterator_age_threshold_ms=v["iteratorAgeThresholdMs"],
        evaluation_periods=evaluations,
        period_seconds=period,
        emails=tuple(emails),
        topic_kms_key=v["topicKmsKey"],
        https_endpoints=tuple(endpoints),
        forward_topic_arns=tuple(forwards),
        notify=v["notify"],
        notify_reason=v["notifyReason"],
    )


def _check_listed(
    key: str, raw: list[Any], pattern: re.Pattern[str], what: str, problems: _Problems
) -> list[str]:
    """Strings of a list that must each match `pattern`, each once."""
    found: list[str] = []
    for index, value in enumerate(raw):
        path = f"{key}[{index}]"
        if not isinstance(value, str) or not pattern.match(value):
            problems.add(path, f"must be {what} (got {value!r})")
        elif value in found:
            problems.add(path, f"repeats {value!r}; list each once")
        else:
            found.append(value)
    return found


def _check_notify(v: dict[str, Any], subscribers: tuple[str, ...], problems: _Problems) -> None:
    """Alarms must reach a person, or say explicitly (with a reason) that they do not."""
    if not v["enabled"] or v["notify"] is None:
        return
    if v["notify"] == "none":
        # Subscribers next to `none` are still subscribed (a developer trying an address):
        # `none` only waives the requirement to have one.
        if not (v["notifyReason"] or "").strip():
            problems.add(
                "alarms.notifyReason",
                "is required when alarms.notify is none: say why nobody is notified",
            )
        return
    if v["notifyReason"] is not None:
        problems.add("alarms.notifyReason", "only applies when alarms.notify is none")
    if not subscribers:
        problems.add(
            "alarms.emails",
            "names nobody, and neither do alarms.httpsEndpoints or alarms.forwardToTopicArns: "
            "the alarms would notify a topic no one is subscribed to. Name at least one "
            "subscriber, or set alarms.notify: none with alarms.notifyReason (e.g. a dev stack)",
        )


def placeholder_subscribers(alarms: AlarmsConfig) -> list[str]:
    """Subscribers on reserved example domains (RFC 2606): they reach nobody."""
    found = []
    for subscriber in (*alarms.emails, *alarms.https_endpoints):
        host = subscriber.split("@", 1)[1] if "@" in subscriber else subscriber.split("/")[2]
        if RESERVED_DOMAIN_RE.search(host.split(":")[0]):
            found.append(subscriber)
    return found


def _check_emails(raw: list[Any], problems: _Problems) -> list[str]:
    """Addresses to subscribe; each once (SNS would keep one subscription anyway)."""
    emails: list[str] = []
    seen: set[str] = set()
    for index, email in enumerate(raw):
        path = f"alarms.emails[{index}]"
        if not isinstance(email, str) or not EMAIL_RE.match(email):
            problems.add(path, f"must be an email address such as ops@example.com (got {email!r})")
        elif email.lower() in seen:
            problems.add(path, f"repeats {email!r}; list each address once")
        else:
            seen.add(email.lower())
            emails.append(email)
    return emails


def _key_region_problems(config: StackConfig, region: str) -> list[str]:
    """Key ARNs from another region: DynamoDB, SQS, SNS and S3 refuse them at create time."""
    chosen = {
        "table.kmsKey": config.table.kms_key,
        "trigger.destinationKmsKey": config.trigger.destination_kms_key,
        "alarms.topicKmsKey": config.alarms.topic_kms_key,
        "function.logKmsKey": config.function.log_kms_key,
        "function.environmentKmsKey": config.function.environment_kms_key,
    }
    problems = []
    for key, value in chosen.items():
        if value.startswith("arn:") and value.split(":")[3] != region:
            problems.append(
                f"{key} is a key in {value.split(':')[3]}, but the stack deploys to {region} "
                "(aws:region): DynamoDB, SQS, SNS, S3, Lambda and CloudWatch Logs only use keys "
                "of their own region"
            )
    for index, arn in enumerate(config.alarms.forward_topic_arns):
        if arn.split(":")[3] != region:
            problems.append(
                f"alarms.forwardToTopicArns[{index}] is a topic in {arn.split(':')[3]}, but the "
                f"stack deploys to {region} (aws:region): alarms notify topics of their region"
            )
    return problems


def check_cross_section(config: StackConfig, region: str | None = None) -> list[str]:
    """Rules that span sections (and, when known, the stack's region). Returns problems
    (without the project prefix)."""
    problems = _key_region_problems(config, region) if region else []
    view = config.table.stream_view_type
    if not config.table.existing:
        for image in sorted(config.trigger.images_needed()):
            if view not in VIEWS_WITH_IMAGE[image]:
                problems.append(
                    f"trigger.filterPatterns filters on dynamodb.{image} but table."
                    f"streamViewType {view} does not carry it; use one of "
                    f"{', '.join(VIEWS_WITH_IMAGE[image])}"
                )
    if config.alarms.enabled:
        problems.extend(_check_alarm_thresholds(config))
    return problems


def _check_alarm_thresholds(config: StackConfig) -> list[str]:
    """Thresholds another setting makes unreachable: such an alarm would never warn."""
    problems = []
    alarms = config.alarms
    timeout_ms = config.function.timeout_seconds * 1000
    if alarms.duration_threshold_ms >= timeout_ms:
        problems.append(
            f"alarms.durationThresholdMs must be below function.timeoutSeconds x 1000 "
            f"({timeout_ms} ms), got {alarms.duration_threshold_ms}: an invocation stops at "
            "the timeout, so the alarm could only fire on timeouts (already Errors) instead "
            "of warning before them; set alarms.durationThresholdMs (default 20000) lower "
            "or raise the timeout"
        )
    max_age_s = config.trigger.max_record_age_seconds
    if max_age_s != UNBOUNDED and alarms.iterator_age_threshold_ms >= max_age_s * 1000:
        problems.append(
            f"alarms.iteratorAgeThresholdMs must be below trigger.maxRecordAgeSeconds x 1000 "
            f"({max_age_s * 1000} ms), got {alarms.iterator_age_threshold_ms}: records older "
            "than that are sent to the failure destination instead of the function, so the "
            "iterator age never reaches the threshold"
        )
    return problems


def parse_config(
    raw: Mapping[str, Any], stack: str, project: str = PROJECT, region: str | None = None
) -> StackConfig:
    """Build the typed config from raw objects keyed by top-level name (`table`, ...);
    `region` is the stack's `aws:region`, when known, for the checks that need it.

    Raises ConfigError listing every problem; the message names each full key.
    """
    problems = _Problems(project)
    for unknown in sorted(set(raw) - set(SECTIONS) - set(OTHER_TOP_LEVEL_KEYS)):
        allowed = ", ".join([*SECTIONS, *OTHER_TOP_LEVEL_KEYS])
        problems.add(unknown, f"is not a known configuration key; allowed: {allowed}")
    for section, (required, _keys) in SECTIONS.items():
        if required and raw.get(section) is None:
            problems.add(section, "is required (an object; see README, Configuration)")
    table = _parse_table(raw.get("table"), problems) if raw.get("table") is not None else None
    function = (
        _parse_function(raw.get("function"), problems) if raw.get("function") is not None else None
    )
    trigger = _parse_trigger(raw.get("trigger"), problems)
    alarms = _parse_alarms(raw.get("alarms"), problems)
    tags = _parse_tags(raw.get("tags"), problems)
    if problems.items or table is None or function is None or trigger is None or alarms is None:
        raise ConfigError(problems.items)
    config = StackConfig(project, stack, table, function, trigger, tags, alarms=alarms)
    cross = check_cross_section(config, region)
    if cross:
        raise ConfigError([f"{project}:{problem}" for problem in cross])
    return config


def sections_of(config_map: Mapping[str, Any], project: str = PROJECT) -> dict[str, Any]:
    """A stack file's `config:` block as parse_config takes it: the project's keys
    (`<project>:<name>`) by name; other namespaces (e.g. `aws:region`) are the providers'."""
    prefix = f"{project}:"
    return {
        key[len(prefix) :]: value for key, value in config_map.items() if key.startswith(prefix)
    }


def parse_stack_config(config_map: Mapping[str, Any], stack: str) -> StackConfig:
    """parse_config for a stack file's `config:` block (as in Pulumi.<stack>.yaml)."""
    region = config_map.get("aws:region")
    return parse_config(sections_of(config_map), stack, region=region if region else None)


def load_config() -> StackConfig:
    """Read this stack's configuration through Pulumi and validate it."""
    import pulumi

    return parse_config(
        read_config_sections(), pulumi.get_stack(), region=pulumi.Config("aws").get("region")
    )


def read_config_sections() -> dict[str, Any]:
    """This stack's objects under the project namespace, by name, unvalidated (what
    parse_config takes, and the same document as StreamPipeline's inputs).

    Objects are read with `get_object`; every key present under the project namespace is
    listed, so a misspelt top-level key is read too and parse_config reports it.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    config = pulumi.Config(PROJECT)
    present = {
        key.split(":", 1)[1]
        for key in {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
        if key.startswith(f"{PROJECT}:")
    }
    # Missing required sections are reported by parse_config, together with every other
    # problem, rather than by require_object's one-at-a-time ConfigMissingError.
    return {key: _read_object(config, key) for key in present}


def _read_object(config: Any, key: str) -> Any:
    """A structured value, or the plain string when it is not JSON (reported as a type error)."""
    import pulumi

    try:
        return config.get_object(key)
    except pulumi.ConfigTypeError:
        return config.get(key)
