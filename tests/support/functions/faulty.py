"""A handler with injected faults, for proving the runner loses nothing
(tests/integration/test_runner_nothing_lost.py), run by awslambdaric in execution
environments.

It behaves like the real function where that matters: records in order, and on a record
it cannot process it stops and reports that record (batchItemFailures); a poison record it
recognises is quarantined (sent whole to the failure queue) and skipped. Faults are set
per sequence number in the scenario (``faults``: sequence number -> [kind, times]):

- `error`: raise on the first `times` deliveries (after processing the records before it);
- `partial`: report the record as failed on the first `times` deliveries;
- `timeout`: run past the function timeout on the first `times` deliveries (the
  environment is stopped and replaced, as Lambda does);
- `quarantine`: a poison record the handler recognises: quarantined on every delivery;
- `fail`: a poison record it does not recognise: reported failed on every delivery;
- `raise`: a poison record that makes the handler raise on every delivery.

Deliveries are counted across environments from the journal (``delivered`` entries), so
a fault's `times` holds when a timeout replaced the process. What it saw goes to the
journal: ``invoked`` first, then ``delivered`` and ``processed`` per record. Every
invocation takes INVOCATION_SECONDS on the mapping's clock, a timed-out one the whole
timeout more.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tests.support.functions.sqs_sender import send_message
from tests.support.functions.state_files import (
    advance_clock,
    append,
    read_journal,
    read_scenario,
    state_dir,
)

TRANSIENT = ("error", "partial", "timeout")
POISON = ("quarantine", "fail", "raise")
KINDS = TRANSIENT + POISON
QUARANTINE_KIND = "quarantined-record"
INVOCATION_SECONDS = 0.1


@dataclass(frozen=True)
class Fault:
    kind: str
    times: int = 1  # deliveries that fail, for transient kinds


class InjectedError(RuntimeError):
    pass


def emf_line(quarantined: int) -> str:
    directive = {
        "Namespace": "Test",
        "Dimensions": [["FunctionName"]],
        "Metrics": [{"Name": "RecordsQuarantined", "Unit": "Count"}],
    }
    document = {
        "_aws": {"Timestamp": 0, "CloudWatchMetrics": [directive]},
        "FunctionName": "test",
        "RecordsQuarantined": quarantined,
    }
    return json.dumps(document)


# Deliveries seen so far (this environment's view of the journal) and where it stopped.
_deliveries: Counter[str] = Counter()
_journal_offset = 0


def _count_deliveries() -> Counter[str]:
    global _journal_offset
    entries, _journal_offset = read_journal(state_dir(), _journal_offset)
    _deliveries.update(entry["sequence"] for entry in entries if entry["event"] == "delivered")
    return _deliveries


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    directory = state_dir()
    scenario = read_scenario(directory)
    faults = {sequence: Fault(*fault) for sequence, fault in scenario["faults"].items()}
    deliveries = _count_deliveries()
    numbers = [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]
    append(directory, {"event": "invoked", "sequence_numbers": numbers, "pid": os.getpid()})
    # The records' entries go in one write when the invocation ends, or before it runs
    # past its timeout.
    seen: list[dict[str, Any]] = []
    advance_clock(directory, INVOCATION_SECONDS)
    quarantined = 0
    try:
        for record, sequence in zip(event["Records"], numbers, strict=True):
            seen.append({"event": "delivered", "sequence": sequence})
            deliveries[sequence] += 1
            fault = faults.get(sequence)
            kind = fault.kind if fault else None
            if fault and kind in TRANSIENT and deliveries[sequence] <= fault.times:
                kind = f"transient-{kind}"
            if kind in ("transient-error", "raise"):
                raise InjectedError(f"injected failure on {sequence}")
            if kind == "transient-timeout":
                # The whole timeout passes on the mapping's clock, then the runtime stops
                # this process while it sleeps: whatever it returns would be too late.
                advance_clock(directory, scenario["timeout_seconds"])
                append(directory, *seen)
                seen = []
                print(emf_line(quarantined))
                quarantined = 0
                time.sleep(context.get_remaining_time_in_millis() / 1000 + 5)
                return {"batchItemFailures": []}
            if kind in ("transient-partial", "fail"):
                return {"batchItemFailures": [{"itemIdentifier": sequence}]}
            if kind == "quarantine":
                body = {"kind": QUARANTINE_KIND, "sequenceNumber": sequence, "record": record}
                send_message(scenario["queue_url"], json.dumps(body))
                quarantined += 1
                continue
            seen.append({"event": "processed", "sequence": sequence})
        return {"batchItemFailures": []}
    finally:
        append(directory, *seen)
        print(emf_line(quarantined))
