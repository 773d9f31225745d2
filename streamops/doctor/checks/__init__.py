"""Deployed-stack checks (being split by concern: see alarms.py for now)."""

from streamops.doctor.checks.alarms import *  # noqa: F403
from streamops.doctor.checks.alarms import (  # noqa: F401
    _alarm_topic_finding,
    _stream_finding,
    _subscriptions_finding,
)
