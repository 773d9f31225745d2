"""The facts a plan needs from a stack's typed config: keys, alarms and thresholds.

Why its own module: the config grows (the `alarms` section of issue 4); what the plan
counts -- customer-managed keys, alarms, the dashboard, the iterator-age threshold -- is
read here, in one place, from the validated `StackConfig`, never from raw YAML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.config import PROJECT, StackConfig, parse_config
from devtools.planner.errors import PlanError
from devtools.program import ROOT, load_stack_config

# The seed tutorial's alarm: "iterator age > 30 s". Used only while the stack has no
# `alarms` section (before issue 4), and labelled as such wherever it is printed.
SEED_ITERATOR_AGE_THRESHOLD_MS = 30_000


@dataclass(frozen=True)
class KeyUse:
    """How one encrypted resource is keyed, and what that costs."""

    purpose: str  # "table", "failure queue", ...
    setting: str  # the config key, e.g. table.kmsKey
    choice: str  # its value

    @property
    def created(self) -> bool:
        """A customer-managed key this stack creates: billed per key-month."""
        return self.choice == "create"

    @property
    def requests_billed(self) -> bool:
        """Uses a KMS key in the account (created, AWS-managed or given by ARN), so its
        requests are billed. AWS-owned keys, SSE-SQS and no key cost nothing."""
        return self.choice not in ("aws-owned", "sqs-managed", "none")


@dataclass(frozen=True)
class AlarmFacts:
    section: bool  # the stack has an alarms section (issue 4)
    enabled: bool
    alarms: int  # metric alarms (one metric each)
    dashboards: int
    emails: int  # subscriptions to the alarm topic
    iterator_age_threshold_ms: int
    threshold_from: str  # where the threshold comes from, for the report
    duration_threshold_ms: int | None


def typed_config(config_map: dict[str, Any], stack: str) -> StackConfig:
    """The validated StackConfig for a `config:` block (keys `project:section`)."""
    prefix = f"{PROJECT}:"
    raw = {key[len(prefix) :]: value for key, value in config_map.items() if key.startswith(prefix)}
    return parse_config(raw, stack)


def load_stack(stack: str) -> tuple[StackConfig, str]:
    """(typed config, region) of Pulumi.<stack>.yaml; unknown stacks list the real ones."""
    try:
        config_map = load_stack_config(stack, ROOT)
    except FileNotFoundError as error:
        raise PlanError(str(error)) from None
    region = str(config_map.get("aws:region") or "")
    return typed_config(config_map, stack), region


def alarm_facts(config: StackConfig) -> AlarmFacts:
    alarms = getattr(config, "alarms", None)  # present once issue 4 lands on main
    if alarms is None:
        return AlarmFacts(
            False,
            False,
            0,
            0,
            0,
            SEED_ITERATOR_AGE_THRESHOLD_MS,
            "the seed's 30 s alarm (this stack has no alarms section)",
            None,
        )
    if not alarms.enabled:
        return AlarmFacts(
            True,
            False,
            0,
            0,
            0,
            alarms.iterator_age_threshold_ms,
            "alarms.iteratorAgeThresholdMs (alarms disabled: nothing fires)",
            None,
        )
    return AlarmFacts(
        True,
        True,
        alarm_count(config),
        1,
        len(alarms.emails),
        alarms.iterator_age_threshold_ms,
        "alarms.iteratorAgeThresholdMs",
        alarms.duration_threshold_ms,
    )


def alarm_count(config: StackConfig) -> int:
    """The alarms StreamAlarms creates for this config (counted from its own specs)."""
    from components import alarms as alarms_component  # type: ignore[attr-defined]

    failure = alarms_component.FailureTarget(config.trigger.on_failure, "failure-destination")
    specs = alarms_component.alarm_specs(
        config.alarms,  # type: ignore[attr-defined]
        config.function,
        config.function.name,
        failure,
    )
    return len(specs)


def kms_keys(config: StackConfig) -> list[KeyUse]:
    """Every resource the stack encrypts with a key that may cost money."""
    keys = []
    if not config.table.existing:
        keys.append(KeyUse("table", "table.kmsKey", config.table.kms_key))
    destination = config.trigger.destination_kms_key
    if config.trigger.on_failure == "sqs" and destination == "managed":
        destination = "sqs-managed"  # SSE-SQS: SQS's own keys, no KMS requests
    keys.append(
        KeyUse(f"failure {config.trigger.on_failure}", "trigger.destinationKmsKey", destination)
    )
    alarms = getattr(config, "alarms", None)
    if alarms is not None and alarms.enabled:
        keys.append(KeyUse("alarm topic", "alarms.topicKmsKey", alarms.topic_kms_key))
    return keys
