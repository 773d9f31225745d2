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


@pytest.mark.parametrize("path", sorted((ROOT / "components").rglob("*.py")), ids=str)
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


# --------------------------------------------------------------------------- streamops


STREAMOPS = ROOT / "streamops"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_imports(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it (functions and TYPE_CHECKING blocks
    included), relative imports resolved, `from x import y` counted as x and x.y."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def streamops_graph() -> dict[str, set[str]]:
    """module -> the streamops modules it imports."""
    modules = {module_name(path): path for path in STREAMOPS.rglob("*.py")}
    return {
        name: {imported for imported in all_imports(path) if imported in modules} - {name}
        for name, path in modules.items()
    }


def subsystem(module: str) -> str:
    """streamops.redrive.session -> streamops.redrive; top-level modules stand alone."""
    return ".".join(module.split(".")[:2])


def subsystem_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = {}
    for module, imported in graph.items():
        if module == "streamops":
            continue
        edges = grouped.setdefault(subsystem(module), set())
        edges.update(subsystem(other) for other in imported if other != "streamops")
        edges.discard(subsystem(module))
    return grouped


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (a path that returns to its start), or None."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" after
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
    graph = {"streamops.redrive.command": {"streamops.demo.redrive"}}
    graph["streamops.demo.redrive"] = {"streamops.redrive.command"}  # issue 13's old cycle
    assert find_cycle(subsystem_graph(graph)) is not None


def test_the_graph_sees_function_level_and_relative_imports() -> None:
    graph = streamops_graph()
    # streamops/cli/doctor.py imports the emulator inside its command function
    assert "streamops.emulator.server" in graph["streamops.cli.doctor"]
    assert graph["streamops.demo.redrive"] >= {"streamops.redrive.session"}


def test_no_import_cycle_between_streamops_modules() -> None:
    assert find_cycle(streamops_graph()) is None


def test_no_import_cycle_between_streamops_subsystems() -> None:
    """Folders (and top-level modules) import each other one way only: e.g. the redrive
    demonstration (demo/) uses redrive/, never the reverse; the CLI layer uses both."""
    assert find_cycle(subsystem_graph(streamops_graph())) is None


def test_only_the_cli_imports_the_cli() -> None:
    offenders = {
        module
        for module, imported in streamops_graph().items()
        if not module.startswith("streamops.cli")
        and any(name.startswith("streamops.cli") for name in imported)
    }
    assert offenders == set()


@pytest.mark.parametrize("path", sorted(STREAMOPS.rglob("*.py")), ids=str)
def test_streamops_never_imports_the_tests_or_the_benchmarks(path: Path) -> None:
    roots = {name.split(".")[0] for name in all_imports(path)}
    assert roots & {"tests", "bench"} == set()


@pytest.mark.parametrize("path", sorted((ROOT / "components").rglob("*.py")), ids=str)
def test_components_import_nothing_but_components_anywhere(path: Path) -> None:
    """Also function-level imports (the test above reads absolute ones only)."""
    roots = {name.split(".")[0] for name in all_imports(path)}
    assert roots & {"streamops", "tests", "policy", "functions", "bench"} == set()


@pytest.mark.parametrize(
    "folder",
    sorted(
        {
            path.parent
            for base in ("streamops", "components")
            for path in (ROOT / base).rglob("*.py")
        }
    ),
    ids=str,
)
def test_no_flat_folder_holds_more_than_a_dozen_modules(folder: Path) -> None:
    modules = [path for path in folder.glob("*.py") if path.name != "__init__.py"]
    assert len(modules) <= 12, f"{folder}: {len(modules)} modules, split by subsystem"
