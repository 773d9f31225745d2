"""The repo's own stacks register exactly the golden graphs (see tests/support/graph.py)."""

from __future__ import annotations

import json

import pytest

from streamops.program import run_program
from tests.support.fake_aws import FakeAws
from tests.support.graph import REGENERATE, STACKS, golden_path, render, stack_graph
from tests.support.stacks import stack_config


@pytest.mark.parametrize("stack", STACKS)
def test_stack_registers_the_golden_graph(stack):
    expected = json.loads(golden_path(stack).read_text())
    actual = json.loads(render(stack_graph(stack)))
    assert [r["urn"] for r in actual["resources"]] == [r["urn"] for r in expected["resources"]], (
        f"{stack}: resources added, removed or renamed; if intended, run `{REGENERATE}`"
    )
    for got, want in zip(actual["resources"], expected["resources"], strict=True):
        assert got == want, f"{stack}: {want['urn']} changed; if intended, run `{REGENERATE}`"
    assert actual["outputs"] == expected["outputs"], f"{stack}: stack outputs changed"


def test_each_program_run_has_its_own_stack_as_root():
    """The Pulumi SDK keeps the root Stack resource across `set_mocks` calls: a prod run
    after a dev run in the same process parented its resources to the dev stack (seen
    failing first, as test_stack_registers_the_golden_graph did under pytest-xdist)."""
    run_program(FakeAws(), stack_config("dev"), "dev")
    prod = run_program(FakeAws(), stack_config("prod"), "prod")
    (pipeline,) = [r for r in prod.resources if r.urn.endswith("StreamPipeline::pipeline")]
    assert pipeline.parent == (
        "urn:pulumi:prod::dynamodb-stream-processor::pulumi:pulumi:Stack"
        "::dynamodb-stream-processor-prod"
    )
