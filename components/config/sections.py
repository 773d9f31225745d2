"""Checking one config section (a YAML object) against its key specs.

Problems are collected, not raised, so that every problem of a stack file is reported
together; each names its full key (`<project>:<section>.<key>`).
"""

from __future__ import annotations

from typing import Any

from components.config.keys import REQUIRED, Key


# ---------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------
class _Problems:
    def __init__(self, project: str):
        self.project = project
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{self.project}:{path} {message}")


def _type_name(kind: type) -> str:
    return {bool: "a boolean", int: "an integer", str: "a string", list: "a list"}.get(
        kind, "an object"
    )


def _is_kind(value: Any, kind: type) -> bool:
    if kind is int:  # YAML booleans are ints in Python: reject them explicitly
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _parse_section(
    section: str, raw: Any, keys: tuple[Key, ...], problems: _Problems
) -> dict[str, Any]:
    """Check one config object against its key specs; return camelCase key -> value."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.add(section, f"must be an object (got {type(raw).__name__})")
        return {}
    known = {key.name for key in keys}
    for unknown in sorted(set(raw) - known):
        problems.add(
            f"{section}.{unknown}",
            f"is not a known key; allowed keys: {', '.join(sorted(known))}",
        )
    values: dict[str, Any] = {}
    for key in keys:
        path = f"{section}.{key.name}"
        if key.name not in raw or raw[key.name] is None:
            if key.default is REQUIRED:
                problems.add(path, "is required")
            values[key.name] = key.default if key.default is not REQUIRED else None
            continue
        value = raw[key.name]
        values[key.name] = value
        if not _is_kind(value, key.kind):
            problems.add(path, f"must be {_type_name(key.kind)} (got {value!r})")
            values[key.name] = None
            continue
        problem = _check_value(key, value)
        if problem:
            problems.add(path, problem)
            values[key.name] = None
    return values


def _check_value(key: Key, value: Any) -> str | None:
    if key.choices is not None and value not in key.choices:
        allowed = ", ".join(str(choice) for choice in key.choices)
        return f"must be one of {allowed} (got {value!r})"
    if key.bounds is not None and value not in key.also:
        low, high = key.bounds
        if not low <= value <= high:
            extra = "".join(f" or {allowed}" for allowed in key.also)
            return f"must be between {low} and {high}{extra} (got {value})"
    if key.check is not None:
        return key.check(value)
    return None
