"""Lower bounds for the WARN throughput target: how fast could ANY CPython handler be?

Why it exists: issue 3 asks for 10x Powertools' records/s at WARN. This measures, on the
benchmark's own event and interleaved with the handler and Powertools, loops that do a
strict subset of the handler's work, written flat with nothing to spare:

- ``floor``: bench_handler's floor (reads each record's ``Keys.PK.S``);
- ``reads``: every read the default work needs and nothing else: ``eventName``,
  ``SequenceNumber``, ``Keys.PK.S``, ``Keys.SK.S``, and for a MODIFY both images'
  ``status`` and ``price`` (compared raw, never decoded);
- ``inline``: ``reads`` plus the checks and decoding the handler must do (exact envelope
  type checks, exact decoding of status/price when the raw values differ, TTL), hand-inlined
  into one function: no ``Change``, no routes, no registry;
- ``handler`` and ``powertools`` as in bench_handler (WARN).

Each is run on the 10,000-record event (about 56 MB of Python objects: every read is a
cache miss) and on a 300-record event (about 1.7 MB: in cache), so the difference is the
cost of memory, which no code can avoid for the objects it must read.

Run: ``uv run --frozen --no-sync python bench/bench_bounds.py`` (``--rounds N``).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from typing import Any

import bench_handler as bench
from records import decode, is_ttl_identity


def run_reads(event: dict[str, Any]) -> int:
    touched = 0
    for record in event["Records"]:
        ddb = record["dynamodb"]
        name = record["eventName"]
        keys = ddb["Keys"]
        sequence_number = ddb["SequenceNumber"]
        pk = keys["PK"]["S"]
        sk = keys["SK"]["S"]
        touched += len(name) + len(sequence_number) + len(pk) + len(sk)
        if name == "MODIFY":
            old, new = ddb["OldImage"], ddb["NewImage"]
            touched += old.get("status") == new.get("status")
            touched += old.get("price") == new.get("price")
    return touched


def run_inline(event: dict[str, Any]) -> int:
    # Deliberately the same checks as handler._process, written again: this loop measures
    # what they cost without the handler's structure (Change objects, routes, registry).
    modified = removed = inserted = ttl = status = price = 0
    for record in event["Records"]:
        ddb = record["dynamodb"]
        name = record["eventName"]
        keys = ddb["Keys"]
        sequence_number = ddb["SequenceNumber"]
        pk_value, sk_value = keys["PK"], keys["SK"]
        pk, sk = pk_value["S"], sk_value["S"]
        if (
            type(pk) is not str
            or type(sk) is not str
            or type(sequence_number) is not str
            or not sequence_number
            or type(record) is not dict
            or type(ddb) is not dict
            or type(keys) is not dict
            or type(pk_value) is not dict
            or type(sk_value) is not dict
        ):
            raise ValueError("bad envelope")
        if name == "MODIFY":
            old, new = ddb.get("OldImage"), ddb.get("NewImage")
            if type(old) is dict and type(new) is dict:
                before, after = old.get("status"), new.get("status")
                if before != after and decode(before) != decode(after):
                    status += 1
                before, after = old.get("price"), new.get("price")
                if before != after and decode(before) != decode(after):
                    price += 1
            modified += 1
        elif name == "INSERT":
            inserted += 1
        elif name == "REMOVE":
            removed += 1
            identity = record.get("userIdentity")
            if identity is not None and is_ttl_identity(identity):
                ttl += 1
        else:
            raise ValueError("unknown event")
    return modified + removed + inserted + ttl + status + price


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    powertools = bench.make_powertools()
    contenders = {
        "floor": bench.run_floor,
        "reads": run_reads,
        "inline": run_inline,
        "handler": bench.run_handler,
        "powertools": powertools,
    }
    bench.configure_logging(logging.WARNING)
    print(f"us per record, median of {args.rounds} interleaved rounds (WARN)")
    print(f"  {'':<12}{'10,000 records':>16}{'300 (in cache)':>16}{'powertools / x':>16}")
    results: dict[int, dict[str, float]] = {}
    for records in (10_000, 300):
        event = bench.generate_event(records)
        rounds = args.rounds if records > 1000 else args.rounds * 20
        samples: dict[str, list[float]] = {name: [] for name in contenders}
        for fn in contenders.values():
            fn(event)
        for _ in range(rounds):
            for name, fn in contenders.items():
                start = time.perf_counter()
                fn(event)
                samples[name].append((time.perf_counter() - start) / records * 1e6)
        results[records] = {name: statistics.median(v) for name, v in samples.items()}
    big, small = results[10_000], results[300]
    for name in contenders:
        print(
            f"  {name:<12}{big[name]:>16.3f}{small[name]:>16.3f}"
            f"{big['powertools'] / big[name]:>15.1f}x"
        )
    print(
        f"\n10x Powertools needs <= {big['powertools'] / 10:.3f} us per record; the reads alone"
        f" cost {big['reads']:.3f} us, of which {big['reads'] - small['reads']:.3f} us is"
        f" waiting for memory ({(big['reads'] - small['reads']) / big['reads']:.0%})."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
