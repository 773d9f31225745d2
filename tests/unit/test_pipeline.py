"""The resource graph the program registers (Pulumi mocks): values, wiring, least privilege."""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components import config as config_module
from components.config import ConfigError
from components.function import FUNCTION_SOURCE, function_archive
from streamops.program import ProgramRun, Registration, run_program
from tests.support.fake_aws import ACCOUNT, REGION, FakeAws
from tests.support.stacks import DELETE, stack_config

P = "dynamodb-stream-processor"
TABLE = "aws:dynamodb/table:Table"
FUNCTION = "aws:lambda/function:Function"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KEY = "aws:kms/key:Key"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
ALARMS_COMPONENT = f"{P}:index:StreamAlarms"
# Resources some tests pick by (type, resource name) because the type alone is ambiguous:
# the failure topic (named after the function) next to the alarm topic, one alarm of six.
FAILURE_TOPIC = (TOPIC, f"{P}-dev-failures")
ALARM_TOPIC = (TOPIC, f"{P}-dev-alarms")
ERRORS_ALARM = (ALARM, "pipeline-alarms-function-errors")


def deploy(stack: str = "dev", **sections: Any) -> ProgramRun:
    return run_program(FakeAws(), stack_config(stack, **sections), stack)


@cache
def dev() -> ProgramRun:
    return deploy("dev")


@cache
def prod() -> ProgramRun:
    return deploy("prod")


def find(run: ProgramRun, selector: str | tuple[str, str]) -> list[Registration]:
    """Registrations of a type, or of a (type, resource name) pair."""
    if isinstance(selector, str):
        return run.of_type(selector)
    kind, name = selector
    return [r for r in run.of_type(kind) if r.name == name]


def only(run: ProgramRun, selector: str | tuple[str, str]) -> Registration:
    (found,) = find(run, selector)
    return found


def dig(values: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        values = values[int(part)] if isinstance(values, list) else values[part]
    return values


def policy_statements(run: ProgramRun) -> list[dict[str, Any]]:
    (policy,) = run.of_type(ROLE_POLICY)
    return json.loads(policy.inputs["policy"])["Statement"]


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


# --- wiring -------------------------------------------------------------------------------
def test_mapping_reads_the_tables_stream_and_invokes_the_function():
    run = dev()
    mapping = run.one(MAPPING).inputs
    assert mapping["eventSourceArn"] == run.one(TABLE).outputs["streamArn"]
    assert mapping["functionName"] == run.one(FUNCTION).outputs["arn"]
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]


def test_report_batch_item_failures_cannot_be_turned_off():
    for stack in ("dev", "prod"):
        run = dev() if stack == "dev" else prod()
        assert run.one(MAPPING).inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]


def test_filter_change_replaces_the_mapping_delete_first():
    assert dev().one(MAPPING).delete_before_replace is True


def test_function_uses_its_role_log_group_and_destination():
    run = dev()
    function = run.one(FUNCTION).inputs
    queue = run.one(QUEUE).outputs
    assert function["role"] == run.one(ROLE).outputs["arn"]
    assert function["handler"] == "handler.lambda_handler"
    assert function["loggingConfig"] == {
        "logFormat": "JSON",
        "applicationLogLevel": "INFO",
        "logGroup": "/aws/lambda/demo-dynamodb-stream-processor",
    }
    assert function["environment"]["variables"] == {
        "FAILURE_DESTINATION_TYPE": "sqs",
        "FAILURE_DESTINATION": queue["url"],
        "METRICS_NAMESPACE": "DynamoDBStreamProcessor",
    }
    assert run.one(LOG_GROUP).inputs["name"] == "/aws/lambda/demo-dynamodb-stream-processor"


def test_function_waits_for_its_policy_and_log_group():
    run = dev()
    depends_on = set(run.one(FUNCTION).depends_on)
    assert run.one(ROLE_POLICY).urn in depends_on
    assert run.one(LOG_GROUP).urn in depends_on
    assert run.one(FUNCTION).urn in run.one(MAPPING).depends_on


def test_role_policy_names_exactly_the_pipelines_arns():
    run = dev()
    stream_arn = run.one(TABLE).outputs["streamArn"]
    log_group_arn = run.one(LOG_GROUP).outputs["arn"]
    queue_arn = run.one(QUEUE).outputs["arn"]
    assert run.one(ROLE_POLICY).inputs["role"] == run.one(ROLE).outputs["name"]
    assert policy_statements(run) == [
        {
            "Sid": "ReadTableStream",
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
            ],
            "Resource": stream_arn,
        },
        {
            "Sid": "ListStreams",
            "Effect": "Allow",
            "Action": ["dynamodb:ListStreams"],
            "Resource": "*",
        },
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group_arn}:*",
        },
        {
            "Sid": "SendToFailureDestination",
            "Effect": "Allow",
            "Action": ["sqs:SendMessage"],
            "Resource": queue_arn,
        },
    ]
    assert stream_arn.startswith(
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/demo-ecommerce-freetier/"
    )


