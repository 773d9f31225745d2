"""KMS keys: what KMS says about a key, whether it is as configured, and its key policy
(a created key has exactly the policy components/kms.py builds).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from components.kms import KeyUser, key_policy
from streamops.doctor.checks.model import REDEPLOY, DeployedStack, Finding, failed, passed
from streamops.doctor.checks.policies import describe_difference, grants
from streamops.doctor.key_policies import missing_grants


@dataclass(frozen=True)
class KeyFacts:
    arn: str
    customer_managed: bool
    enabled: bool
    rotation: bool
    aliases: tuple[str, ...]


def _key_facts(stack: DeployedStack, key: str | None) -> KeyFacts | None:
    """What KMS says about the key `key` (ARN, id or alias), or None if there is none."""
    if not key:
        return None
    kms = stack.aws("kms")
    metadata = kms.describe_key(KeyId=key)["KeyMetadata"]
    key_id = metadata["KeyId"]
    aliases = tuple(alias["AliasName"] for alias in kms.list_aliases(KeyId=key_id)["Aliases"])
    customer = metadata.get("KeyManager") == "CUSTOMER" and not any(
        alias.startswith("alias/aws/") for alias in aliases
    )
    rotation = customer and kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]
    return KeyFacts(
        arn=metadata["Arn"],
        customer_managed=customer,
        enabled=metadata.get("KeyState") == "Enabled",
        rotation=bool(rotation),
        aliases=aliases,
    )


def _key_judgement(name: str, what: str, choice: str, key: KeyFacts | None) -> Finding:
    """A customer-managed key as configured: created by the stack, or the given ARN."""
    if key is None:
        return failed(name, f"{what} is not encrypted with a customer-managed key", REDEPLOY)
    if choice.startswith("arn:") and key.arn != choice:
        return failed(name, f"{what} uses key {key.arn}, configured {choice}")
    if not key.customer_managed:
        return failed(name, f"{what} uses {key.arn}, which is not a customer-managed key")
    if not key.enabled:
        return failed(
            name,
            f"{what} key {key.arn} is not enabled: reads and writes fail",
            "enable the key (aws kms enable-key) or restore it if it is pending deletion",
        )
    if choice == "create" and not key.rotation:
        return failed(name, f"{what} key {key.arn} has automatic rotation off")
    return passed(name, f"{what} encrypted with customer-managed key {key.arn}")


def key_policy_finding(
    stack: DeployedStack,
    name: str,
    what: str,
    choice: str,
    key_arn: str,
    users: list[KeyUser],
) -> Finding:
    """A created key has exactly the policy components/kms.py builds; a key given by ARN
    (its owner's policy) must at least let the stack's services use it."""
    deployed = json.loads(
        stack.aws("kms").get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
    )
    account = stack.account()
    if choice == "create":
        wanted = grants(key_policy(account, users))
        found = grants(deployed)
        if found != wanted:
            return failed(
                name,
                f"key policy of {what} key {key_arn}: {describe_difference(found, wanted)}",
                REDEPLOY,
            )
        return passed(name, f"{what} key policy: administration + {len(users)} conditioned use(s)")
    problems = missing_grants(deployed, account, users)
    if problems:
        return failed(
            name,
            f"policy of the configured {what} key {key_arn} " + "; ".join(problems),
            "the key's owner must add the missing statement (see README, Security: key "
            "policies), or configure another key",
        )
    return passed(
        name, f"policy of the configured {what} key {key_arn} allows what the stack needs"
    )
