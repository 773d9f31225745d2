"""The rules of single config values that a choice list or a range cannot say (names,
KMS key choices, runtimes past their deprecation date, namespaces, alarm periods, tag text).

Each returns the problem in words, or None; keys.py attaches them to their keys.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

from components.config.limits import (
    ALARM_PERIOD_SECONDS,
    ALARM_PERIOD_STEP_SECONDS,
    ALARM_SUB_MINUTE_PERIODS,
    ATTRIBUTE_NAME_MAX,
    FUNCTION_NAME_RE,
    KMS_KEY_ARN_RE,
    NAMESPACE_RE,
    PYTHON_RUNTIME_DEPRECATION,
    TABLE_NAME_RE,
    TAG_PUNCTUATION,
)


def _table_name(value: str) -> str | None:
    if TABLE_NAME_RE.match(value):
        return None
    return "must be 3-255 characters of A-Z a-z 0-9 _ . - (DynamoDB table name rules)"


def _function_name(value: str) -> str | None:
    if FUNCTION_NAME_RE.match(value):
        return None
    return "must be 1-64 characters of A-Z a-z 0-9 _ - (Lambda function name rules)"


def _attribute_name(value: str) -> str | None:
    if 0 < len(value.encode()) <= ATTRIBUTE_NAME_MAX:
        return None
    return f"must be 1-{ATTRIBUTE_NAME_MAX} bytes long"


def _kms_choice(keywords: tuple[str, ...]) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if value in keywords or KMS_KEY_ARN_RE.match(value):
            return None
        allowed = " | ".join(keywords)
        return (
            f"must be one of {allowed} or a KMS key ARN "
            f"(arn:aws:kms:<region>:<account>:key/<id>), got {value!r}"
        )

    return check


def _runtime(value: str) -> str | None:
    if value not in PYTHON_RUNTIME_DEPRECATION:
        supported = ", ".join(_supported_runtimes())
        return f"must be a Python Lambda runtime: one of {supported} (got {value!r})"
    deprecated_on = PYTHON_RUNTIME_DEPRECATION[value]
    if deprecated_on <= _today():
        supported = ", ".join(_supported_runtimes())
        return (
            f"{value} was deprecated by AWS Lambda on {deprecated_on.isoformat()}: it no longer "
            f"gets security patches and new functions cannot use it; use one of {supported} "
            f"(got {value!r})"
        )
    return None


def _supported_runtimes() -> list[str]:
    today = _today()
    return [name for name, until in PYTHON_RUNTIME_DEPRECATION.items() if until > today]


def _today() -> _dt.date:
    return _dt.date.today()


def _namespace(value: str) -> str | None:
    if NAMESPACE_RE.match(value) and not value.startswith("AWS/"):
        return None
    return (
        f"must be 1-255 printable ASCII characters, not starting with ':' or 'AWS/' (got {value!r})"
    )


def _alarm_period(value: int) -> str | None:
    low, high = ALARM_PERIOD_SECONDS
    if low <= value <= high and value % ALARM_PERIOD_STEP_SECONDS == 0:
        return None
    hint = (
        f"; AWS allows {', '.join(map(str, ALARM_SUB_MINUTE_PERIODS))} s only for metrics "
        "stored at one-second resolution, and every metric alarmed on here has one-minute "
        "resolution"
        if value in ALARM_SUB_MINUTE_PERIODS
        else ""
    )
    return (
        f"must be a multiple of {ALARM_PERIOD_STEP_SECONDS} seconds between {low} and {high} "
        f"(got {value}){hint}"
    )


def _tag_text_ok(text: str) -> bool:
    return all(c.isalnum() or c.isspace() or c in TAG_PUNCTUATION for c in text)
