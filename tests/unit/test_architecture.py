"""The import directions that must never reverse (shared/reference/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_DIR = ROOT / "functions" / "stream_processor"
REPO_PACKAGES = {"components", "streamops", "tests", "policy", "functions", "bench"}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "components").glob("*.py")), ids=str)
def test_components_never_import_tools_or_tests(path: Path):
    roots = {name.split(".")[0] for name in imported_modules(path)}
    assert roots & {"streamops", "tests", "policy", "functions", "bench"} == set()


@pytest.mark.parametrize("path", sorted(FUNCTION_DIR.glob("*.py")), ids=str)
def test_function_imports_only_its_own_folder_and_the_runtime(path: Path):
    own = {p.stem for p in FUNCTION_DIR.glob("*.py")}
    roots = {name.split(".")[0] for name in imported_modules(path)}
    assert roots & REPO_PACKAGES == set()
    # Third-party packages are not in the Lambda package; boto3/botocore ship with the
    # runtime and are imported lazily, only on the quarantine path.
    third_party = roots - own - {"__future__", "boto3", "botocore"}
    import sys

    assert {name for name in third_party if name not in sys.stdlib_module_names} == set()


def test_function_imports_boto3_only_lazily():
    for path in FUNCTION_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        top_level = {
            alias.name.split(".")[0]
            for node in tree.body
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in (
                node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
            )
        }
        assert not top_level & {"boto3", "botocore"}, path.name
