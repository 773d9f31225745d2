"""Benchmark: the cold start of the stream processor vs a Powertools BatchProcessor handler,
each in a real execution environment (a process running awslambdaric against the local
Runtime API, streamops.lambda_local.environment), from a READ-ONLY code directory.

Why read-only: Lambda unpacks the package into a read-only /var/task, so Python cannot
cache what it compiles there; whatever is not shipped as bytecode is compiled on every
cold start. Both contenders are therefore packaged the same way, with hash-checked
bytecode (PEP 552): ours by ``components.function.function_archive`` (what is deployed),
the Powertools one with ``aws_lambda_powertools``, ``jmespath`` and ``typing_extensions``
copied into its task root and compiled the same way (Powertools is not in the Lambda
runtime: it ships in the package or a layer).

Three contenders: ours, Powertools, and an empty handler (the floor: the interpreter and
awslambdaric starting, which is in every INIT and which no handler can cut). Measured in
ONE run, interleaved round by round, medians:
- INIT: from starting the environment's process to the runtime asking for its first
  event (what Lambda reports as Init Duration: runtime start + handler import);
- handler import: ``python -X importtime`` in the same directory, the cumulative time of
  the ``handler`` module once the runtime (``awslambdaric.bootstrap``) is loaded, as in
  Lambda, where the runtime imports the handler;
- the first (cold) invocation of a 10-record DynamoDB Streams batch, and the second (warm)
  one in the same environment.

Run: ``uv run streamops bench cold-start`` or ``uv run --frozen --no-sync python
bench/bench_cold_start.py [--rounds N] [--record]``. Writes build/bench/cold_start.json
(untracked); with ``--record``, ``bench/cold_start.json`` instead, the committed figures
(``init_ms.handler``: read by the planner as the INIT time billed per cold start).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components.function import function_archive  # noqa: E402
from streamops.lambda_local.environment import ExecutionEnvironment  # noqa: E402

# The committed figures the planner reads are only rewritten with --record.
RECORDED_RESULTS = ROOT / "bench" / "cold_start.json"
LOCAL_RESULTS = ROOT / "build" / "bench" / "cold_start.json"
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
POWERTOOLS_PACKAGES = ("aws_lambda_powertools", "jmespath", "typing_extensions.py")
FIGURES = ("import_ms", "init_ms", "first_invocation_ms", "warm_invocation_ms")

POWERTOOLS_HANDLER = """
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
logger = Logger(service="stream-processor")


def record_handler(record):
    logger.info("Processing %s", record.event_name)


def lambda_handler(event, context):
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
"""


def make_read_only(root: Path) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    root.chmod(0o555)


def make_writable(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755)


def ours(into: Path, build: Path) -> Path:
    archive = function_archive(runtime=RUNTIME, build_dir=build)
    for name, asset in archive.assets.items():
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(asset.path, target)  # type: ignore[union-attr]
    return into


def powertools(into: Path) -> Path:
    into.mkdir(parents=True)
    (into / "handler.py").write_text(POWERTOOLS_HANDLER)
    site = Path(str(__import__("aws_lambda_powertools").__file__)).resolve().parents[1]
    for name in POWERTOOLS_PACKAGES:
        source = site / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source, into / name)
    return compiled(into)


def empty(into: Path) -> Path:
    """The floor: a handler that imports nothing and does nothing. Its INIT is the
    runtime's own start (the interpreter and awslambdaric), in both other columns too."""
    into.mkdir(parents=True)
    (into / "handler.py").write_text("def lambda_handler(event, context):\n    return None\n")
    return compiled(into)


def compiled(root: Path) -> Path:
    """Bytecode for everything under ``root``, checked by hash as ours ships it (PEP 552)."""
    compileall.compile_dir(
        root, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH
    )
    return root


def event(records: int = 10) -> dict[str, object]:
    def record(index: int) -> dict[str, object]:
        keys = {"PK": {"S": f"USER#{index}"}, "SK": {"S": "PROFILE"}}
        return {
            "eventID": f"e{index}",
            "eventName": "INSERT",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
            "dynamodb": {
                "Keys": keys,
                "NewImage": {**keys, "name": {"S": f"user {index}"}},
                "SequenceNumber": str(1000 + index),
                "SizeBytes": 60,
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            },
        }

    return {"Records": [record(index) for index in range(records)]}


