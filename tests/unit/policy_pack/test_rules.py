"""Each rule catches a deliberately broken configuration and passes a compliant one.

Broken variants come from stack config where the config accepts the insecure value, else
from editing one registration's inputs (see conftest.py); each test says which and why.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from policy import rules
from policy.rules import RULES_BY_ID
from tests.unit.policy_pack.conftest import REMOVE, add, edit, messages, one, stack_graph

ACCOUNT = "123456789012"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:ecommerce-prod-stream-processor"


def rule(rule_id: str) -> rules.Rule:
    return RULES_BY_ID[rule_id]


# ---------------------------------------------------------------------------------------
# FSBP Lambda.1: the program grants no resource-based permissions at all (the mapping
# invokes through the execution role), so broken cases add a hand-made permission.
# ---------------------------------------------------------------------------------------
LAMBDA_1 = rule("fsbp-lambda-1")


def test_lambda_1_catches_a_permission_open_to_everyone(prod):
    broken = add(
        prod, rules.PERMISSION, "public", action="lambda:InvokeFunction",
        function=FUNCTION_ARN, principal="*",
    )  # fmt: skip
    assert messages(LAMBDA_1, broken) == [
        "permission grants lambda:InvokeFunction to principal '*' without sourceArn, "
        "sourceAccount or principalOrgId: the function is public"
    ]


def test_lambda_1_catches_a_service_principal_without_source_condition(prod):
    broken = add(
        prod, rules.PERMISSION, "s3", action="lambda:InvokeFunction",
        function=FUNCTION_ARN, principal="s3.amazonaws.com",
    )  # fmt: skip
    assert "for any account" in messages(LAMBDA_1, broken)[0]


def test_lambda_1_catches_an_unauthenticated_function_url(prod):
    broken = add(
        prod, rules.FUNCTION_URL, "url", functionName=FUNCTION_ARN, authorizationType="NONE"
    )
    assert len(messages(LAMBDA_1, broken)) == 1


def test_lambda_1_passes_scoped_permissions_and_the_real_graph(prod):
    scoped = add(
        prod, rules.PERMISSION, "s3", action="lambda:InvokeFunction", function=FUNCTION_ARN,
        principal="s3.amazonaws.com", sourceArn="arn:aws:s3:::bucket", sourceAccount=ACCOUNT,
    )  # fmt: skip
    scoped = add(
        scoped, rules.PERMISSION, "account", action="lambda:InvokeFunction",
        function=FUNCTION_ARN, principal=ACCOUNT,
    )  # fmt: skip
    scoped = add(
        scoped, rules.FUNCTION_URL, "url", functionName=FUNCTION_ARN, authorizationType="AWS_IAM"
    )
    assert messages(LAMBDA_1, scoped) == []
    assert messages(LAMBDA_1, prod) == []


# ---------------------------------------------------------------------------------------
# FSBP Lambda.2 / CKV_AWS_363: config validation already refuses deprecated runtimes,
# so the broken case edits the function's inputs.
# ---------------------------------------------------------------------------------------
LAMBDA_2 = rule("fsbp-lambda-2-ckv-aws-363")


@pytest.mark.parametrize("runtime", ["python3.9", "python3.10"])
def test_lambda_2_catches_a_deprecated_runtime(prod, runtime):
    broken = edit(prod, rules.FUNCTION, runtime=runtime)
    assert messages(LAMBDA_2, broken) == [
        f"runtime {runtime} was deprecated by AWS Lambda on "
        f"{'2025-12-15' if runtime == 'python3.9' else '2026-10-31'}"
    ]


def test_lambda_2_catches_a_runtime_it_does_not_know(prod):
    broken = edit(prod, rules.FUNCTION, runtime="python2.7")
    assert "not a runtime this pack knows" in messages(LAMBDA_2, broken)[0]


def test_lambda_2_passes_supported_runtimes(prod):
    assert messages(LAMBDA_2, prod) == []  # python3.13
    function = one(prod, rules.FUNCTION)
    on_a_date = list(rules.supported_runtime(function, today=dt.date(2029, 7, 1)))
    assert on_a_date == ["runtime python3.13 was deprecated by AWS Lambda on 2029-06-30"]


# ---------------------------------------------------------------------------------------
# FSBP DynamoDB.1 / CKV2_AWS_16: broken through config (billingMode PROVISIONED, as dev);
# the program creates no auto scaling, so the compliant provisioned case adds it by hand.
# ---------------------------------------------------------------------------------------
DYNAMODB_1 = rule("fsbp-dynamodb-1-ckv2-aws-16")
PROVISIONED = {
    "table.billingMode": "PROVISIONED",
    "table.readCapacity": 5,
    "table.writeCapacity": 5,
}


def with_auto_scaling(resources, dimensions=("ReadCapacityUnits", "WriteCapacityUnits")):
    name = one(resources, rules.TABLE).props["name"]
    for dimension in dimensions:
        scope = {
            "resourceId": f"table/{name}",
            "scalableDimension": f"dynamodb:table:{dimension}",
            "serviceNamespace": "dynamodb",
        }
        resources = add(
            resources,
            rules.SCALING_TARGET,
            f"{dimension}-target",
            minCapacity=5,
            maxCapacity=50,
            **scope,
        )
        resources = add(
            resources,
            rules.SCALING_POLICY,
            f"{dimension}-policy",
            policyType="TargetTrackingScaling",
            **scope,
        )
    return resources


def test_dynamodb_1_catches_provisioned_capacity_without_auto_scaling():
    broken = stack_graph("prod", PROVISIONED)
    assert messages(DYNAMODB_1, broken) == [
        "table ecommerce-prod is PROVISIONED without auto scaling (target and policy) for: "
        "table/ecommerce-prod ReadCapacityUnits, table/ecommerce-prod WriteCapacityUnits"
    ]
    half = with_auto_scaling(broken, dimensions=("ReadCapacityUnits",))
    assert "WriteCapacityUnits" in messages(DYNAMODB_1, half)[0]
    assert "ReadCapacityUnits" not in messages(DYNAMODB_1, half)[0]


def test_dynamodb_1_catches_a_scaling_target_without_a_policy():
    provisioned = stack_graph("prod", PROVISIONED)
    scaled = with_auto_scaling(provisioned)
    targets_only = tuple(r for r in scaled if r.type != rules.SCALING_POLICY)
    assert len(messages(DYNAMODB_1, targets_only)) == 1


def test_dynamodb_1_passes_on_demand_and_auto_scaled_tables(prod):
    assert messages(DYNAMODB_1, prod) == []  # PAY_PER_REQUEST
    assert messages(DYNAMODB_1, with_auto_scaling(stack_graph("prod", PROVISIONED))) == []


# ---------------------------------------------------------------------------------------
# Table settings the config can switch off: broken through config.
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule_id", "override", "expected"),
    [
        ("fsbp-dynamodb-2-ckv-aws-28", {"table.pointInTimeRecovery": False},
         "pointInTimeRecovery.enabled is not true: the table cannot be restored"),
        ("fsbp-dynamodb-6", {"table.deletionProtection": False},
         "deletionProtectionEnabled is not true: one API call deletes the table"),
        ("ckv-aws-119", {"table.kmsKey": "aws-owned"},
         "serverSideEncryption is off: the table uses the AWS-owned key"),
        ("ckv-aws-119", {"table.kmsKey": "aws-managed"},
         "serverSideEncryption has no kmsKeyArn: the table uses the AWS-managed key"),
        ("ckv-aws-115", {"function.reservedConcurrency": -1},
         "reservedConcurrentExecutions is not set: the function competes for the account's "
         "shared pool and has no upper bound"),
        ("ckv-aws-66-ckv-aws-338", {"function.logRetentionDays": 30},
         "retentionInDays is 30: keep logs 0 (forever) or >= 365"),
        ("fsbp-sns-1-ckv-aws-26", {"alarms.topicKmsKey": "none"},
         "kmsMasterKeyId is not set: messages are stored unencrypted"),
    ],
)  # fmt: skip
def test_config_driven_rules_catch_the_insecure_value(prod, rule_id, override, expected):
    assert messages(rule(rule_id), prod) == []
    assert messages(rule(rule_id), stack_graph("prod", override)) == [expected]


@pytest.mark.parametrize(
    ("rule_id", "override"),
    [
        ("ckv-aws-119", {"table.kmsKey": KEY_ARN}),
        ("ckv-aws-66-ckv-aws-338", {"function.logRetentionDays": 0}),
        ("ckv-aws-66-ckv-aws-338", {"function.logRetentionDays": 731}),
        ("ckv-aws-115", {"function.reservedConcurrency": 1}),
    ],
)  # fmt: skip
def test_config_driven_rules_pass_other_compliant_values(rule_id, override):
    assert messages(rule(rule_id), stack_graph("prod", override)) == []


def test_log_retention_catches_a_log_group_without_retention(prod):
    # The config always sets retention; a log group without it never expires (CKV_AWS_66).
    broken = edit(prod, rules.LOG_GROUP, retentionInDays=REMOVE)
    assert messages(rule("ckv-aws-66-ckv-aws-338"), broken) == ["retentionInDays is not set"]


# ---------------------------------------------------------------------------------------
# FSBP SQS.1 / SNS.1: the program has no unencrypted choice, so broken cases edit inputs.
# ---------------------------------------------------------------------------------------
SQS_1 = rule("fsbp-sqs-1-ckv-aws-27")
SNS_1 = rule("fsbp-sns-1-ckv-aws-26")
FAILURES = "-failures"  # the failure destination's name; the alarms component adds a topic too


def test_sqs_1_catches_an_unencrypted_queue(dev):
    broken = edit(dev, rules.QUEUE, sqsManagedSseEnabled=REMOVE)
    assert len(messages(SQS_1, broken)) == 1
    broken = edit(dev, rules.QUEUE, sqsManagedSseEnabled=False)
    assert len(messages(SQS_1, broken)) == 1


def test_sqs_1_passes_sse_sqs_and_kms_queues(dev):
    # prod's destination is S3 (issue 14): its queue variant holds the customer-managed key.
    prod_queue = stack_graph("prod", {"trigger.onFailure": "sqs"})
    assert "sqsManagedSseEnabled" in one(dev, rules.QUEUE).props
    assert "kmsMasterKeyId" in one(prod_queue, rules.QUEUE).props
    assert messages(SQS_1, dev) == messages(SQS_1, prod_queue) == []


@pytest.mark.parametrize("destination_key", ["managed", "create"])
def test_sns_1_passes_the_sns_failure_destination(destination_key):
    topic_stack = stack_graph(
        "prod", {"trigger.onFailure": "sns", "trigger.destinationKmsKey": destination_key}
    )
    assert one(topic_stack, rules.TOPIC, FAILURES)
    assert messages(SNS_1, topic_stack) == []


def test_sns_1_catches_an_unencrypted_topic():
    topic_stack = stack_graph("prod", {"trigger.onFailure": "sns"})
    broken = edit(topic_stack, rules.TOPIC, FAILURES, kmsMasterKeyId=REMOVE)
    assert messages(SNS_1, broken) == ["kmsMasterKeyId is not set: messages are stored unencrypted"]


# ---------------------------------------------------------------------------------------
# CKV_AWS_319 / CloudWatch.15/.17: the alarms component always wires its topic into every
# alarm, so broken cases edit a real alarm's inputs or add hand-built ones.
# ---------------------------------------------------------------------------------------
ALARMS = rule("ckv-aws-319-fsbp-cloudwatch-15-17")
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:alarms"
ALARM = {"metricName": "IteratorAge", "namespace": "AWS/Lambda", "statistic": "Maximum",
         "comparisonOperator": "GreaterThanThreshold", "threshold": 60000, "evaluationPeriods": 1,
         "period": 60}  # fmt: skip


def test_alarm_rule_passes_the_real_alarms_and_catches_one_silenced(prod):
    alarms = [r for r in prod if r.type == rules.METRIC_ALARM]
    assert len(alarms) >= 6 and all(alarm.props["alarmActions"] for alarm in alarms)
    assert messages(ALARMS, prod) == []
    silenced = edit(prod, rules.METRIC_ALARM, "iterator-age", actionsEnabled=False)
    assert messages(ALARMS, silenced) == ["actionsEnabled is false: the alarm notifies nobody"]
    no_action = edit(prod, rules.METRIC_ALARM, "iterator-age", alarmActions=[])
    assert messages(ALARMS, no_action) == ["alarmActions is empty: entering ALARM notifies nobody"]


def test_alarm_rule_catches_disabled_or_missing_actions(prod):
    disabled = add(
        prod, rules.METRIC_ALARM, "age", actionsEnabled=False, alarmActions=[TOPIC_ARN], **ALARM
    )
    assert messages(ALARMS, disabled) == ["actionsEnabled is false: the alarm notifies nobody"]
    silent = add(prod, rules.METRIC_ALARM, "age", **ALARM)
    assert messages(ALARMS, silent) == ["alarmActions is empty: entering ALARM notifies nobody"]
    composite = add(prod, rules.COMPOSITE_ALARM, "any", alarmRule="ALARM(a)", alarmActions=[])
    assert len(messages(ALARMS, composite)) == 1


def test_alarm_rule_passes_alarms_that_notify(prod):
    notifying = add(
        prod, rules.METRIC_ALARM, "age", actionsEnabled=True, alarmActions=[TOPIC_ARN], **ALARM
    )
    notifying = add(notifying, rules.METRIC_ALARM, "errors", alarmActions=[TOPIC_ARN], **ALARM)
    assert messages(ALARMS, notifying) == []


# ---------------------------------------------------------------------------------------
# FSBP IAM.1, CKV_AWS_62/63/355: the real execution policy passes (ListStreams is the one
# documented `*`); broken cases edit the policy document the program generates.
# ---------------------------------------------------------------------------------------
IAM_1 = rule("fsbp-iam-1-ckv-aws-62-63-355")


def with_statement(resources, statement):
    role_policy = one(resources, rules.ROLE_POLICY)
    document = json.loads(role_policy.props["policy"])
    document["Statement"].append(statement)
    return edit(resources, rules.ROLE_POLICY, policy=json.dumps(document))


def test_iam_1_passes_the_generated_execution_policy(dev, prod):
    statements = json.loads(one(prod, rules.ROLE_POLICY).props["policy"])["Statement"]
    assert {"Sid": "ListStreams", "Effect": "Allow", "Action": ["dynamodb:ListStreams"],
            "Resource": "*"} in statements  # fmt: skip
    assert messages(IAM_1, prod) == messages(IAM_1, dev) == []


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({"Sid": "Admin", "Effect": "Allow", "Action": "*", "Resource": "*"},
         ["policy: statement 'Admin' allows Action '*'"]),
        ({"Sid": "AnyQueue", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "*"},
         ["policy: statement 'AnyQueue' allows ['sqs:SendMessage'] on Resource '*': "
          "scope them to ARNs"]),
        ({"Sid": "Wild", "Effect": "Allow", "Action": ["dynamodb:*"], "Resource": ["*"]},
         ["policy: statement 'Wild' allows ['dynamodb:*'] on Resource '*': scope them to ARNs"]),
        ({"Sid": "Inverse", "Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"},
         ["policy: statement 'Inverse' allows NotAction, i.e. every other action"]),
    ],
)  # fmt: skip
def test_iam_1_catches_wildcard_grants(prod, statement, expected):
    assert messages(IAM_1, with_statement(prod, statement)) == expected


def test_iam_1_ignores_deny_statements(prod):
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*"}
    assert messages(IAM_1, with_statement(prod, deny)) == []


def test_iam_1_checks_role_inline_policies(prod):
    inline = [
        {
            "name": "extra",
            "policy": json.dumps(
                {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            ),
        }
    ]
    broken = edit(prod, rules.ROLE, inlinePolicies=inline)
    assert messages(IAM_1, broken) == [
        "inline policy 'extra': statement allowing ['*'] allows Action '*'"
    ]


def test_iam_1_catches_a_key_policy_open_to_everyone(prod):
    # The alarm topic's real key policy (account root + CloudWatch) passes; one more
    # statement open to any principal, without a condition, is caught.
    alarms_key = one(prod, rules.KMS_KEY, "alarms")
    assert messages(IAM_1, (alarms_key,)) == []
    document = json.loads(alarms_key.props["policy"])
    document["Statement"].append(
        {"Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*",
         "Resource": "*"}
    )  # fmt: skip
    broken = edit(prod, rules.KMS_KEY, "alarms", policy=json.dumps(document))
    assert messages(IAM_1, broken) == [
        "key policy statement 'Anyone' lets any principal use the key"
    ]


def test_iam_1_passes_key_policies_for_named_principals(prod):
    # The alarms topic key: account root administers it, CloudWatch may use it.
    key_policy = {"Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "CloudWatch", "Effect": "Allow",
         "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"},
        {"Sid": "ViaSns", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
         "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT}}},
    ]}  # fmt: skip
    with_key = add(prod, rules.KMS_KEY, "alarms-key", policy=json.dumps(key_policy))
    assert messages(IAM_1, with_key) == []


# ---------------------------------------------------------------------------------------
# CKV_AWS_60/61: the trust policy is a constant in the program, so broken cases edit it.
# ---------------------------------------------------------------------------------------
TRUST = rule("ckv-aws-60-61")


@pytest.mark.parametrize(
    ("principal", "culprit"),
    [
        ({"AWS": "*"}, "['AWS:*']"),
        ("*", "['*:*']"),
        (
            {"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]},
            "['Service:ec2.amazonaws.com']",
        ),
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, f"['AWS:arn:aws:iam::{ACCOUNT}:root']"),
    ],
)
def test_trust_rule_catches_principals_other_than_lambda(prod, principal, culprit):
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}  # fmt: skip
    broken = edit(prod, rules.ROLE, assumeRolePolicy=json.dumps(trust))
    found = messages(TRUST, broken)
    assert len(found) == 1 and culprit in found[0]


def test_trust_rule_passes_the_lambda_only_trust_policy(dev, prod):
    assert json.loads(one(prod, rules.ROLE).props["assumeRolePolicy"])["Statement"][0][
        "Principal"
    ] == {"Service": "lambda.amazonaws.com"}
    assert messages(TRUST, prod) == messages(TRUST, dev) == []


# ---------------------------------------------------------------------------------------
# CKV_AWS_116: a real check that ships suppressed (see test_pack.py for the suppression).
# ---------------------------------------------------------------------------------------
DLQ = rule("ckv-aws-116")


def test_dlq_check_catches_a_function_without_dlq(prod):
    assert messages(DLQ, prod) == ["deadLetterConfig.targetArn is not set"]


def test_dlq_check_passes_a_function_with_dlq(prod):
    with_dlq = edit(
        prod, rules.FUNCTION, deadLetterConfig={"targetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq"}
    )
    assert messages(DLQ, with_dlq) == []
