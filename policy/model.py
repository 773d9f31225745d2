"""What the rules work on: a resource as a rule sees it, a rule, a violation.

Shared by `policy/rules.py` (the original baseline) and `policy/baseline.py` (the controls
added for keys, the function's encryption, tracing, code signing and the S3 bucket).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"
TABLE = "aws:dynamodb/table:Table"
SCALING_TARGET = "aws:appautoscaling/target:Target"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"
QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
KMS_KEY = "aws:kms/key:Key"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
BUCKET_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET_LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


@dataclass(frozen=True)
class Resource:
    """One resource as a rule sees it: type token, logical name, camelCase properties."""

    type: str
    name: str
    props: Mapping[str, Any]
    urn: str = ""


@dataclass(frozen=True)
class Violation:
    rule: str
    resource: Resource
    message: str


@dataclass(frozen=True)
class Rule:
    """A control: what it checks, on which resource types, and how.

    `check` looks at one resource of `types`; `check_stack`, for controls that need
    several resources at once (a table and its auto scaling), sees the whole stack and
    yields (resource, message) pairs. Exactly one of them is set.
    """

    id: str
    controls: tuple[str, ...]  # the control IDs of aws-facts.md's table row
    description: str
    types: frozenset[str]
    remediation: str
    check: Callable[[Resource], Iterable[str]] | None = None
    check_stack: Callable[[Sequence[Resource]], Iterable[tuple[Resource, str]]] | None = None
    severity: str = "high"  # low | medium | high | critical (pulumi_policy.Severity)
    # Why the rule ships disabled, when it does. None: enforced (mandatory).
    suppressed: str | None = field(default=None)

    def evaluate(self, resources: Sequence[Resource]) -> list[Violation]:
        """Every violation of this rule in `resources`."""
        if self.check_stack is not None:
            return [
                Violation(self.id, resource, message)
                for resource, message in self.check_stack(resources)
            ]
        assert self.check is not None, f"rule {self.id} has no check"
        return [
            Violation(self.id, resource, message)
            for resource in resources
            if resource.type in self.types
            for message in self.check(resource)
        ]


def is_set(value: Any) -> bool:
    """A property that is present and not empty (None, "" and [] are all "not set")."""
    return value is not None and value != "" and value != []
