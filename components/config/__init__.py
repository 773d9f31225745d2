"""Typed, validated stack configuration: every default and every AWS limit lives here.

Why one package: a reader (or reviewer of a `Pulumi.<stack>.yaml`) must find what a key
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

Where each concern lives (import from `components.config`, which re-exports the API):
- limits.py: AWS limits, allowed values and patterns (and this project's own bounds);
- models.py: the frozen dataclasses (StackConfig and its sections) and ConfigError;
- keys.py: the declarative spec of every key per section, with its default and limits;
- value_rules.py: single-value rules a choice list or range cannot say (e.g. runtimes);
- sections.py: checking one section against its key specs, collecting problems;
- alarms.py: the `alarms` section (evaluation range, who is notified);
- parse.py: parse_config, the other sections and the rules that span sections;
- stack_file.py: reading a `Pulumi.<stack>.yaml` `config:` block, or Pulumi's config.
"""

from components.config.alarms import placeholder_subscribers
from components.config.keys import (
    ALARMS_KEYS,
    FUNCTION_KEYS,
    OTHER_TOP_LEVEL_KEYS,
    REQUIRED,
    SECTIONS,
    TABLE_CREATION_ONLY,
    TABLE_KEYS,
    TRIGGER_KEYS,
    Key,
)
from components.config.limits import (
    ALARM_COUNT_THRESHOLD,
    ALARM_DURATION_THRESHOLD_MS,
    ALARM_EVALUATION_PERIODS,
    ALARM_ITERATOR_AGE_THRESHOLD_MS,
    ALARM_LONG_PERIOD_SECONDS,
    ALARM_MAX_RANGE_LONG_PERIOD_SECONDS,
    ALARM_MAX_RANGE_SECONDS,
    ALARM_NOTIFY_CHOICES,
    ALARM_PERIOD_SECONDS,
    ALARM_PERIOD_STEP_SECONDS,
    ALARM_SUB_MINUTE_PERIODS,
    ALARM_TOPIC_KMS_CHOICES,
    ARCHITECTURES,
    ATTRIBUTE_NAME_MAX,
    BATCH_SIZE,
    BATCHING_WINDOW_SECONDS,
    BILLING_MODES,
    DESTINATION_KMS_BY_KIND,
    DESTINATION_KMS_CHOICES,
    EMAIL_RE,
    ENVIRONMENT_KMS_CHOICES,
    ESM_METRICS,
    FAILURE_DESTINATIONS,
    FUNCTION_NAME_RE,
    HASH_KEY,
    HTTPS_ENDPOINT_RE,
    KMS_KEY_ARN_RE,
    LOG_KMS_CHOICES,
    LOG_LEVELS,
    LOG_RETENTION_DAYS,
    MAX_FILTER_PATTERN_CHARS,
    MAX_FILTERS,
    MAX_FORWARD_TOPICS,
    MAX_RECORD_AGE_SECONDS,
    MAX_TAGS,
    MEMORY_MB,
    NAMESPACE_RE,
    PARALLELIZATION_FACTOR,
    PROJECT,
    PROVISIONED_CAPACITY,
    PYTHON_RUNTIME_DEPRECATION,
    RANGE_KEY,
    RESERVED_DOMAIN_RE,
    RETRY_ATTEMPTS,
    S3_RETENTION_DAYS,
    SNS_TOPIC_ARN_RE,
    SQS_RETENTION_DAYS,
    STARTING_POSITIONS,
    STREAM_RETENTION_SECONDS,
    STREAM_VIEW_TYPES,
    TABLE_KMS_CHOICES,
    TABLE_NAME_RE,
    TAG_KEY_MAX,
    TAG_PUNCTUATION,
    TAG_VALUE_MAX,
    TIMEOUT_SECONDS,
    TRACING_MODES,
    UNBOUNDED,
    VIEWS_WITH_IMAGE,
)
from components.config.models import (
    AlarmsConfig,
    ConfigError,
    FunctionConfig,
    StackConfig,
    TableConfig,
    TriggerConfig,
)
from components.config.parse import check_cross_section, parse_config
from components.config.stack_file import (
    load_config,
    parse_stack_config,
    read_config_sections,
    sections_of,
)

__all__ = [
    "ALARMS_KEYS",
    "ALARM_COUNT_THRESHOLD",
    "ALARM_DURATION_THRESHOLD_MS",
    "ALARM_EVALUATION_PERIODS",
    "ALARM_ITERATOR_AGE_THRESHOLD_MS",
    "ALARM_LONG_PERIOD_SECONDS",
    "ALARM_MAX_RANGE_LONG_PERIOD_SECONDS",
    "ALARM_MAX_RANGE_SECONDS",
    "ALARM_NOTIFY_CHOICES",
    "ALARM_PERIOD_SECONDS",
    "ALARM_PERIOD_STEP_SECONDS",
    "ALARM_SUB_MINUTE_PERIODS",
    "ALARM_TOPIC_KMS_CHOICES",
    "ARCHITECTURES",
    "ATTRIBUTE_NAME_MAX",
    "BATCHING_WINDOW_SECONDS",
    "BATCH_SIZE",
    "BILLING_MODES",
    "DESTINATION_KMS_BY_KIND",
    "DESTINATION_KMS_CHOICES",
    "EMAIL_RE",
    "ENVIRONMENT_KMS_CHOICES",
    "ESM_METRICS",
    "FAILURE_DESTINATIONS",
    "FUNCTION_KEYS",
    "FUNCTION_NAME_RE",
    "HASH_KEY",
    "HTTPS_ENDPOINT_RE",
    "KMS_KEY_ARN_RE",
    "LOG_KMS_CHOICES",
    "LOG_LEVELS",
    "LOG_RETENTION_DAYS",
    "MAX_FILTERS",
    "MAX_FILTER_PATTERN_CHARS",
    "MAX_FORWARD_TOPICS",
    "MAX_RECORD_AGE_SECONDS",
    "MAX_TAGS",
    "MEMORY_MB",
    "NAMESPACE_RE",
    "OTHER_TOP_LEVEL_KEYS",
    "PARALLELIZATION_FACTOR",
    "PROJECT",
    "PROVISIONED_CAPACITY",
    "PYTHON_RUNTIME_DEPRECATION",
    "RANGE_KEY",
    "REQUIRED",
    "RESERVED_DOMAIN_RE",
    "RETRY_ATTEMPTS",
    "S3_RETENTION_DAYS",
    "SECTIONS",
    "SNS_TOPIC_ARN_RE",
    "SQS_RETENTION_DAYS",
    "STARTING_POSITIONS",
    "STREAM_RETENTION_SECONDS",
    "STREAM_VIEW_TYPES",
    "TABLE_CREATION_ONLY",
    "TABLE_KEYS",
    "TABLE_KMS_CHOICES",
    "TABLE_NAME_RE",
    "TAG_KEY_MAX",
    "TAG_PUNCTUATION",
    "TAG_VALUE_MAX",
    "TIMEOUT_SECONDS",
    "TRACING_MODES",
    "TRIGGER_KEYS",
    "UNBOUNDED",
    "VIEWS_WITH_IMAGE",
    "AlarmsConfig",
    "ConfigError",
    "FunctionConfig",
    "Key",
    "StackConfig",
    "TableConfig",
    "TriggerConfig",
    "check_cross_section",
    "load_config",
    "parse_config",
    "parse_stack_config",
    "placeholder_subscribers",
    "read_config_sections",
    "sections_of",
]
