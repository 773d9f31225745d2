"""The checks can fail: change a deployed stack behind the program's back, and the check
that owns that setting reports it, by name, and nothing else does.

Each case tampers with its own fresh deployment (a new emulated account), so cases never
see each other's changes. Never run against a real stack.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from components.function import LAMBDA_TRUST_POLICY
from streamops.aws import AwsClients
from streamops.doctor.checks import run_checks
from streamops.emulator.server import Deployment
from streamops.stacks import emulated_stack

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Tamper:
    change: Callable[[AwsClients, dict[str, Any]], None]
    detected_by: set[str]  # exactly the checks that must fail
    stack: str = "dev"
    overrides: dict[str, Any] = field(default_factory=dict)


def role_name(aws: AwsClients, outputs: dict[str, Any]) -> str:
    function = aws("lambda").get_function(FunctionName=outputs["functionName"])
    return function["Configuration"]["Role"].rsplit("/", 1)[-1]


def update_mapping(**settings: Any) -> Callable[[AwsClients, dict[str, Any]], None]:
    def change(aws: AwsClients, outputs: dict[str, Any]) -> None:
        aws("lambda").update_event_source_mapping(UUID=outputs["eventSourceMappingId"], **settings)

    return change


def update_function(**settings: Any) -> Callable[[AwsClients, dict[str, Any]], None]:
    def change(aws: AwsClients, outputs: dict[str, Any]) -> None:
        aws("lambda").update_function_configuration(
            FunctionName=outputs["functionName"], **settings
        )

    return change


def disable_stream(aws: AwsClients, outputs: dict[str, Any]) -> None:
    aws("dynamodb").update_table(
        TableName=outputs["tableName"], StreamSpecification={"StreamEnabled": False}
    )


def protect_table(aws: AwsClients, outputs: dict[str, Any]) -> None:
    aws("dynamodb").update_table(TableName=outputs["tableName"], DeletionProtectionEnabled=True)


def disable_table_key(aws: AwsClients, outputs: dict[str, Any]) -> None:
    table = aws("dynamodb").describe_table(TableName=outputs["tableName"])["Table"]
    kms = aws("kms")
    # moto 5.2.5 answers DisableKey with a key ARN by a 500: pass the key id (AWS takes both).
    key = kms.describe_key(KeyId=table["SSEDescription"]["KMSMasterKeyArn"])["KeyMetadata"]
    kms.disable_key(KeyId=key["KeyId"])


def delete_queue(aws: AwsClients, outputs: dict[str, Any]) -> None:
    aws("sqs").delete_queue(QueueUrl=outputs["failureQueueUrl"])


def unencrypt_queue(aws: AwsClients, outputs: dict[str, Any]) -> None:
    aws("sqs").set_queue_attributes(
        QueueUrl=outputs["failureQueueUrl"], Attributes={"SqsManagedSseEnabled": "false"}
    )


def widen_role_policy(aws: AwsClients, outputs: dict[str, Any]) -> None:
    iam, role = aws("iam"), role_name(aws, outputs)
    (policy,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps(document))


def add_stream_wildcard(aws: AwsClients, outputs: dict[str, Any]) -> None:
    """A subtler widening: the same actions, on every stream of the account."""
    iam, role = aws("iam"), role_name(aws, outputs)
    (policy,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
    for statement in document["Statement"]:
        if statement.get("Sid") == "ReadTableStream":
            statement["Resource"] = "arn:aws:dynamodb:*:*:table/*/stream/*"
    iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps(document))


def attach_managed_policy(aws: AwsClients, outputs: dict[str, Any]) -> None:
    """What the seed tutorial does by hand: a managed policy next to the inline one.
    (moto loads AWS's own managed policies only on request, so a customer-managed one
    with the same kind of grant stands in for AWSLambdaDynamoDBExecutionRole.)"""
    iam = aws("iam")
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "dynamodb:GetRecords", "Resource": "*"}],
    }
    policy = iam.create_policy(PolicyName="stream-reader", PolicyDocument=json.dumps(document))
    iam.attach_role_policy(RoleName=role_name(aws, outputs), PolicyArn=policy["Policy"]["Arn"])


def trust_everyone(aws: AwsClients, outputs: dict[str, Any]) -> None:
    anyone = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
    document = {**LAMBDA_TRUST_POLICY, "Statement": [*LAMBDA_TRUST_POLICY["Statement"], anyone]}
    aws("iam").update_assume_role_policy(
        RoleName=role_name(aws, outputs), PolicyDocument=json.dumps(document)
    )


def shorten_log_retention(aws: AwsClients, outputs: dict[str, Any]) -> None:
    aws("logs").put_retention_policy(logGroupName=outputs["logGroupName"], retentionInDays=1)


def delete_log_group(aws: AwsClients, outputs: dict[str, Any]) -> None:
    aws("logs").delete_log_group(logGroupName=outputs["logGroupName"])


def unreserve_concurrency(aws: AwsClients, outputs: dict[str, Any]) -> None:
    aws("lambda").delete_function_concurrency(FunctionName=outputs["functionName"])


def alarm_name(outputs: dict[str, Any], purpose: str) -> str:
    return next(name for name in outputs["alarmNames"] if name.endswith(f"-{purpose}"))


def delete_alarm(aws: AwsClients, outputs: dict[str, Any]) -> None:
    aws("cloudwatch").delete_alarms(AlarmNames=[alarm_name(outputs, "iterator-age")])


def raise_error_threshold(aws: AwsClients, outputs: dict[str, Any]) -> None:
    """Re-put the errors alarm as deployed, except for its threshold."""
    cloudwatch = aws("cloudwatch")
    alarm = cloudwatch.describe_alarms(AlarmNames=[alarm_name(outputs, "function-errors")])[
        "MetricAlarms"
    ][0]
    settings = (
        "AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
        "MetricName", "Namespace", "Statistic", "Dimensions", "Period", "EvaluationPeriods",
        "ComparisonOperator", "TreatMissingData",
    )  # fmt: skip
    cloudwatch.put_metric_alarm(**{key: alarm[key] for key in settings}, Threshold=100)


def silence_alarm(aws: AwsClients, outputs: dict[str, Any]) -> None:
    aws("cloudwatch").disable_alarm_actions(AlarmNames=[alarm_name(outputs, "function-errors")])


def delete_dashboard(aws: AwsClients, outputs: dict[str, Any]) -> None:
    aws("cloudwatch").delete_dashboards(DashboardNames=[outputs["dashboardName"]])


def open_alarm_topic(aws: AwsClients, outputs: dict[str, Any]) -> None:
    sns, topic = aws("sns"), outputs["alarmTopicArn"]
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    policy["Statement"].append(
        {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": topic}
    )
    sns.set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy)
    )


def unsubscribe_email(aws: AwsClients, outputs: dict[str, Any]) -> None:
    sns = aws("sns")
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=outputs["alarmTopicArn"])[
        "Subscriptions"
    ]
    sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])


def lock_cloudwatch_out_of_topic_key(aws: AwsClients, outputs: dict[str, Any]) -> None:
    sns, kms = aws("sns"), aws("kms")
    key = sns.get_topic_attributes(TopicArn=outputs["alarmTopicArn"])["Attributes"][
        "KmsMasterKeyId"
    ]
    key_id = kms.describe_key(KeyId=key)["KeyMetadata"]["KeyId"]
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    policy["Statement"] = [s for s in policy["Statement"] if "Service" not in s["Principal"]]
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(policy))


def _key_id(aws: AwsClients, key: str) -> str:
    # moto 5.2.5 answers some KMS calls with a key ARN by a 500: use the key id.
    return aws("kms").describe_key(KeyId=key)["KeyMetadata"]["KeyId"]


def _log_group_key(aws: AwsClients, outputs: dict[str, Any]) -> str:
    name = outputs["logGroupName"]
    groups = aws("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return _key_id(aws, next(g for g in groups if g["logGroupName"] == name)["kmsKeyId"])


def _table_key(aws: AwsClients, outputs: dict[str, Any]) -> str:
    table = aws("dynamodb").describe_table(TableName=outputs["tableName"])["Table"]
    return _key_id(aws, table["SSEDescription"]["KMSMasterKeyArn"])


def _bucket_key(aws: AwsClients, outputs: dict[str, Any]) -> str:
    encryption = aws("s3").get_bucket_encryption(Bucket=outputs["failureBucketName"])
    rule = encryption["ServerSideEncryptionConfiguration"]["Rules"][0]
    return _key_id(aws, rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"])


def _edit_key_policy(
    key_of: Callable[[AwsClients, dict[str, Any]], str], edit: Callable[[list], list]
):
    def change(aws: AwsClients, outputs: dict[str, Any]) -> None:
        kms, key_id = aws("kms"), key_of(aws, outputs)
        policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
        policy["Statement"] = edit(policy["Statement"])
        kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(policy))

    return change


def on_bucket(operation: str, **arguments: Any) -> Callable[[AwsClients, dict[str, Any]], None]:
    """One S3 call on the failure bucket (prod: the S3 destination)."""

    def change(aws: AwsClients, outputs: dict[str, Any]) -> None:
        getattr(aws("s3"), operation)(Bucket=outputs["failureBucketName"], **arguments)

    return change


def _grant_root_everything(statements: list) -> list:
    root = statements[0]["Principal"]
    return [*statements, {"Sid": "Everything", "Effect": "Allow", "Principal": root,
                          "Action": "kms:*", "Resource": "*"}]  # fmt: skip


def _drop_service_principals(statements: list) -> list:
    return [s for s in statements if "Service" not in s["Principal"]]


def disable_function_key_rotation(aws: AwsClients, outputs: dict[str, Any]) -> None:
    aws("kms").disable_key_rotation(KeyId=_log_group_key(aws, outputs))


# A deployed prod names a real on-call address (its committed one is a placeholder that
# doctor rejects, see test_check_logic.py).
PROD_ONCALL = {"alarms": {"emails": ["oncall@shop-ops.net"]}}

TAMPERS: dict[str, Tamper] = {
    "suspend the failure bucket's versioning": Tamper(
        on_bucket("put_bucket_versioning", VersioningConfiguration={"Status": "Suspended"}),
        {"failureDestination.versioning"},
        stack="prod",
        overrides=PROD_ONCALL,
    ),
    "lift a public-access block": Tamper(
        on_bucket(
            "put_public_access_block",
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": False,
                "RestrictPublicBuckets": True,
            },
        ),
        {"failureDestination.publicAccess"},
        stack="prod",
        overrides=PROD_ONCALL,
    ),
    "drop the TLS-only bucket policy": Tamper(
        on_bucket("delete_bucket_policy"),
        {"failureDestination.tlsOnly"},
        stack="prod",
        overrides=PROD_ONCALL,
    ),
    "keep failures forever": Tamper(
        on_bucket("delete_bucket_lifecycle"),
        {"failureDestination.retention"},
        stack="prod",
        overrides=PROD_ONCALL,
    ),
    "bucket encrypted with SSE-S3 instead of its key": Tamper(
        on_bucket(
            "put_bucket_encryption",
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        ),
        {"failureDestination.encryption", "role.policy"},
        stack="prod",
        overrides=PROD_ONCALL,
    ),
    "disable the stream": Tamper(disable_stream, {"table.stream"}),
    "turn on deletion protection": Tamper(protect_table, {"table.deletionProtection"}),
    "disable the table's key": Tamper(
        disable_table_key, {"table.encryption"}, stack="prod", overrides=PROD_ONCALL
    ),
    "give the account root kms:* on the table key": Tamper(
        _edit_key_policy(_table_key, _grant_root_everything),
        {"table.keyPolicy"},
        stack="prod",
        overrides=PROD_ONCALL,
    ),
    "give the account root kms:* on the failure bucket's key": Tamper(
        _edit_key_policy(_bucket_key, _grant_root_everything),
        {"failureDestination.keyPolicy"},
        stack="prod",
        overrides=PROD_ONCALL,
    ),
    "lock CloudWatch Logs out of the function key": Tamper(
        _edit_key_policy(_log_group_key, _drop_service_principals),
        {"logGroup.keyPolicy"},
        stack="prod",
        overrides=PROD_ONCALL,
    ),
    "rotation off on the function key": Tamper(
        disable_function_key_rotation,
        {"logGroup.encryption", "function.environmentKey"},
        stack="prod",
        overrides=PROD_ONCALL,
    ),
    "environment back to the AWS-managed key": Tamper(
        update_function(KMSKeyArn=""),
        {"function.environmentKey"},
        stack="prod",
        overrides=PROD_ONCALL,
    ),
    "tracing turned on by hand": Tamper(
        update_function(TracingConfig={"Mode": "Active"}), {"function.tracing"}
    ),
    "disable the mapping": Tamper(update_mapping(Enabled=False), {"mapping.enabled"}),
    "change its batch size": Tamper(update_mapping(BatchSize=100), {"mapping.batchSize"}),
    "unbounded retries": Tamper(update_mapping(MaximumRetryAttempts=-1), {"mapping.retryAttempts"}),
    "no record age limit": Tamper(
        update_mapping(MaximumRecordAgeInSeconds=-1), {"mapping.maxRecordAge"}
    ),
    "bisect off": Tamper(
        update_mapping(BisectBatchOnFunctionError=False), {"mapping.bisectOnError"}
    ),
    "batching window": Tamper(
        update_mapping(MaximumBatchingWindowInSeconds=30), {"mapping.batchingWindow"}
    ),
    "parallelization": Tamper(update_mapping(ParallelizationFactor=5), {"mapping.parallelization"}),
    "batch item failures off": Tamper(
        update_mapping(FunctionResponseTypes=[]), {"mapping.reportBatchItemFailures"}
    ),
    "add a filter": Tamper(
        update_mapping(FilterCriteria={"Filters": [{"Pattern": '{"eventName":["REMOVE"]}'}]}),
        {"mapping.filters"},
    ),
    "remove the mapping's failure destination": Tamper(
        update_mapping(DestinationConfig={"OnFailure": {}}), {"mapping.failureDestination"}
    ),
    "delete the failure queue": Tamper(delete_queue, {"failureDestination.exists"}),
    "unencrypted failure queue": Tamper(unencrypt_queue, {"failureDestination.encryption"}),
    "widen the role policy to *": Tamper(widen_role_policy, {"role.policy"}),
    "stream reads on every stream": Tamper(add_stream_wildcard, {"role.policy"}),
    "attach a managed policy": Tamper(attach_managed_policy, {"role.policy"}),
    "trust anyone": Tamper(trust_everyone, {"role.trust"}),
    "shorten log retention": Tamper(shorten_log_retention, {"logGroup.retention"}),
    "delete the log group": Tamper(delete_log_group, {"logGroup.retention"}),
    "text logs": Tamper(update_function(LoggingConfig={"LogFormat": "Text"}), {"function.logging"}),
    "log level": Tamper(
        update_function(LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"}),
        {"function.logging"},
    ),
    "memory": Tamper(update_function(MemorySize=512), {"function.memory"}),
    "timeout": Tamper(update_function(Timeout=900), {"function.timeout"}),
    "runtime": Tamper(update_function(Runtime="python3.12"), {"function.runtime"}),
    "handler": Tamper(update_function(Handler="other.handler"), {"function.handler"}),
    "environment": Tamper(
        update_function(Environment={"Variables": {"FAILURE_DESTINATION_TYPE": "sqs"}}),
        {"function.environment"},
    ),
    "unreserved concurrency": Tamper(unreserve_concurrency, {"function.reservedConcurrency"}),
    "delete an alarm": Tamper(delete_alarm, {"alarm.iterator-age"}),
    "raise an alarm's threshold": Tamper(raise_error_threshold, {"alarm.function-errors"}),
    "disable an alarm's actions": Tamper(silence_alarm, {"alarm.function-errors"}),
    "delete the dashboard": Tamper(delete_dashboard, {"dashboard"}),
    "let anyone publish to the alarm topic": Tamper(open_alarm_topic, {"alarms.topicPolicy"}),
    "unsubscribe the on-call email": Tamper(
        unsubscribe_email,
        {"alarms.subscriptions"},
        overrides={"alarms": {"emails": ["oncall@shop-ops.net"]}},
    ),
    "lock CloudWatch out of the topic key": Tamper(
        lock_cloudwatch_out_of_topic_key, {"alarms.topic"}, stack="prod", overrides=PROD_ONCALL
    ),
}


@pytest.mark.parametrize("case", TAMPERS)
def test_tampering_is_reported_by_name(
    fresh_deployment: Callable[..., Deployment], case: str
) -> None:
    tamper = TAMPERS[case]
    deployment = fresh_deployment(tamper.stack, **tamper.overrides)
    before = [finding for finding in run_checks(emulated_stack(deployment)) if not finding.ok]
    assert before == [], "the fresh deployment must pass before tampering"

    tamper.change(deployment.aws, deployment.outputs)

    findings = run_checks(emulated_stack(deployment))
    failed = {finding.name for finding in findings if not finding.ok}
    assert failed == tamper.detected_by, [f for f in findings if not f.ok]
    for finding in findings:
        if not finding.ok:
            assert finding.detail and finding.fix, finding
