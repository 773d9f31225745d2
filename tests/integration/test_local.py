"""`make local`: the dev stack deployed into the emulator, the seed's sample written, the
real function run by the local mapping, the seed's lines and a summary that adds up; the
follow mode; and the two emulator gaps it depends on (stream kept, TTL deletions)."""

from __future__ import annotations

import io
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from streamops.demo.local import run_local
from streamops.emulator.server import Deployment, Emulator, new_account_id
from streamops.emulator.ttl import expire_items
from streamops.program import ROOT
from streamops.sample_data import SEED_TEST_LINE
from tests.support.stream_table import REGION, StreamTable

# The console script `make install` puts next to the interpreter (pyproject [project.scripts]).
STREAMOPS = str(Path(sys.executable).with_name("streamops"))

pytestmark = pytest.mark.integration


def stream_records(deployment: Deployment) -> list[dict[str, Any]]:
    streams = deployment.aws("dynamodbstreams")
    arn = deployment.outputs["streamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return list(streams.get_records(ShardIterator=iterator, Limit=1000)["Records"])


def test_make_local_processes_the_sample_and_prints_the_seed_lines_and_summary(
    emulator_only: Emulator,
) -> None:
    out = io.StringIO()
    run = run_local(emulator_only, "dev", out, account_id=new_account_id())
    text = out.getvalue()
    summary, deployment = run.summary, run.deployment

    # The seed's "Bài tập 4" lines, live on stdout ...
    assert SEED_TEST_LINE in text
    assert re.search(r"INFO +Successfully processed \d+ records", text)
    # ... and in the function's log group in the emulator, as CloudWatch would hold them.
    events = deployment.aws("logs").filter_log_events(
        logGroupName=deployment.outputs["logGroupName"]
    )["events"]
    assert any(SEED_TEST_LINE in event["message"] for event in events)

    truth = stream_records(deployment)
    by_event = Counter(record["eventName"] for record in truth)
    assert summary.records_by_event == by_event
    assert summary.drained and summary.unaccounted == 0
    assert summary.records_succeeded == len(truth)
    events_text = ", ".join(f"{name} {count}" for name, count in sorted(by_event.items()))
    assert f"records read         {len(truth)} ({events_text})" in text
    assert f"invocations          {summary.invocations} (success {summary.invocations})" in text
    assert "retries              0 (bisections 0" in text
    assert "iterator age         0 ms (drained" in text

    # The TTL expiry reached the function as one (service identity).
    assert summary.handler_metrics["TtlExpiries"] == 1
    # Every count is explained (they disagreed with no word of why: seen failing first):
    # the changes written + the TTL deletion = the records read; the mapping's "processed"
    # = the function's RecordsProcessed + the record it quarantined.
    written = int(re.search(r"== Writing (\d+) changes", text).group(1))  # type: ignore[union-attr]
    assert len(truth) == written + 1
    assert f"the stream holds {len(truth)} records for these {written} changes" in text
    assert (
        f"accounting           {len(truth)} records read = {written} changes written + "
        "1 TTL deletion(s)"
    ) in text
    processed = summary.handler_metrics["RecordsProcessed"]
    assert processed + summary.quarantined == summary.records_succeeded
    assert (
        f"{summary.records_succeeded} settled as processed by the mapping = {processed:g} the "
        f"function processed (RecordsProcessed) + {summary.quarantined} it quarantined"
    ) in text
    # The poison record reached the failure queue whole, and the summary says so.
    (message,) = run.destination
    poison = next(
        record
        for record in truth
        if record["dynamodb"]["Keys"]["PK"]["S"] == "PRODUCT#p3"
        and record["dynamodb"].get("NewImage", {}).get("price") == {"S": "free"}
    )
    assert message["kind"] == "quarantined-record"
    assert message["sequenceNumber"] == poison["dynamodb"]["SequenceNumber"]
    assert message["record"]["dynamodb"]["NewImage"] == poison["dynamodb"]["NewImage"]
    assert summary.quarantined == 1
    assert "quarantined record PRODUCT#p3#DETAILS: price is not a number" in text


def test_follow_processes_what_is_written_at_the_printed_endpoint_until_ctrl_c() -> None:
    """`make local FOLLOW=1` in a process of its own: an item written with plain boto3 at
    the printed endpoint is processed; Ctrl-C prints the session's summary and exits 0."""
    process = subprocess.Popen(
        [STREAMOPS, "local", "--follow"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read_lines() -> None:
        for line in process.stdout or []:
            lines.put(line)

    threading.Thread(target=read_lines, daemon=True).start()
    seen: list[str] = []

    def wait_for(pattern: str) -> re.Match[str]:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                continue
            found = re.search(pattern, seen[-1])
            if found:
                return found
        raise AssertionError(f"no {pattern!r} in output:\n{''.join(seen[-40:])}")

    try:
        endpoint = wait_for(r"aws --endpoint-url (\S+) dynamodb put-item").group(1)
        table = wait_for(r"--table-name (\S+) --item").group(1)
        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        item = {"PK": {"S": "USER#u9"}, "SK": {"S": "PROFILE"}, "status": {"S": "active"}}
        client.put_item(TableName=table, Item=item)
        wait_for(r"Processing INSERT for item: USER#u9#PROFILE")
        process.send_signal(signal.SIGINT)
        wait_for(r"== Summary \(whole session\)")
        if process.poll() is None:  # `uv run` passes Ctrl-C on: a second one, while stopping
            process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0, "".join(seen[-40:])
    finally:
        if process.poll() is None:
            process.kill()


def test_streamops_local_runs_as_the_first_command() -> None:
    """The `make local` command line, in a fresh process (as after `make install`)."""
    result = subprocess.run(
        [STREAMOPS, "local"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert SEED_TEST_LINE in result.stdout
    assert "== Summary" in result.stdout
    assert "iterator age         0 ms (drained" in result.stdout


def test_writes_keep_their_stream_records_when_a_mapping_is_deployed(
    fresh_deployment: Callable[..., Deployment],
) -> None:
    """moto would run the mapping's function itself (in Docker) and empty the stream."""
    deployment = fresh_deployment()
    dynamodb = deployment.aws("dynamodb")
    for index in range(3):
        item = {"PK": {"S": f"USER#{index}"}, "SK": {"S": "PROFILE"}}
        dynamodb.put_item(TableName=deployment.outputs["tableName"], Item=item)

    records = stream_records(deployment)

    assert [record["dynamodb"]["Keys"]["PK"]["S"] for record in records] == [
        "USER#0",
        "USER#1",
        "USER#2",
    ]
    assert len({record["dynamodb"]["SequenceNumber"] for record in records}) == 3
    group = deployment.outputs["logGroupName"]
    assert deployment.aws("logs").describe_log_streams(logGroupName=group)["logStreams"] == []


def test_the_emulated_ttl_process_deletes_expired_items_as_the_service(
    moto_endpoint: str,
) -> None:
    table = StreamTable.create(moto_endpoint)
    table.aws("dynamodb").update_time_to_live(
        TableName=table.name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )
    now = time.time()
    table.put("SESSION#expired", expires_at=int(now) - 1)
    table.put("SESSION#later", expires_at=int(now) + 3600)
    table.put("SESSION#ancient", expires_at=int(now) - 6 * 365 * 24 * 3600)  # AWS skips these
    table.put("SESSION#text", expires_at="yesterday")  # only an N value counts

    assert expire_items("123456789012", REGION, table.name, now) == 1

    removes = [record for record in table.ground_truth() if record["eventName"] == "REMOVE"]
    (expired,) = removes
    assert expired["dynamodb"]["Keys"]["PK"] == {"S": "SESSION#expired"}
    assert expired["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    assert expire_items("123456789012", REGION, table.name, now) == 0
