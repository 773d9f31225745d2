"""Placeholder AWS for the program under Pulumi mocks: identifiers shaped exactly as AWS
forms them, in a placeholder account (123456789012).

ARNs are derived from the resource's own inputs (table name, function name, ...) the way
AWS derives them, so wiring tests compare real-looking values, not echoes of a constant,
and `streamops resources` shows which ARN each resource is wired to. Used by the unit
tests (tests/support/fake_aws.py) and streamops/declared.py.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi

from streamops.program import InvokeFailure, ProgramMocks

ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"


def autoname(name: str) -> str:
    """Pulumi's auto-naming: the resource name plus a random-looking 7-hex suffix."""
    return f"{name}-{hashlib.sha1(name.encode()).hexdigest()[:7]}"


class FakeAws(ProgramMocks):
    """Answers resource registrations and the invokes the program makes."""

    def __init__(self, tables: dict[str, dict[str, Any]] | None = None, region: str = REGION):
        self.region = region
        # Existing tables for `aws.dynamodb.get_table`, keyed by name.
        self.tables = tables or {}
        self.invokes: list[tuple[str, dict[str, Any]]] = []
        # Every registration, components included: "registers no resource" is checked here
        # because a program that raises never returns its ProgramRun.
        self.registered: list[tuple[str, str]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        self.registered.append((args.typ, args.name))
        return super().new_resource(args)

    def create(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        inputs = dict(args.inputs)
        name = inputs.get("name") or autoname(args.name)
        arn_base = f"arn:{PARTITION}"
        state: dict[str, Any] = {**inputs, "name": name}
        kind = args.typ
        if kind == "aws:dynamodb/table:Table":
            arn = f"{arn_base}:dynamodb:{self.region}:{ACCOUNT}:table/{name}"
            label = "2026-11-28T00:00:00.000"
            state.update(arn=arn, streamArn=f"{arn}/stream/{label}", streamLabel=label)
            return name, state
        if kind == "aws:lambda/function:Function":
            arn = f"{arn_base}:lambda:{self.region}:{ACCOUNT}:function:{name}"
            state.update(arn=arn, qualifiedArn=f"{arn}:$LATEST", version="$LATEST")
            return name, state
        if kind == "aws:sqs/queue:Queue":
            url = f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT}/{name}"
            state.update(arn=f"{arn_base}:sqs:{self.region}:{ACCOUNT}:{name}", url=url)
            return url, state
        if kind == "aws:sns/topic:Topic":
            arn = f"{arn_base}:sns:{self.region}:{ACCOUNT}:{name}"
            state.update(arn=arn)
            return arn, state
        if kind == "aws:iam/role:Role":
            state.update(arn=f"{arn_base}:iam::{ACCOUNT}:role/{name}", uniqueId="AROAFAKE")
            return name, state
        if kind == "aws:iam/rolePolicy:RolePolicy":
            return f"{inputs.get('role')}:{name}", state
        if kind == "aws:cloudwatch/logGroup:LogGroup":
            state.update(arn=f"{arn_base}:logs:{self.region}:{ACCOUNT}:log-group:{name}")
            return name, state
        if kind == "aws:kms/key:Key":
            key_id = hashlib.md5(args.name.encode()).hexdigest()
            key_id = f"{key_id[:8]}-{key_id[8:12]}-{key_id[12:16]}-{key_id[16:20]}-{key_id[20:32]}"
            state.update(arn=f"{arn_base}:kms:{self.region}:{ACCOUNT}:key/{key_id}", keyId=key_id)
            state.pop("name")
            return key_id, state
        if kind == "aws:cloudwatch/metricAlarm:MetricAlarm":
            state.update(arn=f"{arn_base}:cloudwatch:{self.region}:{ACCOUNT}:alarm:{name}")
            return name, state
        if kind == "aws:cloudwatch/dashboard:Dashboard":
            dashboard = inputs["dashboardName"]
            state.pop("name")
            state.update(dashboardArn=f"{arn_base}:cloudwatch::{ACCOUNT}:dashboard/{dashboard}")
            return dashboard, state
        if kind == "aws:sns/topicSubscription:TopicSubscription":
            # AWS answers "pending confirmation" until an email subscriber confirms.
            subscription = f"{inputs['topic']}:{hashlib.md5(args.name.encode()).hexdigest()}"
            state.pop("name")
            state.update(arn=subscription, pendingConfirmation=inputs.get("protocol") == "email")
            return subscription, state
        if kind == "aws:sns/topicPolicy:TopicPolicy":
            state.pop("name")
            return inputs["arn"], state
        if kind == "aws:s3/bucket:Bucket":
            # Bucket ARNs carry neither region nor account: arn:aws:s3:::<name>.
            bucket = inputs.get("bucket") or autoname(args.name)
            state.pop("name")
            state.update(bucket=bucket, arn=f"{arn_base}:s3:::{bucket}", region=REGION)
            return bucket, state
        if kind.startswith("aws:s3/bucket") and "bucket" in inputs:
            # The bucket's settings resources are identified by the bucket they configure.
            if kind != "aws:s3/bucketMetric:BucketMetric":
                state.pop("name")
            return f"{inputs['bucket']}", state
        if kind == "aws:lambda/eventSourceMapping:EventSourceMapping":
            mapping_id = hashlib.md5(args.name.encode()).hexdigest()
            state.pop("name")
            state.update(uuid=mapping_id, functionArn=inputs.get("functionName"), state="Enabled")
            return mapping_id, state
        # Anything else: a generic ARN from the type's service and the name.
        service = kind.split(":")[1].split("/")[0]
        state.setdefault("arn", f"{arn_base}:{service}:{self.region}:{ACCOUNT}:{name}")
        return name, state

    def invoke(self, token: str, args: dict[str, Any]) -> dict:
        self.invokes.append((token, args))
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT,
                "arn": f"arn:{PARTITION}:iam::{ACCOUNT}:user/test",
                "userId": "AIDAFAKE",
                "id": ACCOUNT,
            }
        if token == "aws:index/getPartition:getPartition":
            return {"partition": PARTITION, "dnsSuffix": "amazonaws.com", "id": PARTITION}
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}
        if token == "aws:dynamodb/getTable:getTable":
            name = args["name"]
            if name not in self.tables:
                raise InvokeFailure(f"ResourceNotFoundException: table {name} not found")
            return {"name": name, **self.tables[name]}
        raise NotImplementedError(f"FakeAws has no answer for invoke {token}")
