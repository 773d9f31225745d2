"""StreamPipeline: the whole change-processing pipeline from one typed config.

Order matters and is spelled out here: table (or the existing one, checked before
anything is registered) -> failure destination -> function (whose role and environment
name that destination) -> trigger (mapping, after the function and its policy exist) ->
alarms (topic, alarms and dashboard on what now exists; none when alarms.enabled is false).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.alarms import FailureTarget, StreamAlarms, StreamAlarmsArgs, name_prefix
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
    alarms: StreamAlarms | None  # None when alarms.enabled is false

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
            FailureDestinationArgs(
                config.trigger,
                function_name=config.function.name,
                name_prefix=f"{config.project}-{config.stack}",
                tags=tags,
                request_metrics=config.alarms.enabled,
            ),
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
        self.alarms = self._alarms(name, config, tags) if config.alarms.enabled else None
        self.register_outputs(self.outputs())

    def _alarms(self, name: str, config: StackConfig, tags: dict[str, str]) -> StreamAlarms:
        destination = self.failure_destination
        # S3, SQS and SNS key their metrics by the bucket's / queue's / topic's name.
        failure_name = {
            "s3": destination.bucket_name,
            "sqs": destination.queue_name,
            "sns": destination.topic_name,
        }[destination.kind]
        if failure_name is None:
            raise AssertionError(f"FailureDestination of kind {destination.kind} has no name")
        return StreamAlarms(
            f"{name}-alarms",
            StreamAlarmsArgs(
                alarms=config.alarms,
                function=config.function,
                function_name=self.function.function_name,
                failure=FailureTarget(
                    kind=destination.kind,
                    name=failure_name,
                    request_metrics_filter=destination.request_metrics_filter,
                ),
                mapping_id=self.trigger.mapping_id if config.trigger.metrics else None,
                name_prefix=name_prefix(config.project, config.stack),
                tags=tags,
            ),
            pulumi.ResourceOptions(parent=self),
        )

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
        if self.failure_destination.bucket_name is not None:
            outputs["failureBucketName"] = self.failure_destination.bucket_name
        # Without alarms there is no topic or dashboard: those outputs are left out (as
        # failureQueueUrl is for an SNS destination); alarmNames is always there, empty.
        outputs["alarmNames"] = self.alarms.alarm_names if self.alarms is not None else []
        if self.alarms is not None:
            outputs["alarmTopicArn"] = self.alarms.topic_arn
            outputs["dashboardName"] = self.alarms.dashboard_name
            outputs["dashboardUrl"] = self.alarms.dashboard_url
        return outputs
