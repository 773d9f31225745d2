"""The controls aws-facts.md added for keys, the function, the S3 bucket and service grants.

Same shape as `policy/rules.py` (plain functions over `Resource`s, wrapped by
`policy/pack.py`); kept in a module of their own so neither file grows past a screenful
of rules. Rules appear in `RULES` in aws-facts.md's order, after CKV_AWS_116.

S3: in pulumi-aws 7 a bucket's settings are separate resources (`BucketPublicAccessBlock`,
`BucketServerSideEncryptionConfiguration`, `BucketVersioning`, `BucketLifecycleConfiguration`,
`BucketPolicy`), each naming its bucket in its `bucket` input. A policy pack sees them one
at a time, so the bucket rules are stack rules: they relate each `Bucket` (by its `bucket`
name, which the provider fills in for auto-named buckets before the pack runs) to the
sibling resources naming it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from policy.documents import allows, as_list, describe, principals, statements
from policy.model import (
    BUCKET,
    BUCKET_ENCRYPTION,
    BUCKET_LIFECYCLE,
    BUCKET_POLICY,
    BUCKET_PUBLIC_ACCESS_BLOCK,
    BUCKET_VERSIONING,
    FUNCTION,
    KMS_KEY,
    LOG_GROUP,
    QUEUE,
    QUEUE_POLICY,
    TOPIC,
    TOPIC_POLICY,
    Resource,
    Rule,
    is_set,
)

SYMMETRIC_KEY_SPEC = "SYMMETRIC_DEFAULT"
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
PUBLIC_ACCESS_BLOCKS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)
# Condition keys that tie a service principal's grant to one account or resource (AWS's
# confused-deputy guidance), and the encryption context CloudWatch Logs sends to KMS.
SOURCE_CONDITION_KEYS = frozenset(
    {"aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths"}
)
ENCRYPTION_CONTEXT_PREFIX = "kms:encryptioncontext:"


# ---------------------------------------------------------------------------------------
# Log group, keys, function
# ---------------------------------------------------------------------------------------
def log_group_key(resource: Resource) -> Iterator[str]:
    """CKV_AWS_158: the log group is encrypted with a customer-managed KMS key."""
    if not is_set(resource.props.get("kmsKeyId")):
        yield "kmsKeyId is not set: the log group is not under a customer-managed key"


def explicit_key_policy(resource: Resource) -> Iterator[str]:
    """CKV2_AWS_64: the key has a policy of its own, not AWS's implicit default."""
    if not is_set(resource.props.get("policy")):
        yield (
            "policy is not set: AWS applies its default key policy (kms:* for the account "
            "root), so any IAM policy of the account can grant use of the key"
        )


def key_rotation(resource: Resource) -> Iterator[str]:
    """CKV_AWS_7: automatic rotation on (symmetric keys; others cannot rotate)."""
    spec = resource.props.get("customerMasterKeySpec") or SYMMETRIC_KEY_SPEC
    if spec == SYMMETRIC_KEY_SPEC and resource.props.get("enableKeyRotation") is not True:
        yield "enableKeyRotation is not true: the key material never rotates"


def environment_key(resource: Resource) -> Iterator[str]:
    """CKV_AWS_173: environment variables encrypted with a customer-managed key."""
    variables = (resource.props.get("environment") or {}).get("variables") or {}
    if variables and not is_set(resource.props.get("kmsKeyArn")):
        yield "kmsKeyArn is not set: the environment variables use the AWS-managed key"


def code_signing(resource: Resource) -> Iterator[str]:
    """CKV_AWS_272: a code signing configuration checks the deployed package."""
    if resource.props.get("packageType") == "Image":
        return  # code signing applies to .zip packages only
    if not is_set(resource.props.get("codeSigningConfigArn")):
        yield "codeSigningConfigArn is not set: Lambda deploys unsigned code"


def active_tracing(resource: Resource) -> Iterator[str]:
    """CKV_AWS_50: X-Ray active tracing."""
    mode = (resource.props.get("tracingConfig") or {}).get("mode")
    if mode != "Active":
        yield f"tracingConfig.mode is {mode or 'not set'}: X-Ray records no traces of the function"