def cold_start(task_root: Path) -> tuple[float, float, float]:
    """(INIT ms, first invocation ms, second (warm) invocation ms) of a fresh environment."""
    variables = {
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": "WARN",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    }
    environment = ExecutionEnvironment(task_root, "handler.lambda_handler", variables)
    try:
        cold, warm = (
            environment.invoke(
                request_id=str(uuid.uuid4()),
                body=json.dumps(event()).encode(),
                function_arn="arn:aws:lambda:us-east-1:123456789012:function:bench",
                trace_id="Root=1-00000000-000000000000000000000000;Sampled=0",
                timeout_s=30,
            )
            for _ in range(2)
        )
    finally:
        environment.close()
    for run in (cold, warm):
        if run.kind != "done":
            raise RuntimeError(f"{task_root.name}: {run.kind} {run.error}")
    if cold.init_ms is None:
        raise RuntimeError(f"{task_root.name}: no INIT measured")
    return cold.init_ms, cold.duration_ms, warm.duration_ms


def import_ms(task_root: Path) -> float:
    done = subprocess.run(
        # The runtime (awslambdaric.bootstrap: logging, json, ...) is loaded before it
        # imports the handler, as in Lambda: only what the handler adds is its import.
        [sys.executable, "-X", "importtime", "-c", "import awslambdaric.bootstrap; import handler"],
        cwd=task_root,
        env={"PATH": os.environ.get("PATH", "/usr/bin")},
        capture_output=True,
        text=True,
        check=True,
    )
    for line in done.stderr.splitlines():
        parts = [part.strip() for part in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == "handler":
            return int(parts[1]) / 1000
    raise RuntimeError(f"no import time for handler in {task_root}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=LOCAL_RESULTS)
    parser.add_argument(
        "--record", action="store_true", help=f"write {RECORDED_RESULTS.relative_to(ROOT)}"
    )
    args = parser.parse_args(argv)
    if args.record:
        args.json = RECORDED_RESULTS
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        roots = {
            "handler": ours(work / "ours", work / "build"),
            "powertools": powertools(work / "powertools"),
            "empty": empty(work / "empty"),
        }
        for root in roots.values():
            make_read_only(root)
        figures: dict[str, dict[str, list[float]]] = {
            name: {key: [] for key in FIGURES} for name in roots
        }
        try:
            for _ in range(args.rounds):
                for name, root in roots.items():  # interleaved: like is compared with like
                    init, first, warm = cold_start(root)
                    figures[name]["init_ms"].append(init)
                    figures[name]["first_invocation_ms"].append(first)
                    figures[name]["warm_invocation_ms"].append(warm)
                    figures[name]["import_ms"].append(import_ms(root))
        finally:
            for root in roots.values():
                make_writable(root)
    medians = {
        name: {key: statistics.median(values) for key, values in measured.items()}
        for name, measured in figures.items()
    }
    print(f"Cold start from a read-only code directory, bytecode shipped ({args.rounds} rounds)")
    print(f"{'median':<22}{'handler':>12}{'powertools':>12}{'empty':>12}{'ratio':>9}")
    ratios, above_floor = {}, {}
    for key in FIGURES:
        ours_ms, theirs_ms = medians["handler"][key], medians["powertools"][key]
        floor_ms = medians["empty"][key]
        ratios[key] = ours_ms / theirs_ms
        print(
            f"{key:<22}{ours_ms:>10.1f}ms{theirs_ms:>10.1f}ms{floor_ms:>10.1f}ms{ratios[key]:>9.3f}"
        )
    # What each handler adds to the runtime's own start: the part a handler can cut.
    for key in ("import_ms", "init_ms"):
        floor_ms = medians["empty"][key]
        ours_ms, theirs_ms = medians["handler"][key], medians["powertools"][key]
        above_floor[key] = max(0.0, ours_ms - floor_ms) / max(1e-9, theirs_ms - floor_ms)
    added = {
        name: medians[name]["init_ms"] - medians["empty"]["init_ms"]
        for name in ("handler", "powertools")
    }
    print(
        f"INIT above the empty handler: {added['handler']:.1f} ms vs "
        f"{added['powertools']:.1f} ms, ratio {above_floor['init_ms']:.3f}"
    )
    results = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "rounds": args.rounds,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **{key: {name: medians[name][key] for name in medians} for key in ratios},
        "ratios": ratios,
        "ratios_above_empty_handler": above_floor,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
