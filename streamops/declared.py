"""What a stack declares: the program's resource tree under Pulumi mocks, and the difference
between two stacks (`streamops resources`).

Why: a reviewer without AWS access or the Pulumi CLI should still see what `pulumi up` would
create. The real program (`__main__.py`) runs with the stack's config (streamops/program.py)
against placeholder AWS answers (streamops/mock_aws.py: ARNs formed the way AWS forms them,
in account 123456789012), so every type, name, parent and input is the program's own; only
the identifiers AWS would assign are placeholders.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from streamops.mock_aws import FakeAws
from streamops.program import ProgramRun, load_stack_config, run_program

# Inputs that say nothing a reviewer decides on (or are shown in other resources' terms).
SKIPPED = frozenset({"tags", "tagsAll", "description", "dashboardBody", "code", "name"})
# Inputs holding IAM / key / topic policy documents: summarised as their statements.
POLICIES = frozenset({"policy", "assumeRolePolicy"})


@dataclass(frozen=True)
class Declared:
    """One resource the stack declares."""

    type: str
    name: str  # the Pulumi resource name
    parent: str  # the parent's resource name ("" for the stack's direct children)
    physical_name: str | None  # the AWS name it asks for, when it sets one
    settings: dict[str, Any]  # inputs that matter, policies as statements

    @property
    def key(self) -> str:
        return f"{self.type} {self.name}"


@dataclass
class StackResources:
    stack: str
    resources: list[Declared]
    outputs: dict[str, Any]
    warnings: list[str] = field(default_factory=list)  # what `pulumi preview` would print


def declared_resources(stack: str) -> StackResources:
    """Run the program with Pulumi.<stack>.yaml under mocks; raises FileNotFoundError for
    an unknown stack and ConfigError for invalid config (before any resource)."""
    config = load_stack_config(stack)
    run = run_program(FakeAws(region=str(config.get("aws:region") or "us-east-1")), config, stack)
    return StackResources(
        stack=stack,
        resources=list(_declared(run)),
        outputs=dict(run.outputs),
        warnings=[message for level, message in run.diagnostics if level in ("warning", "error")],
    )


def _declared(run: ProgramRun) -> Iterator[Declared]:
    names = {resource.urn: resource.name for resource in run.resources}
    for resource in run.resources:
        inputs = resource.inputs
        yield Declared(
            type=resource.type,
            name=resource.name,
            parent=names.get(resource.parent, ""),
            physical_name=inputs.get("name") if isinstance(inputs.get("name"), str) else None,
            settings={
                key: policy_statements(value) if key in POLICIES else _plain(value)
                for key, value in sorted(inputs.items())
                if key not in SKIPPED
            },
        )


def policy_statements(document: Any) -> Any:
    """A policy document as one line per statement: `Allow a, b on r (if ...)`."""
    try:
        parsed = json.loads(document) if isinstance(document, str) else document
        statements = parsed["Statement"]
    except (ValueError, KeyError, TypeError):
        return document
    lines = []
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = _listed(statement.get("Action", statement.get("NotAction")))
        resources = _listed(statement.get("Resource", statement.get("NotResource", "")))
        principal = statement.get("Principal")
        line = f"{statement.get('Effect')} {', '.join(actions)}"
        if resources != [""]:
            line += f" on {', '.join(resources)}"
        if principal:
            line += f" for {json.dumps(principal, sort_keys=True)}"
        if statement.get("Condition"):
            line += f" if {json.dumps(statement['Condition'], sort_keys=True)}"
        lines.append(line)
    return lines


def _listed(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def _plain(value: Any) -> Any:
    """Numbers as Pulumi passes them (floats) shown as integers where they are."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


# --------------------------------------------------------------------------- the difference


@dataclass
class Change:
    resource: str  # "type name", the stack's name replaced by <stack>
    setting: str  # dotted path; "" when the resource exists in one stack only
    before: Any
    after: Any


def _normalised(resources: StackResources) -> dict[str, dict[str, Any]]:
    def strip(text: str) -> str:
        return text.replace(f"-{resources.stack}-", "-<stack>-").replace(
            f"-{resources.stack}", "-<stack>"
        )

    return {
        strip(resource.key): _flat(resource.settings | {"name": resource.physical_name})
        for resource in resources.resources
    }


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def differences(left: StackResources, right: StackResources) -> list[Change]:
    """What `right` declares differently from `left`: resources only in one of them, then
    each setting that differs (resource names compared with the stack name taken out)."""
    before, after = _normalised(left), _normalised(right)
    changes = [Change(key, "", "declared", None) for key in before if key not in after]
    changes += [Change(key, "", None, "declared") for key in after if key not in before]
    for key in before.keys() & after.keys():
        old, new = before[key], after[key]
        for setting in sorted(old.keys() | new.keys()):
            if old.get(setting) != new.get(setting):
                changes.append(Change(key, setting, old.get(setting), new.get(setting)))
    return sorted(changes, key=lambda change: (change.resource, change.setting))
