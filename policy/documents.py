"""Reading IAM-style policy documents (identity, trust and KMS key policies).

Why a module of its own: three rules read the same JSON grammar (a `Statement` that is an
object or a list, `Action`/`Resource`/`Principal` that are a string or a list), and each
must read it the same way. In the policy pack the documents arrive as JSON strings inside
proxied mappings (`pulumi_policy` wraps dicts and lists so that an unknown preview value
raises when touched); so this module only uses the `Mapping`/`Sequence` protocols, never
`isinstance(x, dict|list)`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any


def statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of a policy document given as a JSON string or a mapping.

    A document that is not valid JSON raises ValueError: a policy the pack cannot read is
    not a policy it can pass.
    """
    if document is None or document == "":
        return []
    parsed = json.loads(document) if isinstance(document, str) else document
    if not isinstance(parsed, Mapping):
        raise ValueError(f"policy document is not a JSON object: {document!r}")
    found = parsed.get("Statement", [])
    if isinstance(found, Mapping):
        return [found]
    return [statement for statement in found if isinstance(statement, Mapping)]


def as_list(value: Any) -> list[Any]:
    """`"x"` -> `["x"]`, `["x", "y"]` -> the same, absent -> `[]`."""
    if value is None:
        return []
    if isinstance(value, str | Mapping):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    return [value]


def allows(statement: Mapping[str, Any]) -> bool:
    return statement.get("Effect") == "Allow"


def principals(statement: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(kind, value) pairs: `"*"` -> [("*", "*")], {"Service": [...]} -> [("Service", ...)]."""
    principal = statement.get("Principal")
    if principal is None:
        return []
    if isinstance(principal, str):
        return [("*", principal)]
    return [(kind, value) for kind, values in principal.items() for value in as_list(values)]


def is_anyone(kind: str, value: str) -> bool:
    """True for `"*"` and `{"AWS": "*"}`: every AWS account and anonymous callers."""
    return value == "*" and kind in ("*", "AWS", "CanonicalUser")


def describe(statement: Mapping[str, Any]) -> str:
    """A short label for a statement in a violation message: its Sid, or its actions."""
    sid = statement.get("Sid")
    if sid:
        return f"statement {sid!r}"
    return f"statement allowing {as_list(statement.get('Action') or statement.get('NotAction'))}"
