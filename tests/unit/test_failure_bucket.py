"""The S3 failure destination on the prod graph (Pulumi mocks): bucket settings, the exact
role statements, the mapping's destination, lifecycle, key, alarm and dashboard."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from components.failure_destination import LAMBDA_RECORDS_PREFIX, QUARANTINE_PREFIX
from streamops.function_code import function_module
from streamops.program import ProgramRun, Registration, run_program
from tests.support.fake_aws import ACCOUNT, REGION, FakeAws
from tests.support.stacks import DELETE, stack_config

P = "dynamodb-stream-processor"
BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_METRIC = "aws:s3/bucketMetric:BucketMetric"
QUEUE = "aws:sqs/queue:Queue"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
FUNCTION = "aws:lambda/function:Function"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KEY = "aws:kms/key:Key"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
BUCKET_SETTINGS = (PUBLIC_ACCESS, OWNERSHIP, ENCRYPTION, VERSIONING, LIFECYCLE, BUCKET_POLICY)


def deploy(stack: str = "prod", **sections: Any) -> ProgramRun:
    return run_program(FakeAws(), stack_config(stack, **sections), stack)


@cache
def prod() -> ProgramRun:
    return deploy("prod")


def bucket_of(run: ProgramRun) -> Registration:
    return run.one(BUCKET)


def statements(run: ProgramRun) -> dict[str, dict[str, Any]]:
    document = json.loads(run.one(ROLE_POLICY).inputs["policy"])
    return {statement["Sid"]: statement for statement in document["Statement"]}


def test_prod_sends_failed_batches_to_the_bucket():
    run = prod()
    bucket = bucket_of(run)
    assert run.of_type(QUEUE) == []
    mapping = run.one(MAPPING).inputs
    assert mapping["destinationConfig"]["onFailure"]["destinationArn"] == bucket.outputs["arn"]
    assert bucket.outputs["arn"] == f"arn:aws:s3:::{bucket.outputs['bucket']}"
    assert bucket.outputs["bucket"].startswith(f"{P}-prod-failures-")
    variables = run.one(FUNCTION).inputs["environment"]["variables"]
    assert variables["FAILURE_DESTINATION_TYPE"] == "s3"
    assert variables["FAILURE_DESTINATION"] == bucket.outputs["bucket"]
    assert run.outputs["failureDestinationArn"] == bucket.outputs["arn"]
    assert run.outputs["failureBucketName"] == bucket.outputs["bucket"]
    assert "failureQueueUrl" not in run.outputs


def test_every_setting_configures_the_one_bucket():
    run = prod()
    name = bucket_of(run).outputs["bucket"]
    for kind in BUCKET_SETTINGS:
        assert run.one(kind).inputs["bucket"] == name, kind


def test_bucket_is_private_owner_enforced_and_versioned():
    run = prod()
    assert bucket_of(run).inputs["forceDestroy"] is False
    block = run.one(PUBLIC_ACCESS).inputs
    blocks = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    assert {key: block[key] for key in blocks} == dict.fromkeys(blocks, True)
    assert run.one(OWNERSHIP).inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    assert run.one(VERSIONING).inputs["versioningConfiguration"] == {"status": "Enabled"}


def test_bucket_is_encrypted_with_its_own_rotating_customer_managed_key():
    run = prod()
    (rule,) = run.one(ENCRYPTION).inputs["rules"]
    by_default = rule["applyServerSideEncryptionByDefault"]
    assert by_default["sseAlgorithm"] == "aws:kms"
    assert rule["bucketKeyEnabled"] is True
    (key,) = [k for k in run.of_type(KEY) if k.outputs["arn"] == by_default["kmsMasterKeyId"]]
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert "failure destination" in key.inputs["description"]
    assert (
        by_default["kmsMasterKeyId"]
        != run.one("aws:dynamodb/table:Table").inputs["serverSideEncryption"]["kmsKeyArn"]
    )


def test_sse_s3_is_an_explicit_relaxation_without_a_key():
    run = deploy("prod", trigger={"destinationKmsKey": "sse-s3"})
    (rule,) = run.one(ENCRYPTION).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert "EncryptForFailureDestination" not in statements(run)


def test_an_existing_key_arn_encrypts_the_bucket_as_given():
    arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    run = deploy("prod", trigger={"destinationKmsKey": arn})
    (rule,) = run.one(ENCRYPTION).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == arn
    assert statements(run)["EncryptForFailureDestination"]["Resource"] == arn


def test_policy_denies_every_request_without_tls():
    run = prod()
    arn = bucket_of(run).outputs["arn"]
    assert json.loads(run.one(BUCKET_POLICY).inputs["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    # Settings only after the public-access block exists.
    assert run.one(PUBLIC_ACCESS).urn in run.one(BUCKET_POLICY).depends_on


def test_lifecycle_expires_objects_versions_markers_and_uploads_after_the_configured_days():
    run = prod()  # Pulumi.prod.yaml: destinationRetentionDays unset, the default 14
    lifecycle = run.one(LIFECYCLE)
    assert lifecycle.inputs["rules"] == [
        {
            "id": "expire-failures",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "expiration": {"days": 14},
            "noncurrentVersionExpiration": {"noncurrentDays": 14},
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 1},
        },
        {
            "id": "remove-expired-delete-markers",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "expiration": {"expiredObjectDeleteMarker": True},
        },
    ]
    assert run.one(VERSIONING).urn in lifecycle.depends_on
    shorter = deploy("prod", trigger={"destinationRetentionDays": 3})
    assert shorter.one(LIFECYCLE).inputs["rules"][0]["expiration"] == {"days": 3}


def test_force_destroy_is_off_unless_the_stack_turns_it_on():
    assert bucket_of(prod()).inputs["forceDestroy"] is False
    run = deploy("prod", trigger={"destinationForceDestroy": True})
    assert bucket_of(run).inputs["forceDestroy"] is True


def test_role_gets_exactly_the_documented_s3_destination_permissions():
    run = prod()
    arn = bucket_of(run).outputs["arn"]
    key_arn = run.one(ENCRYPTION).inputs["rules"][0]["applyServerSideEncryptionByDefault"][
        "kmsMasterKeyId"
    ]
    found = statements(run)
    in_account = {"StringEquals": {"s3:ResourceAccount": ACCOUNT}}
    assert found["SendToFailureDestination"] == {
        "Sid": "SendToFailureDestination",
        "Effect": "Allow",
        "Action": ["s3:PutObject"],
        "Resource": [f"{arn}/aws/lambda/*", f"{arn}/quarantine/*"],
        "Condition": in_account,
    }
    assert found["ListFailureDestination"] == {
        "Sid": "ListFailureDestination",
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": arn,
        "Condition": in_account,
    }
    assert found["EncryptForFailureDestination"] == {
        "Sid": "EncryptForFailureDestination",
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey"],
        "Resource": key_arn,
        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
    }
    s3_actions = {
        action
        for statement in found.values()
        for action in statement["Action"]
        if action.startswith("s3:")
    }
    assert s3_actions == {"s3:PutObject", "s3:ListBucket"}


def test_prefixes_the_role_allows_are_the_ones_the_writers_use():
    quarantine = function_module("quarantine")
    assert LAMBDA_RECORDS_PREFIX == "aws/lambda/"  # AWS's documented layout
    assert quarantine.S3_QUARANTINE_PREFIX == QUARANTINE_PREFIX


def test_alarm_watches_the_buckets_put_requests():
    run = prod()
    name = bucket_of(run).outputs["bucket"]
    metric = run.one(BUCKET_METRIC)
    assert metric.inputs == {"bucket": name, "name": "failure-landings"}
    (alarm,) = [a for a in run.of_type(ALARM) if a.name.endswith("failure-bucket-landings")]
    assert alarm.inputs["namespace"] == "AWS/S3"
    assert alarm.inputs["metricName"] == "PutRequests"
    assert alarm.inputs["statistic"] == "Sum"
    assert alarm.inputs["threshold"] == 0.0
    assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"
    assert alarm.inputs["dimensions"] == {"BucketName": name, "FilterId": "failure-landings"}
    assert run.outputs["alarmNames"].count(f"{P}-prod-failure-bucket-landings") == 1


def test_no_request_metrics_without_alarms():
    run = deploy("prod", alarms={"enabled": False})
    assert run.of_type(BUCKET_METRIC) == []
    assert run.of_type(ALARM) == []


def widgets(run: ProgramRun) -> dict[str, dict[str, Any]]:
    body = json.loads(run.one(DASHBOARD).inputs["dashboardBody"])
    return {w["properties"]["title"]: w["properties"] for w in body["widgets"]}


def test_dashboard_shows_landings_and_the_mappings_event_counts():
    run = prod()
    name = bucket_of(run).outputs["bucket"]
    shown = widgets(run)
    landings = shown[f"Failure bucket {name}"]["metrics"]
    assert [m[:6] for m in landings] == [
        ["AWS/S3", "PutRequests", "BucketName", name, "FilterId", "failure-landings"]
    ]
    uuid = run.one(MAPPING).outputs["uuid"]
    counts = shown["Event source mapping: events by outcome"]["metrics"]
    assert [m[:4] for m in counts] == [
        ["AWS/Lambda", metric, "EventSourceMappingUUID", uuid]
        for metric in (
            "PolledEventCount",
            "FilteredOutEventCount",
            "InvokedEventCount",
            "FailedInvokeEventCount",
            "DroppedEventCount",
        )
    ]
    assert run.one(MAPPING).inputs["metricsConfig"] == {"metrics": ["EventCount"]}


def test_without_mapping_metrics_there_is_no_mapping_row():
    run = deploy("prod", trigger={"metrics": DELETE})
    assert "metricsConfig" not in run.one(MAPPING).inputs
    assert "Event source mapping: events by outcome" not in widgets(run)


@pytest.mark.parametrize("kind", ["sqs", "sns"])
def test_other_kinds_create_no_bucket(kind):
    run = deploy("prod", trigger={"onFailure": kind, "destinationRetentionDays": DELETE})
    assert run.of_type(BUCKET) == []
    assert all(run.of_type(setting) == [] for setting in BUCKET_SETTINGS)
    assert "ListFailureDestination" not in statements(run)


def test_default_destination_is_s3_with_a_created_key():
    run = deploy("prod", trigger={"onFailure": DELETE, "destinationKmsKey": DELETE})
    (rule,) = run.one(ENCRYPTION).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert (
        run.one(MAPPING).inputs["destinationConfig"]["onFailure"]["destinationArn"]
        == (bucket_of(run).outputs["arn"])
    )
