# ruff: noqa: E501
"""StreamPipeline's inputs: one TypedDict per stack configuration section.

GENERATED from components/config/ by `make package-schema`: do not edit by hand
(streamops/generators/package_schema.py writes it; a unit test fails while it is stale).

The keys are the stack file's own camelCase names, so a program's inputs and a
Pulumi.<stack>.yaml section are one document, checked by the same code
(components/config/, parse_config). Every setting is a plain value (no Output): it
decides which resources exist and is validated before any is registered.
"""

from typing import Any, NotRequired, TypedDict


class TableSettings(TypedDict):
    """The DynamoDB table and its stream (keys PK and SK, strings): created by the component (`name`), or an existing table (`existingTableName`), checked before anything is created. Stack file: `dynamodb-stream-processor:table`."""

    name: NotRequired[str]
    """Name of the table to create (keys PK and SK, strings). Required unless `existingTableName` is set. Allowed: 3-255 chars: A-Z a-z 0-9 _ . -. Default: unset."""
    existingTableName: NotRequired[str]
    """Attach to this existing table instead of creating one. Its stream must be enabled with a view carrying the images the filters read; checked before anything is created. Allowed: 3-255 chars: A-Z a-z 0-9 _ . -. Default: unset."""
    billingMode: NotRequired[str]
    """On-demand, or provisioned capacity (the free tier covers 25 RCU/WCU). Allowed: `PAY_PER_REQUEST` | `PROVISIONED`. Default: `PAY_PER_REQUEST`."""
    readCapacity: NotRequired[int]
    """Read capacity units; required with PROVISIONED, refused otherwise. Allowed: 1 to 40000. Default: unset."""
    writeCapacity: NotRequired[int]
    """Write capacity units; required with PROVISIONED, refused otherwise. Allowed: 1 to 40000. Default: unset."""
    streamViewType: NotRequired[str]
    """What each stream record carries. Status and price change detection needs both images. On a deployed table, DynamoDB refuses a view change while the stream is enabled: disable it first; the new stream has a new ARN, so the mapping is replaced and starts again at `trigger.startingPosition`. Allowed: `NEW_AND_OLD_IMAGES` | `NEW_IMAGE` | `OLD_IMAGE` | `KEYS_ONLY`. Default: `NEW_AND_OLD_IMAGES`."""
    pointInTimeRecovery: NotRequired[bool]
    """Continuous backups (35 days). Billed per GB-month. Allowed: `true` | `false`. Default: `true`."""
    deletionProtection: NotRequired[bool]
    """Refuse DeleteTable (including from `pulumi destroy`) until turned off. Allowed: `true` | `false`. Default: `true`."""
    ttlAttribute: NotRequired[str]
    """Attribute holding an epoch-seconds expiry; expired items arrive as REMOVE records flagged as TTL expiries. Unset: TTL off. Allowed: 1-255 bytes. Default: unset."""
    kmsKey: NotRequired[str]
    """Encryption at rest: `aws-owned` (free), `aws-managed` (alias/aws/dynamodb), `create` (a customer-managed key with rotation, $1/month) or a key ARN. Allowed: aws-owned, aws-managed, create, or a key ARN. Default: `create`."""