# ---------------------------------------------------------------------------------------
# S3 bucket (stack rules: a bucket and the resources that configure it)
# ---------------------------------------------------------------------------------------
def bucket_ref(resource: Resource) -> str:
    """How sibling resources name a bucket: its `bucket` name (or id)."""
    return str(resource.props.get("bucket") or resource.props.get("id") or resource.name)


def _settings(resources: Sequence[Resource], kind: str) -> dict[str, list[Resource]]:
    """Resources of `kind`, by the bucket they configure."""
    found: dict[str, list[Resource]] = {}
    for resource in resources:
        if resource.type == kind:
            found.setdefault(str(resource.props.get("bucket")), []).append(resource)
    return found


def _per_bucket(
    resources: Sequence[Resource], kind: str
) -> Iterator[tuple[Resource, list[Resource]]]:
    settings = _settings(resources, kind)
    for bucket in resources:
        if bucket.type == BUCKET:
            yield bucket, settings.get(bucket_ref(bucket), [])


def bucket_public_access_blocked(resources: Sequence[Resource]) -> Iterator[tuple[Resource, str]]:
    """FSBP S3.1/S3.8, CKV2_AWS_6: a public access block with all four settings on."""
    for bucket, blocks in _per_bucket(resources, BUCKET_PUBLIC_ACCESS_BLOCK):
        name = bucket_ref(bucket)
        if not blocks:
            yield bucket, f"bucket {name} has no BucketPublicAccessBlock"
            continue
        for block in blocks:
            off = [key for key in PUBLIC_ACCESS_BLOCKS if block.props.get(key) is not True]
            if off:
                yield block, f"public access block of bucket {name} leaves {off} off"


def _denies_insecure_transport(statement: Mapping[str, Any]) -> bool:
    if statement.get("Effect") != "Deny":
        return False
    if not any(value == "*" for _kind, value in principals(statement)):
        return False
    if not {"s3:*", "*"} & {str(action) for action in as_list(statement.get("Action"))}:
        return False
    secure = ((statement.get("Condition") or {}).get("Bool") or {}).get("aws:SecureTransport")
    return [str(value).lower() for value in as_list(secure)] == ["false"]


def bucket_requires_tls(resources: Sequence[Resource]) -> Iterator[tuple[Resource, str]]:
    """FSBP S3.5: the bucket policy denies every request made without TLS."""
    for bucket, policies in _per_bucket(resources, BUCKET_POLICY):
        if not any(
            _denies_insecure_transport(statement)
            for policy in policies
            for statement in statements(policy.props.get("policy"))
        ):
            yield (
                bucket,
                f"bucket {bucket_ref(bucket)} has no policy statement denying s3:* to '*' when "
                "aws:SecureTransport is false",
            )


