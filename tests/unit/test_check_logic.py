"""Check logic for what only real AWS produces (pending functions, mappings mid-update,
unconfirmed subscriptions), judged from recorded API responses, and the policy
comparison the role check relies on. The emulator suite covers everything else.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.alarms import alarm_topic_key_policy
from components.config import parse_stack_config
from components.function import LAMBDA_TRUST_POLICY
from streamops.aws import AwsClients
from streamops.doctor.checks import (
    DeployedStack,
    KeyFacts,
    _alarm_topic_finding,
    _stream_finding,
    _subscriptions_finding,
    check_function,
    check_mapping,
    describe_difference,
    grants,
)
from streamops.program import load_stack_config
from tests.support.stacks import stack_config

OUTPUTS = json.loads((Path(__file__).parent / "data" / "pulumi_stack_output_dev.json").read_text())


class NoAws(AwsClients):
    """Any AWS call from a check under test is a bug in the test: reads are recorded."""

    def __call__(self, service: str) -> Any:
        raise AssertionError(f"unexpected {service} client: the reads are recorded")


def recorded(config_map: dict[str, Any] | None = None, **reads: Any) -> DeployedStack:
    config = parse_stack_config(config_map or load_stack_config("dev"), "dev")
    return DeployedStack(OUTPUTS, config, NoAws(region="eu-west-1"), _reads=dict(reads))


def by_name(findings: Any) -> dict[str, Any]:
    return {finding.name: finding for finding in findings}


# A GetFunction answer while an update is being applied (shape from the Lambda API guide).
FUNCTION_UPDATING = {
    "Configuration": {
        "FunctionName": "demo-dynamodb-stream-processor",
        "Runtime": "python3.13",
        "Handler": "handler.lambda_handler",
        "MemorySize": 128,
        "Timeout": 30,
        "Architectures": ["arm64"],
        "State": "Active",
        "LastUpdateStatus": "InProgress",
        "LastUpdateStatusReason": "The function is being updated.",
        "TracingConfig": {"Mode": "PassThrough"},  # GetFunction always returns it
        "LoggingConfig": {
            "LogFormat": "JSON",
            "ApplicationLogLevel": "INFO",
            "SystemLogLevel": "INFO",
            "LogGroup": "/aws/lambda/demo-dynamodb-stream-processor",
        },
        "Environment": {
            "Variables": {
                "FAILURE_DESTINATION_TYPE": "sqs",
                "FAILURE_DESTINATION": OUTPUTS["failureQueueUrl"],
                "METRICS_NAMESPACE": "DynamoDBStreamProcessor",
            }
        },
    },
    "Concurrency": {"ReservedConcurrentExecutions": 10},
}


def test_a_function_mid_update_is_not_healthy_yet() -> None:
    findings = by_name(check_function(recorded(function=FUNCTION_UPDATING)))
    state = findings["function.state"]
    assert not state.ok
    assert "last update InProgress The function is being updated." in state.detail
    assert all(f.ok for name, f in findings.items() if name != "function.state")


def test_a_pending_function_reports_its_reason() -> None:
    pending = json.loads(json.dumps(FUNCTION_UPDATING))
    pending["Configuration"].update(State="Pending", StateReason="Creating network interfaces")
    pending["Configuration"].pop("LastUpdateStatus")
    state = by_name(check_function(recorded(function=pending)))["function.state"]
    assert not state.ok and "Pending" in state.detail and "network interfaces" in state.detail


def test_a_mapping_being_updated_is_not_enabled() -> None:
    table = {
        "Table": {"TableName": "demo-ecommerce-freetier", "LatestStreamArn": OUTPUTS["streamArn"]}
    }
    mapping = {
        "UUID": OUTPUTS["eventSourceMappingId"],
        "State": "Updating",
        "EventSourceArn": OUTPUTS["streamArn"],
        "FunctionArn": OUTPUTS["functionArn"],
    }
    findings = by_name(check_mapping(recorded(table=table, mapping=mapping)))
    assert not findings["mapping.enabled"].ok
    assert "state is Updating, configured Enabled" in findings["mapping.enabled"].detail
    assert findings["mapping.source"].ok
    # AWS reports every setting; a mapping answering without them is not as configured.
    assert not findings["mapping.batchSize"].ok


def test_an_existing_tables_view_must_carry_the_images_the_filters_read() -> None:
    config = stack_config(
        "dev", trigger={"filterPatterns": [{"dynamodb": {"NewImage": {"status": {"S": ["PAID"]}}}}]}
    )
    config["dynamodb-stream-processor:table"] = {"existingTableName": "legacy"}
    table = {
        "TableName": "legacy",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    }
    finding = _stream_finding(recorded(config), table)
    assert not finding.ok and "KEYS_ONLY does not carry NewImage" in finding.detail
    carrying = {
        **table,
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    }
    assert _stream_finding(recorded(config), carrying).ok


def alarms_with(**alarms: Any) -> Any:
    config = stack_config("prod", alarms=alarms)
    return parse_stack_config(config, "prod").alarms


def subscription(endpoint: str, protocol: str = "email", arn: str = "arn:sub") -> dict:
    return {"Protocol": protocol, "Endpoint": endpoint, "SubscriptionArn": arn}


def test_unconfirmed_subscriptions_and_missing_ones_fail() -> None:
    config = alarms_with(emails=["a@shop.com"])
    pending = [subscription("a@shop.com", arn="PendingConfirmation")]
    finding = _subscriptions_finding(config, pending)
    assert not finding.ok
    assert finding.detail == "unconfirmed subscriptions (they receive nothing): a@shop.com"
    assert "confirmation email" in finding.fix
    missing = _subscriptions_finding(alarms_with(emails=["a@shop.com", "b@shop.com"]), pending)
    assert not missing.ok and "3 days" in missing.fix
    confirmed = _subscriptions_finding(config, [subscription("a@shop.com")])
    assert confirmed.ok and confirmed.detail == "alarms reach (confirmed): email:a@shop.com"


def test_subscribers_on_example_domains_fail_even_when_subscribed() -> None:
    # Pulumi.prod.yaml's committed placeholder: a reserved domain (RFC 2606) reaches nobody.
    config = parse_stack_config(load_stack_config("prod"), "prod").alarms
    assert config.emails == ("oncall@example.com",)
    finding = _subscriptions_finding(config, [subscription("oncall@example.com")])
    assert not finding.ok and "reserved example domain" in finding.detail


def test_https_endpoints_and_forwarded_topics_count_as_subscribers() -> None:
    url = "https://pager.shop-ops.net/sns"
    topic = "arn:aws:sns:us-east-1:123456789012:oncall"
    config = alarms_with(emails=[], httpsEndpoints=[url], forwardToTopicArns=[topic])
    finding = _subscriptions_finding(config, [subscription(url, "https")])
    assert finding.ok and finding.detail == f"alarms reach (confirmed): https:{url}, {topic}"
    assert not _subscriptions_finding(config, []).ok


def test_notify_none_passes_with_its_reason() -> None:
    config = parse_stack_config(load_stack_config("dev"), "dev").alarms
    finding = _subscriptions_finding(config, [])
    assert finding.ok and "alarms.notify: none: free-tier dev stack" in finding.detail


EXPECTED = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Send", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "arn:q"},
        {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "arn:log:*"},
    ],
}  # fmt: skip


def test_policies_compare_by_what_they_grant_not_by_layout() -> None:
    same = {
        "Statement": [
            {"Effect": "Allow", "Action": "SQS:SendMessage", "Resource": ["arn:q"]},
            {"Effect": "Allow", "Action": "logs:CreateLogStream", "Resource": "arn:log:*"},
            {"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": "arn:log:*"},
        ]
    }
    assert grants(same) == grants(EXPECTED)


@pytest.mark.parametrize(
    ("statement", "reported"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, "extra: Allow * on *"),
        ({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"},
         "extra: Allow sqs:sendmessage on *"),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "extra: Allow not:iam:* on *"),
        ({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:q",
          "Condition": {"Bool": {"aws:SecureTransport": "true"}}}, "if {"),
    ],
)  # fmt: skip
def test_any_extra_grant_is_reported(statement: dict[str, Any], reported: str) -> None:
    widened = {"Statement": [*EXPECTED["Statement"], statement]}
    difference = describe_difference(grants(widened), grants(EXPECTED))
    assert reported in difference and "missing" not in difference


def test_a_missing_grant_is_reported() -> None:
    narrowed = {"Statement": EXPECTED["Statement"][:1]}
    assert describe_difference(grants(narrowed), grants(EXPECTED)) == (
        "missing: Allow logs:createlogstream on arn:log:*, Allow logs:putlogevents on arn:log:*"
    )


def test_a_principal_written_as_a_list_is_the_same_principal() -> None:
    listed = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com"]},
                "Action": ["sts:AssumeRole"],
            }
        ]
    }
    assert grants(listed) == grants(LAMBDA_TRUST_POLICY)
    widened = {
        "Statement": [
            {
                **listed["Statement"][0],
                "Principal": {"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]},
            }
        ]
    }
    assert grants(widened) != grants(LAMBDA_TRUST_POLICY)


def test_a_configured_topic_key_must_let_cloudwatch_alarms_use_it() -> None:
    arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    stack = recorded(stack_config("dev", alarms={"topicKmsKey": arn}))
    key = KeyFacts(arn=arn, customer_managed=True, enabled=True, rotation=False, aliases=())
    root = f"arn:aws:iam::{stack.arn_part(4)}:root"
    grant_all = {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"}
    default_policy = {"Statement": [grant_all]}
    finding = _alarm_topic_finding(stack, key, default_policy)
    assert not finding.ok
    assert "does not allow kms:Decrypt for Service:cloudwatch.amazonaws.com" in finding.detail
    # The policy the program would write passes, however the owner lays it out.
    assert _alarm_topic_finding(stack, key, alarm_topic_key_policy(stack.account())).ok