class FunctionSettings(TypedDict):
    """The Lambda function processing the stream, its log group and its least-privilege execution role. Stack file: `dynamodb-stream-processor:function`."""

    name: str
    """Function name; its log group is /aws/lambda/<name>. Allowed: 1-64 chars: A-Z a-z 0-9 _ -. Required."""
    runtime: NotRequired[str]
    """Python runtime. Runtimes past their AWS deprecation date are refused. Allowed: python3.11 to python3.14, not past AWS deprecation. Default: `python3.13`."""
    architecture: NotRequired[str]
    """arm64 costs less per GB-second beyond the free tier. Allowed: `arm64` | `x86_64`. Default: `arm64`."""
    memoryMb: NotRequired[int]
    """Memory; CPU share grows with it. Allowed: 128 to 10240. Default: `128`."""
    timeoutSeconds: NotRequired[int]
    """Per-invocation timeout; a timed-out batch is retried like an error. Allowed: 1 to 900. Default: `30`."""
    reservedConcurrency: NotRequired[int]
    """Concurrent executions reserved (and capped); -1 uses the shared pool. 0 would stop all processing and is refused. Allowed: 1 to 100000 or -1. Default: `10`."""
    logRetentionDays: NotRequired[int]
    """Log group retention (CloudWatch's allowed values; 0 = never expire). Allowed: 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653. Default: `365`."""
    logLevel: NotRequired[str]
    """Application log level (JSON logs). INFO logs a line per record; WARN keeps only problems and the metrics line. Allowed: `TRACE` | `DEBUG` | `INFO` | `WARN` | `ERROR` | `FATAL`. Default: `INFO`."""
    metricsNamespace: NotRequired[str]
    """CloudWatch namespace of the handler's embedded metrics. Allowed: 1-255 printable ASCII chars, not starting with ':' or AWS/. Default: `DynamoDBStreamProcessor`."""
    logKmsKey: NotRequired[str]
    """Log group encryption (CKV_AWS_158): `create` (a customer-managed key only CloudWatch Logs may use, for this log group), a key ARN whose policy lets logs.<region>.amazonaws.com use it, or `none` (CloudWatch Logs' own encryption). Allowed: create, none, or a key ARN. Default: `create`."""
    environmentKmsKey: NotRequired[str]
    """Environment variable encryption (CKV_AWS_173): `create` (customer-managed, usable only through Lambda), a key ARN, or `aws-managed` (aws/lambda). With logKmsKey also `create`, one key serves both. Allowed: create, aws-managed, or a key ARN. Default: `create`."""
    tracing: NotRequired[str]
    """X-Ray tracing (CKV_AWS_50): `Active` samples and records invocations (X-Ray pricing; the role gets xray:PutTraceSegments and xray:PutTelemetryRecords on `*`, which X-Ray cannot scope); `PassThrough` records nothing itself. Allowed: `PassThrough` | `Active`. Default: `PassThrough`."""


class TriggerSettings(TypedDict):
    """The event source mapping: batching, bounded retries, the failure destination (an encrypted SQS queue or SNS topic) and event filters. Stack file: `dynamodb-stream-processor:trigger`."""

    batchSize: NotRequired[int]
    """Most records per invocation (also capped by the 6 MB payload). Allowed: 1 to 10000. Default: `100`."""
    startingPosition: NotRequired[str]
    """Where a new mapping starts: the oldest record kept (24 h) or new ones only. A replaced mapping (new stream, changed position) starts there again, so with TRIM_HORIZON up to 24 h of records are processed a second time: routes must be idempotent (delivery is at least once anyway). Allowed: `TRIM_HORIZON` | `LATEST`. Default: `TRIM_HORIZON`."""
    maxBatchingWindowSeconds: NotRequired[int]
    """Wait up to this long to fill a batch (fewer, fuller invocations). Allowed: 0 to 300. Default: `0`."""
    retryAttempts: NotRequired[int]
    """Retries of a failing batch before it goes to the failure destination; -1 retries until the record expires. Allowed: 0 to 10000 or -1. Default: `3`."""
    maxRecordAgeSeconds: NotRequired[int]
    """Records older than this go to the failure destination; -1: no limit. Not both this and retryAttempts may be -1. Allowed: 60 to 604800 or -1. Default: `3600`."""
    bisectOnError: NotRequired[bool]
    """Split a failing batch in two and retry the halves (splits are free retries). Allowed: `true` | `false`. Default: `true`."""
    parallelizationFactor: NotRequired[int]
    """Concurrent batches per shard; order is still kept per item. Allowed: 1 to 10. Default: `1`."""
    onFailure: NotRequired[str]
    """Failure destination: an S3 bucket (Lambda writes the whole failed batch; redrive works days later), an SQS queue or an SNS topic (pointers only: the records must be read back from the stream within its 24 h). See README, Choosing a failure destination. Allowed: `s3` | `sqs` | `sns`. Default: `s3`."""
    destinationKmsKey: NotRequired[str]
    """Destination encryption: `create` (customer-managed key), a key ARN, `managed` (SSE-SQS, or alias/aws/sns for a topic) or `sse-s3` (S3-managed keys, a relaxation). Never unencrypted. Allowed: create, managed (sqs, sns), sse-s3 (s3), or a key ARN. Default: `create`."""
    destinationRetentionDays: NotRequired[int]
    """How long the destination keeps a failure: the queue's message retention (SQS) or the bucket's lifecycle expiration, also applied to replaced or deleted versions (S3). Not for SNS. Allowed: 1-14 (sqs), 1-3650 (s3). Default: `14`."""
    destinationForceDestroy: NotRequired[bool]
    """S3 only: let `pulumi destroy` delete the bucket with failed batches still in it. Off: the destroy fails instead, so no batch is lost by accident. Allowed: `true` | `false`. Default: `false`."""
    metrics: NotRequired[list[str]]
    """The mapping's metrics (billed as custom metrics): `EventCount` publishes its polled, filtered, invoked, failed and dropped event counts (dashboard row). Allowed: `[]` | `[EventCount]`. Default: `[]`."""
    filterPatterns: NotRequired[list[dict[str, Any]]]
    """Up to 5 Lambda event filter patterns on the record's `dynamodb` key (the only key a DynamoDB mapping filters on); records matching none are skipped without invoking. Refused before deploy: what AWS refuses and what can never match a stream record (README, Filter patterns; test one with `filter test`). Allowed: 0-5 patterns, each at most 4096 characters of JSON. Default: `[]`."""
    enabled: NotRequired[bool]
    """Pause (false) or resume the mapping without deleting it. Allowed: `true` | `false`. Default: `true`."""


