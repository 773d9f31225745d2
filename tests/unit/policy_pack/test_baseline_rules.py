"""The controls for keys, the function's encryption, tracing, code signing, the S3 bucket and
service grants: each catches a broken case and passes a compliant one.

Broken cases come through config where the config accepts the insecure value (logKmsKey
none, environmentKmsKey aws-managed, tracing PassThrough), otherwise by editing one
registration's inputs (the program always sets a key policy and rotation). The bucket rules
run against hand-made resources of the pulumi-aws 7 types (the failure-destination bucket
arrives with issue 14), in the inputs shape the pack receives.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from policy import rules
from policy.rules import RULES_BY_ID
from tests.unit.policy_pack.conftest import REMOVE, add, edit, messages, stack_graph

ACCOUNT = "123456789012"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET_NAME = "dynamodb-stream-processor-prod-failures-a1b2c3d"


def rule(rule_id: str) -> rules.Rule:
    return RULES_BY_ID[rule_id]


# ---------------------------------------------------------------------------------------
# CKV_AWS_158 (log group), CKV_AWS_173 (environment): broken through config.
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule_id", "override", "expected"),
    [
        ("ckv-aws-158", {"function.logKmsKey": "none"},
         "kmsKeyId is not set: the log group is not under a customer-managed key"),
        ("ckv-aws-173", {"function.environmentKmsKey": "aws-managed"},
         "kmsKeyArn is not set: the environment variables use the AWS-managed key"),
    ],
)  # fmt: skip
def test_function_encryption_rules_catch_the_relaxed_values(prod, rule_id, override, expected):
    assert messages(rule(rule_id), prod) == []
    assert messages(rule(rule_id), stack_graph("prod", override)) == [expected]


@pytest.mark.parametrize(
    ("rule_id", "override"),
    [
        ("ckv-aws-158", {"function.logKmsKey": KEY_ARN}),
        ("ckv-aws-173", {"function.environmentKmsKey": KEY_ARN}),
        # Only the log group's key created: the environment still uses the given key.
        ("ckv-aws-173", {"function.logKmsKey": "none", "function.environmentKmsKey": KEY_ARN}),
    ],
)
def test_function_encryption_rules_pass_given_keys(rule_id, override):
    assert messages(rule(rule_id), stack_graph("prod", override)) == []


def test_environment_rule_ignores_a_function_without_variables(prod):
    bare = edit(prod, rules.FUNCTION, environment=REMOVE, kmsKeyArn=REMOVE)
    assert messages(rule("ckv-aws-173"), bare) == []


# ---------------------------------------------------------------------------------------
# CKV2_AWS_64 / CKV_AWS_7: every key the program creates has both; broken by editing.
# ---------------------------------------------------------------------------------------
def test_key_rules_pass_every_created_key(prod):
    keys = [r for r in prod if r.type == rules.KMS_KEY]
    assert len(keys) == 4  # table, failure queue, function, alarm topic
    assert messages(rule("ckv2-aws-64"), prod) == messages(rule("ckv-aws-7"), prod) == []


def test_key_without_policy_or_rotation_is_caught(prod):
    no_policy = edit(prod, rules.KMS_KEY, "table", policy=REMOVE)
    assert len(messages(rule("ckv2-aws-64"), no_policy)) == 1
    assert "default key policy" in messages(rule("ckv2-aws-64"), no_policy)[0]
    no_rotation = edit(prod, rules.KMS_KEY, "table", enableKeyRotation=False)
    assert messages(rule("ckv-aws-7"), no_rotation) == [
        "enableKeyRotation is not true: the key material never rotates"
    ]


def test_rotation_rule_skips_asymmetric_keys(prod):
    signing = add(prod, rules.KMS_KEY, "signing", customerMasterKeySpec="ECC_NIST_P256",
                  keyUsage="SIGN_VERIFY", policy="{}")  # fmt: skip
    assert messages(rule("ckv-aws-7"), signing) == []


# ---------------------------------------------------------------------------------------
# CKV_AWS_272 / CKV_AWS_50: real checks that ship suppressed (see test_pack.py).
# ---------------------------------------------------------------------------------------
def test_code_signing_check_catches_unsigned_and_passes_signed(prod):
    assert messages(rule("ckv-aws-272"), prod) == [
        "codeSigningConfigArn is not set: Lambda deploys unsigned code"
    ]
    signed = edit(
        prod, rules.FUNCTION,
        codeSigningConfigArn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:code-signing-config:csc-0a1b2c3d",
    )  # fmt: skip
    assert messages(rule("ckv-aws-272"), signed) == []


def test_tracing_check_catches_pass_through_and_passes_active(prod):
    assert messages(rule("ckv-aws-50"), prod) == [
        "tracingConfig.mode is PassThrough: X-Ray records no traces of the function"
    ]
    assert messages(rule("ckv-aws-50"), stack_graph("prod", {"function.tracing": "Active"})) == []


# ---------------------------------------------------------------------------------------
# S3 bucket rules: a compliant bucket as pulumi-aws 7 declares it, then one setting broken.
# ---------------------------------------------------------------------------------------
# AWS's documented example for S3.5 ("Security Hub controls for Amazon S3", S3.5 remediation).
TLS_ONLY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{BUCKET_NAME}", f"arn:aws:s3:::{BUCKET_NAME}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ],
}
BUCKET_SETTINGS: dict[str, dict[str, Any]] = {
    rules.BUCKET_PUBLIC_ACCESS_BLOCK: {
        "blockPublicAcls": True, "blockPublicPolicy": True,
        "ignorePublicAcls": True, "restrictPublicBuckets": True,
    },
    rules.BUCKET_POLICY: {"policy": json.dumps(TLS_ONLY)},
    rules.BUCKET_ENCRYPTION: {"rules": [{"applyServerSideEncryptionByDefault": {
        "sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}, "bucketKeyEnabled": True}]},
    rules.BUCKET_VERSIONING: {"versioningConfiguration": {"status": "Enabled"}},
    rules.BUCKET_LIFECYCLE: {"rules": [{"id": "expire-failures", "status": "Enabled",
                                        "expiration": {"days": 14}}]},
}  # fmt: skip
BUCKET_RULES = {
    rules.BUCKET_PUBLIC_ACCESS_BLOCK: "fsbp-s3-1-s3-8-ckv2-aws-6",
    rules.BUCKET_POLICY: "fsbp-s3-5",
    rules.BUCKET_ENCRYPTION: "ckv-aws-145-fsbp-s3-17",
    rules.BUCKET_VERSIONING: "ckv-aws-21",
    rules.BUCKET_LIFECYCLE: "ckv2-aws-61",
}


def with_bucket(resources: Any, *, bucket_name: str = BUCKET_NAME, **replaced: Any) -> Any:
    """The graph plus a bucket and its five settings; `replaced` swaps one setting's props."""
    resources = add(resources, rules.BUCKET, "failures-bucket", bucket=bucket_name)
    for kind, props in BUCKET_SETTINGS.items():
        props = replaced.get(kind.rsplit(":", 1)[-1], props)
        if props is not None:
            resources = add(resources, kind, f"failures-{kind.rsplit(':', 1)[-1]}",
                            bucket=bucket_name, **props)  # fmt: skip
    return resources


