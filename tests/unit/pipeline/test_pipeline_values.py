"""The resource graph the program registers (Pulumi mocks): the seed's values, outputs, and every
config key reaching its resource argument.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from components import config as config_module
from streamops.program import ProgramRun, Registration
from tests.support.fake_aws import ACCOUNT, REGION
from tests.support.stacks import DELETE
from tests.unit.pipeline.graph_helpers import (
    ALARM,
    ALARM_TOPIC,
    DASHBOARD,
    ERRORS_ALARM,
    FAILURE_TOPIC,
    FUNCTION,
    LOG_GROUP,
    MAPPING,
    QUEUE,
    SUBSCRIPTION,
    TABLE,
    TOPIC,
    deploy,
    dev,
    dig,
    find,
    only,
)


# --- the seed's values (acceptance 2) -------------------------------------------------------
def test_dev_graph_has_exactly_the_seed_values():
    run = dev()
    table = run.one(TABLE)
    assert table.inputs["name"] == "demo-ecommerce-freetier"
    assert table.inputs["streamEnabled"] is True
    function = run.one(FUNCTION)
    assert function.inputs["name"] == "demo-dynamodb-stream-processor"
    assert function.inputs["memorySize"] == 128
    assert function.inputs["timeout"] == 30
    assert function.inputs["reservedConcurrentExecutions"] == 10
    mapping = run.one(MAPPING)
    assert mapping.inputs["batchSize"] == 10
    assert mapping.inputs["startingPosition"] == "TRIM_HORIZON"
    assert mapping.inputs["maximumRetryAttempts"] == 3
    assert mapping.inputs["maximumRecordAgeInSeconds"] == 3600
    assert mapping.inputs["bisectBatchOnFunctionError"] is True
    assert mapping.inputs["parallelizationFactor"] == 1
    assert (
        mapping.inputs["destinationConfig"]["onFailure"]["destinationArn"]
        == (run.one(QUEUE).outputs["arn"])
    )
    assert find(run, FAILURE_TOPIC) == []  # the only topic is the alarm topic
    assert [topic.name for topic in run.of_type(TOPIC)] == [ALARM_TOPIC[1]]


def test_stack_outputs_are_the_resources_values():
    run = dev()
    table, function, mapping, queue = (run.one(t) for t in (TABLE, FUNCTION, MAPPING, QUEUE))
    dashboard = run.one(DASHBOARD)
    assert run.outputs == {
        "tableName": table.outputs["name"],
        "tableArn": table.outputs["arn"],
        "streamArn": table.outputs["streamArn"],
        "functionName": function.outputs["name"],
        "functionArn": function.outputs["arn"],
        "logGroupName": run.one(LOG_GROUP).outputs["name"],
        "eventSourceMappingId": mapping.outputs["uuid"],
        "failureDestinationArn": queue.outputs["arn"],
        "failureQueueUrl": queue.outputs["url"],
        "alarmTopicArn": only(run, ALARM_TOPIC).outputs["arn"],
        "alarmNames": [alarm.outputs["name"] for alarm in sorted_alarms(run)],
        "dashboardName": dashboard.outputs["dashboardName"],
        "dashboardUrl": f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?"
        f"region={REGION}#dashboards:name={dashboard.outputs['dashboardName']}",
    }


def sorted_alarms(run: ProgramRun) -> list[Registration]:
    """The alarms in the runbook's order (the order of the alarmNames output)."""
    order = ["function-errors", "function-duration", "iterator-age", "function-throttles",
             "failure-queue-not-empty", "records-quarantined"]  # fmt: skip
    return sorted(run.of_type(ALARM), key=lambda a: order.index(a.name.split("-", 2)[2]))


