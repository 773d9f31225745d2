"""The security baseline: one rule per control in aws-facts.md "Security rules that apply".

Each rule is plain Python over plain resources (`Resource`: a Pulumi type token and its
properties in Pulumi's camelCase input shape), so the same functions run
- inside the policy pack (`policy/pack.py` wraps them as CrossGuard policies that
  `pulumi preview --policy-pack policy` evaluates), and
- in the unit tests, directly against the resource graph the real program registers under
  mocks (`streamops.program.run_program`).

A rule's id is the policy name Pulumi shows, built from the control IDs it implements
(`fsbp-dynamodb-2-ckv-aws-28` = Security Hub FSBP DynamoDB.2 and Checkov CKV_AWS_28).
Every rule is mandatory by default: a stack relaxes one only through the pack's config file
(`policy/dev.json`), where each relaxation carries its reason. CKV_AWS_116 ships disabled,
with the reason in `SUPPRESSED`: its check is real and can be switched on by config.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from components.config import PYTHON_RUNTIME_DEPRECATION
from policy.baseline import BASELINE_RULES
from policy.documents import allows, as_list, describe, is_anyone, principals, statements
from policy.model import (  # noqa: F401  (type tokens and the model, re-exported)
    BUCKET,
    BUCKET_ENCRYPTION,
    BUCKET_LIFECYCLE,
    BUCKET_POLICY,
    BUCKET_PUBLIC_ACCESS_BLOCK,
    BUCKET_VERSIONING,
    COMPOSITE_ALARM,
    FUNCTION,
    FUNCTION_URL,
    GROUP_POLICY,
    KMS_KEY,
    LOG_GROUP,
    MANAGED_POLICY,
    METRIC_ALARM,
    PERMISSION,
    QUEUE,
    QUEUE_POLICY,
    ROLE,
    ROLE_POLICY,
    SCALING_POLICY,
    SCALING_TARGET,
    TABLE,
    TOPIC,
    TOPIC_POLICY,
    USER_POLICY,
    Resource,
    Rule,
    Violation,
)
from policy.model import (
    is_set as _set,
)

# Actions AWS does not let a policy scope to a resource: `"Resource": "*"` is the only
# form that works for them (aws-facts.md, execution role). Anything else on `*` is a
# finding.
UNRESTRICTABLE_ACTIONS = frozenset(
    {"dynamodb:ListStreams", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
)
# The only principal the pipeline's roles may trust (CKV_AWS_60/61).
TRUSTED_SERVICE = "lambda.amazonaws.com"
# CloudWatch Logs: 0 = never expire; otherwise Checkov CKV_AWS_338 wants a year or more.
MIN_LOG_RETENTION_DAYS = 365
UNRESERVED = -1  # reserved_concurrent_executions: -1 removes the reservation


# ---------------------------------------------------------------------------------------
# Lambda
# ---------------------------------------------------------------------------------------
def public_lambda_access(resource: Resource) -> Iterator[str]:
    """FSBP Lambda.1: no resource policy statement that lets anyone invoke the function."""
    props = resource.props
    if resource.type == FUNCTION_URL:
        if props.get("authorizationType") == "NONE":
            yield "function URL has authorizationType NONE: anyone on the internet can invoke it"
        return
    principal = str(props.get("principal") or "")
    scoped = any(_set(props.get(key)) for key in ("sourceArn", "sourceAccount", "principalOrgId"))
    if "*" in principal and not scoped:
        yield (
            f"permission grants {props.get('action')} to principal {principal!r} without "
            "sourceArn, sourceAccount or principalOrgId: the function is public"
        )
    elif props.get("functionUrlAuthType") == "NONE":
        yield "permission allows unauthenticated function URL calls (functionUrlAuthType NONE)"
    elif principal.endswith(".amazonaws.com") and not (
        _set(props.get("sourceArn")) or _set(props.get("sourceAccount"))
    ):
        # A service principal without a source condition lets that service invoke the
        # function on behalf of ANY account (confused deputy): Security Hub counts it public.
        yield (
            f"permission lets {principal} invoke the function for any account: "
            "set sourceArn or sourceAccount"
        )


def supported_runtime(resource: Resource, today: _dt.date | None = None) -> Iterator[str]:
    """FSBP Lambda.2 / CKV_AWS_363: the runtime still gets security patches."""
    if resource.props.get("packageType") == "Image":
        return  # container images carry their own runtime
    runtime = resource.props.get("runtime")
    deprecated_on = PYTHON_RUNTIME_DEPRECATION.get(str(runtime))
    if deprecated_on is None:
        known = ", ".join(sorted(PYTHON_RUNTIME_DEPRECATION))
        yield f"runtime {runtime!r} is not a runtime this pack knows to be supported ({known})"
    elif deprecated_on <= (today or _dt.date.today()):
        yield f"runtime {runtime} was deprecated by AWS Lambda on {deprecated_on.isoformat()}"


def reserved_concurrency(resource: Resource) -> Iterator[str]:
    """CKV_AWS_115: a concurrency reservation both guarantees and caps the function."""
    reserved = resource.props.get("reservedConcurrentExecutions")
    if reserved is None or reserved == UNRESERVED:
        yield (
            "reservedConcurrentExecutions is not set: the function competes for the account's "
            "shared pool and has no upper bound"
        )


def dead_letter_queue(resource: Resource) -> Iterator[str]:
    """CKV_AWS_116: the function has a dead-letter queue for asynchronous invocations."""
    config = resource.props.get("deadLetterConfig") or {}
    if not _set(config.get("targetArn")):
        yield "deadLetterConfig.targetArn is not set"


# ---------------------------------------------------------------------------------------
# DynamoDB
# ---------------------------------------------------------------------------------------
CAPACITY_DIMENSIONS = ("ReadCapacityUnits", "WriteCapacityUnits")


def _scaled(resources: Sequence[Resource]) -> set[tuple[str, str]]:
    """(resourceId, scalableDimension) pairs that have both a target and a policy."""

    def pairs(kind: str) -> set[tuple[str, str]]:
        return {
            (str(r.props.get("resourceId")), str(r.props.get("scalableDimension")))
            for r in resources
            if r.type == kind and r.props.get("serviceNamespace", "dynamodb") == "dynamodb"
        }

    return pairs(SCALING_TARGET) & pairs(SCALING_POLICY)


def capacity_scales(resources: Sequence[Resource]) -> Iterator[tuple[Resource, str]]:
    """FSBP DynamoDB.1 / CKV2_AWS_16: on-demand, or provisioned with auto scaling.

    A provisioned table (the provider's default billing mode) needs an Application Auto
    Scaling target AND a scaling policy for read and write capacity, on the table and on
    each global secondary index.
    """
    scaled = _scaled(resources)
    for table in resources:
        if table.type != TABLE:
            continue
        if table.props.get("billingMode", "PROVISIONED") == "PAY_PER_REQUEST":
            continue
        base = f"table/{table.props.get('name')}"
        scopes = [(base, "table")] + [
            (f"{base}/index/{index.get('name')}", "index")
            for index in as_list(table.props.get("globalSecondaryIndexes"))
        ]
        missing = [
            f"{resource_id} {dimension}"
            for resource_id, scope in scopes
            for dimension in CAPACITY_DIMENSIONS
            if (resource_id, f"dynamodb:{scope}:{dimension}") not in scaled
        ]
        if missing:
            yield (
                table,
                f"table {table.props.get('name')} is PROVISIONED without auto scaling (target "
                f"and policy) for: {', '.join(missing)}",
            )


def point_in_time_recovery(resource: Resource) -> Iterator[str]:
    """FSBP DynamoDB.2 / CKV_AWS_28."""
    if not (resource.props.get("pointInTimeRecovery") or {}).get("enabled"):
        yield "pointInTimeRecovery.enabled is not true: the table cannot be restored"


def deletion_protection(resource: Resource) -> Iterator[str]:
    """FSBP DynamoDB.6."""
    if resource.props.get("deletionProtectionEnabled") is not True:
        yield "deletionProtectionEnabled is not true: one API call deletes the table"


def table_customer_managed_key(resource: Resource) -> Iterator[str]:
    """CKV_AWS_119: SSE with a customer-managed KMS key (not AWS-owned or AWS-managed)."""
    encryption = resource.props.get("serverSideEncryption") or {}
    if not encryption.get("enabled"):
        yield "serverSideEncryption is off: the table uses the AWS-owned key"
    elif not _set(encryption.get("kmsKeyArn")):
        yield "serverSideEncryption has no kmsKeyArn: the table uses the AWS-managed key"


# ---------------------------------------------------------------------------------------
# SQS, SNS, CloudWatch
# ---------------------------------------------------------------------------------------
def queue_encrypted(resource: Resource) -> Iterator[str]:
    """FSBP SQS.1 / CKV_AWS_27: SSE-SQS or a KMS key."""
    props = resource.props
    if props.get("sqsManagedSseEnabled") is not True and not _set(props.get("kmsMasterKeyId")):
        yield "neither sqsManagedSseEnabled nor kmsMasterKeyId is set: messages are not encrypted"


def topic_encrypted(resource: Resource) -> Iterator[str]:
    """FSBP SNS.1 / CKV_AWS_26."""
    if not _set(resource.props.get("kmsMasterKeyId")):
        yield "kmsMasterKeyId is not set: messages are stored unencrypted"


def log_retention(resource: Resource) -> Iterator[str]:
    """CKV_AWS_66 (retention set) / CKV_AWS_338 (0 = never expire, or at least a year)."""
    days = resource.props.get("retentionInDays")
    if days is None:
        yield "retentionInDays is not set"
    elif days != 0 and days < MIN_LOG_RETENTION_DAYS:
        yield f"retentionInDays is {days:g}: keep logs 0 (forever) or >= {MIN_LOG_RETENTION_DAYS}"


def alarm_actions(resource: Resource) -> Iterator[str]:
    """CKV_AWS_319, FSBP CloudWatch.15/.17: actions enabled and at least one alarm action."""
    if resource.props.get("actionsEnabled") is False:
        yield "actionsEnabled is false: the alarm notifies nobody"
    if not as_list(resource.props.get("alarmActions")):
        yield "alarmActions is empty: entering ALARM notifies nobody"


# ---------------------------------------------------------------------------------------
# IAM and KMS
# ---------------------------------------------------------------------------------------
def _policy_documents(resource: Resource) -> Iterator[tuple[str, Any]]:
    """(label, document) for every identity policy document a resource carries."""
    if resource.type == ROLE:
        for inline in as_list(resource.props.get("inlinePolicies")):
            yield f"inline policy {inline.get('name')!r}", inline.get("policy")
    else:
        yield "policy", resource.props.get("policy")


def least_privilege(resource: Resource) -> Iterator[str]:
    """FSBP IAM.1, CKV_AWS_62/63/355: no `*` action, no `*` resource where it can be scoped.

    KMS key policies are resource policies (`Resource: "*"` there means "this key"): for
    them the finding is a statement open to every principal without a condition.
    """
    if resource.type == KMS_KEY:
        yield from _open_key_policy(resource.props.get("policy"))
        return
    for label, document in _policy_documents(resource):
        for statement in statements(document):
            if allows(statement):
                yield from (f"{label}: {problem}" for problem in _broad_grant(statement))


def _broad_grant(statement: Mapping[str, Any]) -> Iterator[str]:
    where = describe(statement)
    if "NotAction" in statement:
        yield f"{where} allows NotAction, i.e. every other action"
    if "NotResource" in statement:
        yield f"{where} allows NotResource, i.e. every other resource"
    actions = [str(action) for action in as_list(statement.get("Action"))]
    if "*" in actions:
        yield f"{where} allows Action '*'"
    if "*" in as_list(statement.get("Resource")):
        scopable = sorted(set(actions) - UNRESTRICTABLE_ACTIONS - {"*"})
        if scopable:
            yield f"{where} allows {scopable} on Resource '*': scope them to ARNs"


def _open_key_policy(document: Any) -> Iterator[str]:
    # No policy: AWS applies the default key policy (account root only), which is not open.
    for statement in statements(document):
        if not allows(statement) or statement.get("Condition"):
            continue
        if any(is_anyone(kind, value) for kind, value in principals(statement)):
            yield f"key policy {describe(statement)} lets any principal use the key"


def lambda_trust_only(resource: Resource) -> Iterator[str]:
    """CKV_AWS_60/61: only lambda.amazonaws.com may assume the role."""
    found = statements(resource.props.get("assumeRolePolicy"))
    if not any(allows(statement) for statement in found):
        yield "trust policy has no Allow statement for lambda.amazonaws.com"
    for statement in found:
        if not allows(statement):
            continue
        trusted = principals(statement)
        others = [
            f"{kind}:{value}"
            for kind, value in trusted
            if (kind, value) != ("Service", TRUSTED_SERVICE)
        ]
        if not trusted or others:
            yield (
                f"trust policy {describe(statement)} lets {others or 'an unnamed principal'} "
                f"assume the role; only Service:{TRUSTED_SERVICE} may"
            )


# ---------------------------------------------------------------------------------------
# The baseline, in aws-facts.md's order.
# ---------------------------------------------------------------------------------------
SUPPRESSED_CKV_AWS_116 = (
    "A function's dead-letter queue only receives failed ASYNCHRONOUS invocations. The event "
    "source mapping invokes the function synchronously, so a DLQ would never receive a "
    "stream record; failures go to the mapping's on-failure destination instead "
    "(destinationConfig.onFailure, checked by the unit tests of the trigger)."
)

RULES: tuple[Rule, ...] = (
    Rule(
        id="fsbp-lambda-1",
        controls=("FSBP Lambda.1",),
        description="Lambda functions must not have a public resource-based policy.",
        types=frozenset({PERMISSION, FUNCTION_URL}),
        check=public_lambda_access,
        severity="critical",
        remediation="Grant invoke permissions to named principals with sourceArn/sourceAccount.",
    ),
    Rule(
        id="fsbp-lambda-2-ckv-aws-363",
        controls=("FSBP Lambda.2", "CKV_AWS_363"),
        description="Lambda functions must use a supported runtime (not python3.9/3.10).",
        types=frozenset({FUNCTION}),
        check=supported_runtime,
        remediation="Set function.runtime to a supported Python runtime (python3.13).",
    ),
    Rule(
        id="fsbp-dynamodb-1-ckv2-aws-16",
        controls=("FSBP DynamoDB.1", "CKV2_AWS_16"),
        description="DynamoDB tables must be on-demand, or provisioned with auto scaling.",
        types=frozenset({TABLE, SCALING_TARGET, SCALING_POLICY}),
        check_stack=capacity_scales,
        severity="medium",
        remediation="Set table.billingMode to PAY_PER_REQUEST.",
    ),
    Rule(
        id="fsbp-dynamodb-2-ckv-aws-28",
        controls=("FSBP DynamoDB.2", "CKV_AWS_28"),
        description="DynamoDB tables must have point-in-time recovery enabled.",
        types=frozenset({TABLE}),
        check=point_in_time_recovery,
        severity="medium",
        remediation="Set table.pointInTimeRecovery to true.",
    ),
    Rule(
        id="fsbp-dynamodb-6",
        controls=("FSBP DynamoDB.6",),
        description="DynamoDB tables must have deletion protection enabled.",
        types=frozenset({TABLE}),
        check=deletion_protection,
        severity="medium",
        remediation="Set table.deletionProtection to true.",
    ),
    Rule(
        id="ckv-aws-119",
        controls=("CKV_AWS_119",),
        description="DynamoDB tables must be encrypted with a customer-managed KMS key.",
        types=frozenset({TABLE}),
        check=table_customer_managed_key,
        severity="medium",
        remediation="Set table.kmsKey to create or to a key ARN.",
    ),
    Rule(
        id="fsbp-sqs-1-ckv-aws-27",
        controls=("FSBP SQS.1", "CKV_AWS_27"),
        description="SQS queues must be encrypted at rest (SSE-SQS or KMS).",
        types=frozenset({QUEUE}),
        check=queue_encrypted,
        remediation="Set sqsManagedSseEnabled or kmsMasterKeyId on the queue.",
    ),
    Rule(
        id="fsbp-sns-1-ckv-aws-26",
        controls=("FSBP SNS.1", "CKV_AWS_26"),
        description="SNS topics must be encrypted with a KMS key.",
        types=frozenset({TOPIC}),
        check=topic_encrypted,
        remediation="Set kmsMasterKeyId on the topic (a customer-managed key for alarm topics).",
    ),
    Rule(
        id="ckv-aws-115",
        controls=("CKV_AWS_115",),
        description="Lambda functions must have reserved concurrency set.",
        types=frozenset({FUNCTION}),
        check=reserved_concurrency,
        severity="low",
        remediation="Set function.reservedConcurrency to a positive number.",
    ),
    Rule(
        id="ckv-aws-66-ckv-aws-338",
        controls=("CKV_AWS_66", "CKV_AWS_338"),
        description="Log groups must set retention: 0 (never expire) or at least 365 days.",
        types=frozenset({LOG_GROUP}),
        check=log_retention,
        severity="low",
        remediation="Set function.logRetentionDays to 365 or more.",
    ),
    Rule(
        id="ckv-aws-319-fsbp-cloudwatch-15-17",
        controls=("CKV_AWS_319", "FSBP CloudWatch.15", "FSBP CloudWatch.17"),
        description="CloudWatch alarms must have actions enabled and at least one alarm action.",
        types=frozenset({METRIC_ALARM, COMPOSITE_ALARM}),
        check=alarm_actions,
        severity="medium",
        remediation="Point alarmActions at the alarm topic and keep actionsEnabled true.",
    ),
    Rule(
        id="fsbp-iam-1-ckv-aws-62-63-355",
        controls=("FSBP IAM.1", "CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_355"),
        description=(
            "IAM policies must not allow '*' actions, nor '*' resources for actions that "
            "support resource-level permissions; key policies must not be open to everyone."
        ),
        types=frozenset({ROLE, ROLE_POLICY, MANAGED_POLICY, USER_POLICY, GROUP_POLICY, KMS_KEY}),
        check=least_privilege,
        severity="critical",
        remediation="Name the actions and the ARNs; only dynamodb:ListStreams needs '*'.",
    ),
    Rule(
        id="ckv-aws-60-61",
        controls=("CKV_AWS_60", "CKV_AWS_61"),
        description="IAM role trust policies must only allow lambda.amazonaws.com.",
        types=frozenset({ROLE}),
        check=lambda_trust_only,
        severity="critical",
        remediation="Trust only Service lambda.amazonaws.com in assume_role_policy.",
    ),
    Rule(
        id="ckv-aws-116",
        controls=("CKV_AWS_116",),
        description="Lambda functions should have a dead-letter queue (suppressed: see reason).",
        types=frozenset({FUNCTION}),
        check=dead_letter_queue,
        severity="low",
        remediation="Not applicable to stream consumers; see the suppression reason.",
        suppressed=SUPPRESSED_CKV_AWS_116,
    ),
    *BASELINE_RULES,
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


def evaluate(resources: Sequence[Resource], rules: Iterable[Rule] = RULES) -> list[Violation]:
    """Every violation of `rules` (all of them by default, suppressed ones included)."""
    return [violation for rule in rules for violation in rule.evaluate(resources)]


def enforced(rules: Iterable[Rule] = RULES) -> list[Rule]:
    """The rules the pack runs by default (everything not suppressed)."""
    return [rule for rule in rules if rule.suppressed is None]
