"""StreamAlarms through the real program (`__main__.py`) under Pulumi mocks.

Every expectation about a name or ARN is taken from another registration of the same
run (the function, the queue, the topic), never from a constant, so a miswired alarm or
dashboard fails here.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from components.alarms import TYPE as ALARMS_TYPE
from components.config import PROJECT, ConfigError
from components.metrics import (
    PRICE_CHANGES,
    RECORDS_FAILED,
    RECORDS_INSERTED,
    RECORDS_MODIFIED,
    RECORDS_PROCESSED,
    RECORDS_QUARANTINED,
    RECORDS_REMOVED,
    STATUS_CHANGES,
    TTL_EXPIRIES,
)
from streamops.program import ProgramRun, Registration, run_program
from tests.support.fake_aws import ACCOUNT, PARTITION, REGION, FakeAws
from tests.support.stacks import stack_config

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
KEY = "aws:kms/key:Key"
FUNCTION = "aws:lambda/function:Function"
QUEUE = "aws:sqs/queue:Queue"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
HANDLER_METRICS = (
    Path(__file__).resolve().parents[2] / "functions" / "stream_processor" / "metrics.py"
)


def run(stack: str = "dev", **overrides: dict[str, Any]) -> ProgramRun:
    return run_program(FakeAws(), stack_config(stack, **overrides), stack)


@pytest.fixture(scope="module")
def dev() -> ProgramRun:
    return run("dev")


@pytest.fixture(scope="module")
def prod() -> ProgramRun:
    return run("prod")


def alarms_by_name(program: ProgramRun) -> dict[str, Registration]:
    return {alarm.inputs["name"]: alarm for alarm in program.of_type(ALARM)}


def alarm_topic(program: ProgramRun) -> Registration:
    """The alarm topic: the SNS topic that is a child of StreamAlarms."""
    (component,) = program.of_type(ALARMS_TYPE)
    (topic,) = [t for t in program.of_type(TOPIC) if t.parent == component.urn]
    return topic


def expected_alarm(name: str, namespace: str, metric: str, statistic: str, threshold: float,
                   dimensions: dict[str, str], topic_arn: str, tags: dict[str, str],
                   period: float = 60.0, evaluations: float = 1.0) -> dict[str, Any]:  # fmt: skip
    return {
        "name": name,
        "namespace": namespace,
        "metricName": metric,
        "statistic": statistic,
        "threshold": threshold,
        "dimensions": dimensions,
        "period": period,
        "evaluationPeriods": evaluations,
        "comparisonOperator": "GreaterThanThreshold",
        "treatMissingData": "notBreaching",
        "actionsEnabled": True,
        "alarmActions": [topic_arn],
        "okActions": [topic_arn],
        "tags": tags,
    }


def test_dev_stack_has_the_seed_alarms_and_the_others_on_one_topic(dev):
    function_name = dev.one(FUNCTION).outputs["name"]
    queue_name = dev.one(QUEUE).outputs["name"]
    topic_arn = alarm_topic(dev).outputs["arn"]
    tags = {"project": PROJECT, "environment": "dev"}
    prefix = f"{PROJECT}-dev"
    on_function = {"FunctionName": function_name}
    expected = {
        f"{prefix}-function-errors": expected_alarm(
            f"{prefix}-function-errors", "AWS/Lambda", "Errors", "Sum", 0.0, on_function,
            topic_arn, tags),
        f"{prefix}-function-duration": expected_alarm(
            f"{prefix}-function-duration", "AWS/Lambda", "Duration", "Maximum", 20000.0,
            on_function, topic_arn, tags),
        f"{prefix}-iterator-age": expected_alarm(
            f"{prefix}-iterator-age", "AWS/Lambda", "IteratorAge", "Maximum", 30000.0,
            on_function, topic_arn, tags),
        f"{prefix}-function-throttles": expected_alarm(
            f"{prefix}-function-throttles", "AWS/Lambda", "Throttles", "Sum", 0.0, on_function,
            topic_arn, tags),
        f"{prefix}-failure-queue-not-empty": expected_alarm(
            f"{prefix}-failure-queue-not-empty", "AWS/SQS",
            "ApproximateNumberOfMessagesVisible", "Maximum", 0.0, {"QueueName": queue_name},
            topic_arn, tags),
        f"{prefix}-records-quarantined": expected_alarm(
            f"{prefix}-records-quarantined", "DynamoDBStreamProcessor", "RecordsQuarantined",
            "Sum", 0.0, on_function, topic_arn, tags),
    }  # fmt: skip
    actual = {}
    for name, alarm in alarms_by_name(dev).items():
        inputs = dict(alarm.inputs)
        description = inputs.pop("alarmDescription")
        assert function_name in description and "Runbook: README, Alarms" in description
        assert len(description) <= 1024  # PutMetricAlarm's limit
        actual[name] = inputs
    assert actual == expected
    assert len(dev.of_type(TOPIC)) == 1  # the alarm topic (the failure destination is SQS)
    assert len(dev.of_type(DASHBOARD)) == 1


def test_each_alarm_tells_the_operator_what_to_do(dev):
    alarms = alarms_by_name(dev)
    prefix = f"{PROJECT}-dev"
    failure = alarms[f"{prefix}-failure-queue-not-empty"].inputs["alarmDescription"]
    assert "24 h" in failure and "see Redrive" in failure
    for alarm in alarms.values():
        assert "Do" in alarm.inputs["alarmDescription"]


def test_alarms_go_live_only_after_cloudwatch_may_publish(dev):
    (policy,) = dev.of_type(TOPIC_POLICY)
    for alarm in dev.of_type(ALARM):
        assert policy.urn in alarm.depends_on


def test_topic_policy_lets_only_this_accounts_alarms_publish(dev):
    topic = alarm_topic(dev)
    (policy,) = dev.of_type(TOPIC_POLICY)
    assert policy.inputs["arn"] == topic.outputs["arn"]
    assert json.loads(policy.inputs["policy"])["Statement"] == [
        {
            "Sid": "CloudWatchAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic.outputs["arn"],
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnLike": {
                    "aws:SourceArn": f"arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"
                },
            },
        }
    ]


def test_dev_topic_is_unencrypted_by_explicit_choice(dev):
    topic = alarm_topic(dev)
    assert topic.inputs.get("kmsMasterKeyId") is None
    (component,) = dev.of_type(ALARMS_TYPE)
    assert not [key for key in dev.of_type(KEY) if key.parent == component.urn]


def test_created_key_lets_cloudwatch_use_it_and_nothing_more(prod):
    (component,) = prod.of_type(ALARMS_TYPE)
    (key,) = [key for key in prod.of_type(KEY) if key.parent == component.urn]
    assert key.inputs["enableKeyRotation"] is True
    assert alarm_topic(prod).inputs["kmsMasterKeyId"] == key.outputs["arn"]
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert set(statements) == {"KeyAdministration", "CloudWatchAlarmsPublish"}
    # Only alarms of this account and region may make CloudWatch use the key (confused
    # deputy: without the condition, any account's alarms could).
    assert statements["CloudWatchAlarmsPublish"] == {
        "Sid": "CloudWatchAlarmsPublish",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": f"arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"},
        },
    }
    # Without the account statement nobody could manage (or delete) the key; it grants
    # administration only, no cryptographic use.
    administration = statements["KeyAdministration"]
    assert administration["Principal"] == {"AWS": f"arn:{PARTITION}:iam::{ACCOUNT}:root"}
    assert "kms:PutKeyPolicy" in administration["Action"]
    assert not {"kms:*", "kms:Decrypt", "kms:CreateGrant"} & set(administration["Action"])


def test_an_existing_key_is_used_as_given():
    program = run(alarms={"topicKmsKey": KEY_ARN})
    (component,) = program.of_type(ALARMS_TYPE)
    assert alarm_topic(program).inputs["kmsMasterKeyId"] == KEY_ARN
    assert not [key for key in program.of_type(KEY) if key.parent == component.urn]


def test_one_email_subscription_per_address():
    emails = ["ops@example.com", "oncall@example.org"]
    program = run(alarms={"emails": emails})
    topic_arn = alarm_topic(program).outputs["arn"]
    subscriptions = program.of_type(SUBSCRIPTION)
    assert sorted(s.inputs["endpoint"] for s in subscriptions) == sorted(emails)
    for subscription in subscriptions:
        assert subscription.inputs["protocol"] == "email"
        assert subscription.inputs["topic"] == topic_arn


def test_no_subscription_without_addresses(dev):
    assert dev.of_type(SUBSCRIPTION) == []


def test_thresholds_period_and_evaluations_come_from_config():
    program = run(
        alarms={"errorsThreshold": 4, "durationThresholdMs": 12000,
                "iteratorAgeThresholdMs": 90000, "periodSeconds": 300, "evaluationPeriods": 3},
    )  # fmt: skip
    alarms = alarms_by_name(program)
    prefix = f"{PROJECT}-dev"
    assert alarms[f"{prefix}-function-errors"].inputs["threshold"] == 4.0
    assert alarms[f"{prefix}-function-duration"].inputs["threshold"] == 12000.0
    assert alarms[f"{prefix}-iterator-age"].inputs["threshold"] == 90000.0
    for alarm in alarms.values():
        assert (alarm.inputs["period"], alarm.inputs["evaluationPeriods"]) == (300.0, 3.0)


def test_quarantine_alarm_follows_the_metrics_namespace():
    program = run(function={"metricsNamespace": "Shop/Orders"})
    alarm = alarms_by_name(program)[f"{PROJECT}-dev-records-quarantined"]
    assert alarm.inputs["namespace"] == "Shop/Orders"
    assert alarm.inputs["metricName"] == "RecordsQuarantined"


def test_sns_failure_destination_alarms_on_published_messages():
    program = run(trigger={"onFailure": "sns"})
    component = program.one(ALARMS_TYPE)
    (failure_topic,) = [t for t in program.of_type(TOPIC) if t.parent != component.urn]
    alarms = alarms_by_name(program)
    assert f"{PROJECT}-dev-failure-queue-not-empty" not in alarms
    alarm = alarms[f"{PROJECT}-dev-failure-topic-published"]
    assert {key: alarm.inputs[key] for key in
            ("namespace", "metricName", "statistic", "threshold", "dimensions")} == {
        "namespace": "AWS/SNS", "metricName": "NumberOfMessagesPublished", "statistic": "Sum",
        "threshold": 0.0, "dimensions": {"TopicName": failure_topic.outputs["name"]},
    }  # fmt: skip
    body = json.loads(program.one(DASHBOARD).inputs["dashboardBody"])
    failure_rows = [row for row in metric_rows(body) if row[0] == "AWS/SNS"]
    assert failure_rows and all(row[2:4] == ["TopicName", failure_topic.outputs["name"]]
                                for row in failure_rows)  # fmt: skip


def test_disabled_alarms_register_nothing_and_outputs_say_so():
    program = run(alarms={"enabled": False})
    for kind in (ALARMS_TYPE, ALARM, DASHBOARD, TOPIC, TOPIC_POLICY, SUBSCRIPTION):
        assert program.of_type(kind) == [], kind
    assert program.outputs["alarmNames"] == []
    for absent in ("alarmTopicArn", "dashboardName", "dashboardUrl"):
        assert absent not in program.outputs
    assert program.outputs["functionName"]  # the pipeline itself is still there


def test_stack_outputs(dev):
    assert dev.outputs["alarmTopicArn"] == alarm_topic(dev).outputs["arn"]
    # In runbook order, each the name of a registered alarm.
    assert dev.outputs["alarmNames"] == [
        f"{PROJECT}-dev-{purpose}"
        for purpose in ("function-errors", "function-duration", "iterator-age",
                        "function-throttles", "failure-queue-not-empty", "records-quarantined")
    ]  # fmt: skip
    assert set(dev.outputs["alarmNames"]) == {a.outputs["name"] for a in dev.of_type(ALARM)}
    dashboard = dev.one(DASHBOARD)
    assert dev.outputs["dashboardName"] == dashboard.inputs["dashboardName"] == f"{PROJECT}-dev"
    assert dev.outputs["dashboardUrl"] == (
        f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}"
        f"#dashboards:name={PROJECT}-dev"
    )


def test_names_from_a_stack_with_dots_are_valid_dashboard_names():
    program = run_program(FakeAws(), stack_config("dev"), "team.dev")
    assert program.one(DASHBOARD).inputs["dashboardName"] == f"{PROJECT}-team-dev"
    assert all(name.startswith(f"{PROJECT}-team-dev-") for name in alarms_by_name(program))


# --- dashboard ---------------------------------------------------------------------------
def metric_rows(body: dict) -> list[list]:
    return [
        row for widget in body["widgets"] if widget["type"] == "metric"
        for row in widget["properties"]["metrics"]
    ]  # fmt: skip


def widget(body: dict, title_part: str) -> dict:
    (found,) = [
        w["properties"] for w in body["widgets"]
        if w["type"] == "metric" and title_part in w["properties"]["title"]
    ]  # fmt: skip
    return found


def test_dashboard_metrics_name_the_real_function_and_queue(dev):
    body = json.loads(dev.one(DASHBOARD).inputs["dashboardBody"])
    function_name = dev.one(FUNCTION).outputs["name"]
    queue_name = dev.one(QUEUE).outputs["name"]
    namespace = dev.one(FUNCTION).inputs["environment"]["variables"]["METRICS_NAMESPACE"]
    rows = metric_rows(body)
    assert rows
    for row in rows:
        namespace_of_row, _metric, dimension, value, options = row
        assert isinstance(options, dict) and options["stat"]
        if namespace_of_row == "AWS/SQS":
            assert (dimension, value) == ("QueueName", queue_name)
        else:
            assert namespace_of_row in ("AWS/Lambda", namespace)
            assert (dimension, value) == ("FunctionName", function_name)
    for metric_widget in (w for w in body["widgets"] if w["type"] == "metric"):
        assert metric_widget["properties"]["region"] == REGION
    emf = {row[1] for row in rows if row[0] == namespace}
    assert {RECORDS_INSERTED, RECORDS_MODIFIED, RECORDS_REMOVED, STATUS_CHANGES, PRICE_CHANGES,
            RECORDS_QUARANTINED} <= emf  # fmt: skip


def test_dashboard_shows_limits_and_thresholds_as_lines(dev):
    body = json.loads(dev.one(DASHBOARD).inputs["dashboardBody"])
    function = dev.one(FUNCTION).inputs
    duration = widget(body, "Duration")
    assert {row[4]["stat"] for row in duration["metrics"]} == {"Average", "p99", "Maximum"}
    lines = {line["label"]: line["value"] for line in duration["annotations"]["horizontal"]}
    assert lines == {"timeout": function["timeout"] * 1000, "alarm": 20000}
    iterator = widget(body, "Iterator age")["annotations"]["horizontal"]
    assert iterator == [{"label": "alarm", "value": 30000}]
    concurrency = widget(body, "Concurrent executions")["annotations"]["horizontal"]
    assert concurrency == [
        {"label": "reserved concurrency", "value": function["reservedConcurrentExecutions"]}
    ]
    invocations = widget(body, "invocations")
    assert [row[1] for row in invocations["metrics"]] == ["Invocations", "Errors", "Throttles"]


def test_dashboard_alarm_widget_lists_every_alarm(dev):
    body = json.loads(dev.one(DASHBOARD).inputs["dashboardBody"])
    (status,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert sorted(status["properties"]["alarms"]) == sorted(
        alarm.outputs["arn"] for alarm in dev.of_type(ALARM)
    )


def test_dashboard_widgets_do_not_overlap(dev):
    body = json.loads(dev.one(DASHBOARD).inputs["dashboardBody"])
    cells: set[tuple[int, int]] = set()
    for placed in body["widgets"]:
        assert placed["x"] + placed["width"] <= 24
        area = {
            (x, y)
            for x in range(placed["x"], placed["x"] + placed["width"])
            for y in range(placed["y"], placed["y"] + placed["height"])
        }
        assert not cells & area
        cells |= area


def test_unreserved_function_has_no_concurrency_line():
    program = run(function={"reservedConcurrency": -1})
    body = json.loads(program.one(DASHBOARD).inputs["dashboardBody"])
    assert "annotations" not in widget(body, "Concurrent executions")


# --- bad config stops everything -----------------------------------------------------------
@pytest.mark.parametrize(
    ("alarms", "function", "key"),
    [
        ({"durationThresholdMs": 30000}, {}, "alarms.durationThresholdMs"),
        ({}, {"timeoutSeconds": 15}, "alarms.durationThresholdMs"),
        ({"periodSeconds": 30}, {}, "alarms.periodSeconds"),
        ({"evaluationPeriods": 1441}, {}, "alarms.evaluationPeriods"),
        ({"emails": ["ops-at-example.com"]}, {}, "alarms.emails[0]"),
        ({"topicKmsKey": "alias/aws/sns"}, {}, "alarms.topicKmsKey"),
    ],
)
def test_invalid_alarm_config_registers_nothing(alarms, function, key):
    mocks = FakeAws()
    with pytest.raises(ConfigError) as caught:
        run_program(mocks, stack_config(alarms=alarms, function=function), "dev")
    assert any(problem.startswith(f"{PROJECT}:{key} ") for problem in caught.value.problems)
    assert mocks.registered == []


def test_registrations_are_recorded_on_a_valid_run():
    # The check above is only meaningful if FakeAws records a normal run's alarm resources.
    mocks = FakeAws()
    run_program(mocks, stack_config(), "dev")
    registered = {kind for kind, _name in mocks.registered}
    assert {ALARMS_TYPE, ALARM, DASHBOARD} <= registered


# --- contract with the handler ---------------------------------------------------------------
@pytest.mark.skipif(
    not HANDLER_METRICS.exists(), reason="functions/stream_processor/metrics.py lands with issue 3"
)
def test_metric_names_match_the_handler():
    spec = importlib.util.spec_from_file_location("handler_metrics", HANDLER_METRICS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ours = (RECORDS_PROCESSED, RECORDS_INSERTED, RECORDS_MODIFIED, RECORDS_REMOVED, TTL_EXPIRIES,
            STATUS_CHANGES, PRICE_CHANGES, RECORDS_FAILED, RECORDS_QUARANTINED)  # fmt: skip
    assert set(ours) == set(module.METRIC_NAMES)
    assert module.DIMENSION_FUNCTION_NAME == "FunctionName"
