"""The `alarms` config section: defaults, AWS limits, cross-section rules, stack files."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.config import (
    ALARM_MAX_RANGE_LONG_PERIOD_SECONDS,
    ALARM_MAX_RANGE_SECONDS,
    PROJECT,
    AlarmsConfig,
    ConfigError,
    parse_config,
)
from tests.support.stacks import raw_config

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

MINIMAL: dict[str, Any] = {
    "table": {"name": "orders"},
    "function": {"name": "orders-processor"},
}


# Alarms are on by default, so a subscriber is required; tests about other keys get one.
ONCALL = "oncall@shop.com"
WHO = ("emails", "httpsEndpoints", "forwardToTopicArns", "notify")


def parse(alarms: Any = None, **sections: Any):
    raw = copy.deepcopy(MINIMAL)
    if alarms is None:
        alarms = {}
    if isinstance(alarms, dict) and not set(WHO) & set(alarms):
        alarms = {"emails": [ONCALL], **alarms}
    raw["alarms"] = alarms
    for section, values in sections.items():
        raw.setdefault(section, {}).update(values)
    return parse_config(raw, "test")


def problems_of(alarms: Any = None, **sections: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(alarms, **sections)
    return caught.value.problems


def test_defaults_are_the_production_choice():
    assert parse().alarms == AlarmsConfig(
        enabled=True,
        errors_threshold=0,
        duration_threshold_ms=20000,
        iterator_age_threshold_ms=30000,
        evaluation_periods=1,
        period_seconds=60,
        emails=(ONCALL,),
        topic_kms_key="create",
    )


def test_every_key_is_read():
    alarms = parse(
        {
            "enabled": True,
            "errorsThreshold": 3,
            "durationThresholdMs": 25000,
            "iteratorAgeThresholdMs": 120000,
            "evaluationPeriods": 5,
            "periodSeconds": 300,
            "emails": ["ops@example.com", "oncall@example.org"],
            "topicKmsKey": KEY_ARN,
        }
    ).alarms
    assert alarms == AlarmsConfig(True, 3, 25000, 120000, 5, 300, (
        "ops@example.com", "oncall@example.org"), KEY_ARN)  # fmt: skip


@pytest.mark.parametrize(
    ("alarms", "expected"),
    [
        ({"errorsThreshold": -1}, "alarms.errorsThreshold must be between 0 and"),
        ({"durationThresholdMs": 0}, "alarms.durationThresholdMs must be between 1 and 900000"),
        ({"iteratorAgeThresholdMs": 0}, "alarms.iteratorAgeThresholdMs must be between 1 and"),
        ({"iteratorAgeThresholdMs": 86400001}, "alarms.iteratorAgeThresholdMs must be between"),
        ({"evaluationPeriods": 0}, "alarms.evaluationPeriods must be between 1 and 1440"),
        ({"periodSeconds": 90}, "alarms.periodSeconds must be a multiple of 60 seconds"),
        ({"periodSeconds": 0}, "alarms.periodSeconds must be a multiple of 60 seconds"),
        ({"periodSeconds": 604860}, "alarms.periodSeconds must be a multiple of 60 seconds"),
        ({"topicKmsKey": "aws-managed"}, "alarms.topicKmsKey must be one of none | create"),
        ({"topicKmsKey": "alias/aws/sns"}, "alarms.topicKmsKey must be one of none | create"),
        ({"enabled": "yes"}, "alarms.enabled must be a boolean"),
        ({"emails": "ops@example.com"}, "alarms.emails must be a list"),
        ({"emails": ["not-an-address"]}, "alarms.emails[0] must be an email address"),
        ({"emails": ["a@example.com", "b@@example.com"]}, "alarms.emails[1] must be an email"),
        ({"emails": ["ops@example.com", "OPS@example.com"]}, "alarms.emails[1] repeats"),
        ({"emails": [42]}, "alarms.emails[0] must be an email address"),
        ({"errorThreshold": 1}, "alarms.errorThreshold is not a known key"),
        ("on", "alarms must be an object"),
    ],
)
def test_bad_values_name_the_key(alarms, expected):
    problems = problems_of(alarms)
    assert any(problem.startswith(f"{PROJECT}:{expected}") for problem in problems), problems


@pytest.mark.parametrize("period", [10, 20, 30])
def test_sub_minute_periods_are_refused_with_the_reason(period):
    (problem,) = problems_of({"periodSeconds": period})
    assert f"{PROJECT}:alarms.periodSeconds must be a multiple of 60" in problem
    assert "one-minute resolution" in problem


def test_evaluation_range_is_one_day_for_periods_under_an_hour():
    assert parse({"periodSeconds": 60, "evaluationPeriods": 1440}).alarms.evaluation_periods == 1440
    (problem,) = problems_of({"periodSeconds": 120, "evaluationPeriods": 721})
    assert problem.startswith(f"{PROJECT}:alarms.evaluationPeriods times alarms.periodSeconds")
    assert f"at most {ALARM_MAX_RANGE_SECONDS} seconds" in problem
    assert "721 x 120 = 86520" in problem


def test_evaluation_range_is_seven_days_for_periods_of_an_hour_or_more():
    assert parse({"periodSeconds": 3600, "evaluationPeriods": 168}).alarms.period_seconds == 3600
    (problem,) = problems_of({"periodSeconds": 3600, "evaluationPeriods": 169})
    assert f"at most {ALARM_MAX_RANGE_LONG_PERIOD_SECONDS} seconds" in problem


def test_duration_threshold_must_stay_below_the_function_timeout():
    (problem,) = problems_of({"durationThresholdMs": 30000}, function={"timeoutSeconds": 30})
    assert problem.startswith(
        f"{PROJECT}:alarms.durationThresholdMs must be below function.timeoutSeconds x 1000 "
        "(30000 ms), got 30000"
    )
    assert parse({"durationThresholdMs": 29999}).alarms.duration_threshold_ms == 29999


def test_the_default_duration_threshold_is_checked_against_a_short_timeout():
    (problem,) = problems_of(function={"timeoutSeconds": 10})
    assert "alarms.durationThresholdMs must be below function.timeoutSeconds x 1000 (10000 ms)" in (
        problem
    )
    assert "default 20000" in problem


def test_iterator_age_threshold_must_stay_below_the_maximum_record_age():
    (problem,) = problems_of({"iteratorAgeThresholdMs": 60000}, trigger={"maxRecordAgeSeconds": 60})
    assert problem.startswith(
        f"{PROJECT}:alarms.iteratorAgeThresholdMs must be below trigger.maxRecordAgeSeconds x 1000"
    )
    unbounded = parse(
        {"iteratorAgeThresholdMs": 3_600_000},
        trigger={"maxRecordAgeSeconds": -1, "retryAttempts": 3},
    )
    assert unbounded.alarms.iterator_age_threshold_ms == 3_600_000


def test_disabled_alarms_skip_the_threshold_rules():
    # With alarms off no alarm exists, so its threshold cannot be unreachable.
    config = parse({"enabled": False}, function={"timeoutSeconds": 10})
    assert config.alarms.enabled is False


def test_alarm_problems_are_reported_with_the_other_sections():
    problems = problems_of({"periodSeconds": 45}, trigger={"batchSize": 0})
    assert f"{PROJECT}:trigger.batchSize must be between 1 and 10000 (got 0)" in problems
    assert any(problem.startswith(f"{PROJECT}:alarms.periodSeconds") for problem in problems)


def test_dev_stack_has_the_seed_alarms_on_an_unencrypted_topic():
    alarms = parse_config(raw_config("dev"), "dev").alarms
    assert (alarms.errors_threshold, alarms.duration_threshold_ms) == (0, 20000)
    assert alarms.iterator_age_threshold_ms == 30000
    assert alarms.enabled is True
    assert alarms.topic_kms_key == "none"  # explicit free-tier relaxation


def test_prod_stack_encrypts_the_topic_with_its_own_key():
    config = parse_config(raw_config("prod"), "prod")
    assert config.alarms.topic_kms_key == "create"
    assert config.alarms.duration_threshold_ms < config.function.timeout_seconds * 1000


def test_other_sections_are_unchanged_by_the_alarms_section():
    config = parse_config(raw_config("dev"), "dev")
    assert config.table.name == "demo-ecommerce-freetier"
    assert config.function.timeout_seconds == 30
    assert config.trigger.batch_size == 10
    assert config.tags == {"project": PROJECT, "environment": "dev"}
