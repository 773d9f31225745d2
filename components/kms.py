"""Customer-managed KMS keys and their key policies, shared by the components.

Why a helper and not a component: a key is one resource with the same settings
everywhere (rotation on, 30-day deletion window, an explicit key policy); only its
description and the services allowed to use it differ.

Why an explicit key policy on every key (CKV2_AWS_64): without one, AWS applies its
default policy, `kms:*` for the account root, which lets ANY principal of the account
whose IAM policy says so encrypt and decrypt with the key. Here the policy has
- `KeyAdministration`: the account root (i.e. the IAM principals of this account whose IAM
  policies allow it: the deploying role) may administer the key (describe, change its
  policy, rotation, tags, aliases, disable, schedule deletion) so it never becomes
  unmanageable, but NOT use it for cryptography and not `kms:CreateGrant` (a grant could
  give that use back). IAM policies alone therefore cannot grant Decrypt on these keys;
- one statement per service that uses the key, each conditioned so the grant cannot be
  used for another account or resource (confused deputy): a service principal
  (CloudWatch Logs, CloudWatch alarms) with `aws:SourceAccount`/`aws:SourceArn` or the
  service's encryption context, or the account's principals (the root principal: only
  those whose IAM policy also allows it, such as the execution role's statements scoped to
  this key's ARN) only through one service in this region (`kms:ViaService` +
  `kms:CallerAccount`: DynamoDB, SQS, SNS, Lambda, S3). AWS's own managed keys
  (aws/dynamodb) use the same conditions with principal `*`; naming the account root
  instead keeps IAM in the loop and the policy free of wildcard principals.

Policies are plain dicts built by pure functions, so tests read them statement by
statement and doctor compares the deployed policy with the same builder's output.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

KEY_DELETION_WINDOW_DAYS = 30
POLICY_VERSION = "2012-10-17"

# What the account's administrators may do to a key (AWS's "key administrators" set,
# written out without wildcards and without kms:CreateGrant, so no cryptographic use).
KEY_ADMINISTRATION_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
]
# Services that encrypt resources for callers of this account (kms:ViaService): what they
# need on the key (AWS's managed-key policies for DynamoDB / SQS / SNS / Lambda / S3).
VIA_SERVICE_ACTIONS = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
    "kms:CreateGrant",
]
# CloudWatch Logs encrypting a log group (CloudWatch Logs guide, "Encrypt log data in
# CloudWatch Logs using AWS KMS": step 2, the key policy).
LOGS_ACTIONS = [
    "kms:Decrypt*",
    "kms:Describe*",
    "kms:Encrypt*",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
]
# CloudWatch publishing alarm notifications to an encrypted topic (aws-facts: KMS gotchas).
CLOUDWATCH_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey*"]
CLOUDWATCH_SERVICE = "cloudwatch.amazonaws.com"


@dataclass(frozen=True)
class Account:
    """Where the keys live: the partition, region and account of the stack."""

    partition: str
    region: str
    account: str

    @property
    def root(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:root"


# A key user: given the account, the statement that lets one service use the key.
KeyUser = Callable[[Account], dict]


def key_policy(account: Account, users: Sequence[KeyUser]) -> dict:
    """The key policy: account administration, then one conditioned statement per user."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {"Sid": "KeyAdministration", "Effect": "Allow",
             "Principal": {"AWS": account.root},
             "Action": KEY_ADMINISTRATION_ACTIONS, "Resource": "*"},
            *(user(account) for user in users),
        ],
    }  # fmt: skip


def service_principal(
    sid: str, service: str, actions: Sequence[str], condition: Callable[[Account], dict]
) -> KeyUser:
    """A service principal (e.g. `logs.<region>.amazonaws.com`: pass `{region}`) that uses
    the key itself, under `condition` (source account / ARN or encryption context)."""

    def statement(account: Account) -> dict:
        return {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": service.format(region=account.region)},
            "Action": list(actions),
            "Resource": "*",
            "Condition": condition(account),
        }

    return statement


def via_service(sid: str, service: str, actions: Sequence[str] = VIA_SERVICE_ACTIONS) -> KeyUser:
    """This account's principals, only through `service` (e.g. "dynamodb") in this region.

    The principal is the account root, so a caller also needs an IAM policy allowing the
    KMS action on this key (the execution role's statements name the key's ARN), besides
    the service's own permission (dynamodb:GetRecords, sqs:SendMessage ...).
    """

    def statement(account: Account) -> dict:
        return {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"AWS": account.root},
            "Action": list(actions),
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:CallerAccount": account.account,
                    "kms:ViaService": f"{service}.{account.region}.amazonaws.com",
                }
            },
        }

    return statement


def logs_user(log_group_name: str) -> KeyUser:
    """CloudWatch Logs, for one log group (its ARN is the encryption context)."""

    def condition(account: Account) -> dict:
        arn = f"arn:{account.partition}:logs:{account.region}:{account.account}"
        return {
            "ArnEquals": {"kms:EncryptionContext:aws:logs:arn": f"{arn}:log-group:{log_group_name}"}
        }

    return service_principal("CloudWatchLogsEncryptLogGroup", "logs.{region}.amazonaws.com",
                             LOGS_ACTIONS, condition)  # fmt: skip


def cloudwatch_alarms_user() -> KeyUser:
    """CloudWatch alarms of this account and region, publishing to an encrypted topic."""

    def condition(account: Account) -> dict:
        alarms = f"arn:{account.partition}:cloudwatch:{account.region}:{account.account}:alarm:*"
        return {
            "StringEquals": {"aws:SourceAccount": account.account},
            "ArnLike": {"aws:SourceArn": alarms},
        }

    return service_principal("CloudWatchAlarmsPublish", CLOUDWATCH_SERVICE, CLOUDWATCH_ACTIONS,
                             condition)  # fmt: skip


def stack_account(parent: pulumi.Resource) -> pulumi.Output[Account]:
    """The stack's partition, region and account, looked up through the provider."""
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    return pulumi.Output.all(
        aws.get_partition_output(opts=invoke).partition,
        aws.get_region_output(opts=invoke).region,
        aws.get_caller_identity_output(opts=invoke).account_id,
    ).apply(lambda values: Account(*values))


def customer_managed_key(
    name: str,
    description: str,
    tags: dict[str, str],
    parent: pulumi.Resource,
    users: Sequence[KeyUser] = (),
) -> aws.kms.Key:
    """A symmetric key with yearly rotation and an explicit policy, parented to `parent`."""
    policy = stack_account(parent).apply(lambda account: json.dumps(key_policy(account, users)))
    return aws.kms.Key(
        name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
        policy=policy,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def key_arn_for(
    choice: str,
    name: str,
    description: str,
    tags: dict[str, str],
    parent: pulumi.Resource,
    users: Sequence[KeyUser] = (),
) -> pulumi.Output[str] | None:
    """The ARN of the customer-managed key a config choice resolves to, or None.

    `choice` is the config value: `create` makes a new key (named `name`, whose policy lets
    `users` use it), a key ARN is used as it is (its policy is the owner's: doctor checks
    that it allows what the stack needs), and the keywords for keys AWS manages
    (`aws-owned`, `aws-managed`, `managed`, `sse-s3`, `none`) give None.
    """
    if choice == "create":
        return customer_managed_key(name, description, tags, parent, users).arn
    if choice.startswith("arn:"):
        return pulumi.Output.from_input(choice)
    return None
