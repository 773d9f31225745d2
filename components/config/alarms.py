"""Parsing the `alarms` section: thresholds, evaluation range and who the alarms notify.

Alarms must reach a person, or the stack file must say (with a reason) that they do not.
"""

from __future__ import annotations

import re
from typing import Any

from components.config.keys import ALARMS_KEYS
from components.config.limits import (
    ALARM_LONG_PERIOD_SECONDS,
    ALARM_MAX_RANGE_LONG_PERIOD_SECONDS,
    ALARM_MAX_RANGE_SECONDS,
    EMAIL_RE,
    HTTPS_ENDPOINT_RE,
    MAX_FORWARD_TOPICS,
    RESERVED_DOMAIN_RE,
    SNS_TOPIC_ARN_RE,
)
from components.config.models import AlarmsConfig
from components.config.sections import _parse_section, _Problems


def _parse_alarms(raw: Any, problems: _Problems) -> AlarmsConfig | None:
    v = _parse_section("alarms", raw, ALARMS_KEYS, problems)
    if not v:
        return None
    period, evaluations = v["periodSeconds"], v["evaluationPeriods"]
    if period is not None and evaluations is not None:
        limit = (
            ALARM_MAX_RANGE_LONG_PERIOD_SECONDS
            if period >= ALARM_LONG_PERIOD_SECONDS
            else ALARM_MAX_RANGE_SECONDS
        )
        if period * evaluations > limit:
            problems.add(
                "alarms.evaluationPeriods",
                f"times alarms.periodSeconds must be at most {limit} seconds for a period of "
                f"{period} s (CloudWatch evaluates at most "
                f"{limit // ALARM_MAX_RANGE_SECONDS} day(s) of data); "
                f"got {evaluations} x {period} = {period * evaluations}",
            )
    emails = _check_emails(v["emails"] or [], problems)
    endpoints = _check_listed(
        "alarms.httpsEndpoints", v["httpsEndpoints"] or [], HTTPS_ENDPOINT_RE,
        "an https:// URL such as https://events.pagerduty.com/integration/KEY/enqueue",
        problems,
    )  # fmt: skip
    forwards = _check_listed(
        "alarms.forwardToTopicArns", v["forwardToTopicArns"] or [], SNS_TOPIC_ARN_RE,
        "an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)", problems,
    )  # fmt: skip
    if len(forwards) > MAX_FORWARD_TOPICS:
        problems.add(
            "alarms.forwardToTopicArns",
            f"may hold at most {MAX_FORWARD_TOPICS} topics (CloudWatch allows 5 actions per "
            f"alarm state, one is the stack's topic); got {len(forwards)}",
        )
    _check_notify(v, (*emails, *endpoints, *forwards), problems)
    if problems.items:
        return None
    return AlarmsConfig(
        enabled=v["enabled"],
        errors_threshold=v["errorsThreshold"],
        duration_threshold_ms=v["durationThresholdMs"],
        iterator_age_threshold_ms=v["iteratorAgeThresholdMs"],
        evaluation_periods=evaluations,
        period_seconds=period,
        emails=tuple(emails),
        topic_kms_key=v["topicKmsKey"],
        https_endpoints=tuple(endpoints),
        forward_topic_arns=tuple(forwards),
        notify=v["notify"],
        notify_reason=v["notifyReason"],
    )


def _check_listed(
    key: str, raw: list[Any], pattern: re.Pattern[str], what: str, problems: _Problems
) -> list[str]:
    """Strings of a list that must each match `pattern`, each once."""
    found: list[str] = []
    for index, value in enumerate(raw):
        path = f"{key}[{index}]"
        if not isinstance(value, str) or not pattern.match(value):
            problems.add(path, f"must be {what} (got {value!r})")
        elif value in found:
            problems.add(path, f"repeats {value!r}; list each once")
        else:
            found.append(value)
    return found


def _check_notify(v: dict[str, Any], subscribers: tuple[str, ...], problems: _Problems) -> None:
    """Alarms must reach a person, or say explicitly (with a reason) that they do not."""
    if not v["enabled"] or v["notify"] is None:
        return
    if v["notify"] == "none":
        # Subscribers next to `none` are still subscribed (a developer trying an address):
        # `none` only waives the requirement to have one.
        if not (v["notifyReason"] or "").strip():
            problems.add(
                "alarms.notifyReason",
                "is required when alarms.notify is none: say why nobody is notified",
            )
        return
    if v["notifyReason"] is not None:
        problems.add("alarms.notifyReason", "only applies when alarms.notify is none")
    if not subscribers:
        problems.add(
            "alarms.emails",
            "names nobody, and neither do alarms.httpsEndpoints or alarms.forwardToTopicArns: "
            "the alarms would notify a topic no one is subscribed to. Name at least one "
            "subscriber, or set alarms.notify: none with alarms.notifyReason (e.g. a dev stack)",
        )


def placeholder_subscribers(alarms: AlarmsConfig) -> list[str]:
    """Subscribers on reserved example domains (RFC 2606): they reach nobody."""
    found = []
    for subscriber in (*alarms.emails, *alarms.https_endpoints):
        host = subscriber.split("@", 1)[1] if "@" in subscriber else subscriber.split("/")[2]
        if RESERVED_DOMAIN_RE.search(host.split(":")[0]):
            found.append(subscriber)
    return found


def _check_emails(raw: list[Any], problems: _Problems) -> list[str]:
    """Addresses to subscribe; each once (SNS would keep one subscription anyway)."""
    emails: list[str] = []
    seen: set[str] = set()
    for index, email in enumerate(raw):
        path = f"alarms.emails[{index}]"
        if not isinstance(email, str) or not EMAIL_RE.match(email):
            problems.add(path, f"must be an email address such as ops@example.com (got {email!r})")
        elif email.lower() in seen:
            problems.add(path, f"repeats {email!r}; list each address once")
        else:
            seen.add(email.lower())
            emails.append(email)
    return emails
