"""The security baseline on the dev and prod graphs (issue 15): key policies statement by
statement, the function's log group and environment keys, tracing, and who alarms reach.

Each policy is parsed and compared statement by statement; every ARN a statement must name
is taken from another registration of the same run (the log group's ARN, the key's ARN),
never typed in, so a miswired key or condition fails here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import PROJECT, ConfigError
from components.function import XRAY_ACTIONS
from components.kms import KEY_ADMINISTRATION_ACTIONS, LOGS_ACTIONS, VIA_SERVICE_ACTIONS
from streamops.program import ProgramRun, Registration, run_program
from tests.support.fake_aws import ACCOUNT, PARTITION, REGION, FakeAws
from tests.support.stacks import stack_config

KEY = "aws:kms/key:Key"
TABLE = "aws:dynamodb/table:Table"
QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
FUNCTION = "aws:lambda/function:Function"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
ROOT = f"arn:{PARTITION}:iam::{ACCOUNT}:root"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ONCALL_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:oncall"
PAGER = "https://events.pagerduty.com/integration/0123456789abcdef/enqueue"


def run(stack: str = "prod", **overrides: dict[str, Any]) -> ProgramRun:
    return run_program(FakeAws(), stack_config(stack, **overrides), stack)


@pytest.fixture(scope="module")
def prod() -> ProgramRun:
    return run("prod")


@pytest.fixture(scope="module")
def dev() -> ProgramRun:
    return run("dev")


def key_of(run: ProgramRun, component: str) -> Registration:
    """The one key created by the component whose type ends with `component`."""
    parents = {r.urn for r in run.resources if r.type.endswith(f":{component}")}
    (key,) = [key for key in run.of_type(KEY) if key.parent in parents]
    return key


def statements(key: Registration) -> list[dict[str, Any]]:
    return json.loads(key.inputs["policy"])["Statement"]


ADMINISTRATION = {
    "Sid": "KeyAdministration",
    "Effect": "Allow",
    "Principal": {"AWS": ROOT},
    "Action": KEY_ADMINISTRATION_ACTIONS,
    "Resource": "*",
}


def through(sid: str, service: str) -> dict[str, Any]:
    """The account's principals, through one service of this region."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": ROOT},
        "Action": VIA_SERVICE_ACTIONS,
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "kms:CallerAccount": ACCOUNT,
                "kms:ViaService": f"{service}.{REGION}.amazonaws.com",
            }
        },
    }


# --- keys ------------------------------------------------------------------------------------
def test_administration_never_includes_use_of_the_key():
    assert len(KEY_ADMINISTRATION_ACTIONS) == len(set(KEY_ADMINISTRATION_ACTIONS))
    assert all("*" not in action for action in KEY_ADMINISTRATION_ACTIONS)
    crypto = {
        "kms:Decrypt", "kms:Encrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
        "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant",
    }  # fmt: skip
    assert not crypto & set(KEY_ADMINISTRATION_ACTIONS)
    # ...but enough to keep the key manageable: its policy, rotation, deletion.
    for action in ("kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:ScheduleKeyDeletion"):
        assert action in KEY_ADMINISTRATION_ACTIONS


def test_prod_creates_four_rotating_keys_each_with_its_own_policy(prod):
    keys = prod.of_type(KEY)
    assert len(keys) == 4
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs["deletionWindowInDays"] == 30
        assert statements(key)[0] == ADMINISTRATION


def test_table_key_is_usable_only_through_dynamodb(prod):
    key = key_of(prod, "StreamTable")
    assert statements(key) == [ADMINISTRATION, through("UseThroughDynamoDB", "dynamodb")]
    assert prod.one(TABLE).inputs["serverSideEncryption"]["kmsKeyArn"] == key.outputs["arn"]


@pytest.mark.parametrize(("on_failure", "sid", "service"), [
    ("s3", "UseThroughS3", "s3"), ("sqs", "UseThroughSqs", "sqs"),
    ("sns", "UseThroughSns", "sns")])  # fmt: skip
def test_destination_key_is_usable_only_through_its_service(prod, on_failure, sid, service):
    # prod's destination is the S3 bucket (trigger.onFailure s3, destinationKmsKey create).
    program = (
        prod
        if on_failure == "s3"
        else run(trigger={"onFailure": on_failure, "destinationKmsKey": "create"})
    )
    key = key_of(program, "FailureDestination")
    assert statements(key) == [ADMINISTRATION, through(sid, service)]


def test_function_key_encrypts_its_log_group_and_environment(prod):
    key = key_of(prod, "StreamFunction")
    log_group = prod.one(LOG_GROUP)
    function = prod.one(FUNCTION)
    assert log_group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert function.inputs["kmsKeyArn"] == key.outputs["arn"]
    assert statements(key) == [
        ADMINISTRATION,
        {
            "Sid": "CloudWatchLogsEncryptLogGroup",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{REGION}.amazonaws.com"},
            "Action": LOGS_ACTIONS,
            "Resource": "*",
            # Only for this log group: the ARN CloudWatch Logs sends as encryption context.
            "Condition": {
                "ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group.outputs["arn"]}
            },
        },
        through("UseThroughLambda", "lambda"),
    ]


def test_a_key_arn_in_config_is_used_as_given_and_only_what_is_left_is_created():
    program = run(function={"logKmsKey": KEY_ARN}, table={"kmsKey": KEY_ARN})
    assert program.one(LOG_GROUP).inputs["kmsKeyId"] == KEY_ARN
    assert program.one(TABLE).inputs["serverSideEncryption"]["kmsKeyArn"] == KEY_ARN
    assert not [k for k in program.of_type(KEY) if k.name.endswith("table-key")]
    # The created function key now only serves the environment (no Logs statement).
    key = key_of(program, "StreamFunction")
    assert statements(key) == [ADMINISTRATION, through("UseThroughLambda", "lambda")]
    assert program.one(FUNCTION).inputs["kmsKeyArn"] == key.outputs["arn"]


