"""StreamTable: the DynamoDB table and its stream, created here or looked up.

Why a lookup path: teams often have the table already (created by another stack or by
hand, as in the seed tutorial). Attaching to it must fail early and clearly when its
stream cannot feed the trigger (stream disabled, or a view without the images the
filters read), instead of failing later inside AWS with an opaque mapping error.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import (
    HASH_KEY,
    PROJECT,
    RANGE_KEY,
    VIEWS_WITH_IMAGE,
    ConfigError,
    TableConfig,
    TriggerConfig,
)
from components.kms import key_arn_for, via_service

TYPE = f"{PROJECT}:index:StreamTable"
# Who may use a created table key: the account's principals, through DynamoDB only (the
# table, its stream and backups); the stream reader still needs its dynamodb:* rights.
TABLE_KEY_USER = via_service("UseThroughDynamoDB", "dynamodb")


@dataclass(frozen=True)
class ExistingTable:
    """What the program needs to know about a table it did not create."""

    name: str
    arn: str
    stream_arn: str
    stream_view_type: str
    kms_key_arn: str | None


def describe_existing_table(table: TableConfig, trigger: TriggerConfig) -> ExistingTable:
    """Look up `existingTableName` and check that its stream can feed the trigger.

    Called before any resource is registered, so a table that cannot work stops the
    program with a ConfigError naming the key, not a half-created stack.
    """
    key = f"{PROJECT}:table.existingTableName"
    try:
        found = aws.dynamodb.get_table(name=table.name)
    except Exception as error:  # the provider's "not found" and access errors alike
        raise ConfigError([f"{key}: cannot read table {table.name!r}: {error}"]) from error
    if not found.stream_enabled or not found.stream_arn:
        raise ConfigError(
            [
                f"{key}: table {table.name!r} has no stream enabled; enable it (view type "
                "NEW_AND_OLD_IMAGES) with `aws dynamodb update-table --stream-specification "
                "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES` or let this program "
                "create the table (table.name)"
            ]
        )
    view = found.stream_view_type
    missing = [
        image for image in sorted(trigger.images_needed()) if view not in VIEWS_WITH_IMAGE[image]
    ]
    if missing:
        raise ConfigError(
            [
                f"{key}: table {table.name!r} streams {view}, but trigger.filterPatterns "
                f"filter on {', '.join('dynamodb.' + image for image in missing)}, which that "
                "view does not carry"
            ]
        )
    if view != "NEW_AND_OLD_IMAGES":
        pulumi.log.warn(
            f"table {table.name!r} streams {view}: the default routes cannot see status or "
            "price changes without both images (they log what they can)"
        )
    sse = found.server_side_encryption
    return ExistingTable(
        name=found.name,
        arn=found.arn,
        stream_arn=found.stream_arn,
        stream_view_type=view,
        kms_key_arn=sse.kms_key_arn if sse is not None and sse.kms_key_arn else None,
    )


@dataclass
class StreamTableArgs:
    table: TableConfig
    existing: ExistingTable | None = None  # from describe_existing_table, when attaching
    tags: dict[str, str] | None = None


class StreamTable(pulumi.ComponentResource):
    """The table (keys PK/SK), its stream, encryption, PITR and deletion protection."""

    table_name: pulumi.Output[str]
    table_arn: pulumi.Output[str]
    stream_arn: pulumi.Output[str]
    stream_view_type: str
    # The customer-managed key encrypting the table (and so its stream), if any: readers
    # of the stream need kms:Decrypt on it.
    kms_key_arn: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: StreamTableArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(TYPE, name, None, opts)
        config = args.table
        if args.existing is not None:
            existing = args.existing
            self.table_name = pulumi.Output.from_input(existing.name)
            self.table_arn = pulumi.Output.from_input(existing.arn)
            self.stream_arn = pulumi.Output.from_input(existing.stream_arn)
            self.stream_view_type = existing.stream_view_type
            self.kms_key_arn = (
                pulumi.Output.from_input(existing.kms_key_arn) if existing.kms_key_arn else None
            )
        else:
            self._create(name, config, args.tags or {})
        self.register_outputs(
            {
                "tableName": self.table_name,
                "tableArn": self.table_arn,
                "streamArn": self.stream_arn,
            }
        )

    def _create(self, name: str, config: TableConfig, tags: dict[str, str]) -> None:
        child = pulumi.ResourceOptions(parent=self)
        self.kms_key_arn = key_arn_for(
            config.kms_key,
            f"{name}-key",
            f"Encrypts DynamoDB table {config.name} and its stream",
            tags,
            self,
            users=[TABLE_KEY_USER],
        )
        # DynamoDB always encrypts at rest; `enabled: False` selects its AWS-owned key,
        # `enabled: True` the AWS-managed key or, with an ARN, a customer-managed one.
        encryption = aws.dynamodb.TableServerSideEncryptionArgs(
            enabled=config.kms_key != "aws-owned", kms_key_arn=self.kms_key_arn
        )
        table = aws.dynamodb.Table(
            name,
            name=config.name,
            billing_mode=config.billing_mode,
            read_capacity=config.read_capacity,
            write_capacity=config.write_capacity,
            hash_key=HASH_KEY,
            range_key=RANGE_KEY,
            attributes=[
                aws.dynamodb.TableAttributeArgs(name=HASH_KEY, type="S"),
                aws.dynamodb.TableAttributeArgs(name=RANGE_KEY, type="S"),
            ],
            stream_enabled=True,
            stream_view_type=config.stream_view_type,
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                enabled=config.point_in_time_recovery
            ),
            deletion_protection_enabled=config.deletion_protection,
            server_side_encryption=encryption,
            ttl=(
                aws.dynamodb.TableTtlArgs(attribute_name=config.ttl_attribute, enabled=True)
                if config.ttl_attribute
                else None
            ),
            tags=tags,
            opts=child,
        )
        self.table_name = table.name
        self.table_arn = table.arn
        self.stream_arn = table.stream_arn
        self.stream_view_type = config.stream_view_type
