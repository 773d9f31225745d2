"""Benchmark: the stream processor vs AWS Lambda Powertools' BatchProcessor vs a floor loop.

Why it exists: the function runs at 128 MB, where Lambda gives it a small CPU share and every
import is cold-start time; issue 3 sets targets relative to the usual library for this job.
Everything is measured in ONE run, interleaved, so the ratios compare like with like:

- throughput on one deterministic event of 10,000 records (INSERT/MODIFY/REMOVE, 10
  attributes with a nested map and a set; about 7.5 MB, see ``bench_event._item`` for why
  not 6), at the production log level (WARN: per-record lines off) and at INFO (per-record
  lines on, formatted by the Python runtime's own JSON formatter, awslambdaric's, written
  to a null sink; the same handler, formatter and sink for both contenders);
- the Powertools contender: ``BatchProcessor(event_type=EventType.DynamoDBStreams)`` +
  ``process_partial_response`` with a record handler doing the same routing, logging and
  change detection (the same once-per-batch level check, one EMF line). Both log the same
  lines, in the same order (checked before timing: ``same_text_at_info``); the function
  writes a record's lines as one entry, the Powertools record handler, as an idiomatic one
  does, each line with its own ``log.info``;
- the floor: a loop that only reads each record's keys;
- cold import time of ``handler`` vs ``aws_lambda_powertools.utilities.batch`` in fresh
  interpreters (median of several), from a bare interpreter and with the stdlib modules the
  Lambda Python runtime has already imported before it loads a handler;
- peak memory (tracemalloc) allocated while processing the event, vs the payload size.

Run: ``make bench`` (or ``uv run --frozen --no-sync python bench/bench_handler.py``).
Options: ``--rounds N``, ``--records N``, ``--import-runs N``, ``--json PATH`` (default
build/bench/results.json, untracked), ``--record``: write bench/results.json instead, the
committed, reviewed measurement capacity planning reads (``handler.us_per_record_*``); a
local run never changes it, so the README's worked plan keeps reproducing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from awslambdaric import bootstrap
from awslambdaric.lambda_runtime_log_utils import JsonFormatter

ROOT = Path(__file__).resolve().parent.parent
FUNCTION_DIR = ROOT / "functions" / "stream_processor"
# The committed measurement (read by streamops/planner/measure.py), rewritten only with
# --record; a plain run writes the untracked copy (build/ is gitignored).
RECORDED_RESULTS = ROOT / "bench" / "results.json"
LOCAL_RESULTS = ROOT / "build" / "bench" / "results.json"
sys.path.insert(0, str(FUNCTION_DIR))
sys.path.insert(0, str(ROOT / "bench"))  # its sibling modules, also when loaded by path

import handler  # noqa: E402  (the function package is its own code root)
from bench_event import generate_event  # noqa: E402
from settings import LOGGER_NAME  # noqa: E402

# --------------------------------------------------------------------------- contenders

log = logging.getLogger(LOGGER_NAME)


class NullSink(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


def configure_logging(level: int) -> None:
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    sink = logging.StreamHandler(NullSink())
    # The Python runtime's own formatter and filter (awslambdaric, JSON log format), as in
    # Lambda: the filter adds the invocation's request id, the formatter writes the line.
    bootstrap._GLOBAL_AWS_REQUEST_ID = "8f5e2a4c-bench"
    sink.setFormatter(JsonFormatter())
    sink.addFilter(bootstrap.LambdaLoggerFilter())
    root.addHandler(sink)
    root.setLevel(level)
    log.setLevel(logging.NOTSET)


def run_handler(event: dict[str, Any]) -> Any:
    with contextlib.redirect_stdout(NullSink()):  # the EMF line
        return handler.lambda_handler(event, None)


def make_powertools() -> Any:
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    state: dict[str, Any] = {}

    def record_handler(record: Any) -> None:
        # The same work as the default routes: entity from keys, the seed's lines, status
        # and price change detection on decoded values, counts for one EMF line.
        verbose = state["verbose"]
        counts = state["counts"]
        name = record["eventName"]
        ddb = record.dynamodb
        keys = ddb.keys
        pk, sk = keys.get("PK", ""), keys.get("SK", "")
        pk = pk if isinstance(pk, str) else ""
        sk = sk if isinstance(sk, str) else ""
        entity = (
            "order"
            if sk.startswith("ORDER#")
            else "user"
            if pk.startswith("USER#")
            else "product"
            if pk.startswith("PRODUCT#")
            else "other"
        )
        if verbose:
            log.info("Processing %s for item: %s#%s", name, pk, sk)
        if name == "INSERT":
            if verbose:
                log.info("Processing INSERT event")
                if entity == "user":
                    log.info("New user created - could send welcome email")
                elif entity == "product":
                    log.info("New product created - could update search index")
                elif entity == "order":
                    log.info("New order created - could trigger fulfillment")
        elif name == "MODIFY":
            if verbose:
                log.info("Processing MODIFY event")
            if ddb.get("OldImage") is not None and ddb.get("NewImage") is not None:
                old, new = ddb.old_image, ddb.new_image
                if old.get("status", "") != new.get("status", ""):
                    counts["StatusChanges"] += 1
                    if verbose:
                        log.info(
                            "Status changed from %s to %s",
                            old.get("status", ""),
                            new.get("status", ""),
                        )
                if old.get("price", 0) != new.get("price", 0):
                    counts["PriceChanges"] += 1
                    if verbose:
                        log.info(
                            "Price changed from %s to %s", old.get("price", 0), new.get("price", 0)
                        )
        elif name == "REMOVE":
            if verbose:
                log.info("Processing REMOVE event")
                if entity == "user":
                    log.info("User deleted - could cleanup user data")
                elif entity == "product":
                    log.info("Product deleted - could remove from search")
            identity = record.user_identity
            if identity.get("principalId") == "dynamodb.amazonaws.com":
                counts["TtlExpiries"] += 1
        counts[name] += 1

    def run(event: dict[str, Any]) -> Any:
        state["verbose"] = log.isEnabledFor(logging.INFO)
        state["counts"] = counts = dict.fromkeys(
            ("INSERT", "MODIFY", "REMOVE", "StatusChanges", "PriceChanges", "TtlExpiries"), 0
        )
        result = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=None
        )
        if state["verbose"]:
            log.info("Successfully processed %d records", len(event["Records"]))
        NullSink().write(json.dumps({"_aws": {"Timestamp": 0}, **counts}) + "\n")
        return result

    return run


def run_floor(event: dict[str, Any]) -> int:
    seen = 0
    for record in event["Records"]:
        keys = record["dynamodb"]["Keys"]
        if keys.get("PK", {}).get("S", "") or keys.get("SK", {}).get("S", ""):
            seen += 1
    return seen


# --------------------------------------------------------------------------- measuring


class CapturingHandler(logging.Handler):
    """Keeps the messages of the function's logger (both contenders log through it)."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == LOGGER_NAME:
            self.messages.append(record.getMessage())


