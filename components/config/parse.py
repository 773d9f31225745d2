"""Parsing a stack's configuration into the typed models, with the cross-field rules.

parse_config checks every section (sections.py, alarms.py), then the rules that span
sections (and, when known, the stack's region), and raises one ConfigError listing them all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from components.config.alarms import _parse_alarms
from components.config.keys import (
    FUNCTION_KEYS,
    OTHER_TOP_LEVEL_KEYS,
    SECTIONS,
    TABLE_CREATION_ONLY,
    TABLE_KEYS,
    TRIGGER_KEYS,
)
from components.config.limits import (
    DESTINATION_KMS_BY_KIND,
    DESTINATION_KMS_CHOICES,
    ESM_METRICS,
    HASH_KEY,
    MAX_FILTER_PATTERN_CHARS,
    MAX_FILTERS,
    MAX_TAGS,
    PROJECT,
    SQS_RETENTION_DAYS,
    TAG_KEY_MAX,
    TAG_VALUE_MAX,
    UNBOUNDED,
    VIEWS_WITH_IMAGE,
)
from components.config.models import (
    ConfigError,
    FunctionConfig,
    StackConfig,
    TableConfig,
    TriggerConfig,
)
from components.config.sections import _parse_section, _Problems
from components.config.value_rules import _tag_text_ok
from components.filters import dynamodb as filter_pattern_dynamodb
from components.filters.pattern import join as join_pattern_path


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
