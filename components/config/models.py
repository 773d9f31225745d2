"""The typed stack configuration: frozen dataclasses, one per section.

Frozen: the components can read them but never change them. They are built only by
parse.py, from values already checked against the key specs (keys.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from components.filters import dynamodb as filter_pattern_dynamodb


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
