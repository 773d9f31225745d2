"""The function package ships bytecode for the runtime's Python (issue 12): Lambda's
package directory is read-only, so without it every cold start compiles the source.

Proved on a read-only copy of the package, as Lambda unpacks it: a fresh interpreter
imports the handler without compiling anything (``SourceLoader.source_to_code`` is never
called for the package's modules), writes nothing, and still does so when the files' times
changed (a zip need not keep them: the bytecode is validated by the source's hash)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pulumi
import pytest

from components.function import FUNCTION_SOURCE, function_archive, function_bytecode

THIS_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
OTHER_RUNTIME = "python3.13" if THIS_RUNTIME != "python3.13" else "python3.12"

# Counts the modules the interpreter compiles from source while importing the handler.
PROBE = """
import importlib._bootstrap_external as external, json, sys
compiled = []
original = external.SourceLoader.source_to_code
def counting(self, data, path, *args, **kwargs):
    compiled.append(path)
    return original(self, data, path, *args, **kwargs)
external.SourceLoader.source_to_code = counting
import handler
print(json.dumps({"compiled": compiled, "cached": handler.__cached__}))
"""


def unpack(archive: pulumi.AssetArchive, into: Path) -> Path:
    """The archive's files at their archive paths, read-only like Lambda's /var/task."""
    for name, asset in archive.assets.items():
        assert isinstance(asset, pulumi.FileAsset)
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(asset.path, target)
    for path in sorted(into.rglob("*"), reverse=True):
        path.chmod(
            stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH | (stat.S_IXUSR if path.is_dir() else 0)
        )
    into.chmod(stat.S_IRUSR | stat.S_IXUSR)
    return into


def import_handler(task_root: Path) -> dict[str, object]:
    import json

    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=task_root,
        env={"PATH": os.environ.get("PATH", "/usr/bin")},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def own_files(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


@pytest.fixture
def task_root(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = unpack(
        function_archive(runtime=THIS_RUNTIME, build_dir=tmp_path / "build"), tmp_path / "task"
    )
    yield root
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755)


def test_the_package_ships_hash_checked_bytecode_for_each_module(tmp_path: Path) -> None:
    archive = function_archive(runtime=THIS_RUNTIME, build_dir=tmp_path)
    modules = {path.stem for path in FUNCTION_SOURCE.glob("*.py")}
    tag = sys.implementation.cache_tag
    assert {f"__pycache__/{name}.{tag}.pyc" for name in modules} <= set(archive.assets)
    for name in modules:
        asset = archive.assets[f"__pycache__/{name}.{tag}.pyc"]
        assert isinstance(asset, pulumi.FileAsset)
        flags = int.from_bytes(Path(asset.path).read_bytes()[4:8], "little")
        assert flags == 0b11, "not a checked hash-based pyc (PEP 552)"


def test_the_shipped_bytecode_is_used_from_a_read_only_copy(task_root: Path) -> None:
    before = own_files(task_root)
    seen = import_handler(task_root)
    assert seen["compiled"] == [], f"compiled at import: {seen['compiled']}"
    assert str(seen["cached"]).endswith(f"__pycache__/handler.{sys.implementation.cache_tag}.pyc")
    assert own_files(task_root) == before, "the import wrote into the package"


def test_the_bytecode_does_not_depend_on_file_times(task_root: Path) -> None:
    later = time.time() + 86_400
    for path in task_root.glob("*.py"):
        os.utime(path, (later, later))
    assert import_handler(task_root)["compiled"] == []


def test_without_bytecode_every_module_is_compiled_at_import(tmp_path: Path) -> None:
    # The control: the same probe sees the compilation when only source is shipped.
    root = unpack(function_archive(), tmp_path / "source-only")
    try:
        compiled = import_handler(root)["compiled"]
        assert isinstance(compiled, list) and any(str(p).endswith("handler.py") for p in compiled)
    finally:
        for path in [root, *root.rglob("*")]:
            path.chmod(0o755)


def test_another_runtimes_package_is_source_only_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: warnings.append(message))
    archive = function_archive(runtime=OTHER_RUNTIME)
    assert all(name.endswith(".py") for name in archive.assets)
    assert function_bytecode(sorted(FUNCTION_SOURCE.glob("*.py")), OTHER_RUNTIME) is None
    assert warnings and OTHER_RUNTIME in warnings[0] and "source only" in warnings[0]
