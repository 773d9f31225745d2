"""Doctor's reading of a key policy given by ARN: does it let the stack's services use it?

Cases are AWS's own documented policy shapes: the default key policy (root `kms:*`, which
delegates to IAM), the AWS-managed DynamoDB key's policy (principal `*` through DynamoDB for
the account's callers), CloudWatch Logs' documented key policy statement, and the policies
components/kms.py builds.
"""

from __future__ import annotations

from components.kms import Account, cloudwatch_alarms_user, key_policy, logs_user, via_service
from components.table import TABLE_KEY_USER
from streamops.doctor.key_policies import missing_grants

ACCOUNT = Account("aws", "us-east-1", "111122223333")
ROOT = "arn:aws:iam::111122223333:root"
LOG_GROUP = "/aws/lambda/orders-processor"
LOGS = logs_user(LOG_GROUP)

# "Default key policy" (KMS developer guide): the account root may do anything.
DEFAULT_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                   "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}],
}  # fmt: skip
# The aws/dynamodb managed key's policy (DynamoDB developer guide).
DYNAMODB_MANAGED_STYLE = {
    "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                   "kms:CreateGrant", "kms:DescribeKey"],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:CallerAccount": "111122223333",
                                       "kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}},
    }],
}  # fmt: skip
# CloudWatch Logs guide, "Encrypt log data in CloudWatch Logs using AWS KMS" (any group).
LOGS_DOCUMENTED = {
    "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                   "kms:Describe*"],
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                  "arn:aws:logs:us-east-1:111122223333:log-group:*"}},
    }],
}  # fmt: skip


def test_the_policies_the_program_builds_allow_what_it_needs():
    users = [TABLE_KEY_USER, LOGS, via_service("UseThroughLambda", "lambda"),
             cloudwatch_alarms_user()]  # fmt: skip
    assert missing_grants(key_policy(ACCOUNT, users), ACCOUNT, users) == []


def test_default_key_policy_delegates_account_use_but_grants_no_service_principal():
    assert missing_grants(DEFAULT_POLICY, ACCOUNT, [TABLE_KEY_USER]) == []
    missing = missing_grants(DEFAULT_POLICY, ACCOUNT, [LOGS])
    assert missing[0] == (
        "does not allow kms:Decrypt* for Service:logs.us-east-1.amazonaws.com "
        "(CloudWatchLogsEncryptLogGroup)"
    )
    assert len(missing) == 5  # every action CloudWatch Logs needs


def test_managed_style_policy_allows_its_service_only():
    assert missing_grants(DYNAMODB_MANAGED_STYLE, ACCOUNT, [TABLE_KEY_USER]) == []
    # The same conditions name DynamoDB: SQS requests would not match them.
    assert missing_grants(DYNAMODB_MANAGED_STYLE, ACCOUNT, [via_service("UseThroughSqs", "sqs")])


def test_a_documented_wildcard_log_group_condition_covers_this_log_group():
    assert missing_grants(LOGS_DOCUMENTED, ACCOUNT, [LOGS]) == []
    other_account = {"Statement": [{**LOGS_DOCUMENTED["Statement"][0], "Condition": {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                    "arn:aws:logs:us-east-1:444455556666:log-group:*"}}}]}  # fmt: skip
    assert missing_grants(other_account, ACCOUNT, [LOGS])


def test_a_deny_is_reported_as_blocking():
    denied = {"Statement": [*DEFAULT_POLICY["Statement"],
                            {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt",
                             "Resource": "*"}]}  # fmt: skip
    found = missing_grants(denied, ACCOUNT, [TABLE_KEY_USER])
    assert found == [
        "denies kms:Decrypt for AWS:arn:aws:iam::111122223333:root (UseThroughDynamoDB)"
    ]
