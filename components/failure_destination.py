"""FailureDestination: where records go when the pipeline gives up on them.

Two writers use it: the event source mapping (its on-failure destination, which gets a
pointer to the failed batch once retries or record age run out) and the function itself
(which quarantines poison records with their full content). Because the function must
know the address before the mapping exists, the destination is created first, as its
own component, and handed to both.

Encrypted at rest always: SSE-SQS or a customer-managed key for a queue, the AWS-managed
`alias/aws/sns` key or a customer-managed key for a topic. There is no unencrypted choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import PROJECT, TriggerConfig
from components.kms import KeyUser, key_arn_for, via_service

TYPE = f"{PROJECT}:index:FailureDestination"
SECONDS_PER_DAY = 86400
# SNS's AWS-managed key: free, and usable by the execution role publishing through SNS.
AWS_MANAGED_SNS_KEY = "alias/aws/sns"
MAX_NAME_PREFIX = 80 - len("-failures") - 8
# Who may use a created destination key: the account's principals, through the
# destination's service only (the mapping and the function send with the execution role).
DESTINATION_KEY_USERS: dict[str, KeyUser] = {
    "sqs": via_service("UseThroughSqs", "sqs"),
    "sns": via_service("UseThroughSns", "sns"),
}


@dataclass
class FailureDestinationArgs:
    trigger: TriggerConfig
    function_name: str  # used in the description of a created key
    # Start of the queue's or topic's name. It must stay the same for the stack's life:
    # a new name means a new queue, and `pulumi up` would delete the old one with the
    # pointers and quarantined records waiting in it. So: project and stack, never the
    # function's name, which a config change may rename.
    name_prefix: str
    tags: dict[str, str] | None = None


class FailureDestination(pulumi.ComponentResource):
    """An encrypted SQS queue (default, 14-day retention) or SNS topic."""

    kind: str  # "sqs" | "sns"
    arn: pulumi.Output[str]
    # What the function sends to: the queue URL for SQS, the topic ARN for SNS.
    address: pulumi.Output[str]
    queue_url: pulumi.Output[str] | None
    queue_name: pulumi.Output[str] | None
    topic_name: pulumi.Output[str] | None
    # Customer-managed key of the destination, if any: senders need kms:GenerateDataKey
    # and kms:Decrypt on it.
    kms_key_arn: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        args: FailureDestinationArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(TYPE, name, None, opts)
        trigger = args.trigger
        tags = args.tags or {}
        child = pulumi.ResourceOptions(parent=self)
        self.kms_key_arn = key_arn_for(
            trigger.destination_kms_key,
            f"{name}-key",
            f"Encrypts the failure destination of {args.function_name}",
            tags,
            self,
            users=[DESTINATION_KEY_USERS[trigger.on_failure]],
        )
        self.kind = trigger.on_failure
        self.queue_url = self.queue_name = self.topic_name = None
        # "<project>-<stack>-failures-<8 characters Pulumi appends>"; SQS allows 80.
        physical = f"{args.name_prefix[:MAX_NAME_PREFIX]}-failures"
        if trigger.on_failure == "sqs":
            encryption: dict = (
                {"kms_master_key_id": self.kms_key_arn}
                if self.kms_key_arn is not None
                else {"sqs_managed_sse_enabled": True}
            )
            queue = aws.sqs.Queue(
                physical,
                message_retention_seconds=trigger.destination_retention_days * SECONDS_PER_DAY,
                tags=tags,
                opts=child,
                **encryption,
            )
            self.arn = queue.arn
            self.address = queue.url
            self.queue_url = queue.url
            self.queue_name = queue.name
        else:
            topic = aws.sns.Topic(
                physical,
                kms_master_key_id=self.kms_key_arn or AWS_MANAGED_SNS_KEY,
                tags=tags,
                opts=child,
            )
            self.arn = topic.arn
            self.address = topic.arn
            self.topic_name = topic.name
        self.register_outputs({"arn": self.arn, "address": self.address})
