"""The resource graph the program registers (Pulumi mocks): wiring and least privilege."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from streamops.program import ProgramRun
from tests.support.fake_aws import ACCOUNT, REGION
from tests.support.stacks import DELETE
from tests.unit.pipeline.graph_helpers import (
    BUCKET_POLICY,
    FUNCTION,
    KEY,
    LOG_GROUP,
    MAPPING,
    QUEUE,
    ROLE,
    ROLE_POLICY,
    TABLE,
    TOPIC_POLICY,
    deploy,
    deploy_existing,
    dev,
    policy_statements,
    prod,
)


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