def test_role_trusts_only_lambda_and_has_no_managed_policies():
    role = dev().one(ROLE).inputs
    trust = json.loads(role["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    assert not role.get("managedPolicyArns")


# Actions AWS lets a policy grant on "*" only: ListStreams always, X-Ray's two write
# actions with function.tracing Active (X-Ray supports no resource-level permissions).
ONLY_ON_ANY_RESOURCE = {
    "dev": [["dynamodb:ListStreams"]],
    "prod": [["dynamodb:ListStreams"]],
    "sns": [["dynamodb:ListStreams"]],
    "sqs": [["dynamodb:ListStreams"]],
    "existing": [["dynamodb:ListStreams"]],
    "tracing": [["dynamodb:ListStreams"], ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]],
}


@pytest.mark.parametrize("stack", ["dev", "prod", "sns", "sqs", "existing", "tracing"])
def test_no_wildcard_actions_and_no_wildcard_resource_except_list_streams(stack):
    runs: dict[str, Callable[[], ProgramRun]] = {
        "dev": dev,
        "prod": prod,
        "sns": lambda: deploy(
            "prod", trigger={"onFailure": "sns", "destinationRetentionDays": DELETE}
        ),
        "sqs": lambda: deploy("prod", trigger={"onFailure": "sqs", "destinationRetentionDays": 14}),
        "existing": deploy_existing,
        "tracing": lambda: deploy("prod", function={"tracing": "Active"}),
    }
    run = runs[stack]()
    # Identity policies here; resource policies (key, topic) in the test below.
    documents = [
        json.loads(r.inputs["policy"])
        for r in run.resources
        if r.inputs.get("policy") and r.type not in RESOURCE_POLICY_TYPES
    ]
    documents.append(json.loads(run.one(ROLE).inputs["assumeRolePolicy"]))
    assert documents
    for document in documents:
        for statement in document["Statement"]:
            actions = statement["Action"]
            actions = [actions] if isinstance(actions, str) else actions
            assert all("*" not in action for action in actions), statement
            resources = statement.get("Resource", [])
            resources = [resources] if isinstance(resources, str) else resources
            if "*" in resources:
                assert actions in ONLY_ON_ANY_RESOURCE[stack], statement
    on_any = [s["Action"] for s in policy_statements(run) if s["Resource"] == "*"]
    assert on_any == ONLY_ON_ANY_RESOURCE[stack]


RESOURCE_POLICY_TYPES = {KEY, TOPIC_POLICY, BUCKET_POLICY}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_resource_policies_name_their_principals(stack):
    # In a key policy `Resource: "*"` means "this key"; what must not happen is a grant to
    # everyone. The only `kms:*` grant is the account root's, which keeps the key
    # manageable and delegates to IAM (AWS's default key policy).
    run = dev() if stack == "dev" else prod()
    documents = [
        json.loads(r.inputs["policy"])
        for r in run.resources
        if r.type in RESOURCE_POLICY_TYPES and r.inputs.get("policy")  # no policy: AWS default
    ]
    assert documents
    for document in documents:
        for statement in document["Statement"]:
            principal = statement["Principal"]
            if statement["Effect"] == "Deny":
                continue  # a Deny for everyone grants nothing (the bucket's TLS-only rule)
            assert principal != "*" and "*" not in principal.values(), statement
            if statement["Action"] == "kms:*":
                assert principal == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, statement


# --- encryption and customer-managed keys ----------------------------------------------------
def test_prod_encrypts_table_and_bucket_with_rotating_customer_managed_keys():
    run = prod()
    (alarms,) = run.of_type(ALARMS_COMPONENT)
    # The alarm topic's own key is checked in test_alarms.py, the bucket's settings in
    # test_failure_bucket.py.
    (function,) = run.of_type(f"{P}:index:StreamFunction")
    # The function's key (log group, environment) is checked in test_security_baseline.py.
    keys = [key for key in run.of_type(KEY) if key.parent not in (alarms.urn, function.urn)]
    assert len(keys) == 2
    assert all(key.inputs["enableKeyRotation"] is True for key in keys)
    key_arns = {key.outputs["arn"] for key in keys}
    table_key = run.one(TABLE).inputs["serverSideEncryption"]
    assert table_key["enabled"] is True and table_key["kmsKeyArn"] in key_arns
    (encryption,) = run.of_type("aws:s3/bucketServerSideEncryptionConfiguration:"
                                "BucketServerSideEncryptionConfiguration")  # fmt: skip
    bucket_key = encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"][
        "kmsMasterKeyId"
    ]
    assert bucket_key in key_arns and bucket_key != table_key["kmsKeyArn"]
    statements = {s["Sid"]: s for s in policy_statements(run)}
    assert statements["DecryptTableStream"] == {
        "Sid": "DecryptTableStream",
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": table_key["kmsKeyArn"],
    }
    # S3 PutObject under SSE-KMS: kms:GenerateDataKey only, and only through S3.
    assert statements["EncryptForFailureDestination"] == {
        "Sid": "EncryptForFailureDestination",
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey"],
        "Resource": bucket_key,
        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
    }


