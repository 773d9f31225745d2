"""StreamTrigger: the event source mapping from the table's stream to the function.

Why these fixed choices:
- `ReportBatchItemFailures` is always on: the handler reports the first failing record
  and Lambda checkpoints there, instead of retrying (and re-running) the whole batch.
- Failures always go to a destination, and retries are bounded by config (retry
  attempts and/or maximum record age), so a poison record cannot block its shard for the
  stream's 24 h retention.
- `delete_before_replace`: a change that replaces the mapping (a new stream ARN, another
  starting position; filter changes too, per shared/reference/aws-facts.md) would
  otherwise fail: AWS refuses a second mapping between the same stream and function
  ("already exists") while the old one is still there.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import PROJECT, TriggerConfig

TYPE = f"{PROJECT}:index:StreamTrigger"
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"


@dataclass
class StreamTriggerArgs:
    trigger: TriggerConfig
    stream_arn: pulumi.Input[str]
    function: aws.lambda_.Function
    failure_destination_arn: pulumi.Input[str]
    tags: dict[str, str] | None = None


class StreamTrigger(pulumi.ComponentResource):
    """The event source mapping with every trigger setting from config."""

    mapping_id: pulumi.Output[str]
    mapping: aws.lambda_.EventSourceMapping

    def __init__(
        self, name: str, args: StreamTriggerArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(TYPE, name, None, opts)
        trigger = args.trigger
        filters = [
            aws.lambda_.EventSourceMappingFilterCriteriaFilterArgs(pattern=pattern)
            for pattern in trigger.filter_patterns
        ]
        self.mapping = aws.lambda_.EventSourceMapping(
            name,
            event_source_arn=args.stream_arn,
            function_name=args.function.arn,
            enabled=trigger.enabled,
            starting_position=trigger.starting_position,
            batch_size=trigger.batch_size,
            maximum_batching_window_in_seconds=trigger.max_batching_window_seconds,
            maximum_retry_attempts=trigger.retry_attempts,
            maximum_record_age_in_seconds=trigger.max_record_age_seconds,
            bisect_batch_on_function_error=trigger.bisect_on_error,
            parallelization_factor=trigger.parallelization_factor,
            function_response_types=[REPORT_BATCH_ITEM_FAILURES],
            destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
                on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                    destination_arn=args.failure_destination_arn
                )
            ),
            # Opt-in (billed): the mapping's own event counts (polled, filtered out,
            # invoked, failed, dropped) in AWS/Lambda by EventSourceMappingUUID.
            metrics_config=(
                aws.lambda_.EventSourceMappingMetricsConfigArgs(metrics=list(trigger.metrics))
                if trigger.metrics
                else None
            ),
            filter_criteria=(
                aws.lambda_.EventSourceMappingFilterCriteriaArgs(filters=filters)
                if filters
                else None
            ),
            tags=args.tags or {},
            opts=pulumi.ResourceOptions(
                parent=self, delete_before_replace=True, depends_on=[args.function]
            ),
        )
        self.mapping_id = self.mapping.uuid
        self.register_outputs({"eventSourceMappingId": self.mapping_id})
