"""StreamPipeline: the whole change-processing pipeline, from the stack configuration sections.

Order matters and is spelled out here: table (or the existing one, checked before
anything is registered) -> failure destination -> function (whose role and environment
name that destination) -> trigger (mapping, after the function and its policy exist) ->
alarms (topic, alarms and dashboard on what now exists; none when alarms.enabled is false).

This class is also the component package's resource (components/package.py): its `args`
annotation and the attributes annotated below are what Pulumi's analyzer turns into the
schema other languages see, so no annotation here may use a shape the analyzer refuses
(unions other than `X | None`, resources of this package), and this module does not use
`from __future__ import annotations` (the analyzer needs the annotations as objects).
"""

import pulumi

from components.alarms import FailureTarget, StreamAlarms, StreamAlarmsArgs, name_prefix
from components.config import PROJECT, ConfigError, StackConfig
from components.failure_destination import FailureDestination, FailureDestinationArgs
from components.function import StreamFunction, StreamFunctionArgs
from components.pipeline_args import StreamPipelineArgs
from components.pipeline_inputs import PipelineInputError, pipeline_config
from components.table import StreamTable, StreamTableArgs, describe_existing_table
from components.trigger import StreamTrigger, StreamTriggerArgs

TYPE = f"{PROJECT}:index:StreamPipeline"

__all__ = ["TYPE", "StreamPipeline", "StreamPipelineArgs"]


class StreamPipeline(pulumi.ComponentResource):
    """A DynamoDB Streams -> AWS Lambda change-processing pipeline: the table's stream (or an existing table's), the processor function with a least-privilege role and its log group, the event source mapping with bounded retries, bisection and ReportBatchItemFailures, an encrypted failure destination (SQS or SNS), and alarms with a dashboard. Every input is checked before any resource is registered."""  # noqa: E501 (one line: the schema description)

    table_name: pulumi.Output[str]
    """Name of the table (created, or the existing one)."""
    table_arn: pulumi.Output[str]
    """ARN of the table."""
    stream_arn: pulumi.Output[str]
    """ARN of the table's stream, which the trigger reads."""
    function_name: pulumi.Output[str]
    """Name of the processor function."""
    function_arn: pulumi.Output[str]
    """ARN of the processor function."""
    log_group_name: pulumi.Output[str]
    """The function's log group (/aws/lambda/<function name>)."""
    event_source_mapping_id: pulumi.Output[str]
    """UUID of the event source mapping (the trigger)."""
    failure_destination_arn: pulumi.Output[str]
    """ARN of the failure destination (S3 bucket, SQS queue or SNS topic)."""
    failure_queue_url: pulumi.Output[str] | None
    """URL of the failure queue; absent with an SNS or S3 failure destination."""
    failure_bucket_name: pulumi.Output[str] | None
    """Name of the failure bucket; absent with an SQS or SNS failure destination."""
    alarm_names: pulumi.Output[list[str]]
    """Names of the alarms, in the runbook's order; empty with alarms.enabled false."""
    alarm_topic_arn: pulumi.Output[str] | None
    """ARN of the SNS topic the alarms notify; absent with alarms.enabled false."""
    dashboard_name: pulumi.Output[str] | None
    """Name of the CloudWatch dashboard; absent with alarms.enabled false."""
    dashboard_url: pulumi.Output[str] | None
    """Console URL of the dashboard; absent with alarms.enabled false."""

    def __init__(
        self, name: str, args: StreamPipelineArgs, opts: pulumi.ResourceOptions | None = None
    ):
        # Before registering anything: invalid inputs, or an existing table that cannot
        # feed the trigger, must stop the program, not leave half a stack behind.
        config = pipeline_config(name, args)
        try:
            existing = (
                describe_existing_table(config.table, config.trigger)
                if config.table.existing
                else None
            )
        except ConfigError as error:
            raise PipelineInputError(name, error.problems) from error
        super().__init__(TYPE, name, None, opts)
        tags = dict(config.tags)
        child = pulumi.ResourceOptions(parent=self)

        # Children are attributes without class annotations: the class annotations are the
        # package's outputs, and a component resource cannot be one.
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
        self._set_outputs()
        self.register_outputs(self.outputs())

    def _set_outputs(self) -> None:
        """The annotated output attributes (what the package returns to other languages)."""
        self.table_name = self.table.table_name
        self.table_arn = self.table.table_arn
        self.stream_arn = self.table.stream_arn
        self.function_name = self.function.function_name
        self.function_arn = self.function.function_arn
        self.log_group_name = self.function.log_group_name
        self.event_source_mapping_id = self.trigger.mapping_id
        self.failure_destination_arn = self.failure_destination.arn
        self.failure_queue_url = self.failure_destination.queue_url
        self.failure_bucket_name = self.failure_destination.bucket_name
        alarms = self.alarms
        self.alarm_names = (
            alarms.alarm_names if alarms is not None else pulumi.Output.from_input([])
        )
        self.alarm_topic_arn = alarms.topic_arn if alarms is not None else None
        self.dashboard_name = alarms.dashboard_name if alarms is not None else None
        self.dashboard_url = alarms.dashboard_url if alarms is not None else None

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
        """The stack outputs (camelCase names, as `pulumi stack output` shows them): the
        annotated attributes by their schema names, the absent ones left out (as
        failureQueueUrl is for an SNS destination); alarmNames is always there."""
        values = {
            "tableName": self.table_name,
            "tableArn": self.table_arn,
            "streamArn": self.stream_arn,
            "functionName": self.function_name,
            "functionArn": self.function_arn,
            "logGroupName": self.log_group_name,
            "eventSourceMappingId": self.event_source_mapping_id,
            "failureDestinationArn": self.failure_destination_arn,
            "failureQueueUrl": self.failure_queue_url,
            "failureBucketName": self.failure_bucket_name,
            "alarmNames": self.alarm_names,
            "alarmTopicArn": self.alarm_topic_arn,
            "dashboardName": self.dashboard_name,
            "dashboardUrl": self.dashboard_url,
        }
        return {name: value for name, value in values.items() if value is not None}
