"""Checks of the alarm topic, its subscriptions and key, the alarms and the dashboard, each
against what the program builds (components/alarms.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from components.alarms import (
    GREATER_THAN,
    NOT_BREACHING,
    TOPIC_KEY_USER,
    AlarmSpec,
    FailureTarget,
    alarm_specs,
    alarm_topic_key_policy,
    alarm_topic_policy,
    name_prefix,
)
from components.config import AlarmsConfig, placeholder_subscribers
from components.dashboard import DashboardFacts, dashboard_body
from components.failure_destination import LANDINGS_METRICS_FILTER
from streamops.doctor.checks.keys import KeyFacts, _key_facts, _key_judgement
from streamops.doctor.checks.model import (
    REDEPLOY,
    DeployedStack,
    Finding,
    _show,
    failed,
    group,
    passed,
)
from streamops.doctor.checks.policies import (
    _all_pages,
    _as_list,
    _document,
    _statements,
    describe_difference,
    grants,
)
from streamops.doctor.key_policies import missing_grants


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
