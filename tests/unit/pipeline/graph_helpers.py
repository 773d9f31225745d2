"""Running the program under Pulumi mocks and picking resources out of what it registered:
the helpers of the resource graph tests.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from streamops.program import ProgramRun, Registration, run_program
from tests.support.fake_aws import ACCOUNT, REGION, FakeAws
from tests.support.stacks import stack_config

P = "dynamodb-stream-processor"
TABLE = "aws:dynamodb/table:Table"
FUNCTION = "aws:lambda/function:Function"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KEY = "aws:kms/key:Key"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
ALARMS_COMPONENT = f"{P}:index:StreamAlarms"
# Resources some tests pick by (type, resource name) because the type alone is ambiguous:
# the failure topic (named after the function) next to the alarm topic, one alarm of six.
FAILURE_TOPIC = (TOPIC, f"{P}-dev-failures")
ALARM_TOPIC = (TOPIC, f"{P}-dev-alarms")
ERRORS_ALARM = (ALARM, "pipeline-alarms-function-errors")


def deploy(stack: str = "dev", **sections: Any) -> ProgramRun:
    return run_program(FakeAws(), stack_config(stack, **sections), stack)


@cache
def dev() -> ProgramRun:
    return deploy("dev")


@cache
def prod() -> ProgramRun:
    return deploy("prod")


def find(run: ProgramRun, selector: str | tuple[str, str]) -> list[Registration]:
    """Registrations of a type, or of a (type, resource name) pair."""
    if isinstance(selector, str):
        return run.of_type(selector)
    kind, name = selector
    return [r for r in run.of_type(kind) if r.name == name]


def only(run: ProgramRun, selector: str | tuple[str, str]) -> Registration:
    (found,) = find(run, selector)
    return found


def dig(values: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        values = values[int(part)] if isinstance(values, list) else values[part]
    return values


def policy_statements(run: ProgramRun) -> list[dict[str, Any]]:
    (policy,) = run.of_type(ROLE_POLICY)
    return json.loads(policy.inputs["policy"])["Statement"]


# --- an existing table to attach to ---------------------------------------------------------
EXISTING_STREAM = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/legacy/stream/2025-01-01T00:00:00.000"


def existing_tables(**overrides: Any) -> dict[str, dict[str, Any]]:
    table = {
        "arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/legacy",
        "streamArn": EXISTING_STREAM,
        "streamEnabled": True,
        "streamViewType": "NEW_AND_OLD_IMAGES",
        "serverSideEncryption": {"enabled": False, "kmsKeyArn": ""},
    }
    table.update(overrides)
    return {"legacy": table}


def existing_config(**trigger: Any) -> dict[str, Any]:
    config = stack_config("dev", trigger=trigger or {})
    config[f"{P}:table"] = {"existingTableName": "legacy"}
    return config


def deploy_existing(**table: Any) -> ProgramRun:
    return run_program(FakeAws(existing_tables(**table)), existing_config(), "dev")
