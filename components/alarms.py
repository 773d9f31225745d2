"""StreamAlarms: the alarm topic, the pipeline's alarms and its CloudWatch dashboard.

Why these alarms: a stream pipeline fails quietly. A poison batch is retried while its
shard waits, and what the pipeline gives up on lands in the failure destination as a
pointer to records that expire from the stream 24 h after they were written. Operators
must hear about a stuck shard (IteratorAge), a crashing or slow function (Errors,
Duration), a starved one (Throttles), a non-empty failure destination and quarantined
records while there is still time to act. Every alarm notifies one SNS topic on ALARM
and on OK, treats missing data as not breaching (no invocations = nothing wrong), and
says in its description what to do (the full runbook is in the README, Alarms).

Why the topic is either unencrypted or under a customer-managed key: CloudWatch cannot
publish to a topic under the AWS-managed `alias/aws/sns` key (its policy cannot grant
CloudWatch the key), so alarms would fire into nothing. A created key's policy grants
`cloudwatch.amazonaws.com` exactly kms:Decrypt and kms:GenerateDataKey*.

Everything here is built from pure functions (`alarm_specs`, `alarm_topic_key_policy`,
`alarm_topic_policy`, and `dashboard_body` in components/dashboard.py) so what AWS receives
can be read and tested without a deployment. Metric names: components/metrics.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import PROJECT, AlarmsConfig, FunctionConfig, placeholder_subscribers
from components.dashboard import DashboardFacts, dashboard_body, dashboard_url
from components.kms import Account, cloudwatch_alarms_user, key_arn_for, key_policy
from components.metrics import (
    BUCKET_DIMENSION,
    FILTER_DIMENSION,
    FUNCTION_DIMENSION,
    LAMBDA_NAMESPACE,
    QUEUE_DIMENSION,
    RECORDS_QUARANTINED,
    S3_NAMESPACE,
    SNS_NAMESPACE,
    SQS_NAMESPACE,
    TOPIC_DIMENSION,
)

TYPE = f"{PROJECT}:index:StreamAlarms"

GREATER_THAN = "GreaterThanThreshold"
NOT_BREACHING = "notBreaching"

CLOUDWATCH_SERVICE = "cloudwatch.amazonaws.com"
# Who may use a created topic key: CloudWatch alarms of this account and region only.
TOPIC_KEY_USER = cloudwatch_alarms_user()
RUNBOOK = "Runbook: README, Alarms"
# Dashboard names allow A-Z a-z 0-9 - _ only; stack names may also hold dots.
DASHBOARD_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class AlarmSpec:
    """One metric alarm: what it watches, when it fires and what the operator does."""

    purpose: str  # the name's suffix: <project>-<stack>-<purpose>
    title: str  # the runbook section
    namespace: str
    metric: str
    statistic: str
    threshold: float
    dimensions: dict[str, pulumi.Input[str]]
    advice: str  # what it means and what to do, in a few sentences

    @property
    def description(self) -> str:
        """The alarm's description (in every notification): advice + runbook section."""
        return f"{self.advice} {RUNBOOK}: {self.title}."


@dataclass(frozen=True)
class FailureTarget:
    """The failure destination as the alarms see it: an S3 bucket, SQS queue or SNS topic."""

    kind: str  # "s3" | "sqs" | "sns"
    name: pulumi.Input[str]  # the bucket's, queue's or topic's name (the metric dimension)
    # S3: the request-metrics configuration publishing the bucket's PutRequests.
    request_metrics_filter: str | None = None


def name_prefix(project: str, stack: str) -> str:
    """`<project>-<stack>`, safe for every name built from it (dashboard rules)."""
    return DASHBOARD_NAME_UNSAFE.sub("-", f"{project}-{stack}")


