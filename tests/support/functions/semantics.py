"""Handlers for the mapping's semantics tests (tests/integration/test_runner_semantics.py),
one per behaviour, run by awslambdaric in execution environments. Each one first appends
what it was given to the journal (``invoked``: the batch's sequence numbers, the request
id, the remaining time the runtime's context reports, this process's id), then behaves.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from tests.support.functions.state_files import (
    advance_clock,
    append,
    read_journal,
    read_scenario,
    state_dir,
)

NO_FAILURES: dict[str, Any] = {"batchItemFailures": []}


def sequence_numbers(event: dict[str, Any]) -> list[str]:
    return [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]


def journal_invocation(event: dict[str, Any], context: Any) -> int:
    """Record this invocation; return how many came before it (in any environment)."""
    directory = state_dir()
    entries, _ = read_journal(directory)
    invoked = {
        "event": "invoked",
        "sequence_numbers": sequence_numbers(event),
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "pid": os.getpid(),
    }
    append(directory, invoked)
    return sum(entry["event"] == "invoked" for entry in entries)


def succeed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    journal_invocation(event, context)
    return NO_FAILURES


def report_two_failures_once(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The first batch reports its 7th and 4th records failed, in that order (the lowest
    must win); later batches succeed."""
    if journal_invocation(event, context) == 0:
        numbers = sequence_numbers(event)
        failed = [numbers[6], numbers[3]]
        return {"batchItemFailures": [{"itemIdentifier": number} for number in failed]}
    return NO_FAILURES


def raise_once(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if journal_invocation(event, context) == 0:
        raise RuntimeError("downstream unavailable")
    return NO_FAILURES


def raise_on_poison(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Raises whenever the batch holds the scenario's ``poison`` sequence number."""
    journal_invocation(event, context)
    poison = read_scenario(state_dir())["poison"]
    if poison in sequence_numbers(event):
        raise ValueError(f"cannot process {poison}")
    return NO_FAILURES


def report_records_that_should_fail(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The handler of the recorded AWS run: a record whose ``should_fail`` is true is
    reported failed."""
    journal_invocation(event, context)
    failed = [
        {"itemIdentifier": record["dynamodb"]["SequenceNumber"]}
        for record in event["Records"]
        if record["dynamodb"]["NewImage"]["should_fail"]["BOOL"]
    ]
    return {"batchItemFailures": failed}


def fail_slowly(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Each attempt takes 25 s on the mapping's clock (within the 30 s timeout), then
    raises."""
    journal_invocation(event, context)
    advance_clock(state_dir(), 25)
    raise RuntimeError("still failing")


def respond(event: dict[str, Any], context: Any) -> Any:
    """Returns the scenario's ``responses`` in turn (the last one from then on); the text
    ``FIRST`` in a response stands for the batch's first sequence number."""
    index = journal_invocation(event, context)
    responses = read_scenario(state_dir())["responses"]
    response = json.dumps(responses[min(index, len(responses) - 1)])
    return json.loads(response.replace('"FIRST"', json.dumps(sequence_numbers(event)[0])))


def time_out_once(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The first invocation runs past the function timeout (its success response, were it
    ever sent, comes too late); later ones succeed."""
    if journal_invocation(event, context) == 0:
        time.sleep(context.get_remaining_time_in_millis() / 1000 + 5)
    return NO_FAILURES


def log_each_record(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One INFO line per record through ``logging``, with an extra field."""
    journal_invocation(event, context)
    for record in event["Records"]:
        logging.getLogger("stream_processor").info(
            "Processing %s", record["eventName"], extra={"sequenceNumber": "x"}
        )
    return NO_FAILURES
