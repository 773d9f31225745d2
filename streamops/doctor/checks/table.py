"""Checks of the table and its stream: status, stream view, recovery, deletion
protection, encryption and TTL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from components.config import VIEWS_WITH_IMAGE
from components.table import TABLE_KEY_USER
from streamops.doctor.checks.keys import KeyFacts, _key_facts, _key_judgement, key_policy_finding
from streamops.doctor.checks.model import DeployedStack, Finding, compare, failed, group, passed

AWS_MANAGED_DYNAMODB_KEY = "alias/aws/dynamodb"


@group("table.status")
def check_table(stack: DeployedStack) -> Iterator[Finding]:
    config = stack.config.table
    table = stack.table()
    name = table["TableName"]
    created = not config.existing
    if created:
        dynamodb = stack.aws("dynamodb")
        backups = dynamodb.describe_continuous_backups(TableName=name)
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        encryption_key = _key_facts(
            stack, (table.get("SSEDescription") or {}).get("KMSMasterKeyArn")
        )

    status = table["TableStatus"]
    yield compare(
        "table.status",
        f"table {name} status",
        status,
        "ACTIVE",
        fix="wait until the table is ACTIVE; if it stays "
        f"{status}, look at the table in the DynamoDB console",
    )
    yield _stream_finding(stack, table)
    if not created:
        return  # an existing table keeps its own settings: only its stream matters here
    recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    yield compare(
        "table.pointInTimeRecovery",
        "point-in-time recovery",
        recovery["PointInTimeRecoveryStatus"] == "ENABLED",
        config.point_in_time_recovery,
    )
    yield compare(
        "table.deletionProtection",
        "deletion protection",
        bool(table.get("DeletionProtectionEnabled")),
        config.deletion_protection,
    )
    yield _table_encryption_finding(config.kms_key, table, encryption_key)
    if encryption_key is not None and config.kms_key not in ("aws-owned", "aws-managed"):
        yield key_policy_finding(
            stack, "table.keyPolicy", "table", config.kms_key, encryption_key.arn,
            [TABLE_KEY_USER],
        )  # fmt: skip
    if config.ttl_attribute:
        enabled = ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
        yield compare(
            "table.ttl",
            "TTL attribute",
            ttl.get("AttributeName") if enabled else None,
            config.ttl_attribute,
        )
    else:
        yield compare("table.ttl", "TTL status", ttl.get("TimeToLiveStatus"), "DISABLED")


def _stream_finding(stack: DeployedStack, table: dict[str, Any]) -> Finding:
    config = stack.config
    spec = table.get("StreamSpecification") or {}
    name = table["TableName"]
    enable = (
        f"aws dynamodb update-table --table-name {name} --stream-specification "
        f"StreamEnabled=true,StreamViewType={config.table.stream_view_type}"
    )
    if not spec.get("StreamEnabled"):
        return failed(
            "table.stream",
            f"table {name} has no stream enabled: the function receives nothing",
            f"`pulumi up` (or `{enable}`), then `pulumi up` so the mapping follows the "
            "new stream ARN",
        )
    view = spec.get("StreamViewType")
    if not config.table.existing:
        return compare("table.stream", "stream enabled, view", view, config.table.stream_view_type)
    missing = [
        image
        for image in sorted(config.trigger.images_needed())
        if view not in VIEWS_WITH_IMAGE[image]
    ]
    if missing:
        return failed(
            "table.stream",
            f"stream view {view} does not carry {', '.join(missing)}, which the filters read",
            "switch the table's stream to NEW_AND_OLD_IMAGES",
        )
    return passed("table.stream", f"stream enabled, view {view}")


def _table_encryption_finding(choice: str, table: dict[str, Any], key: KeyFacts | None) -> Finding:
    name = "table.encryption"
    sse = table.get("SSEDescription") or {}
    kms_enabled = sse.get("Status") in ("ENABLED", "UPDATING") and sse.get("SSEType") == "KMS"
    if choice == "aws-owned":
        if kms_enabled:
            return failed(
                name, f"table uses KMS key {sse.get('KMSMasterKeyArn')}, configured aws-owned"
            )
        return passed(name, "encrypted with the AWS-owned key (DynamoDB default)")
    if not kms_enabled:
        return failed(
            name, f"table is not KMS-encrypted (SSE {sse or 'none'}), configured {choice}"
        )
    if choice == "aws-managed":
        if key is not None and AWS_MANAGED_DYNAMODB_KEY in key.aliases:
            return passed(name, f"encrypted with the AWS-managed key {AWS_MANAGED_DYNAMODB_KEY}")
        return failed(name, f"table uses {sse.get('KMSMasterKeyArn')}, configured aws-managed")
    return _key_judgement(name, "table", choice, key)
