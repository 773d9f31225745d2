"""Checks of the event source mapping (on the table's current stream, every trigger
setting as configured) and of the failure destination (present, encrypted, retaining).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from components.failure_destination import (
    AWS_MANAGED_SNS_KEY,
    DESTINATION_KEY_USERS,
    SECONDS_PER_DAY,
    lifecycle_rules,
    tls_only_policy,
)
from components.trigger import REPORT_BATCH_ITEM_FAILURES
from streamops.doctor.checks.keys import KeyFacts, _key_facts, _key_judgement, key_policy_finding
from streamops.doctor.checks.model import (
    REDEPLOY,
    DeployedStack,
    Finding,
    compare,
    failed,
    group,
    passed,
)


# --- Event source mapping --------------------------------------------------------------
@group("mapping.enabled")
def check_mapping(stack: DeployedStack) -> Iterator[Finding]:
    trigger = stack.config.trigger
    uuid = stack.output("eventSourceMappingId")
    mapping = stack.mapping()
    current_stream = stack.table().get("LatestStreamArn")

    expected_state = "Enabled" if trigger.enabled else "Disabled"
    yield compare(
        "mapping.enabled",
        f"mapping {uuid} state",
        mapping.get("State"),
        expected_state,
        fix=f"aws lambda update-event-source-mapping --uuid {uuid} "
        f"--{'enabled' if trigger.enabled else 'no-enabled'} (or `pulumi up`)",
    )
    yield _source_finding(stack, mapping, current_stream)
    settings = (
        ("mapping.batchSize", "batch size", "BatchSize", trigger.batch_size),
        ("mapping.startingPosition", "starting position", "StartingPosition",
         trigger.starting_position),
        ("mapping.batchingWindow", "batching window (s)", "MaximumBatchingWindowInSeconds",
         trigger.max_batching_window_seconds),
        ("mapping.retryAttempts", "retry attempts", "MaximumRetryAttempts", trigger.retry_attempts),
        ("mapping.maxRecordAge", "maximum record age (s)", "MaximumRecordAgeInSeconds",
         trigger.max_record_age_seconds),
        ("mapping.bisectOnError", "bisect batch on error", "BisectBatchOnFunctionError",
         trigger.bisect_on_error),
        ("mapping.parallelization", "parallelization factor", "ParallelizationFactor",
         trigger.parallelization_factor),
        ("mapping.reportBatchItemFailures", "function response types", "FunctionResponseTypes",
         [REPORT_BATCH_ITEM_FAILURES]),
    )  # fmt: skip
    for name, label, key, expected in settings:
        yield compare(name, label, mapping.get(key), expected)
    deployed_filters = [
        item["Pattern"] for item in (mapping.get("FilterCriteria") or {}).get("Filters") or []
    ]
    yield compare(
        "mapping.filters",
        "filter patterns",
        sorted(_canonical_json(pattern) for pattern in deployed_filters),
        sorted(_canonical_json(pattern) for pattern in trigger.filter_patterns),
    )
    destination = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
        "Destination"
    )
    yield compare(
        "mapping.failureDestination",
        "on-failure destination",
        destination,
        stack.output("failureDestinationArn"),
        fix="without it, batches that run out of retries are dropped with no trace: " + REDEPLOY,
    )
    yield compare(
        "mapping.metrics",
        "mapping metrics (metrics_config)",
        sorted((mapping.get("MetricsConfig") or {}).get("Metrics") or []),
        sorted(trigger.metrics),
    )


def _source_finding(
    stack: DeployedStack, mapping: dict[str, Any], current_stream: str | None
) -> Finding:
    source, function = mapping.get("EventSourceArn"), mapping.get("FunctionArn")
    problems = []
    if source != current_stream:
        problems.append(f"reads {source}, but the table's current stream is {current_stream}")
    if source != stack.output("streamArn"):
        problems.append(
            f"reads {source}, the stack output streamArn is {stack.output('streamArn')}"
        )
    if function != stack.output("functionArn"):
        problems.append(f"invokes {function}, expected {stack.output('functionArn')}")
    if problems:
        return failed(
            "mapping.source",
            "; ".join(problems),
            "`pulumi up` recreates the mapping on the table's current stream (a stream "
            "disabled and enabled again gets a new ARN)",
        )
    return passed("mapping.source", f"table's current stream -> {function}")


def _canonical_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return text


# --- Failure destination ---------------------------------------------------------------
@group("failureDestination.exists")
def check_failure_destination(stack: DeployedStack) -> Iterator[Finding]:
    trigger = stack.config.trigger
    arn = stack.output("failureDestinationArn")
    if trigger.on_failure == "s3":
        yield from _bucket_findings(stack, arn)
    elif trigger.on_failure == "sqs":
        attributes = stack.queue_attributes()
        key = _key_facts(stack, attributes.get("KmsMasterKeyId"))
        if attributes.get("QueueArn") != arn:
            yield failed(
                "failureDestination.exists",
                f"queue is {attributes.get('QueueArn')}, expected {arn}",
            )
            return
        yield passed(
            "failureDestination.exists",
            f"SQS queue {arn} ({attributes.get('ApproximateNumberOfMessages', '?')} messages)",
        )
        yield _queue_encryption_finding(trigger.destination_kms_key, attributes, key)
        yield from _destination_key_policy(stack, key)
        yield compare(
            "failureDestination.retention",
            "message retention (s)",
            int(attributes.get("MessageRetentionPeriod", 0)),
            trigger.destination_retention_days * SECONDS_PER_DAY,
        )
    else:
        attributes = stack.topic_attributes()
        key_id = attributes.get("KmsMasterKeyId")
        key = _key_facts(stack, key_id) if key_id and key_id != AWS_MANAGED_SNS_KEY else None
        yield passed("failureDestination.exists", f"SNS topic {arn}")
        if trigger.destination_kms_key == "managed":
            yield compare(
                "failureDestination.encryption", "topic KMS key", key_id, AWS_MANAGED_SNS_KEY
            )
        else:
            yield _key_judgement(
                "failureDestination.encryption", "topic", trigger.destination_kms_key, key
            )
            yield from _destination_key_policy(stack, key)


def _destination_key_policy(stack: DeployedStack, key: KeyFacts | None) -> Iterator[Finding]:
    trigger = stack.config.trigger
    if key is not None and trigger.destination_kms_key != "managed":
        yield key_policy_finding(
            stack, "failureDestination.keyPolicy", "failure destination",
            trigger.destination_kms_key, key.arn, [DESTINATION_KEY_USERS[trigger.on_failure]],
        )  # fmt: skip


def _bucket_findings(stack: DeployedStack, arn: str) -> Iterator[Finding]:
    """The failure bucket as the program configures it (components/failure_destination.py):
    private, owner-enforced, TLS only, versioned, expiring, encrypted as configured."""
    s3, name, trigger = stack.aws("s3"), stack.bucket_name(), stack.config.trigger
    if arn != f"arn:aws:s3:::{name}" and not arn.endswith(f":::{name}"):
        yield failed("failureDestination.exists", f"bucket ARN {arn} does not name {name}")
        return
    s3.head_bucket(Bucket=name)
    yield passed("failureDestination.exists", f"S3 bucket {name}")
    rule = stack.bucket_encryption()
    by_default = rule.get("ApplyServerSideEncryptionByDefault") or {}
    if trigger.destination_kms_key == "sse-s3":
        yield compare(
            "failureDestination.encryption", "bucket encryption", by_default.get("SSEAlgorithm"),
            "AES256",
        )  # fmt: skip
    elif by_default.get("SSEAlgorithm") != "aws:kms":
        yield failed(
            "failureDestination.encryption",
            f"bucket encryption is {by_default.get('SSEAlgorithm')!r}, configured aws:kms",
        )
    else:
        key = _key_facts(stack, by_default.get("KMSMasterKeyID"))
        yield _key_judgement(
            "failureDestination.encryption", "bucket", trigger.destination_kms_key, key
        )
        yield from _destination_key_policy(stack, key)
    try:
        block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    except ClientError:  # NoSuchPublicAccessBlockConfiguration: nothing blocked
        block = {}
    yield compare(
        "failureDestination.publicAccess", "public access blocks (ACLs, policy, ignore, restrict)",
        tuple(block.get(flag) for flag in ("BlockPublicAcls", "BlockPublicPolicy",
                                            "IgnorePublicAcls", "RestrictPublicBuckets")),
        (True, True, True, True),
    )  # fmt: skip
    try:
        ownership = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
    except ClientError:  # OwnershipControlsNotFoundError: ACLs apply
        ownership = []
    yield compare(
        "failureDestination.ownership", "object ownership",
        [item.get("ObjectOwnership") for item in ownership], ["BucketOwnerEnforced"],
    )  # fmt: skip
    yield compare(
        "failureDestination.versioning", "versioning",
        s3.get_bucket_versioning(Bucket=name).get("Status"), "Enabled",
    )  # fmt: skip
    yield _bucket_lifecycle_finding(s3, name, trigger.destination_retention_days)
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
    except ClientError as error:  # NoSuchBucketPolicy: nothing denies plain HTTP
        policy = {"Statement": [], "error": str(error)}
    expected = tls_only_policy(arn)["Statement"][0]
    yield (
        passed("failureDestination.tlsOnly", "bucket policy denies requests without TLS")
        if expected in policy.get("Statement", [])
        else failed(
            "failureDestination.tlsOnly",
            "bucket policy has no TLS-only Deny statement"
            + (f" ({policy['error']})" if "error" in policy else ""),
        )
    )


def _bucket_lifecycle_finding(s3: Any, name: str, days: int) -> Finding:
    """Expiration after the configured days, for current and noncurrent versions."""
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    except ClientError as error:
        return failed("failureDestination.retention", f"no lifecycle configuration ({error})")
    (expire, *_rest) = lifecycle_rules(days)
    found: dict[str, Any] = next((rule for rule in rules if rule.get("ID") == expire["id"]), {})
    actual = (
        found.get("Status"),
        (found.get("Expiration") or {}).get("Days"),
        (found.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays"),
        (found.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation"),
    )
    wanted = (
        "Enabled",
        days,
        days,
        expire["abort_incomplete_multipart_upload"]["days_after_initiation"],
    )
    return compare(
        "failureDestination.retention",
        "lifecycle (status, expiration days, noncurrent days, abort uploads days)",
        actual,
        wanted,
    )


def _queue_encryption_finding(
    choice: str, attributes: dict[str, str], key: KeyFacts | None
) -> Finding:
    name = "failureDestination.encryption"
    if choice == "managed":
        if attributes.get("KmsMasterKeyId"):
            return failed(
                name, f"queue uses KMS key {attributes['KmsMasterKeyId']}, configured SSE-SQS"
            )
        if attributes.get("SqsManagedSseEnabled") != "true":
            return failed(name, "queue is not encrypted at rest (SSE-SQS off, no KMS key)")
        return passed(name, "encrypted with SSE-SQS")
    return _key_judgement(name, "queue", choice, key)
