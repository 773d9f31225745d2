"""Customer-managed KMS keys, shared by the components that encrypt with them.

Why a helper and not a component: a key is one resource with the same settings
everywhere (rotation on, 30-day deletion window); only its description and, for keys
that AWS services must use on their own (CloudWatch publishing to an encrypted topic),
its key policy differ. Without a policy AWS applies the default key policy, which
delegates use of the key to IAM policies in the account: the execution role is then
granted exactly kms:Decrypt / kms:GenerateDataKey on the key's ARN.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

KEY_DELETION_WINDOW_DAYS = 30


def customer_managed_key(
    name: str,
    description: str,
    tags: dict[str, str],
    parent: pulumi.Resource,
    policy: pulumi.Input[str] | None = None,
) -> aws.kms.Key:
    """A symmetric key with yearly automatic rotation, parented to `parent`."""
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
    policy: pulumi.Input[str] | None = None,
) -> pulumi.Output[str] | None:
    """The ARN of the customer-managed key a config choice resolves to, or None.

    `choice` is the config value: `create` makes a new key (named `name`, with `policy` if
    given), a key ARN is used as it is, and the keywords for keys AWS manages (`aws-owned`,
    `aws-managed`, `managed`, `none`) give None.
    """
    if choice == "create":
        return customer_managed_key(name, description, tags, parent, policy).arn
    if choice.startswith("arn:"):
        return pulumi.Output.from_input(choice)
    return None
