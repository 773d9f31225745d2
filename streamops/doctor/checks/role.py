"""Checks of the execution role: trusted by Lambda only, granting exactly the policy the
program builds (components.function.execution_policy) for this deployment's ARNs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from components.function import ACTIVE_TRACING, LAMBDA_TRUST_POLICY, execution_policy
from streamops.doctor.checks.keys import _key_facts
from streamops.doctor.checks.model import DeployedStack, Finding, failed, group, passed
from streamops.doctor.checks.policies import (
    _all_pages,
    _document,
    _statements,
    describe_difference,
    grants,
)


@group("role.trust")
def check_role(stack: DeployedStack) -> Iterator[Finding]:
    iam = stack.aws("iam")
    role_name = stack.function()["Configuration"]["Role"].rsplit("/", 1)[-1]
    role = iam.get_role(RoleName=role_name)["Role"]
    inline = {
        policy: iam.get_role_policy(RoleName=role_name, PolicyName=policy)["PolicyDocument"]
        for policy in _all_pages(iam, "list_role_policies", "PolicyNames", RoleName=role_name)
    }
    attached = [
        policy["PolicyArn"]
        for policy in _all_pages(
            iam, "list_attached_role_policies", "AttachedPolicies", RoleName=role_name
        )
    ]
    expected = expected_execution_policy(stack)

    trust, wanted_trust = (
        grants(_document(role["AssumeRolePolicyDocument"])),
        grants(LAMBDA_TRUST_POLICY),
    )
    if trust == wanted_trust:
        yield passed("role.trust", f"{role_name} can be assumed by lambda.amazonaws.com only")
    else:
        yield failed(
            "role.trust",
            f"{role_name} trust policy: {describe_difference(trust, wanted_trust)}",
            "restore the trust policy to lambda.amazonaws.com sts:AssumeRole only (`pulumi up`)",
        )
    deployed = (
        set().union(*(grants(_document(doc)) for doc in inline.values())) if inline else set()
    )
    problems = []
    if attached:
        problems.append(f"managed policies attached: {', '.join(attached)}")
    if deployed != grants(expected):
        problems.append(describe_difference(deployed, grants(expected)))
    if problems:
        yield failed(
            "role.policy",
            f"{role_name}: " + "; ".join(problems),
            "remove the extra permissions / attachments and run `pulumi up`: the role must grant "
            "exactly the stream reads, its own log writes and the failure destination",
        )
    else:
        count = sum(len(_statements(_document(doc))) for doc in inline.values())
        yield passed(
            "role.policy",
            f"{role_name}: {len(inline)} inline policy, {count} statements, exactly the needed "
            "actions on the needed ARNs, no managed policies",
        )


def expected_execution_policy(stack: DeployedStack) -> dict[str, Any]:
    """The policy document the program builds, for this deployment's ARNs."""
    config = stack.config
    partition, region, account = stack.arn_part(1), stack.arn_part(3), stack.arn_part(4)
    log_group_arn = (
        f"arn:{partition}:logs:{region}:{account}:log-group:{stack.output('logGroupName')}"
    )
    return execution_policy(
        stream_arn=stack.output("streamArn"),
        log_group_arn=log_group_arn,
        destination_kind=config.trigger.on_failure,
        destination_arn=stack.output("failureDestinationArn"),
        destination_kms_key_arn=_destination_key_arn(stack),
        table_kms_key_arn=_table_key_arn(stack),
        tracing_active=config.function.tracing == ACTIVE_TRACING,
    )


def _destination_key_arn(stack: DeployedStack) -> str | None:
    choice = stack.config.trigger.destination_kms_key
    if choice in ("managed", "sse-s3"):
        return None
    if choice.startswith("arn:"):
        return choice
    if stack.config.trigger.on_failure == "s3":
        by_default = stack.bucket_encryption().get("ApplyServerSideEncryptionByDefault") or {}
        bucket_key = _key_facts(stack, by_default.get("KMSMasterKeyID"))
        return bucket_key.arn if bucket_key else None
    attributes = (
        stack.queue_attributes()
        if stack.config.trigger.on_failure == "sqs"
        else stack.topic_attributes()
    )
    key = _key_facts(stack, attributes.get("KmsMasterKeyId"))
    return key.arn if key else None


def _table_key_arn(stack: DeployedStack) -> str | None:
    choice = stack.config.table.kms_key
    if choice.startswith("arn:"):
        return choice
    if stack.config.table.existing or choice == "create":
        # The program takes the key of an existing table from the table itself.
        return (stack.table().get("SSEDescription") or {}).get("KMSMasterKeyArn") or None
    return None