def test_a_queue_under_a_customer_managed_key_gets_decrypt_and_generate_data_key():
    run = deploy("prod", trigger={"onFailure": "sqs", "destinationRetentionDays": 14})
    queue_key = run.one(QUEUE).inputs["kmsMasterKeyId"]
    statements = {s["Sid"]: s for s in policy_statements(run)}
    assert statements["EncryptForFailureDestination"] == {
        "Sid": "EncryptForFailureDestination",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": queue_key,
    }


def test_dev_uses_free_encryption_and_no_key():
    run = dev()
    assert run.of_type(KEY) == []
    assert run.one(TABLE).inputs["serverSideEncryption"] == {"enabled": False}
    assert run.one(QUEUE).inputs["sqsManagedSseEnabled"] is True
    assert {s["Sid"] for s in policy_statements(run)} == {
        "ReadTableStream",
        "ListStreams",
        "WriteOwnLogs",
        "SendToFailureDestination",
    }


def test_existing_key_arn_is_used_as_given():
    arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    run = deploy("dev", table={"kmsKey": arn})
    assert run.of_type(KEY) == []
    assert run.one(TABLE).inputs["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": arn}
    statements = {s["Sid"]: s for s in policy_statements(run)}
    assert statements["DecryptTableStream"]["Resource"] == arn


def test_sns_failure_destination():
    run = deploy("dev", trigger={"onFailure": "sns"})
    topic = only(run, FAILURE_TOPIC)
    assert run.of_type(QUEUE) == []
    assert topic.inputs["kmsMasterKeyId"] == "alias/aws/sns"
    mapping = run.one(MAPPING).inputs
    assert mapping["destinationConfig"]["onFailure"]["destinationArn"] == topic.outputs["arn"]
    statements = {s["Sid"]: s for s in policy_statements(run)}
    assert statements["SendToFailureDestination"]["Action"] == ["sns:Publish"]
    assert statements["SendToFailureDestination"]["Resource"] == topic.outputs["arn"]
    variables = run.one(FUNCTION).inputs["environment"]["variables"]
    assert variables["FAILURE_DESTINATION_TYPE"] == "sns"
    assert variables["FAILURE_DESTINATION"] == topic.outputs["arn"]
    assert "failureQueueUrl" not in run.outputs
    assert run.outputs["failureDestinationArn"] == topic.outputs["arn"]


# --- structure: parents, tags, package ------------------------------------------------------
def test_every_resource_is_parented_to_a_component():
    run = dev()
    components = {r.urn for r in run.resources if not r.custom}
    (pipeline,) = [r for r in run.resources if r.type == f"{P}:index:StreamPipeline"]
    for resource in run.resources:
        if resource is pipeline:
            continue
        assert resource.parent in components, resource.urn
    assert {r.type for r in run.resources if not r.custom} == {
        f"{P}:index:StreamPipeline",
        f"{P}:index:StreamTable",
        f"{P}:index:FailureDestination",
        f"{P}:index:StreamFunction",
        f"{P}:index:StreamTrigger",
        ALARMS_COMPONENT,
    }


# No `tags` argument in the provider for these.
UNTAGGABLE = {ROLE_POLICY, TOPIC_POLICY, DASHBOARD, SUBSCRIPTION, BUCKET_POLICY} | {
    f"aws:s3/{kind[0].lower()}{kind[1:]}:{kind}"
    for kind in ("BucketPublicAccessBlock", "BucketOwnershipControls", "BucketVersioning",
                 "BucketServerSideEncryptionConfiguration", "BucketLifecycleConfiguration",
                 "BucketMetric")
}  # fmt: skip


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_tags_reach_every_taggable_resource(stack):
    run = dev() if stack == "dev" else prod()
    expected = {"project": P, "environment": stack}
    custom: list[Registration] = [r for r in run.resources if r.custom]
    assert custom
    for resource in custom:
        if resource.type in UNTAGGABLE:
            continue
        assert resource.inputs.get("tags") == expected, resource.type


def test_package_holds_only_the_functions_python_files():
    archive = function_archive()
    names = set(archive.assets)
    expected = {path.name for path in Path(FUNCTION_SOURCE).glob("*.py")}
    assert names == expected and "handler.py" in names
    assert all(name.endswith(".py") and "/" not in name for name in names)


