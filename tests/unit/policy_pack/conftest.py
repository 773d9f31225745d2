"""Resource graphs of the real program (dev, prod, and variants) for the policy tests.

Graphs come from `run_program`, i.e. from exactly what `pulumi preview` would register.
A broken variant is made in one of two ways, and each test says which:
- through stack config, when the config allows the insecure value (e.g. PITR off), so the
  test proves the rule catches what a user can actually configure;
- by editing one registration's inputs (`edit`), when config validation already refuses
  the value (e.g. a deprecated runtime) or the program never creates such a resource (a
  public Lambda permission): the rule is then the guard for code paths and hand-made
  resources the config cannot reach.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest

from components.config import PROJECT
from policy.rules import BUCKET, Resource, Rule
from streamops.program import ProgramRun, run_program
from tests.support.fake_aws import FakeAws
from tests.support.stacks import stack_config

Graph = tuple[Resource, ...]
REMOVE = object()  # `edit(..., key=REMOVE)` deletes the property


def run_stack(stack: str, overrides: Mapping[str, Any] | None = None) -> ProgramRun:
    """Run the program with Pulumi.<stack>.yaml, `{"table.kmsKey": "aws-managed"}` applied."""
    sections: dict[str, dict[str, Any]] = {}
    for path, value in (overrides or {}).items():
        section, key = path.split(".", 1)
        sections.setdefault(section, {})[key] = value
    return run_program(FakeAws(), stack_config(stack, **sections), stack)


def graph(run: ProgramRun) -> Graph:
    """The cloud resources of a run (components carry no properties), props deep-copied."""
    return tuple(
        Resource(r.type, r.name, _checked_inputs(r), r.urn) for r in run.resources if r.custom
    )


def _checked_inputs(registration: Any) -> dict[str, Any]:
    """The inputs as the pack sees them: the provider's Check fills in an auto-named
    bucket's `bucket` name before the pack runs; mocks skip Check, so take it from the
    registration's outputs."""
    inputs = copy.deepcopy(registration.inputs)
    if registration.type == BUCKET and not inputs.get("bucket"):
        inputs["bucket"] = registration.outputs.get("bucket") or registration.id
    return inputs


def stack_graph(stack: str, overrides: Mapping[str, Any] | None = None) -> Graph:
    return graph(run_stack(stack, overrides))


def one(resources: Graph, type_token: str, named: str = "") -> Resource:
    """The one resource of `type_token` (whose name contains `named`, when given)."""
    found = [r for r in resources if r.type == type_token and named in r.name]
    assert len(found) == 1, f"expected one {type_token} named *{named}*, found {len(found)}"
    return found[0]


def edit(resources: Graph, type_token: str, named: str = "", **changes: Any) -> Graph:
    """A copy of the graph where that one resource (see `one`) has `changes` applied."""
    target = one(resources, type_token, named)
    props = copy.deepcopy(dict(target.props))
    for key, value in changes.items():
        if value is REMOVE:
            props.pop(key, None)
        else:
            props[key] = value
    edited = Resource(target.type, target.name, props, target.urn)
    return tuple(edited if resource is target else resource for resource in resources)


def add(resources: Graph, type_token: str, name: str, **props: Any) -> Graph:
    """A copy of the graph with one more (hand-made) resource."""
    urn = f"urn:pulumi:test::{PROJECT}::{type_token}::{name}"
    return (*resources, Resource(type_token, name, props, urn))


def messages(rule: Rule, resources: Graph) -> list[str]:
    return [violation.message for violation in rule.evaluate(resources)]


@pytest.fixture(scope="session")
def dev() -> Graph:
    return stack_graph("dev")


@pytest.fixture(scope="session")
def prod() -> Graph:
    return stack_graph("prod")
