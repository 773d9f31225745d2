"""The resource graph the program registers (Pulumi mocks): encryption and keys, parents, tags and
package, attaching to an existing table.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pulumi
import pytest

from components.config import ConfigError
from components.function import FUNCTION_SOURCE, function_archive
from streamops.program import Registration, run_program
from tests.support.fake_aws import ACCOUNT, REGION, FakeAws
from tests.unit.pipeline.graph_helpers import (
    ALARMS_COMPONENT,
    BUCKET,
    BUCKET_POLICY,
    DASHBOARD,
    EXISTING_STREAM,
    FAILURE_TOPIC,
    FUNCTION,
    KEY,
    MAPPING,
    QUEUE,
    ROLE_POLICY,
    SUBSCRIPTION,
    TABLE,
    TOPIC,
    TOPIC_POLICY,
    P,
    deploy,
    deploy_existing,
    dev,
    existing_config,
    existing_tables,
    only,
    policy_statements,
    prod,
)


# --- encryption and customer-managed keys ----------------------------------------------------
def test_prod_encrypts_table_and_bucket_with_rotating_customer_managed_keys():
    run = prod()
    (alarms,) = run.of_type(ALARMS_COMPONENT)
    # The alarm topic's own key is checked in test_alarms.py, the bucket's settings in
    # test_failure_bucket.py.
    (function,) = run.of_type(f"{P}:index:StreamFunction")
    # The function's key (log group, environment) is checked in test_security_baseline.py.
    keys = [key for key in run.of_type(KEY) if key.parent not in (alarms.urn, function.urn)]
    assert len(keys) == 2
    assert all(key.inputs["enableKeyRotation"] is True for key in keys)
    key_arns = {key.outputs["arn"] for key in keys}
    table_key = run.one(TABLE).inputs["serverSideEncryption"]
    assert table_key["enabled"] is True and table_key["kmsKeyArn"] in key_arns
    (encryption,) = run.of_type("aws:s3/bucketServerSideEncryptionConfiguration:"
                                "BucketServerSideEncryptionConfiguration")  # fmt: skip
    bucket_key = encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"][
        "kmsMasterKeyId"
    ]
    assert bucket_key in key_arns and bucket_key != table_key["kmsKeyArn"]
    statements = {s["Sid"]: s for s in policy_statements(run)}
    assert statements["DecryptTableStream"] == {
        "Sid": "DecryptTableStream",
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": table_key["kmsKeyArn"],
    }
    # S3 PutObject under SSE-KMS: kms:GenerateDataKey only, and only through S3.
    assert statements["EncryptForFailureDestination"] == {
        "Sid": "EncryptForFailureDestination",
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey"],
        "Resource": bucket_key,
        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
    }


def test_a_queue_under_a_customer_managed_key_gets_decrypt_and_generate_data_key():
    run = deploy("prod", trigger={"onFailure": "sqs", "destinationRetentionDays": 14})
    queue_key = run.one(QUEUE).inputs["kmsMasterKeyId"]
    statements = {s["Sid"]: s for s in policy_statements(run)}
    assert statements["EncryptForFailureDestination"] == {
        "Sid": "EncryptForFailureDestination",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": queue_key,
    }


def test_dev_uses_free_encryption_and_no_key():
    run = dev()
    assert run.of_type(KEY) == []
    assert run.one(TABLE).inputs["serverSideEncryption"] == {"enabled": False}
    assert run.one(QUEUE).inputs["sqsManagedSseEnabled"] is True
    assert {s["Sid"] for s in policy_statements(run)} == {
        "ReadTableStream",
        "ListStreams",
        "WriteOwnLogs",
        "SendToFailureDestination",
    }


def test_existing_key_arn_is_used_as_given():
    arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    run = deploy("dev", table={"kmsKey": arn})
    assert run.of_type(KEY) == []
    assert run.one(TABLE).inputs["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": arn}
    statements = {s["Sid"]: s for s in policy_statements(run)}
    assert statements["DecryptTableStream"]["Resource"] == arn


def test_sns_failure_destination():
    run = deploy("dev", trigger={"onFailure": "sns"})
    topic = only(run, FAILURE_TOPIC)
    assert run.of_type(QUEUE) == []
    assert topic.inputs["kmsMasterKeyId"] == "alias/aws/sns"
    mapping = run.one(MAPPING).inputs
    assert mapping["destinationConfig"]["onFailure"]["destinationArn"] == topic.outputs["arn"]
    statements = {s["Sid"]: s for s in policy_statements(run)}
    assert statements["SendToFailureDestination"]["Action"] == ["sns:Publish"]
    assert statements["SendToFailureDestination"]["Resource"] == topic.outputs["arn"]
    variables = run.one(FUNCTION).inputs["environment"]["variables"]
    assert variables["FAILURE_DESTINATION_TYPE"] == "sns"
    assert variables["FAILURE_DESTINATION"] == topic.outputs["arn"]
    assert "failureQueueUrl" not in run.outputs
    assert run.outputs["failureDestinationArn"] == topic.outputs["arn"]


# --- structure: parents, tags, package ------------------------------------------------------
def test_every_resource_is_parented_to_a_component():
    run = dev()
    components = {r.urn for r in run.resources if not r.custom}
    (pipeline,) = [r for r in run.resources if r.type == f"{P}:index:StreamPipeline"]
    for resource in run.resources:
        if resource is pipeline:
            continue
        assert resource.parent in components, resource.urn
    assert {r.type for r in run.resources if not r.custom} == {
        f"{P}:index:StreamPipeline",
        f"{P}:index:StreamTable",
        f"{P}:index:FailureDestination",
        f"{P}:index:StreamFunction",
        f"{P}:index:StreamTrigger",
        ALARMS_COMPONENT,
    }


# No `tags` argument in the provider for these.
UNTAGGABLE = {ROLE_POLICY, TOPIC_POLICY, DASHBOARD, SUBSCRIPTION, BUCKET_POLICY} | {
    f"aws:s3/{kind[0].lower()}{kind[1:]}:{kind}"
    for kind in ("BucketPublicAccessBlock", "BucketOwnershipControls", "BucketVersioning",
                 "BucketServerSideEncryptionConfiguration", "BucketLifecycleConfiguration",
                 "BucketMetric")
}  # fmt: skip


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_tags_reach_every_taggable_resource(stack):
    run = dev() if stack == "dev" else prod()
    expected = {"project": P, "environment": stack}
    custom: list[Registration] = [r for r in run.resources if r.custom]
    assert custom
    for resource in custom:
        if resource.type in UNTAGGABLE:
            continue
        assert resource.inputs.get("tags") == expected, resource.type


def test_package_holds_only_the_functions_python_files():
    archive = function_archive()
    names = set(archive.assets)
    expected = {path.name for path in Path(FUNCTION_SOURCE).glob("*.py")}
    assert names == expected and "handler.py" in names
    assert all(name.endswith(".py") and "/" not in name for name in names)


def test_package_without_handler_is_refused(tmp_path):
    (tmp_path / "other.py").write_text("x = 1\n")
    with pytest.raises(FileNotFoundError, match=r"handler\.py is missing"):
        function_archive(tmp_path)


def test_package_zip_contents(tmp_path):
    # The same files a FileArchive would read, zipped the way Lambda expects (flat root).
    archive = function_archive()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, asset in archive.assets.items():
            assert isinstance(asset, pulumi.FileAsset)
            zf.write(asset.path, name)
    with zipfile.ZipFile(buffer) as zf:
        assert "handler.py" in zf.namelist()


# --- existing table ---------------------------------------------------------------------------
def test_attaching_to_an_existing_table_creates_no_table():
    run = deploy_existing()
    assert run.of_type(TABLE) == []
    assert run.one(MAPPING).inputs["eventSourceArn"] == EXISTING_STREAM
    assert run.outputs["streamArn"] == EXISTING_STREAM
    assert run.outputs["tableName"] == "legacy"
    assert {s["Sid"]: s for s in policy_statements(run)}["ReadTableStream"]["Resource"] == (
        EXISTING_STREAM
    )


def test_existing_table_encrypted_with_a_customer_key_gets_decrypt():
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    run = deploy_existing(serverSideEncryption={"enabled": True, "kmsKeyArn": key})
    statements = {s["Sid"]: s for s in policy_statements(run)}
    assert statements["DecryptTableStream"]["Resource"] == key


@pytest.mark.parametrize(
    ("tables", "trigger", "expected"),
    [
        (
            existing_tables(streamEnabled=False, streamArn=""),
            {},
            f"{P}:table.existingTableName: table 'legacy' has no stream enabled",
        ),
        (
            existing_tables(streamViewType="KEYS_ONLY"),
            {"filterPatterns": [{"dynamodb": {"NewImage": {"status": {"S": ["PAID"]}}}}]},
            f"{P}:table.existingTableName: table 'legacy' streams KEYS_ONLY, but "
            "trigger.filterPatterns filter on dynamodb.NewImage",
        ),
        ({}, {}, f"{P}:table.existingTableName: cannot read table 'legacy'"),
    ],
)
def test_existing_table_that_cannot_feed_the_trigger_stops_the_program(tables, trigger, expected):
    mocks = FakeAws(tables)
    with pytest.raises(ConfigError) as caught:
        run_program(mocks, existing_config(**trigger), "dev")
    assert caught.value.problems[0].startswith(expected), caught.value.problems
    assert mocks.registered == []


def test_existing_table_rejects_creation_only_settings():
    config = existing_config()
    config[f"{P}:table"] = {"existingTableName": "legacy", "billingMode": "PROVISIONED"}
    mocks = FakeAws(existing_tables())
    with pytest.raises(ConfigError) as caught:
        run_program(mocks, config, "dev")
    assert caught.value.problems == [
        f"{P}:table.billingMode only applies to a table this program creates; remove it when "
        "table.existingTableName is set (the existing table keeps its own settings)"
    ]
    assert mocks.registered == []


def test_renaming_the_function_keeps_the_failure_destination():
    # A new URN would make `pulumi up` create a new queue and delete the old one, with the
    # on-failure pointers and quarantined records still waiting in it.
    renamed = deploy("dev", function={"name": "orders-processor"})
    for kind in (QUEUE, TOPIC):
        before = {r.urn for r in dev().of_type(kind)}
        assert before <= {r.urn for r in renamed.of_type(kind)}, kind
    prod_renamed = deploy("prod", function={"name": "orders-processor"})
    assert {r.urn for r in prod().of_type(BUCKET)} == {r.urn for r in prod_renamed.of_type(BUCKET)}
    sns = deploy("dev", trigger={"onFailure": "sns"})
    sns_renamed = deploy("dev", trigger={"onFailure": "sns"}, function={"name": "orders-fn"})
    assert {r.urn for r in sns.of_type(TOPIC)} == {r.urn for r in sns_renamed.of_type(TOPIC)}
