"""Stack configuration: every class of bad value stops the program with a clear error,
naming the full key, before any resource is registered."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from components import config as config_module
from components.config import ConfigError, parse_config, value_rules
from streamops.program import run_program
from tests.support.fake_aws import FakeAws
from tests.support.stacks import DELETE, stack_config
from tests.support.stacks import raw_config as raw

P = "dynamodb-stream-processor"


def problems_of(**sections: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw(**sections), "dev")
    return caught.value.problems


def run_rejected(config: dict[str, Any]) -> tuple[ConfigError, FakeAws]:
    mocks = FakeAws()
    with pytest.raises(ConfigError) as caught:
        run_program(mocks, config, "dev")
    return caught.value, mocks


# --- the stack files -----------------------------------------------------------------
def test_dev_stack_holds_the_seed_values():
    config = parse_config(raw("dev"), "dev")
    assert config.table.name == "demo-ecommerce-freetier"
    assert config.function.name == "demo-dynamodb-stream-processor"
    assert (config.function.memory_mb, config.function.timeout_seconds) == (128, 30)
    assert config.function.reserved_concurrency == 10
    trigger = config.trigger
    assert trigger.batch_size == 10
    assert trigger.starting_position == "TRIM_HORIZON"
    assert (trigger.retry_attempts, trigger.max_record_age_seconds) == (3, 3600)
    assert trigger.bisect_on_error is True
    assert trigger.parallelization_factor == 1
    assert trigger.on_failure == "sqs"


def test_prod_stack_is_production_grade():
    config = parse_config(raw("prod"), "prod")
    assert config.table.billing_mode == "PAY_PER_REQUEST"
    assert config.table.point_in_time_recovery and config.table.deletion_protection
    assert config.table.kms_key == "create"
    assert config.function.log_retention_days >= 365
    assert (
        config.function.log_retention_days
        > parse_config(raw("dev"), "dev").function.log_retention_days
    )


def test_defaults_are_the_secure_choices():
    minimal = {
        "table": {"name": "orders"},
        "function": {"name": "orders-processor"},
        "alarms": {"emails": ["oncall@shop.com"]},  # alarms are on: someone must hear them
    }
    config = parse_config(minimal, "any")
    assert config.function.log_kms_key == "create"
    assert config.function.environment_kms_key == "create"
    assert config.function.tracing == "PassThrough"
    assert config.alarms.notify == "subscribers"
    assert config.table.point_in_time_recovery is True
    assert config.table.deletion_protection is True
    assert config.table.kms_key == "create"
    assert config.table.stream_view_type == "NEW_AND_OLD_IMAGES"
    assert config.function.runtime == "python3.13"
    assert config.function.architecture == "arm64"
    assert config.function.log_retention_days == 365
    assert config.trigger.retry_attempts == 3  # bounded, unlike AWS's default of -1
    assert config.trigger.max_record_age_seconds == 3600
    assert config.trigger.bisect_on_error is True
    assert config.trigger.starting_position == "TRIM_HORIZON"


def test_config_objects_are_frozen():
    config = parse_config(raw("dev"), "dev")
    with pytest.raises(AttributeError):
        config.trigger.batch_size = 1  # type: ignore[misc]


# --- each class of bad value ------------------------------------------------------------
@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        # out of range
        (
            {"trigger": {"batchSize": 0}},
            f"{P}:trigger.batchSize must be between 1 and 10000 (got 0)",
        ),
        (
            {"trigger": {"batchSize": 10001}},
            f"{P}:trigger.batchSize must be between 1 and 10000 (got 10001)",
        ),
        (
            {"trigger": {"maxBatchingWindowSeconds": 301}},
            f"{P}:trigger.maxBatchingWindowSeconds must be between 0 and 300 (got 301)",
        ),
        (
            {"trigger": {"retryAttempts": -2}},
            f"{P}:trigger.retryAttempts must be between 0 and 10000 or -1 (got -2)",
        ),
        (
            {"trigger": {"maxRecordAgeSeconds": 59}},
            f"{P}:trigger.maxRecordAgeSeconds must be between 60 and 604800 or -1 (got 59)",
        ),
        (
            {"trigger": {"parallelizationFactor": 11}},
            f"{P}:trigger.parallelizationFactor must be between 1 and 10 (got 11)",
        ),
        (
            {"function": {"memoryMb": 64}},
            f"{P}:function.memoryMb must be between 128 and 10240 (got 64)",
        ),
        (
            {"function": {"timeoutSeconds": 901}},
            f"{P}:function.timeoutSeconds must be between 1 and 900 (got 901)",
        ),
        (
            {"function": {"reservedConcurrency": 0}},
            f"{P}:function.reservedConcurrency must be between 1 and 100000 or -1 (got 0)",
        ),
        (
            {"table": {"readCapacity": 0}},
            f"{P}:table.readCapacity must be between 1 and 40000 (got 0)",
        ),
        (
            {"trigger": {"destinationRetentionDays": 15}},
            f"{P}:trigger.destinationRetentionDays must be between 1 and 14 (got 15)",
        ),
        # wrong type
        ({"trigger": {"batchSize": "10"}}, f"{P}:trigger.batchSize must be an integer (got '10')"),
        ({"trigger": {"batchSize": 10.5}}, f"{P}:trigger.batchSize must be an integer (got 10.5)"),
        ({"trigger": {"batchSize": True}}, f"{P}:trigger.batchSize must be an integer (got True)"),
        (
            {"trigger": {"bisectOnError": "yes"}},
            f"{P}:trigger.bisectOnError must be a boolean (got 'yes')",
        ),
        ({"function": {"name": 42}}, f"{P}:function.name must be a string (got 42)"),
        (
            {"trigger": {"filterPatterns": {"dynamodb": {"Keys": {}}}}},
            f"{P}:trigger.filterPatterns must be a list (got {{'dynamodb': {{'Keys': {{}}}}}})",
        ),
        # bad enum
        (
            {"trigger": {"startingPosition": "AT_TIMESTAMP"}},
            f"{P}:trigger.startingPosition must be one of TRIM_HORIZON, LATEST "
            "(got 'AT_TIMESTAMP')",
        ),
        (
            {"table": {"billingMode": "ON_DEMAND"}},
            f"{P}:table.billingMode must be one of PAY_PER_REQUEST, PROVISIONED (got 'ON_DEMAND')",
        ),
        (
            {"table": {"streamViewType": "ALL"}},
            f"{P}:table.streamViewType must be one of NEW_AND_OLD_IMAGES, NEW_IMAGE, OLD_IMAGE, "
            "KEYS_ONLY (got 'ALL')",
        ),
        (
            {"function": {"architecture": "amd64"}},
            f"{P}:function.architecture must be one of arm64, x86_64 (got 'amd64')",
        ),
        (
            {"trigger": {"onFailure": "eventbridge"}},
            f"{P}:trigger.onFailure must be one of s3, sqs, sns (got 'eventbridge')",
        ),
        ({"function": {"logLevel": "VERBOSE"}}, f"{P}:function.logLevel must be one of TRACE"),
        ({"function": {"logRetentionDays": 10}}, f"{P}:function.logRetentionDays must be one of"),
        ({"table": {"kmsKey": "alias/mine"}}, f"{P}:table.kmsKey must be one of aws-owned"),
        # unknown keys (typos)
        ({"trigger": {"batchsize": 10}}, f"{P}:trigger.batchsize is not a known key"),
        ({"table": {"stream_view_type": "KEYS_ONLY"}}, f"{P}:table.stream_view_type is not"),
        # names
        ({"table": {"name": "ab"}}, f"{P}:table.name must be 3-255 characters"),
        ({"function": {"name": "my function"}}, f"{P}:function.name must be 1-64 characters"),
        # cross-field
        (
            {"table": {"billingMode": "PAY_PER_REQUEST"}},
            f"{P}:table.readCapacity only applies when table.billingMode is PROVISIONED",
        ),
        (
            {"table": {"readCapacity": DELETE}},
            f"{P}:table.readCapacity is required when table.billingMode is PROVISIONED",
        ),
        (
            {"trigger": {"retryAttempts": -1, "maxRecordAgeSeconds": -1}},
            f"{P}:trigger.retryAttempts and trigger.maxRecordAgeSeconds cannot both be -1",
        ),
        (
            {"table": {"existingTableName": "other-table"}},
            f"{P}:table.existingTableName cannot be combined with table.name",
        ),
        (
            {"table": {"name": DELETE}},
            f"{P}:table.name is required (or set table.existingTableName)",
        ),
        (
            {"function": {"name": DELETE}},
            f"{P}:function.name is required",
        ),
        (
            {"trigger": {"onFailure": "sns", "destinationRetentionDays": 7}},
            f"{P}:trigger.destinationRetentionDays only applies to an SQS or S3 failure "
            "destination (trigger.onFailure is sns)",
        ),
        # the S3 destination's settings
        (
            {"trigger": {"onFailure": "s3", "destinationRetentionDays": 3651}},
            f"{P}:trigger.destinationRetentionDays must be between 1 and 3650 (got 3651)",
        ),
        (
            {"trigger": {"onFailure": "s3", "destinationRetentionDays": 0}},
            f"{P}:trigger.destinationRetentionDays must be between 1 and 3650 (got 0)",
        ),
        (
            {"trigger": {"onFailure": "s3", "destinationKmsKey": "managed"}},
            f"{P}:trigger.destinationKmsKey must be one of create | sse-s3 or a KMS key ARN for "
            "an S3 failure destination (got 'managed')",
        ),
        (
            {"trigger": {"destinationKmsKey": "sse-s3"}},
            f"{P}:trigger.destinationKmsKey must be one of create | managed or a KMS key ARN for "
            "an SQS failure destination (got 'sse-s3')",
        ),
        (
            {"trigger": {"destinationForceDestroy": True}},
            f"{P}:trigger.destinationForceDestroy only applies to an S3 failure destination "
            "(trigger.onFailure is sqs)",
        ),
        (
            {"trigger": {"onFailure": "s3", "destinationForceDestroy": "yes"}},
            f"{P}:trigger.destinationForceDestroy must be a boolean (got 'yes')",
        ),
        (
            {"trigger": {"metrics": ["ErrorCount"]}},
            f"{P}:trigger.metrics[0] must be one of EventCount (got 'ErrorCount'); ErrorCount "
            "and KafkaMetrics are for Kafka event sources only",
        ),
        (
            {"trigger": {"metrics": ["EventCount", "EventCount"]}},
            f"{P}:trigger.metrics[1] repeats 'EventCount'",
        ),
        ({"trigger": {"metrics": "EventCount"}}, f"{P}:trigger.metrics must be a list"),
    ],
)
def test_bad_value_is_reported_by_full_key_and_stops_before_any_resource(sections, expected):
    error, mocks = run_rejected(stack_config("dev", **sections))
    assert any(problem.startswith(expected) for problem in error.problems), error.problems
    assert expected in str(error)
    assert mocks.registered == []


def test_deprecated_runtime_is_rejected_with_the_reason():
    error, mocks = run_rejected(stack_config("dev", function={"runtime": "python3.9"}))
    (problem,) = error.problems
    assert problem.startswith(f"{P}:function.runtime python3.9 was deprecated by AWS Lambda")
    assert "2025-12-15" in problem and "security patches" in problem and "python3.13" in problem
    assert mocks.registered == []


def test_python310_is_deprecated_as_of_its_date(monkeypatch):
    # python3.10 was deprecated on 2026-10-31: accepted the day before, rejected on the day.
    monkeypatch.setattr(value_rules, "_today", lambda: dt.date(2026, 10, 30))
    parse_config(raw(function={"runtime": "python3.10"}), "dev")
    monkeypatch.setattr(value_rules, "_today", lambda: dt.date(2026, 10, 31))
    problems = problems_of(function={"runtime": "python3.10"})
    assert problems[0].startswith(f"{P}:function.runtime python3.10 was deprecated")


def test_non_python_runtime_is_rejected():
    (problem,) = problems_of(function={"runtime": "nodejs22.x"})
    assert problem.startswith(f"{P}:function.runtime must be a Python Lambda runtime")


def test_unknown_top_level_key_is_an_error():
    config = stack_config("dev")
    config[f"{P}:triger"] = {"batchSize": 10}
    error, mocks = run_rejected(config)
    assert error.problems[0].startswith(f"{P}:triger is not a known configuration key")
    assert mocks.registered == []


def test_top_level_value_that_is_not_an_object():
    config = stack_config("dev")
    config[f"{P}:trigger"] = "batchSize=10"
    error, _ = run_rejected(config)
    assert error.problems == [f"{P}:trigger must be an object (got str)"]


def test_missing_required_sections():
    error, mocks = run_rejected(stack_config("dev", table=None, function=None))
    assert f"{P}:table is required (an object; see README, Configuration)" in error.problems
    assert f"{P}:function is required (an object; see README, Configuration)" in error.problems
    assert mocks.registered == []


def test_every_problem_is_reported_at_once():
    problems = problems_of(
        trigger={"batchSize": 0, "startingPosition": "NOW", "bisect": True},
        function={"memoryMb": 1},
    )
    assert len(problems) == 4
    assert {re.match(r"\S+", p).group(0) for p in problems} == {  # type: ignore[union-attr]
        f"{P}:trigger.batchSize",
        f"{P}:trigger.startingPosition",
        f"{P}:trigger.bisect",
        f"{P}:function.memoryMb",
    }


# --- filter patterns --------------------------------------------------------------------
def test_filter_patterns_are_stored_as_compact_json():
    pattern = {"dynamodb": {"NewImage": {"status": {"S": ["PAID", "SHIPPED"]}}}}
    config = parse_config(raw(trigger={"filterPatterns": [pattern]}), "dev")
    assert config.trigger.filter_patterns == (
        '{"dynamodb":{"NewImage":{"status":{"S":["PAID","SHIPPED"]}}}}',
    )


ONLY_DYNAMODB = "DynamoDB event source mappings only support filtering on the `dynamodb` key"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"eventName": ["INSERT"]}, f"trigger.filterPatterns[0].eventName: {ONLY_DYNAMODB}"),
        ({"eventname": ["INSERT"]}, f"trigger.filterPatterns[0].eventname: {ONLY_DYNAMODB}"),
        (
            {"dynamodb": {"NewImages": {"x": {"S": ["a"]}}}},
            "trigger.filterPatterns[0].dynamodb.NewImages: is not a field of the record's",
        ),
        (
            {"dynamodb": {"Keys": {"PK": {"S": "USER#1"}}}},
            "trigger.filterPatterns[0].dynamodb.Keys.PK.S: must be a list of values to match",
        ),
        (
            {"dynamodb": {"NewImage": {"price": {"N": [{"numeric": [">", 1, ">", 2]}]}}}},
            "trigger.filterPatterns[0].dynamodb.NewImage.price.N: numeric takes at most one "
            "lower bound",
        ),
        ({}, "trigger.filterPatterns[0] must be a non-empty object"),
        ("eventName", "trigger.filterPatterns[0] must be a non-empty object"),
        (
            {"dynamodb": {"Keys": {"PK": {"S": ["x" * 5000]}}}},
            "trigger.filterPatterns[0] must be at most 4096 characters as JSON",
        ),
    ],
)
def test_bad_filter_pattern(pattern, expected):
    problems = problems_of(trigger={"filterPatterns": [pattern]})
    assert any(problem.startswith(f"{P}:{expected}") for problem in problems), problems


def test_a_refused_pattern_stops_the_config_with_every_problem_at_its_index():
    good = {"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "ORDER#"}]}}}}
    bad = {"dynamodb": {"NewImage": {"status": ["active"], "price": {"N": [12.5]}}}}
    problems = problems_of(trigger={"filterPatterns": [good, bad]})
    assert [problem.split(":")[1] for problem in problems] == [
        "trigger.filterPatterns[1].dynamodb.NewImage.status",
        "trigger.filterPatterns[1].dynamodb.NewImage.price.N",
    ]


def test_at_most_five_filters():
    patterns = [{"dynamodb": {"Keys": {"PK": {"S": [name]}}}} for name in "ABCDEF"]
    problems = problems_of(trigger={"filterPatterns": patterns})
    assert f"{P}:trigger.filterPatterns may hold at most 5 patterns (got 6)" in problems


def test_filter_on_an_image_the_view_lacks_is_an_error():
    pattern = {"dynamodb": {"OldImage": {"status": {"S": ["SHIPPED"]}}}}
    problems = problems_of(
        table={"streamViewType": "NEW_IMAGE"}, trigger={"filterPatterns": [pattern]}
    )
    assert problems == [
        f"{P}:trigger.filterPatterns filters on dynamodb.OldImage but table.streamViewType "
        "NEW_IMAGE does not carry it; use one of OLD_IMAGE, NEW_AND_OLD_IMAGES"
    ]


# --- tags ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"aws:owner": "me"}, "tags.aws:owner tag names must be 1-128 characters, not 'aws:...'"),
        ({"owner": 7}, "tags.owner must be a string of at most 256 characters"),
        ({"owner": "x" * 257}, "tags.owner must be a string of at most 256 characters"),
    ],
)
def test_bad_tags(tags, expected):
    problems = problems_of(tags=tags)
    assert f"{P}:{expected}" in problems


# --- review findings: values the old checks accepted but AWS rejects (or the reverse) ------
@pytest.mark.parametrize(
    ("namespace", "ok"),
    [
        ("Shop:Streams", True),  # CloudWatch allows ':' except as the first character
        (":Shop", False),
        ("Ünïcode", False),  # not ASCII: CloudWatch would drop the EMF metrics silently
        ("AWS/Lambda", False),
        ("x" * 256, False),
        ("Shop/Streams-1.0_a b", True),
    ],
)
def test_metrics_namespace_follows_cloudwatch_rules(namespace, ok):
    function = {"metricsNamespace": namespace}
    if ok:
        assert parse_config(raw(function=function), "dev").function.metrics_namespace == namespace
    else:
        (problem,) = problems_of(function=function)
        assert problem.startswith(f"{P}:function.metricsNamespace must be 1-255 printable ASCII")


@pytest.mark.parametrize(
    ("tags", "bad"),
    [
        ({"team": "a,b"}, "tags.team"),  # ',' is not allowed in tag values (IAM enforces it)
        ({"cost;center": "x"}, "tags.cost;center"),
        ({"team": "Đội xử lý: stream/1 + 2 = 3 @ops_-."}, None),  # letters, spaces, _.:/=+-@
    ],
)
def test_tag_characters_follow_aws_rules(tags, bad):
    if bad is None:
        assert parse_config(raw(tags=tags), "dev").tags["team"] == tags["team"]
    else:
        assert any(
            p.startswith(f"{P}:{bad} may only hold letters, digits, spaces and _ . : / = + - @")
            for p in problems_of(tags=tags)
        )


def test_kms_key_arn_must_be_in_the_stacks_region():
    other = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    config = stack_config("dev", table={"kmsKey": other})
    with pytest.raises(ConfigError) as caught:
        config_module.parse_stack_config(config, "dev")  # Pulumi.dev.yaml: us-east-1
    assert caught.value.problems == [
        f"{P}:table.kmsKey is a key in eu-west-1, but the stack deploys to us-east-1 "
        "(aws:region): DynamoDB, SQS, SNS, S3, Lambda and CloudWatch Logs only use keys "
        "of their own region"
    ]
    same = other.replace("eu-west-1", "us-east-1")
    parse_config_ok = config_module.parse_stack_config(
        stack_config("dev", table={"kmsKey": same}), "dev"
    )
    assert parse_config_ok.table.kms_key == same
