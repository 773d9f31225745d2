"""FailureDestination: where records go when the pipeline gives up on them.

Two writers use it: the event source mapping (its on-failure destination, which gets a
pointer to the failed batch once retries or record age run out) and the function itself
(which quarantines poison records with their full content). Because the function must
know the address before the mapping exists, the destination is created first, as its
own component, and handed to both.

Three kinds (trigger.onFailure):
- `s3` (default): a bucket. Lambda writes the whole invocation record, the failed batch
  included, as one object under `aws/lambda/<mapping UUID>/<shard>/YYYY/MM/DD/...`; the
  function writes one object per poison record under `quarantine/`. Nothing depends on
  the stream's 24 h retention. Private, TLS only, versioned, expiring (lifecycle).
- `sqs` / `sns`: a queue or topic. Lambda sends a pointer only (shard, sequence range):
  the records must be read back from the stream within 24 h.

Encrypted at rest always: a customer-managed key (default) or SSE-S3 for a bucket,
SSE-SQS or a customer-managed key for a queue, the AWS-managed `alias/aws/sns` key or a
customer-managed key for a topic. There is no unencrypted choice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

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
# destination's service only (the mapping and the function send with the execution role;
# for S3, the role's PUTs under SSE-KMS and the operators' GETs when they redrive).
DESTINATION_KEY_USERS: dict[str, KeyUser] = {
    "sqs": via_service("UseThroughSqs", "sqs"),
    "sns": via_service("UseThroughSns", "sns"),
    "s3": via_service("UseThroughS3", "s3"),
}

# Bucket names: 3-63 lowercase characters; Pulumi appends 8 to the resource name.
MAX_BUCKET_PREFIX = 63 - len("-failures") - 8
# Where Lambda writes the invocation records of discarded batches (AWS's fixed layout,
# "Retain discarded records for a DynamoDB event source in Lambda") and where the function
# quarantines poison records. The function package keeps its own copy of the quarantine
# prefix (it is deployed alone); a unit test checks both agree.
LAMBDA_RECORDS_PREFIX = "aws/lambda/"
QUARANTINE_PREFIX = "quarantine/"
# An interrupted multipart upload leaves invisible, billed parts: remove them after a day.
ABORT_INCOMPLETE_UPLOAD_DAYS = 1
# The request-metrics configuration's name: the FilterId dimension of AWS/S3 PutRequests.
LANDINGS_METRICS_FILTER = "failure-landings"


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
    # S3: publish the bucket's request metrics (the alarm's signal). Billed as custom
    # metrics, so only when alarms are on.
    request_metrics: bool = False


class FailureDestination(pulumi.ComponentResource):
    """An encrypted S3 bucket (default), SQS queue or SNS topic."""

    kind: str  # "s3" | "sqs" | "sns"
    arn: pulumi.Output[str]
    # What the function sends to: the bucket name for S3, the queue URL for SQS, the topic
    # ARN for SNS.
    address: pulumi.Output[str]
    queue_url: pulumi.Output[str] | None
    queue_name: pulumi.Output[str] | None
    topic_name: pulumi.Output[str] | None
    bucket_name: pulumi.Output[str] | None
    # S3 with request metrics on: the FilterId the alarm watches (PutRequests).
    request_metrics_filter: str | None
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
        self.queue_url = self.queue_name = self.topic_name = self.bucket_name = None
        self.request_metrics_filter = None
        # "<project>-<stack>-failures-<8 characters Pulumi appends>"; SQS allows 80.
        physical = f"{args.name_prefix[:MAX_NAME_PREFIX]}-failures"
        if trigger.on_failure == "s3":
            bucket = FailureBucket(
                f"{args.name_prefix.lower()[:MAX_BUCKET_PREFIX]}-failures",
                trigger,
                self.kms_key_arn,
                tags,
                self,
                args.request_metrics,
            )
            self.arn = bucket.arn
            self.address = bucket.name
            self.bucket_name = bucket.name
            self.request_metrics_filter = LANDINGS_METRICS_FILTER if args.request_metrics else None
        elif trigger.on_failure == "sqs":
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


def tls_only_policy(bucket_arn: str) -> dict:
    """Deny every request to the bucket and its objects that does not use TLS.

    The statement AWS documents for FSBP S3.5 / Config rule s3-bucket-ssl-requests-only: a
    Deny for everyone (`Principal: *`) on all S3 actions when `aws:SecureTransport` is
    false. It grants nothing: the only `s3:*` in the project is this Deny.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def lifecycle_rules(retention_days: int) -> list[Any]:
    """Expire failures after `retention_days`, and the versions a redrive leaves behind.

    A redrive deletes an object once its records were replayed: with versioning on, that
    makes the object a noncurrent version behind a delete marker. It stays recoverable
    for the same number of days, then goes; the marker left alone is removed too. S3 does
    not allow a delete-marker rule and a day count in one expiration, hence two rules.
    """
    everything: dict = {"prefix": ""}
    return [
        {
            "id": "expire-failures",
            "status": "Enabled",
            "filter": everything,
            "expiration": {"days": retention_days},
            "noncurrent_version_expiration": {"noncurrent_days": retention_days},
            "abort_incomplete_multipart_upload": {
                "days_after_initiation": ABORT_INCOMPLETE_UPLOAD_DAYS
            },
        },
        {
            "id": "remove-expired-delete-markers",
            "status": "Enabled",
            "filter": everything,
            "expiration": {"expired_object_delete_marker": True},
        },
    ]


class FailureBucket:
    """The bucket and its settings resources (pulumi-aws 7 splits them out of the bucket).

    Private (all four public-access blocks, ACLs disabled by bucket-owner-enforced
    ownership), TLS only, versioned, KMS-encrypted with S3 Bucket Keys (one KMS request
    per bucket key instead of one per object) or SSE-S3 when the stack relaxes it, and
    expiring. `force_destroy` stays off unless the stack turns it on: deleting the stack
    must not delete failed batches nobody redrove.
    """

    def __init__(
        self,
        name: str,
        trigger: TriggerConfig,
        kms_key_arn: pulumi.Output[str] | None,
        tags: dict[str, str],
        parent: pulumi.Resource,
        request_metrics: bool,
    ):
        child = pulumi.ResourceOptions(parent=parent)
        bucket = aws.s3.Bucket(
            name, force_destroy=trigger.destination_force_destroy, tags=tags, opts=child
        )
        self.arn = bucket.arn
        self.name = bucket.bucket
        # Settings depend on the public-access block: no window where the bucket could be
        # given a public policy.
        private = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        after_private = pulumi.ResourceOptions(parent=parent, depends_on=[private])
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        by_default: dict[str, Any] = (
            {"sse_algorithm": "aws:kms", "kms_master_key_id": kms_key_arn}
            if kms_key_arn is not None
            else {"sse_algorithm": "AES256"}
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=by_default,  # type: ignore[arg-type]
                    bucket_key_enabled=kms_key_arn is not None,
                )
            ],
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        # AWS: on a versioned bucket, set versioning before the lifecycle configuration.
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=lifecycle_rules(trigger.destination_retention_days),
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[versioning]),
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=bucket.arn.apply(lambda arn: json.dumps(tls_only_policy(arn))),
            opts=after_private,
        )
        if request_metrics:
            # Whole bucket, no prefix filter: only Lambda (discarded batches) and the
            # function (poison records) ever PUT here; operator tools read and delete. So
            # every PutRequests data point is a landing (README, Alarms).
            aws.s3.BucketMetric(
                f"{name}-landings", bucket=bucket.id, name=LANDINGS_METRICS_FILTER, opts=child
            )
