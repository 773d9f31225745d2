"""IAM and resource policies compared as sets of single grants, so two documents compare
regardless of layout (statement order, Sids, a string or a list of one).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

Grant = tuple[str, str, str, str, str]  # effect, action, resource, principal, condition


def grants(document: Mapping[str, Any]) -> set[Grant]:
    """A policy as a set of single grants, so documents compare regardless of layout.

    Actions are compared case-insensitively (IAM does); Sids are ignored (they grant
    nothing). NotAction / NotResource are kept as their own (never expected) grants.
    """
    result: set[Grant] = set()
    for statement in _statements(document):
        effect = statement.get("Effect", "")
        principal = json.dumps(_principal(statement.get("Principal")), sort_keys=True)
        condition = json.dumps(statement.get("Condition"), sort_keys=True)
        actions = [a.lower() for a in _as_list(statement.get("Action"))] + [
            f"not:{a.lower()}" for a in _as_list(statement.get("NotAction"))
        ]
        resources = _as_list(statement.get("Resource")) + [
            f"not:{r}" for r in _as_list(statement.get("NotResource"))
        ]
        for action in actions:
            for resource in resources or [""]:
                result.add((effect, action, resource, principal, condition))
    return result


def describe_difference(deployed: set[Grant], expected: set[Grant]) -> str:
    def show(items: set[Grant]) -> str:
        return ", ".join(
            f"{effect} {action} on {resource or '(no resource)'}"
            + (f" for {principal}" if principal != "null" else "")
            + (f" if {condition}" if condition != "null" else "")
            for effect, action, resource, principal, condition in sorted(items)
        )

    parts = []
    if deployed - expected:
        parts.append(f"extra: {show(deployed - expected)}")
    if expected - deployed:
        parts.append(f"missing: {show(expected - deployed)}")
    return "; ".join(parts) or "identical"


def _principal(value: Any) -> Any:
    """`{"Service": "x"}` and `{"Service": ["x"]}` are the same principal."""
    if isinstance(value, dict):
        return {kind: sorted(_as_list(names)) for kind, names in value.items()}
    return value


def _statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, dict):  # Principal-like maps are not expected in Action/Resource
        return [json.dumps(value, sort_keys=True)]
    return [value] if isinstance(value, str) else list(value)


def _document(value: Any) -> dict[str, Any]:
    """boto3 decodes IAM policy documents to dicts; other clients give JSON text."""
    return json.loads(value) if isinstance(value, str) else dict(value)


def _all_pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    items: list[Any] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page[key])
    return items