def alarm_specs(
    alarms: AlarmsConfig,
    function: FunctionConfig,
    function_name: pulumi.Input[str],
    failure: FailureTarget,
) -> list[AlarmSpec]:
    """The pipeline's alarms, in the order the runbook lists them."""
    fn = function.name
    per = (
        f"in {alarms.period_seconds} s"
        if alarms.evaluation_periods == 1
        else f"in each of {alarms.evaluation_periods} periods of {alarms.period_seconds} s"
    )
    on_function = {FUNCTION_DIMENSION: function_name}
    timeout_ms = function.timeout_seconds * 1000
    limit = (
        f"its reserved concurrency ({function.reserved_concurrency})"
        if function.reserved_concurrency > 0
        else "the account's concurrency limit"
    )
    return [
        AlarmSpec(
            "function-errors", "Function errors", LAMBDA_NAMESPACE, "Errors", "Sum",
            float(alarms.errors_threshold), on_function,
            f"{fn} had more than {alarms.errors_threshold} failed invocations {per} "
            "(unhandled exception, timeout or out of memory). The mapping retries the batch "
            f"and its shard waits. Do: find the error in log group /aws/lambda/{fn}, fix the "
            "code or config and deploy; watch IteratorAge fall.",
        ),
        AlarmSpec(
            "function-duration", "Function duration", LAMBDA_NAMESPACE, "Duration",
            "Maximum", float(alarms.duration_threshold_ms), on_function,
            f"An invocation of {fn} ran longer than {alarms.duration_threshold_ms} ms {per} "
            f"(timeout {timeout_ms} ms): batches are close to timing out and being retried. "
            "Do: check the report lines (memory used) and slow calls in the logs; lower "
            "trigger.batchSize or raise function.memoryMb / timeoutSeconds.",
        ),
        AlarmSpec(
            "iterator-age", "Iterator age", LAMBDA_NAMESPACE, "IteratorAge", "Maximum",
            float(alarms.iterator_age_threshold_ms), on_function,
            f"{fn} received a record older than {alarms.iterator_age_threshold_ms} ms {per}: "
            "processing lags the stream (a batch being retried, or too little throughput). "
            "Records expire from the stream after 24 h. Do: check Errors, Throttles and "
            "Duration first; if it is load, raise trigger.parallelizationFactor or batchSize.",
        ),
        AlarmSpec(
            "function-throttles", "Function throttles", LAMBDA_NAMESPACE, "Throttles", "Sum",
            0.0, on_function,
            f"Lambda throttled {fn} {per}: it hit {limit}. Throttled batches are retried "
            "without limit and their shards wait. Do: raise function.reservedConcurrency "
            "(at least the shard count x trigger.parallelizationFactor) or find what else "
            "uses the account's concurrency.",
        ),
        _failure_destination_spec(fn, per, failure),
        AlarmSpec(
            "records-quarantined", "Records quarantined", function.metrics_namespace,
            RECORDS_QUARANTINED, "Sum", 0.0, on_function,
            f"{fn} quarantined poison records {per}: records it cannot process were sent, "
            "in full, to the failure destination (kind quarantined-record) and skipped. Do: "
            "read those messages, fix the data or the route, then replay them.",
        ),
    ]  # fmt: skip


def _failure_destination_spec(fn: str, per: str, failure: FailureTarget) -> AlarmSpec:
    waiting = (
        "Records the pipeline gave up on (retries or record age exhausted: a pointer to the "
        "batch) or quarantined (the full record) are waiting. Pointers do not hold the "
        "records: read them back from the stream within 24 h of their writing or they are "
        "lost. Do now: see Redrive."
    )
    if failure.kind == "s3":
        return AlarmSpec(
            "failure-bucket-landings", "Failure destination not empty", S3_NAMESPACE,
            "PutRequests", "Sum", 0.0,
            {BUCKET_DIMENSION: failure.name, FILTER_DIMENSION: failure.request_metrics_filter
             or ""},
            f"Objects were written to the failure bucket of {fn} {per}: a batch the mapping "
            "gave up on (aws/lambda/..., the whole batch) or a quarantined record "
            "(quarantine/...). The bucket keeps them until its lifecycle expires them; "
            "nothing depends on the stream's 24 h. Do: see Redrive (list, then replay).",
        )  # fmt: skip
    if failure.kind == "sqs":
        return AlarmSpec(
            "failure-queue-not-empty", "Failure destination not empty", SQS_NAMESPACE,
            "ApproximateNumberOfMessagesVisible", "Maximum", 0.0,
            {QUEUE_DIMENSION: failure.name},
            f"The failure queue of {fn} holds messages {per}. {waiting}",
        )  # fmt: skip
    return AlarmSpec(
        "failure-topic-published", "Failure destination not empty", SNS_NAMESPACE,
        "NumberOfMessagesPublished", "Sum", 0.0, {TOPIC_DIMENSION: failure.name},
        f"Messages were published to the failure topic of {fn} {per}; only its subscribers "
        f"kept them. {waiting}",
    )  # fmt: skip


def alarm_topic_key_policy(account: Account) -> dict:
    """Key policy of a created topic key: the account administers it (components/kms.py),
    CloudWatch alarms of this account and region may only use it to publish."""
    return key_policy(account, [TOPIC_KEY_USER])


