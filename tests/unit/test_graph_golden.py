"""The repo's own stacks register exactly the golden graphs (see tests/support/graph.py)."""

from __future__ import annotations

import json

import pytest

from tests.support.graph import REGENERATE, STACKS, golden_path, render, stack_graph


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
