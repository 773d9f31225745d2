"""Does a deployed key policy let the stack's services use the key?

For a key the program created, doctor compares the deployed policy with the one
components/kms.py builds (any difference is a finding). For a key ARN given in config, the
policy is its owner's and may be written differently, so doctor asks a narrower question:
for each statement the stack needs (`components.kms` KeyUser), is there an Allow statement
that grants at least those actions to that principal, under no condition the stack's
request would not meet? This is a conservative reading, not IAM's evaluation engine:
- a Deny statement matching the principal and an action is reported as blocking;
- a granting statement's conditions must each hold for the needed statement's values
  (same key, an equal value or one its `...Like` pattern matches): a condition the stack's
  requests may not meet is not assumed to hold;
- for the account's principals (`kms:ViaService` users), the account root with the actions
  also counts (AWS's default key policy delegates to IAM, and the execution role's IAM
  statements name the key); for a service principal, only a statement naming that service.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any

from components.kms import Account, KeyUser


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, str | Mapping) else list(value)


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = document.get("Statement", [])
    return [found] if isinstance(found, Mapping) else list(found)


def _principals(statement: Mapping[str, Any]) -> set[tuple[str, str]]:
    principal = statement.get("Principal")
    if principal is None:
        return set()
    if isinstance(principal, str):
        return {("AWS", principal)}
    return {(kind, str(value)) for kind, values in principal.items() for value in _as_list(values)}


def _covers(patterns: Sequence[str], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns)


def _conditions(statement: Mapping[str, Any]) -> list[tuple[str, str, list[str]]]:
    return [
        (operator, key.lower(), [str(item) for item in _as_list(value)])
        for operator, block in (statement.get("Condition") or {}).items()
        for key, value in (block or {}).items()
    ]


def _condition_met(
    granted: tuple[str, str, list[str]], needed: list[tuple[str, str, list[str]]]
) -> bool:
    """A granting statement's condition holds for the stack's requests: the needed
    statement has the same key with a value it accepts (exactly, or by a *Like pattern)."""
    operator, key, patterns = granted
    for need_operator, need_key, values in needed:
        if need_key != key:
            continue
        like = operator.endswith("Like")
        if all(
            any(
                value == pattern or (like and fnmatch.fnmatchcase(value, pattern))
                for pattern in patterns
            )
            for value in values
        ) and (like or operator == need_operator):
            return True
    return False


def _principal_matches(granted: set[tuple[str, str]], needed: tuple[str, str], root: str) -> bool:
    kind, value = needed
    if kind == "Service":
        return needed in granted
    return bool(granted & {("AWS", value), ("AWS", root), ("AWS", "*")})


def missing_grants(
    document: Mapping[str, Any], account: Account, users: Sequence[KeyUser]
) -> list[str]:
    """What the stack needs and `document` does not grant (or denies), in words."""
    problems = []
    for user in users:
        needed = user(account)
        (principal,) = _principals(needed)
        need_conditions = _conditions(needed)
        for action in _as_list(needed["Action"]):
            denied = any(
                statement.get("Effect") == "Deny"
                and _principal_matches(_principals(statement), principal, account.root)
                and _covers(_as_list(statement.get("Action")), action)
                for statement in _statements(document)
            )
            granted = any(
                statement.get("Effect") == "Allow"
                and _principal_matches(_principals(statement), principal, account.root)
                and _covers(_as_list(statement.get("Action")), action)
                and all(_condition_met(c, need_conditions) for c in _conditions(statement))
                for statement in _statements(document)
            )
            if denied or not granted:
                verb = "denies" if denied else "does not allow"
                problems.append(
                    f"{verb} {action} for {principal[0]}:{principal[1]} ({needed['Sid']})"
                )
    return problems
