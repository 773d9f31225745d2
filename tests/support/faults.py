"""A handler with injected faults, for proving the runner loses nothing.

It behaves like the real function where that matters: records in order, and on a record
it cannot process it stops and reports that record (batchItemFailures); a poison record it
recognises is quarantined (sent whole to the failure destination) and skipped. Faults are
set per sequence number:

- `error`: raise on the first `times` deliveries (after processing the records before it);
- `partial`: report the record as failed on the first `times` deliveries;
- `timeout`: run past the function timeout on the first `times` deliveries;
- `quarantine`: a poison record the handler recognises: quarantined on every delivery;
- `fail`: a poison record it does not recognise: reported failed on every delivery;
- `raise`: a poison record that makes the handler raise on every delivery.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from streamops.clock import ManualClock

TRANSIENT = ("error", "partial", "timeout")
POISON = ("quarantine", "fail", "raise")
KINDS = TRANSIENT + POISON
QUARANTINE_KIND = "quarantined-record"


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


class FaultyHandler:
    def __init__(
        self,
        faults: dict[str, Fault],
        clock: ManualClock,
        *,
        timeout_seconds: int,
        sqs: Any,
        queue_url: str,
        invocation_seconds: float = 0.1,
    ):
        self.faults, self.clock = faults, clock
        self.timeout_seconds = timeout_seconds
        self.sqs, self.queue_url = sqs, queue_url
        self.invocation_seconds = invocation_seconds
        self.processed: list[str] = []  # sequence numbers, in the order processed
        self.deliveries: Counter[str] = Counter()
        self.invocations = 0

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.invocations += 1
        self.clock.advance(self.invocation_seconds)
        quarantined = 0
        try:
            for record in event["Records"]:
                sequence = record["dynamodb"]["SequenceNumber"]
                self.deliveries[sequence] += 1
                fault = self.faults.get(sequence)
                kind = fault.kind if fault else None
                if fault and kind in TRANSIENT and self.deliveries[sequence] <= fault.times:
                    kind = f"transient-{kind}"
                if kind in ("transient-error", "raise"):
                    raise InjectedError(f"injected failure on {sequence}")
                if kind == "transient-timeout":
                    self.clock.advance(self.timeout_seconds + 1)
                    return {"batchItemFailures": []}  # discarded: it ran past the timeout
                if kind in ("transient-partial", "fail"):
                    return {"batchItemFailures": [{"itemIdentifier": sequence}]}
                if kind == "quarantine":
                    body = {"kind": QUARANTINE_KIND, "sequenceNumber": sequence, "record": record}
                    self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(body))
                    quarantined += 1
                    continue
                self.processed.append(sequence)
            return {"batchItemFailures": []}
        finally:
            print(emf_line(quarantined))
