"""StreamPipeline: the whole change-processing pipeline from one typed config.

Order matters and is spelled out here: table (or the existing one, checked before
anything is registered) -> failure destination -> function (whose role and environment
name that destination) -> trigger (mapping, after the function and its policy exist).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.config import PROJECT, StackConfig
from components.failure_destination import FailureDestination, FailureDestinationArgs
from components.function import StreamFunction, StreamFunctionArgs
from components.table import StreamTable, StreamTableArgs, describe_existing_table
from components.trigger import StreamTrigger, StreamTriggerArgs

TYPE = f"{PROJECT}:index:StreamPipeline"


@dataclass
class StreamPipelineArgs:
    config: StackConfig


class StreamPipeline(pulumi.ComponentResource):
    """Table stream -> function, with bounded retries and a failure destination."""

    table: StreamTable
    failure_destination: FailureDestination
    function: StreamFunction
    trigger: StreamTrigger

    def __init__(
        self, name: str, args: StreamPipelineArgs, opts: pulumi.ResourceOptions | None = None
    ):
        config = args.config
        # Before registering anything: an existing table that cannot feed the trigger
        # must stop the program, not leave half a stack behind.
        existing = (
            describe_existing_table(config.table, config.trigger) if config.table.existing else None
        )
        super().__init__(TYPE, name, None, opts)
        tags = dict(config.tags)
        child = pulumi.ResourceOptions(parent=self)

        self.table = StreamTable(
            f"{name}-table", StreamTableArgs(config.table, existing, tags), child
        )
        self.failure_destination = FailureDestination(
            f"{name}-failures",
            FailureDestinationArgs(config.trigger, config.function.name, tags),
            child,
        )
        self.function = StreamFunction(
            f"{name}-function",
            StreamFunctionArgs(
                function=config.function,
                stream_arn=self.table.stream_arn,
                destination_kind=self.failure_destination.kind,
                destination_arn=self.failure_destination.arn,
                destination_address=self.failure_destination.address,
                destination_kms_key_arn=self.failure_destination.kms_key_arn,
                table_kms_key_arn=self.table.kms_key_arn,
                tags=tags,
            ),
            child,
        )
        self.trigger = StreamTrigger(
            f"{name}-trigger",
            StreamTriggerArgs(
                trigger=config.trigger,
                stream_arn=self.table.stream_arn,
                function=self.function.function,
                failure_destination_arn=self.failure_destination.arn,
                tags=tags,
            ),
            child,
        )
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Input]:
        """The stack outputs (camelCase names, as `pulumi stack output` shows them)."""
        outputs: dict[str, pulumi.Input] = {
            "tableName": self.table.table_name,
            "tableArn": self.table.table_arn,
            "streamArn": self.table.stream_arn,
            "functionName": self.function.function_name,
            "functionArn": self.function.function_arn,
            "logGroupName": self.function.log_group_name,
            "eventSourceMappingId": self.trigger.mapping_id,
            "failureDestinationArn": self.failure_destination.arn,
        }
        if self.failure_destination.queue_url is not None:
            outputs["failureQueueUrl"] = self.failure_destination.queue_url
        return outputs
