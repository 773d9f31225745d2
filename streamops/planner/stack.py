"""The facts a plan needs from a stack's typed config: keys, alarms and thresholds.

Why its own module: what the plan counts -- customer-managed keys, alarms, the dashboard,
the iterator-age threshold -- is read here, in one place, from the validated `StackConfig`
(never from raw YAML), and alarms and dashboard metrics are counted with the alarms
component's own pure functions, so the plan counts what `pulumi up` creates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.config import StackConfig, parse_stack_config
from streamops.planner.errors import PlanError
from streamops.program import ROOT, load_stack_config


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
        return self.choice not in ("aws-owned", "sqs-managed", "sse-s3", "none")


@dataclass(frozen=True)
class AlarmFacts:
    enabled: bool
    alarms: int  # metric alarms (one metric each)
    dashboards: int
    dashboard_metrics: int  # the free tier covers dashboards of up to 50 metrics
    emails: int  # subscriptions to the alarm topic
    iterator_age_threshold_ms: int
    threshold_from: str  # where the threshold comes from, for the report
    duration_threshold_ms: int | None


def load_stack(stack: str) -> tuple[StackConfig, str]:
    """(typed config, region) of Pulumi.<stack>.yaml; unknown stacks list the real ones."""
    try:
        config_map = load_stack_config(stack, ROOT)
    except FileNotFoundError as error:
        raise PlanError(str(error)) from None
    region = str(config_map.get("aws:region") or "")
    return parse_stack_config(config_map, stack), region


def alarm_facts(config: StackConfig) -> AlarmFacts:
    alarms = config.alarms
    if not alarms.enabled:
        return AlarmFacts(False, 0, 0, 0, 0, alarms.iterator_age_threshold_ms,
                          "alarms.iteratorAgeThresholdMs (alarms are disabled: nothing fires)",
                          None)  # fmt: skip
    specs, dashboard = alarms_component_view(config)
    return AlarmFacts(True, len(specs), 1, dashboard_metric_count(dashboard), len(alarms.emails),
                      alarms.iterator_age_threshold_ms, "alarms.iteratorAgeThresholdMs",
                      alarms.duration_threshold_ms)  # fmt: skip


def alarms_component_view(config: StackConfig) -> tuple[list[Any], dict[str, Any]]:
    """The alarms and the dashboard StreamAlarms builds for this config, from the
    component's own pure functions (so the counts cannot drift from what is deployed)."""
    from components import alarms as component
    from components.dashboard import DashboardFacts, dashboard_body

    function = config.function
    failure = component.FailureTarget(
        config.trigger.on_failure, "failure-destination", "failure-landings"
    )
    specs = component.alarm_specs(config.alarms, function, function.name, failure)
    facts = DashboardFacts(
        region="us-east-1",
        function_name=function.name,
        failure_kind=failure.kind,
        failure_name="failure-destination",
        alarms=config.alarms,
        function=function,
        alarm_arns=[spec.purpose for spec in specs],
        failure_metrics_filter=failure.request_metrics_filter,
        mapping_id="mapping-uuid" if config.trigger.metrics else None,
    )
    return specs, dashboard_body(facts)


def dashboard_metric_count(body: dict[str, Any]) -> int:
    return sum(
        len(widget["properties"]["metrics"])
        for widget in body["widgets"]
        if widget["type"] == "metric"
    )


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
    if config.alarms.enabled:
        keys.append(KeyUse("alarm topic", "alarms.topicKmsKey", config.alarms.topic_kms_key))
    function = config.function
    if "create" in (function.log_kms_key, function.environment_kms_key):
        # One created key serves the log group and the environment (components/function.py).
        keys.append(KeyUse("function", "function.logKmsKey/environmentKmsKey", "create"))
    else:  # the environment's own key requests (at cold starts) are not modelled
        keys.append(KeyUse("function logs", "function.logKmsKey", function.log_kms_key))
    return keys