def test_package_without_handler_is_refused(tmp_path):
    (tmp_path / "other.py").write_text("x = 1\n")
    with pytest.raises(FileNotFoundError, match=r"handler\.py is missing"):
        function_archive(tmp_path)


def test_package_zip_contents(tmp_path):
    # The same files a FileArchive would read, zipped the way Lambda expects (flat root).
    archive = function_archive()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, asset in archive.assets.items():
            assert isinstance(asset, pulumi.FileAsset)
            zf.write(asset.path, name)
    with zipfile.ZipFile(buffer) as zf:
        assert "handler.py" in zf.namelist()


# --- existing table ---------------------------------------------------------------------------
EXISTING_STREAM = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/legacy/stream/2025-01-01T00:00:00.000"


def existing_tables(**overrides: Any) -> dict[str, dict[str, Any]]:
    table = {
        "arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/legacy",
        "streamArn": EXISTING_STREAM,
        "streamEnabled": True,
        "streamViewType": "NEW_AND_OLD_IMAGES",
        "serverSideEncryption": {"enabled": False, "kmsKeyArn": ""},
    }
    table.update(overrides)
    return {"legacy": table}


def existing_config(**trigger: Any) -> dict[str, Any]:
    config = stack_config("dev", trigger=trigger or {})
    config[f"{P}:table"] = {"existingTableName": "legacy"}
    return config


def deploy_existing(**table: Any) -> ProgramRun:
    return run_program(FakeAws(existing_tables(**table)), existing_config(), "dev")


def test_attaching_to_an_existing_table_creates_no_table():
    run = deploy_existing()
    assert run.of_type(TABLE) == []
    assert run.one(MAPPING).inputs["eventSourceArn"] == EXISTING_STREAM
    assert run.outputs["streamArn"] == EXISTING_STREAM
    assert run.outputs["tableName"] == "legacy"
    assert {s["Sid"]: s for s in policy_statements(run)}["ReadTableStream"]["Resource"] == (
        EXISTING_STREAM
    )


def test_existing_table_encrypted_with_a_customer_key_gets_decrypt():
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    run = deploy_existing(serverSideEncryption={"enabled": True, "kmsKeyArn": key})
    statements = {s["Sid"]: s for s in policy_statements(run)}
    assert statements["DecryptTableStream"]["Resource"] == key


@pytest.mark.parametrize(
    ("tables", "trigger", "expected"),
    [
        (
            existing_tables(streamEnabled=False, streamArn=""),
            {},
            f"{P}:table.existingTableName: table 'legacy' has no stream enabled",
        ),
        (
            existing_tables(streamViewType="KEYS_ONLY"),
            {"filterPatterns": [{"dynamodb": {"NewImage": {"status": {"S": ["PAID"]}}}}]},
            f"{P}:table.existingTableName: table 'legacy' streams KEYS_ONLY, but "
            "trigger.filterPatterns filter on dynamodb.NewImage",
        ),
        ({}, {}, f"{P}:table.existingTableName: cannot read table 'legacy'"),
    ],
)
def test_existing_table_that_cannot_feed_the_trigger_stops_the_program(tables, trigger, expected):
    mocks = FakeAws(tables)
    with pytest.raises(ConfigError) as caught:
        run_program(mocks, existing_config(**trigger), "dev")
    assert caught.value.problems[0].startswith(expected), caught.value.problems
    assert mocks.registered == []


def test_existing_table_rejects_creation_only_settings():
    config = existing_config()
    config[f"{P}:table"] = {"existingTableName": "legacy", "billingMode": "PROVISIONED"}
    mocks = FakeAws(existing_tables())
    with pytest.raises(ConfigError) as caught:
        run_program(mocks, config, "dev")
    assert caught.value.problems == [
        f"{P}:table.billingMode only applies to a table this program creates; remove it when "
        "table.existingTableName is set (the existing table keeps its own settings)"
    ]
    assert mocks.registered == []


def test_renaming_the_function_keeps_the_failure_destination():
    # A new URN would make `pulumi up` create a new queue and delete the old one, with the
    # on-failure pointers and quarantined records still waiting in it.
    renamed = deploy("dev", function={"name": "orders-processor"})
    for kind in (QUEUE, TOPIC):
        before = {r.urn for r in dev().of_type(kind)}
        assert before <= {r.urn for r in renamed.of_type(kind)}, kind
    prod_renamed = deploy("prod", function={"name": "orders-processor"})
    assert {r.urn for r in prod().of_type(BUCKET)} == {r.urn for r in prod_renamed.of_type(BUCKET)}
    sns = deploy("dev", trigger={"onFailure": "sns"})
    sns_renamed = deploy("dev", trigger={"onFailure": "sns"}, function={"name": "orders-fn"})
    assert {r.urn for r in sns.of_type(TOPIC)} == {r.urn for r in sns_renamed.of_type(TOPIC)}
