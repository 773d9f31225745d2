"""AWS limits and allowed values of the stack configuration, and this project's bounds.

The one home of every limit and allowed value the config keys (keys.py) refer to; see
shared/reference/aws-facts.md and the AWS guides for where each comes from.
"""

from __future__ import annotations

import datetime as _dt
import re

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


# CloudWatch namespaces: printable ASCII, not starting with ':'; "AWS/" is reserved. A name
# CloudWatch refuses would make it drop the EMF line's metrics without any error.
NAMESPACE_RE = re.compile(r"^[\x20-\x39\x3b-\x7e][\x20-\x7e]{0,254}$")

TAG_KEY_MAX, TAG_VALUE_MAX, MAX_TAGS = 128, 256, 50
# Tag names and values: Unicode letters, digits and spaces plus these (IAM, SQS and others
# reject anything else at create time).
TAG_PUNCTUATION = frozenset("_.:/=+-@")