# --- every config key reaches the right resource argument ------------------------------------
EXISTING_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PAGER = "https://events.pagerduty.com/integration/0123456789abcdef/enqueue"
ONCALL_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:oncall"
# (section, key, value, resource type, input path, expected input value)
KEY_TO_INPUT = [
    ("table", "billingMode", "PAY_PER_REQUEST", TABLE, "billingMode", "PAY_PER_REQUEST"),
    ("table", "readCapacity", 7, TABLE, "readCapacity", 7),
    ("table", "writeCapacity", 9, TABLE, "writeCapacity", 9),
    ("table", "streamViewType", "NEW_IMAGE", TABLE, "streamViewType", "NEW_IMAGE"),
    ("table", "pointInTimeRecovery", True, TABLE, "pointInTimeRecovery.enabled", True),
    ("table", "deletionProtection", True, TABLE, "deletionProtectionEnabled", True),
    ("table", "ttlAttribute", "ttl", TABLE, "ttl.attributeName", "ttl"),
    ("table", "kmsKey", "aws-managed", TABLE, "serverSideEncryption", {"enabled": True}),
    ("table", "name", "orders-table", TABLE, "name", "orders-table"),
    ("function", "name", "orders-fn", FUNCTION, "name", "orders-fn"),
    ("function", "runtime", "python3.12", FUNCTION, "runtime", "python3.12"),
    ("function", "architecture", "x86_64", FUNCTION, "architectures", ["x86_64"]),
    ("function", "memoryMb", 512, FUNCTION, "memorySize", 512),
    ("function", "timeoutSeconds", 90, FUNCTION, "timeout", 90),
    ("function", "reservedConcurrency", 25, FUNCTION, "reservedConcurrentExecutions", 25),
    ("function", "logRetentionDays", 30, LOG_GROUP, "retentionInDays", 30),
    ("function", "logLevel", "DEBUG", FUNCTION, "loggingConfig.applicationLogLevel", "DEBUG"),
    (
        "function",
        "metricsNamespace",
        "Shop/Streams",
        FUNCTION,
        "environment.variables.METRICS_NAMESPACE",
        "Shop/Streams",
    ),
    ("trigger", "batchSize", 250, MAPPING, "batchSize", 250),
    ("trigger", "startingPosition", "LATEST", MAPPING, "startingPosition", "LATEST"),
    (
        "trigger",
        "maxBatchingWindowSeconds",
        5,
        MAPPING,
        "maximumBatchingWindowInSeconds",
        5,
    ),
    ("trigger", "retryAttempts", 7, MAPPING, "maximumRetryAttempts", 7),
    ("trigger", "maxRecordAgeSeconds", 7200, MAPPING, "maximumRecordAgeInSeconds", 7200),
    ("trigger", "bisectOnError", False, MAPPING, "bisectBatchOnFunctionError", False),
    ("trigger", "parallelizationFactor", 4, MAPPING, "parallelizationFactor", 4),
    ("trigger", "enabled", False, MAPPING, "enabled", False),
    (
        "trigger",
        "filterPatterns",
        [{"dynamodb": {"OldImage": {"PK": {"S": [{"exists": False}]}}}}],
        MAPPING,
        "filterCriteria.filters.0.pattern",
        '{"dynamodb":{"OldImage":{"PK":{"S":[{"exists":false}]}}}}',
    ),
    (
        "trigger",
        "destinationRetentionDays",
        4,
        QUEUE,
        "messageRetentionSeconds",
        4 * 86400,
    ),
    ("trigger", "onFailure", "sns", FAILURE_TOPIC, "kmsMasterKeyId", "alias/aws/sns"),
    ("trigger", "destinationKmsKey", EXISTING_KEY, QUEUE, "kmsMasterKeyId", EXISTING_KEY),
    ("trigger", "metrics", ["EventCount"], MAPPING, "metricsConfig.metrics", ["EventCount"]),
    ("alarms", "errorsThreshold", 5, ERRORS_ALARM, "threshold", 5),
    ("alarms", "durationThresholdMs", 15000, (ALARM, "pipeline-alarms-function-duration"),
     "threshold", 15000),
    ("alarms", "iteratorAgeThresholdMs", 60000, (ALARM, "pipeline-alarms-iterator-age"),
     "threshold", 60000),
    ("alarms", "evaluationPeriods", 3, ERRORS_ALARM, "evaluationPeriods", 3),
    ("alarms", "periodSeconds", 300, ERRORS_ALARM, "period", 300),
    ("alarms", "emails", ["ops@example.com"], SUBSCRIPTION, "endpoint", "ops@example.com"),
    ("alarms", "httpsEndpoints", [PAGER], SUBSCRIPTION, "endpoint", PAGER),
    ("alarms", "forwardToTopicArns", [ONCALL_TOPIC], ERRORS_ALARM, "alarmActions.1", ONCALL_TOPIC),
    ("function", "logKmsKey", EXISTING_KEY, LOG_GROUP, "kmsKeyId", EXISTING_KEY),
    ("function", "environmentKmsKey", EXISTING_KEY, FUNCTION, "kmsKeyArn", EXISTING_KEY),
    ("function", "tracing", "Active", FUNCTION, "tracingConfig.mode", "Active"),
    ("alarms", "topicKmsKey", EXISTING_KEY, ALARM_TOPIC, "kmsMasterKeyId", EXISTING_KEY),
]  # fmt: skip
# Keys whose effect is checked by dedicated tests (resources appear or change shape): below,
# and alarms.enabled in test_alarms.py (off: no topic, alarm or dashboard at all).
# alarms.notify / notifyReason in test_security_baseline.py (they waive a subscriber);
# trigger.destinationForceDestroy (S3 only) in test_failure_bucket.py.
KEYS_TESTED_ELSEWHERE = {
    ("table", "existingTableName"),
    ("alarms", "enabled"),
    ("alarms", "notify"),
    ("alarms", "notifyReason"),
    ("trigger", "destinationForceDestroy"),
}


@pytest.mark.parametrize(
    ("section", "key", "value", "resource_type", "path", "expected"),
    KEY_TO_INPUT,
    ids=[f"{section}.{key}" for section, key, *_ in KEY_TO_INPUT],
)
def test_config_key_reaches_resource_argument(section, key, value, resource_type, path, expected):
    overrides: dict[str, Any] = {key: value}
    if (section, key) == ("table", "billingMode"):
        overrides.update(readCapacity=DELETE, writeCapacity=DELETE)
    run = deploy("dev", **{section: overrides})
    assert dig(only(run, resource_type).inputs, path) == expected
    # The dev stack's own value differs (or the argument is absent there), so it is the
    # key that moved the argument, not a coincidence.
    baseline = find(dev(), resource_type)
    if baseline:
        with contextlib.suppress(KeyError, IndexError):
            assert dig(baseline[0].inputs, path) != expected


def test_every_config_key_is_covered_by_a_graph_test():
    covered = {(section, key) for section, key, *_ in KEY_TO_INPUT} | KEYS_TESTED_ELSEWHERE
    declared = {
        (section, key.name)
        for section, (_required, keys) in config_module.SECTIONS.items()
        for key in keys
    }
    assert declared - covered == set()
