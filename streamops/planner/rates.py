"""Write rates as people write them: `5/s`, `300/min`, `1000000/day`, `2.5M/month`.

Why strict: a rate is the main input of the plan; a typo (`5/sec0`, `-5/s`, `5`) must stop
the plan with a one-line reason, not produce a bill for a workload nobody has.
"""

from __future__ import annotations

import math
import re

from streamops.planner.errors import PlanError

# Beyond any single table: DynamoDB's default quota is 40,000 write units a second per
# table; a million writes a second is a typo (a unit or a few zeros too many).
MAX_WRITES_PER_SECOND = 1_000_000.0

SECONDS_PER_UNIT = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "day": 86400.0,
}
MONTH_UNITS = ("month", "mo")
MULTIPLIERS = {"": 1.0, "k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6}
RATE_RE = re.compile(r"^(?P<count>\d+(?:\.\d+)?|\.\d+)(?P<multiplier>[kKmM]?)/(?P<unit>[a-z]+)$")
EXAMPLES = "e.g. 5/s, 300/min, 1000000/day, 2.5M/month"


def parse_rate(text: str, month_days: int, what: str = "rate") -> float:
    """Writes per second for `text`; a month has `month_days` days (see prices.json)."""
    cleaned = text.strip().replace(" ", "").replace("_", "")
    if cleaned.startswith("-"):
        raise PlanError(f"{what} {text!r} must be more than zero writes")
    match = RATE_RE.match(cleaned)
    if match is None:
        raise PlanError(f"{what} {text!r} is not a rate: write COUNT/UNIT ({EXAMPLES})")
    unit = match["unit"].rstrip("s") if match["unit"] not in ("s",) else "s"
    if unit in MONTH_UNITS:
        seconds = month_days * SECONDS_PER_UNIT["day"]
    elif unit in SECONDS_PER_UNIT:
        seconds = SECONDS_PER_UNIT[unit]
    else:
        units = ", ".join(["s", "min", "h", "day", "month"])
        raise PlanError(f"{what} {text!r} has an unknown unit {match['unit']!r} (one of {units})")
    per_second = float(match["count"]) * MULTIPLIERS[match["multiplier"]] / seconds
    return check_rate(per_second, what, text)


def check_rate(per_second: float, what: str, text: str) -> float:
    if not math.isfinite(per_second) or per_second <= 0:
        raise PlanError(f"{what} {text!r} must be more than zero writes")
    if per_second > MAX_WRITES_PER_SECOND:
        raise PlanError(
            f"{what} {text!r} is {per_second:,.0f} writes/s, more than "
            f"{MAX_WRITES_PER_SECOND:,.0f}/s: beyond any DynamoDB table (check the unit)"
        )
    return per_second


def format_rate(per_second: float) -> str:
    """A rate for people: `5/s`, `0.5/s`, `12,000/s`."""
    if per_second >= 100:
        return f"{per_second:,.0f}/s"
    return f"{per_second:,.3g}/s"
