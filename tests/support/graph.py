"""The resource graph a stack registers, as a stable JSON document, and its golden copies.

Why: refactoring the components (e.g. into a component package) must not change what
`pulumi up` registers for the repo's own stacks. `tests/unit/test_graph_golden.py` runs the
real program (`__main__.py`) under Pulumi mocks for each stack file and compares every
resource (URN: type and name; parent; inputs; explicit
dependencies; delete-before-replace) and the stack outputs with the golden file.

When a resource change IS intended, regenerate the golden files and review their diff:

    make graph-golden          # = python -m tests.support.graph --write
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pulumi

from streamops.program import ROOT, ProgramRun, run_program
from tests.support.fake_aws import FakeAws
from tests.support.stacks import stack_config

GOLDEN_DIR = ROOT / "tests" / "fixtures" / "graph"
STACKS = ("dev", "prod")
REGENERATE = "make graph-golden"


def golden_path(stack: str) -> Path:
    return GOLDEN_DIR / f"{stack}.json"


def stack_graph(stack: str) -> dict[str, Any]:
    """Every registration of Pulumi.<stack>.yaml's program, sorted by URN, and its outputs."""
    return graph_of(run_program(FakeAws(), stack_config(stack), stack))


def graph_of(run: ProgramRun) -> dict[str, Any]:
    """A run's registrations, sorted by URN, and its outputs, as JSON-ready values."""
    resources = [
        {
            "urn": resource.urn,
            # Mock URNs name only the immediate parent's type: the parent's URN completes the chain.
            "parent": resource.parent,
            "custom": resource.custom,
            "inputs": _plain(resource.inputs),
            "dependsOn": sorted(resource.depends_on),
            "deleteBeforeReplace": resource.delete_before_replace,
        }
        for resource in run.resources
    ]
    return {
        "resources": sorted(resources, key=lambda resource: resource["urn"]),
        "outputs": _plain(run.outputs),
    }


def _plain(value: Any) -> Any:
    """JSON-ready: assets and archives by their file paths (relative to the repo)."""
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {name: _plain(asset) for name, asset in sorted(value.assets.items())}}
    if isinstance(value, pulumi.FileAsset):
        return {"file": Path(value.path).resolve().relative_to(ROOT).as_posix()}
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_plain(inner) for inner in value]
    return value


def render(graph: dict[str, Any]) -> str:
    return json.dumps(graph, indent=2, sort_keys=True) + "\n"


def write_goldens() -> None:
    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    for stack in STACKS:
        golden_path(stack).write_text(render(stack_graph(stack)))
        print(f"wrote {golden_path(stack).relative_to(ROOT)}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.support.graph --write  (regenerates the golden graphs)")
    write_goldens()