def bucket_kms_encrypted(resources: Sequence[Resource]) -> Iterator[tuple[Resource, str]]:
    """CKV_AWS_145 / FSBP S3.17: default encryption with a KMS key (SSE-KMS or DSSE-KMS)."""
    for bucket, configurations in _per_bucket(resources, BUCKET_ENCRYPTION):
        algorithms = [
            ((rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm"))
            for configuration in configurations
            for rule in as_list(configuration.props.get("rules"))
        ]
        if not any(algorithm in KMS_ALGORITHMS for algorithm in algorithms):
            shown = ", ".join(str(a) for a in algorithms) or "none"
            yield (
                bucket,
                f"bucket {bucket_ref(bucket)} default encryption is {shown}, not a KMS key "
                f"({' or '.join(KMS_ALGORITHMS)})",
            )


def bucket_versioned(resources: Sequence[Resource]) -> Iterator[tuple[Resource, str]]:
    """CKV_AWS_21: versioning enabled."""
    for bucket, versionings in _per_bucket(resources, BUCKET_VERSIONING):
        statuses = [
            (versioning.props.get("versioningConfiguration") or {}).get("status")
            for versioning in versionings
        ]
        if "Enabled" not in statuses:
            yield bucket, f"bucket {bucket_ref(bucket)} versioning is {statuses or 'not set'}"


def bucket_lifecycle(resources: Sequence[Resource]) -> Iterator[tuple[Resource, str]]:
    """CKV2_AWS_61: a lifecycle configuration with at least one enabled rule."""
    for bucket, lifecycles in _per_bucket(resources, BUCKET_LIFECYCLE):
        enabled = [
            rule
            for lifecycle in lifecycles
            for rule in as_list(lifecycle.props.get("rules"))
            if rule.get("status") == "Enabled"
        ]
        if not enabled:
            yield bucket, f"bucket {bucket_ref(bucket)} has no enabled lifecycle rule"


# ---------------------------------------------------------------------------------------
# Service principals in resource policies (confused deputy)
# ---------------------------------------------------------------------------------------
def _scoping_keys(statement: Mapping[str, Any]) -> list[str]:
    keys = [
        str(key).lower()
        for block in (statement.get("Condition") or {}).values()
        for key in (block or {})
    ]
    return [
        key
        for key in keys
        if key in SOURCE_CONDITION_KEYS or key.startswith(ENCRYPTION_CONTEXT_PREFIX)
    ]


def service_grants_scoped(resource: Resource) -> Iterator[str]:
    """Confused deputy: a service principal's grant names the source account / resource
    (aws:SourceAccount, aws:SourceArn, aws:SourceOrgID/Paths) or the service's encryption
    context (kms:EncryptionContext:*), so the service cannot be made to use it for others."""
    for statement in statements(resource.props.get("policy")):
        if not allows(statement):
            continue
        services = [value for kind, value in principals(statement) if kind == "Service"]
        if services and not _scoping_keys(statement):
            yield (
                f"policy {describe(statement)} grants {', '.join(services)} without "
                "aws:SourceAccount / aws:SourceArn (or an encryption context): the service "
                "could use it on behalf of any account"
            )


# ---------------------------------------------------------------------------------------
# Rules, in aws-facts.md's order (after CKV_AWS_116).
# ---------------------------------------------------------------------------------------
SUPPRESSED_CKV_AWS_272 = (
    "No code signing: Lambda verifies only packages signed by AWS Signer, i.e. a signing job "
    "that reads the zip from S3 and writes a signed copy. This program deploys its package "
    "straight from the repository (a Pulumi AssetArchive of functions/stream_processor/*.py "
    "built at deploy time), so there is nothing signed to verify. What is deployed is "
    "controlled by the pipeline instead: only reviewed commits on main are deployed, by the "
    "CI role assumed through GitHub OIDC, and prod waits for a required reviewer "
    "(docs/policy.md). Turning this on needs a signing path (signing profile, code signing "
    "config set to Enforce, a signed S3 artifact as the function's code)."
)
SUPPRESSED_CKV_AWS_50 = (
    "X-Ray tracing is opt-in (function.tracing: Active makes the rule pass). The event source "
    "mapping invokes the function synchronously and starts no upstream trace; the function "
    "does one step per record and calls nothing but the failure destination, and its "
    "latency, errors, throttles and iterator age are covered by Lambda's metrics, the "
    "handler's EMF metrics and the alarms. Active tracing adds X-Ray charges per trace and "
    "needs xray:PutTraceSegments / xray:PutTelemetryRecords on '*' (X-Ray has no "
    "resource-level permissions)."
)

BASELINE_RULES: tuple[Rule, ...] = (
    Rule(
        id="ckv-aws-158",
        controls=("CKV_AWS_158",),
        description="Log groups must be encrypted with a customer-managed KMS key.",
        types=frozenset({LOG_GROUP}),
        check=log_group_key,
        severity="medium",
        remediation="Set function.logKmsKey to create or to a key ARN CloudWatch Logs may use.",
    ),
    Rule(
        id="ckv2-aws-64",
        controls=("CKV2_AWS_64",),
        description="KMS keys must have an explicit key policy.",
        types=frozenset({KMS_KEY}),
        check=explicit_key_policy,
        severity="medium",
        remediation="Create keys through components/kms.py (key_policy).",
    ),
    Rule(
        id="ckv-aws-7",
        controls=("CKV_AWS_7",),
        description="Symmetric KMS keys must have automatic rotation enabled.",
        types=frozenset({KMS_KEY}),
        check=key_rotation,
        severity="medium",
        remediation="Set enable_key_rotation=True (components/kms.py does).",
    ),
    Rule(
        id="ckv-aws-173",
        controls=("CKV_AWS_173",),
        description="Lambda environment variables must be encrypted with a customer-managed key.",
        types=frozenset({FUNCTION}),
        check=environment_key,
        severity="medium",
        remediation="Set function.environmentKmsKey to create or to a key ARN.",
    ),
    Rule(
        id="ckv-aws-272",
        controls=("CKV_AWS_272",),
        description="Lambda functions should validate code signing (suppressed: see reason).",
        types=frozenset({FUNCTION}),
        check=code_signing,
        severity="low",
        remediation="Deploy a package signed by AWS Signer with a code signing config.",
        suppressed=SUPPRESSED_CKV_AWS_272,
    ),
    Rule(
        id="ckv-aws-50",
        controls=("CKV_AWS_50",),
        description="Lambda functions should use X-Ray active tracing (suppressed: see reason).",
        types=frozenset({FUNCTION}),
        check=active_tracing,
        severity="low",
        remediation="Set function.tracing to Active.",
        suppressed=SUPPRESSED_CKV_AWS_50,
    ),
    Rule(
        id="fsbp-s3-1-s3-8-ckv2-aws-6",
        controls=("FSBP S3.1", "FSBP S3.8", "CKV2_AWS_6"),
        description="S3 buckets must block public access (all four settings).",
        types=frozenset({BUCKET, BUCKET_PUBLIC_ACCESS_BLOCK}),
        check_stack=bucket_public_access_blocked,
        severity="critical",
        remediation="Add a BucketPublicAccessBlock with all four settings true.",
    ),
    Rule(
        id="fsbp-s3-5",
        controls=("FSBP S3.5",),
        description="S3 bucket policies must deny requests without TLS.",
        types=frozenset({BUCKET, BUCKET_POLICY}),
        check_stack=bucket_requires_tls,
        remediation="Deny s3:* to '*' when aws:SecureTransport is false in the bucket policy.",
    ),
    Rule(
        id="ckv-aws-145-fsbp-s3-17",
        controls=("CKV_AWS_145", "FSBP S3.17"),
        description="S3 buckets must be encrypted by default with a KMS key.",
        types=frozenset({BUCKET, BUCKET_ENCRYPTION}),
        check_stack=bucket_kms_encrypted,
        severity="medium",
        remediation="Add a BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms.",
    ),
    Rule(
        id="ckv-aws-21",
        controls=("CKV_AWS_21",),
        description="S3 buckets must have versioning enabled.",
        types=frozenset({BUCKET, BUCKET_VERSIONING}),
        check_stack=bucket_versioned,
        severity="medium",
        remediation="Add a BucketVersioning with status Enabled.",
    ),
    Rule(
        id="ckv2-aws-61",
        controls=("CKV2_AWS_61",),
        description="S3 buckets must have a lifecycle configuration.",
        types=frozenset({BUCKET, BUCKET_LIFECYCLE}),
        check_stack=bucket_lifecycle,
        severity="low",
        remediation="Add a BucketLifecycleConfiguration with an enabled rule.",
    ),
    Rule(
        id="confused-deputy",
        controls=("confused deputy",),
        description=(
            "Key, topic, queue and bucket policies must condition every service principal's "
            "grant on aws:SourceAccount / aws:SourceArn (or the service's encryption context)."
        ),
        types=frozenset({KMS_KEY, TOPIC_POLICY, TOPIC, QUEUE, QUEUE_POLICY, BUCKET_POLICY}),
        check=service_grants_scoped,
        remediation="Add aws:SourceAccount and aws:SourceArn conditions to the statement.",
    ),
)