def test_bucket_rules_pass_a_compliant_bucket(prod):
    compliant = with_bucket(prod)
    for rule_id in BUCKET_RULES.values():
        assert messages(rule(rule_id), compliant) == [], rule_id


@pytest.mark.parametrize("kind", list(BUCKET_RULES), ids=lambda kind: kind.rsplit(":", 1)[-1])
def test_bucket_rules_catch_a_missing_setting(prod, kind):
    without: dict[str, Any] = {kind.rsplit(":", 1)[-1]: None}
    missing = with_bucket(prod, **without)
    assert len(messages(rule(BUCKET_RULES[kind]), missing)) == 1
    for other_kind, rule_id in BUCKET_RULES.items():
        if other_kind != kind:
            assert messages(rule(rule_id), missing) == [], rule_id


def test_bucket_settings_of_another_bucket_do_not_count(prod):
    # Each setting names "other-bucket": the failures bucket itself has none.
    other = with_bucket(prod, bucket_name="other-bucket")
    lonely = add(other, rules.BUCKET, "failures-bucket", bucket=BUCKET_NAME)
    for rule_id in BUCKET_RULES.values():
        found = messages(rule(rule_id), lonely)
        assert len(found) == 1 and BUCKET_NAME in found[0], rule_id


@pytest.mark.parametrize(
    ("kind", "props", "expected"),
    [
        (rules.BUCKET_PUBLIC_ACCESS_BLOCK,
         {**BUCKET_SETTINGS[rules.BUCKET_PUBLIC_ACCESS_BLOCK], "restrictPublicBuckets": False},
         f"public access block of bucket {BUCKET_NAME} leaves ['restrictPublicBuckets'] off"),
        (rules.BUCKET_POLICY, {"policy": json.dumps({"Statement": [{
            **TLS_ONLY["Statement"][0],
            "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]})},
         f"bucket {BUCKET_NAME} has no policy statement denying s3:* to '*' when "
         "aws:SecureTransport is false"),
        (rules.BUCKET_ENCRYPTION, {"rules": [
            {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
         f"bucket {BUCKET_NAME} default encryption is AES256, not a KMS key "
         "(aws:kms or aws:kms:dsse)"),
        (rules.BUCKET_VERSIONING, {"versioningConfiguration": {"status": "Suspended"}},
         f"bucket {BUCKET_NAME} versioning is ['Suspended']"),
        (rules.BUCKET_LIFECYCLE, {"rules": [{"id": "off", "status": "Disabled"}]},
         f"bucket {BUCKET_NAME} has no enabled lifecycle rule"),
    ],
    ids=lambda value: value.rsplit(":", 1)[-1] if isinstance(value, str) else "",
)  # fmt: skip
def test_bucket_rules_catch_a_weak_setting(prod, kind, props, expected):
    weak = with_bucket(prod, **{kind.rsplit(":", 1)[-1]: props})
    assert messages(rule(BUCKET_RULES[kind]), weak) == [expected]


# ---------------------------------------------------------------------------------------
# Confused deputy: the program's key and topic policies condition every service grant.
# ---------------------------------------------------------------------------------------
DEPUTY = rule("confused-deputy")


def test_confused_deputy_passes_the_programs_policies(dev, prod):
    service_grants = [
        statement
        for resource in prod
        if resource.type in DEPUTY.types and resource.props.get("policy")
        for statement in json.loads(resource.props["policy"])["Statement"]
        if "Service" in statement.get("Principal", {})
    ]
    # Logs on the function key, CloudWatch on the topic key and in the topic policy.
    assert len(service_grants) == 3
    assert messages(DEPUTY, prod) == messages(DEPUTY, dev) == []


@pytest.mark.parametrize(
    ("type_token", "named"),
    [(rules.KMS_KEY, "alarms-topic-key"), (rules.TOPIC_POLICY, "topic-policy")],
)
def test_confused_deputy_catches_a_service_grant_without_condition(prod, type_token, named):
    target = next(r for r in prod if r.type == type_token and named in r.name)
    document = json.loads(target.props["policy"])
    for statement in document["Statement"]:
        statement.pop("Condition", None)
    broken = edit(prod, type_token, named, policy=json.dumps(document))
    found = messages(DEPUTY, broken)
    assert len(found) == 1
    assert "grants cloudwatch.amazonaws.com without aws:SourceAccount" in found[0]


def test_confused_deputy_accepts_source_and_encryption_context_conditions(prod):
    scoped = {"Statement": [
        {"Sid": "S3Logs", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET_NAME}/*",
         "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}},
        {"Sid": "Deny", "Effect": "Deny", "Principal": {"Service": "sns.amazonaws.com"},
         "Action": "s3:*", "Resource": "*"},
    ]}  # fmt: skip
    assert messages(DEPUTY, add(prod, rules.BUCKET_POLICY, "p", policy=json.dumps(scoped))) == []
    unscoped = {"Statement": [{**scoped["Statement"][0], "Condition": {
        "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]}  # fmt: skip
    found = messages(DEPUTY, add(prod, rules.BUCKET_POLICY, "p", policy=json.dumps(unscoped)))
    assert found == [
        "policy statement 'S3Logs' grants logging.s3.amazonaws.com without aws:SourceAccount / "
        "aws:SourceArn (or an encryption context): the service could use it on behalf of any "
        "account"
    ]