def test_dev_creates_no_key_and_relaxes_both_function_keys(dev):
    assert dev.of_type(KEY) == []
    assert "kmsKeyId" not in dev.one(LOG_GROUP).inputs
    assert "kmsKeyArn" not in dev.one(FUNCTION).inputs


def test_no_key_policy_grants_kms_star_or_an_unconditioned_service(prod):
    for key in prod.of_type(KEY):
        for statement in statements(key):
            assert "kms:*" not in statement["Action"], statement
            if "Service" in statement["Principal"]:
                assert statement["Condition"], statement


# --- tracing ---------------------------------------------------------------------------------
def test_tracing_is_pass_through_by_default_with_no_xray_grant(prod):
    assert prod.one(FUNCTION).inputs["tracingConfig"] == {"mode": "PassThrough"}
    sids = [s["Sid"] for s in json.loads(prod.one(ROLE_POLICY).inputs["policy"])["Statement"]]
    assert "WriteTraces" not in sids


def test_active_tracing_grants_exactly_the_xray_writes():
    program = run(function={"tracing": "Active"})
    assert program.one(FUNCTION).inputs["tracingConfig"] == {"mode": "Active"}
    policy = json.loads(program.one(ROLE_POLICY).inputs["policy"])["Statement"]
    (traces,) = [s for s in policy if s["Sid"] == "WriteTraces"]
    assert traces == {"Sid": "WriteTraces", "Effect": "Allow", "Action": XRAY_ACTIONS,
                      "Resource": "*"}  # fmt: skip
    assert XRAY_ACTIONS == ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]


# --- alarms reach a person -------------------------------------------------------------------
def problems(stack: str, **alarms: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        run(stack, alarms=alarms)
    return caught.value.problems


def test_alarms_with_nobody_to_notify_are_a_config_error():
    assert problems("prod", emails=[]) == [
        f"{PROJECT}:alarms.emails names nobody, and neither do alarms.httpsEndpoints or "
        "alarms.forwardToTopicArns: the alarms would notify a topic no one is subscribed to. "
        "Name at least one subscriber, or set alarms.notify: none with alarms.notifyReason "
        "(e.g. a dev stack)"
    ]


def test_notify_none_needs_its_reason():
    assert problems("dev", notifyReason=None) == [
        f"{PROJECT}:alarms.notifyReason is required when alarms.notify is none: say why "
        "nobody is notified"
    ]
    assert problems("prod", notifyReason="because") == [
        f"{PROJECT}:alarms.notifyReason only applies when alarms.notify is none"
    ]


@pytest.mark.parametrize(("alarms", "expected"), [
    ({"httpsEndpoints": ["http://pager.shop.com/x"]}, "alarms.httpsEndpoints[0] must be an https://"),
    ({"forwardToTopicArns": ["arn:aws:sqs:us-east-1:123456789012:q"]},
     "alarms.forwardToTopicArns[0] must be an SNS topic ARN"),
    ({"forwardToTopicArns": [f"{ONCALL_TOPIC}{i}" for i in range(5)]},
     "alarms.forwardToTopicArns may hold at most 4 topics"),
    ({"forwardToTopicArns": ["arn:aws:sns:eu-west-1:123456789012:oncall"]},
     "alarms.forwardToTopicArns[0] is a topic in eu-west-1, but the stack deploys to us-east-1"),
    ({"notify": "nobody"}, "alarms.notify must be one of subscribers, none"),
])  # fmt: skip
def test_bad_subscribers_name_the_key(alarms, expected):
    found = problems("prod", **alarms)
    assert any(problem.startswith(f"{PROJECT}:{expected}") for problem in found), found


def test_dev_notifies_nobody_by_explicit_choice(dev):
    assert dev.of_type(SUBSCRIPTION) == []
    config = stack_config("dev")[f"{PROJECT}:alarms"]
    assert config["notify"] == "none" and len(config["notifyReason"]) > 20


def test_https_endpoints_are_subscribed_and_forwarded_topics_get_every_alarm():
    program = run(alarms={"httpsEndpoints": [PAGER], "forwardToTopicArns": [ONCALL_TOPIC]})
    (topic,) = [t for t in program.of_type(TOPIC) if t.name.endswith("-alarms")]
    subscriptions = {(s.inputs["protocol"], s.inputs["endpoint"]): s.inputs["topic"]
                     for s in program.of_type(SUBSCRIPTION)}  # fmt: skip
    assert subscriptions == {
        ("email", "oncall@example.com"): topic.outputs["arn"],
        ("https", PAGER): topic.outputs["arn"],
    }
    alarms = program.of_type(ALARM)
    assert len(alarms) == 6
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [topic.outputs["arn"], ONCALL_TOPIC]
        assert alarm.inputs["okActions"] == [topic.outputs["arn"], ONCALL_TOPIC]


def test_every_preview_says_when_alarms_reach_nobody():
    # The program's warnings are what `pulumi preview` prints; under mocks the program runner
    # keeps them with the run (streamops.program.ProgramRun.diagnostics).
    runs = [run("prod"), run("dev"), run("prod", alarms={"emails": ["oncall@shop-ops.net"]})]
    warnings = [message for r in runs for level, message in r.diagnostics if level == "warning"]
    assert sum("oncall@example.com is on a reserved example domain" in w for w in warnings) == 1
    assert sum("alarms.notify is none and nobody is subscribed" in w for w in warnings) == 1
    assert not any("oncall@shop-ops.net" in w for w in warnings)
