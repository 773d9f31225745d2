"""Declarative field specs: one entry per config key, holding its default and its limits.

The README's configuration reference (`make docs`) and StreamPipeline's input types
(`make package-schema`) are generated from these specs, so a key's documentation, default
and allowed values are written once, here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from components.config.limits import (
    ALARM_COUNT_THRESHOLD,
    ALARM_DURATION_THRESHOLD_MS,
    ALARM_EVALUATION_PERIODS,
    ALARM_ITERATOR_AGE_THRESHOLD_MS,
    ALARM_NOTIFY_CHOICES,
    ALARM_TOPIC_KMS_CHOICES,
    ARCHITECTURES,
    BATCH_SIZE,
    BATCHING_WINDOW_SECONDS,
    BILLING_MODES,
    DESTINATION_KMS_CHOICES,
    ENVIRONMENT_KMS_CHOICES,
    FAILURE_DESTINATIONS,
    LOG_KMS_CHOICES,
    LOG_LEVELS,
    LOG_RETENTION_DAYS,
    MAX_FORWARD_TOPICS,
    MAX_RECORD_AGE_SECONDS,
    MEMORY_MB,
    PARALLELIZATION_FACTOR,
    PROVISIONED_CAPACITY,
    RETRY_ATTEMPTS,
    S3_RETENTION_DAYS,
    SQS_RETENTION_DAYS,
    STARTING_POSITIONS,
    STREAM_VIEW_TYPES,
    TABLE_KMS_CHOICES,
    TIMEOUT_SECONDS,
    TRACING_MODES,
    UNBOUNDED,
)
from components.config.value_rules import (
    _alarm_period,
    _attribute_name,
    _function_name,
    _kms_choice,
    _namespace,
    _runtime,
    _table_name,
)

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


# Top-level objects under the project namespace: (key, required, field specs).
SECTIONS: dict[str, tuple[bool, tuple[Key, ...]]] = {
    "table": (True, TABLE_KEYS),
    "function": (True, FUNCTION_KEYS),
    "trigger": (False, TRIGGER_KEYS),
    "alarms": (False, ALARMS_KEYS),
}
OTHER_TOP_LEVEL_KEYS = ("tags",)