def alarm_topic_policy(topic_arn: str, partition: str, region: str, account: str) -> dict:
    """Topic policy: CloudWatch alarms of this account and region may publish, no one
    else through this policy (the account's own principals still use IAM)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CloudWatchAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDWATCH_SERVICE},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account}:alarm:*"
                    },
                },
            }
        ],
    }


def subscriptions(config: AlarmsConfig) -> list[tuple[str, str]]:
    """(protocol, endpoint) of every subscription the alarm topic gets."""
    return [("email", email) for email in config.emails] + [
        ("https", url) for url in config.https_endpoints
    ]


def _warn_if_nobody_is_reached(config: AlarmsConfig, resource: pulumi.Resource) -> None:
    """Say at every preview when alarms reach nobody (by choice, or by a placeholder)."""
    if not config.subscribers():
        pulumi.log.warn(
            f"alarms.notify is none and nobody is subscribed: the alarms notify nobody "
            f"({config.notify_reason}); "
            "watch them in the console or subscribe to the alarmTopicArn output",
            resource=resource,
        )
    for placeholder in placeholder_subscribers(config):
        pulumi.log.warn(
            f"alarm subscriber {placeholder} is on a reserved example domain and reaches "
            "nobody: set alarms.emails / alarms.httpsEndpoints to your on-call address",
            resource=resource,
        )


@dataclass
class StreamAlarmsArgs:
    alarms: AlarmsConfig
    function: FunctionConfig
    function_name: pulumi.Input[str]
    failure: FailureTarget
    name_prefix: str  # <project>-<stack>, see name_prefix()
    tags: dict[str, str] | None = None
    # The mapping's UUID when it publishes its metrics (trigger.metrics), for the dashboard.
    mapping_id: pulumi.Input[str] | None = None


class StreamAlarms(pulumi.ComponentResource):
    """Alarm topic (+ key and email subscriptions), six alarms and one dashboard."""

    topic_arn: pulumi.Output[str]
    alarm_names: pulumi.Output[list[str]]
    dashboard_name: pulumi.Output[str]
    dashboard_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: StreamAlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(TYPE, name, None, opts)
        config = args.alarms
        tags = args.tags or {}
        prefix = args.name_prefix
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        region = aws.get_region_output(opts=invoke).region

        topic_key_arn = key_arn_for(
            config.topic_kms_key,
            f"{name}-topic-key",
            f"Encrypts the alarm topic of {args.function.name}; CloudWatch may use it",
            tags,
            self,
            users=[TOPIC_KEY_USER],
        )
        topic = aws.sns.Topic(
            f"{prefix}-alarms",
            kms_master_key_id=topic_key_arn,
            tags=tags,
            opts=child,
        )
        topic_policy = aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, partition, region, account).apply(
                lambda values: json.dumps(alarm_topic_policy(*values))
            ),
            opts=child,
        )
        _warn_if_nobody_is_reached(config, self)
        for protocol, endpoint in subscriptions(config):
            aws.sns.TopicSubscription(
                f"{name}-{protocol}-{endpoint.lower()}",
                topic=topic.arn,
                protocol=protocol,
                endpoint=endpoint,
                opts=child,
            )
        # Every alarm notifies the stack's topic and each forwarded topic.
        actions: list[pulumi.Input[str]] = [topic.arn, *config.forward_topic_arns]
        alarms = [
            aws.cloudwatch.MetricAlarm(
                f"{name}-{spec.purpose}",
                name=f"{prefix}-{spec.purpose}",
                alarm_description=spec.description,
                namespace=spec.namespace,
                metric_name=spec.metric,
                dimensions=spec.dimensions,
                statistic=spec.statistic,
                period=config.period_seconds,
                evaluation_periods=config.evaluation_periods,
                threshold=spec.threshold,
                comparison_operator=GREATER_THAN,
                treat_missing_data=NOT_BREACHING,
                actions_enabled=True,
                alarm_actions=actions,
                ok_actions=actions,
                tags=tags,
                # An alarm must not go live before CloudWatch may publish to its topic.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[topic_policy]),
            )
            for spec in alarm_specs(config, args.function, args.function_name, args.failure)
        ]
        body = pulumi.Output.all(
            region,
            args.function_name,
            args.failure.name,
            args.mapping_id,
            *[alarm.arn for alarm in alarms],
        ).apply(
            lambda values: json.dumps(
                dashboard_body(
                    DashboardFacts(
                        region=values[0],
                        function_name=values[1],
                        failure_kind=args.failure.kind,
                        failure_name=values[2],
                        alarms=config,
                        function=args.function,
                        alarm_arns=list(values[4:]),
                        failure_metrics_filter=args.failure.request_metrics_filter,
                        mapping_id=values[3],
                    )
                )
            )
        )
        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard", dashboard_name=prefix, dashboard_body=body, opts=child
        )
        self.topic_arn = topic.arn
        self.alarm_names = pulumi.Output.all(*[alarm.name for alarm in alarms])
        self.dashboard_name = dashboard.dashboard_name
        self.dashboard_url = pulumi.Output.all(region, dashboard.dashboard_name).apply(
            lambda values: dashboard_url(*values)
        )
        self.register_outputs(
            {
                "alarmTopicArn": self.topic_arn,
                "alarmNames": self.alarm_names,
                "dashboardName": self.dashboard_name,
                "dashboardUrl": self.dashboard_url,
            }
        )