def logged_messages(fn: Any, event: dict[str, Any]) -> list[str]:
    """The INFO entries one run writes, as the messages the formatter would print."""
    configure_logging(logging.INFO)
    capture = CapturingHandler()
    logging.getLogger().addHandler(capture)
    try:
        fn(event)
    finally:
        logging.getLogger().removeHandler(capture)
    return capture.messages


def same_text_at_info(
    run_handler_fn: Any, powertools: Any, event: dict[str, Any]
) -> dict[str, int]:
    """Check that both contenders log the same lines, in the same order, and count entries.

    The handler writes a record's lines as one entry (joined with newlines); the Powertools
    record handler, like any idiomatic one, logs each line with its own ``log.info``. The
    work compared is the same text; only the number of entries differs, by design."""
    ours = logged_messages(run_handler_fn, event)
    theirs = logged_messages(powertools, event)
    our_lines = [line for message in ours for line in message.split("\n")]
    assert our_lines == theirs, "the contenders do not log the same lines"
    return {"handler": len(ours), "powertools": len(theirs), "lines": len(theirs)}


def time_rounds(contenders: dict[str, Any], event: dict[str, Any], rounds: int) -> dict[str, float]:
    """Median seconds per batch for each contender, run interleaved round by round."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for fn, level in contenders.values():  # warm-up
        configure_logging(level)
        fn(event)
    for _ in range(rounds):
        for name, (fn, level) in contenders.items():
            configure_logging(level)
            start = time.perf_counter()
            fn(event)
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


IMPORT_SNIPPET = """
import sys, time
sys.path.insert(0, {path!r})
{preload}
start = time.perf_counter()
import {module}
print(time.perf_counter() - start)
"""
# What the Lambda Python runtime (awslambdaric bootstrap, its JSON log formatter and
# marshaller) has imported before it imports a handler module.
LAMBDA_PRELOAD = "import json, logging, decimal, datetime, traceback, enum, math, os"
POWERTOOLS_BATCH = "aws_lambda_powertools.utilities.batch"


def import_seconds(module: str, preload: str, env: dict[str, str]) -> float:
    """Seconds to import ``module`` in a fresh interpreter."""
    code = IMPORT_SNIPPET.format(path=str(FUNCTION_DIR), preload=preload, module=module)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    return float(out.strip())


def import_times(runs: int) -> dict[str, tuple[float, float]]:
    """Median import seconds (handler, powertools batch) per scenario, interleaved.

    - ``bytecode``: .pyc files cached (PYTHONPYCACHEPREFIX in a temp dir, written by a
      warm-up run): a deployment package or layer that ships compiled bytecode;
    - ``source``: the handler's and Powertools' modules compiled at import (no .pyc), the
      standard library's installed .pyc used: a package of .py files only (Lambda's code
      directory is read-only, so nothing compiled is kept between cold starts);
    each from a bare interpreter and with the Lambda runtime's own imports preloaded.
    """
    import os
    import tempfile

    results: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as cached:
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        envs = {
            "bytecode": {**base, "PYTHONPYCACHEPREFIX": cached},
            # The standard library keeps its installed .pyc; this project's modules and the
            # venv's packages (uv installs without compiling) have none.
            "source": {**base, "PYTHONDONTWRITEBYTECODE": "1"},
        }
        for module in ("handler", POWERTOOLS_BATCH):  # write the bytecode cache
            import_seconds(module, LAMBDA_PRELOAD, envs["bytecode"])
        for mode, env in envs.items():
            for label, preload in (("bare", ""), ("lambda-preloaded", LAMBDA_PRELOAD)):
                ours, theirs = [], []
                for _ in range(runs):
                    ours.append(import_seconds("handler", preload, env))
                    theirs.append(import_seconds(POWERTOOLS_BATCH, preload, env))
                results[f"{mode}, {label}"] = (statistics.median(ours), statistics.median(theirs))
    return results


def peak_memory(fn: Any, event: dict[str, Any]) -> int:
    configure_logging(logging.WARNING)
    tracemalloc.start()
    try:
        fn(event)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--import-runs", type=int, default=9)
    parser.add_argument("--json", type=Path, default=LOCAL_RESULTS)
    parser.add_argument(
        "--record", action="store_true", help=f"write {RECORDED_RESULTS.relative_to(ROOT)}"
    )
    args = parser.parse_args()
    if args.record:
        args.json = RECORDED_RESULTS

    event = generate_event(args.records)
    payload = json.dumps(event, separators=(",", ":")).encode()
    tracemalloc.start()
    parsed = json.loads(payload)
    parsed_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del parsed
    n = len(event["Records"])
    mix = {
        name: sum(r["eventName"] == name for r in event["Records"])
        for name in ("INSERT", "MODIFY", "REMOVE")
    }
    print(f"event: {n} records, {len(payload) / 1e6:.2f} MB as JSON, mix {mix}")
    print(
        f"python {platform.python_version()} on {platform.machine()}, {args.rounds} rounds, medians"
    )

    powertools = make_powertools()
    sanity = (run_handler(event), powertools(event))
    assert sanity[0] == {"batchItemFailures": []}, sanity[0]
    assert sanity[1] == {"batchItemFailures": []}, sanity[1]
    entries = same_text_at_info(run_handler, powertools, event)
    print(
        f"INFO: both log the same {entries['lines']:,} lines; entries per record: handler "
        f"{entries['handler'] / n:.2f}, powertools {entries['powertools'] / n:.2f}"
    )

    contenders = {
        "handler@WARN": (run_handler, logging.WARNING),
        "powertools@WARN": (powertools, logging.WARNING),
        "handler@INFO": (run_handler, logging.INFO),
        "powertools@INFO": (powertools, logging.INFO),
        "floor": (run_floor, logging.WARNING),
    }
    seconds = time_rounds(contenders, event, args.rounds)
    rate = {name: n / s for name, s in seconds.items()}
    print("\nthroughput (records/s, higher is better)")
    for name, value in rate.items():
        print(f"  {name:<18} {value:>12,.0f}  ({seconds[name] * 1e3:8.1f} ms per batch)")

    ratio_warn = rate["handler@WARN"] / rate["powertools@WARN"]
    ratio_info = rate["handler@INFO"] / rate["powertools@INFO"]
    floor_share = rate["handler@WARN"] / rate["floor"]

    cold = import_times(args.import_runs)

    peak_handler = peak_memory(run_handler, event)
    peak_powertools = peak_memory(powertools, event)

    print("\nimport time (fresh interpreter, median)")
    for label, (ours, theirs) in cold.items():
        print(
            f"  {label:<27} handler {ours * 1e3:7.2f} ms   powertools batch {theirs * 1e3:7.2f} ms"
            f"   ratio {ours / theirs:.3f}"
        )
    print("\npeak memory allocated while processing (tracemalloc)")
    print(
        f"  handler     {peak_handler / 1e6:8.3f} MB = {peak_handler / len(payload):.3f}x payload"
    )
    print(
        f"  powertools  {peak_powertools / 1e6:8.3f} MB"
        f" = {peak_powertools / len(payload):.3f}x payload"
    )
    print(
        f"  (the parsed event itself, built by the runtime before the handler runs: "
        f"{parsed_bytes / 1e6:.1f} MB = {parsed_bytes / len(payload):.1f}x payload)"
    )

    us_warn = seconds["handler@WARN"] / n * 1e6
    us_info = seconds["handler@INFO"] / n * 1e6
    print("\nRATIOS (targets in brackets)")
    print(f"  handler / powertools records/s at WARN   {ratio_warn:6.1f}x   [>= 10x]")
    print(f"  handler / powertools records/s at INFO   {ratio_info:6.1f}x   [>= 3x]")
    print(f"  handler / floor records/s at WARN        {floor_share:6.3f}")
    for label, (ours, theirs) in cold.items():
        print(f"  import time handler / powertools {label:<27} {ours / theirs:6.3f}   [<= 0.1]")
    print(f"  peak memory / payload                    {peak_handler / len(payload):6.3f}   [< 3]")
    print(f"\nhandler cost per record: {us_warn:.2f} us at WARN, {us_info:.2f} us at INFO")

    results = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "records": n,
        "payload_bytes": len(payload),
        "rounds": args.rounds,
        "records_per_second": rate,
        "ratios": {
            "handler_vs_powertools_warn": ratio_warn,
            "handler_vs_powertools_info": ratio_info,
            "handler_vs_floor_warn": floor_share,
            **{f"import ({label})": ours / theirs for label, (ours, theirs) in cold.items()},
            "peak_memory_vs_payload": peak_handler / len(payload),
        },
        "import_seconds": {
            label: {"handler": o, "powertools": t} for label, (o, t) in cold.items()
        },
        "peak_memory_bytes": {"handler": peak_handler, "powertools": peak_powertools},
        "parsed_event_bytes": parsed_bytes,
        "handler": {"us_per_record_warn": us_warn, "us_per_record_info": us_info},
        "info_log": {
            "lines": entries["lines"],
            "entries": {"handler": entries["handler"], "powertools": entries["powertools"]},
        },
        "note": "measured on the build machine's CPU; Lambda at 128 MB gets a fraction of a "
        "vCPU, so scale the absolute figures, not the ratios",
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(
            f"wrote {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