class AlarmsSettings(TypedDict):
    """The alarm topic, six CloudWatch alarms and a dashboard. Stack file: `dynamodb-stream-processor:alarms`."""

    enabled: NotRequired[bool]
    """Alarm topic, alarms and dashboard; false creates none of them. Allowed: `true` | `false`. Default: `true`."""
    errorsThreshold: NotRequired[int]
    """Alarm when the function's Errors (Sum) in a period are above this. Allowed: 0 to 1000000. Default: `0`."""
    durationThresholdMs: NotRequired[int]
    """Alarm when the longest invocation (Duration, Maximum) is above this. Allowed: 1 to 900000, below function.timeoutSeconds x 1000. Default: `20000`."""
    iteratorAgeThresholdMs: NotRequired[int]
    """Alarm when IteratorAge (Maximum), the lag behind the stream, is above this. Allowed: 1 to 86400000, below trigger.maxRecordAgeSeconds x 1000 unless that is -1. Default: `30000`."""
    evaluationPeriods: NotRequired[int]
    """Consecutive breaching periods before an alarm fires. Allowed: 1 to 1440; times periodSeconds at most 1 day (7 days for periods >= 1 h). Default: `1`."""
    periodSeconds: NotRequired[int]
    """Length of one evaluation period (the metrics have one-minute resolution). Allowed: a multiple of 60, 60 to 604800. Default: `60`."""
    emails: NotRequired[list[str]]
    """Subscribed to the alarm topic (each must confirm AWS's email first). Allowed: email addresses, each once. Default: `[]`."""
    httpsEndpoints: NotRequired[list[str]]
    """Subscribed to the alarm topic over HTTPS (a pager or chat webhook; it must confirm the subscription). Allowed: https:// URLs, each once. Default: `[]`."""
    forwardToTopicArns: NotRequired[list[str]]
    """Existing SNS topics every alarm also notifies (e.g. the topic an AWS Chatbot channel or on-call tool already watches); their policy must let cloudwatch.amazonaws.com publish. Allowed: up to 4 SNS topic ARNs of the stack's region. Default: `[]`."""
    notify: NotRequired[str]
    """`subscribers`: at least one of emails, httpsEndpoints, forwardToTopicArns is required; `none`: no subscriber is required and alarms may notify nobody, on purpose (give notifyReason). Allowed: `subscribers` | `none`. Default: `subscribers`."""
    notifyReason: NotRequired[str]
    """Why nobody is notified (shown in every preview's warning). Allowed: required when notify is none. Default: unset."""
    topicKmsKey: NotRequired[str]
    """Alarm topic encryption: `create` (a key CloudWatch may use), `none`, or a key ARN whose policy lets cloudwatch.amazonaws.com Decrypt and GenerateDataKey*. Allowed: none, create, or a key ARN. Default: `create`."""


class StreamPipelineArgs(TypedDict):
    """Inputs of StreamPipeline: the stack configuration sections."""

    table: TableSettings
    """The DynamoDB table and its stream (keys PK and SK, strings): created by the component (`name`), or an existing table (`existingTableName`), checked before anything is created. Stack file: `dynamodb-stream-processor:table`."""
    function: FunctionSettings
    """The Lambda function processing the stream, its log group and its least-privilege execution role. Stack file: `dynamodb-stream-processor:function`."""
    trigger: NotRequired[TriggerSettings]
    """The event source mapping: batching, bounded retries, the failure destination (an encrypted SQS queue or SNS topic) and event filters. Stack file: `dynamodb-stream-processor:trigger`."""
    alarms: NotRequired[AlarmsSettings]
    """The alarm topic, six CloudWatch alarms and a dashboard. Stack file: `dynamodb-stream-processor:alarms`."""
    tags: NotRequired[dict[str, str]]
    """Tags on every resource that takes tags (at most 50; names 1-128 and values 0-256 characters of letters, digits, spaces and + - . / : = @ _; no `aws:` names). Stack file: `dynamodb-stream-processor:tags`."""
