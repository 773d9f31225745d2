"""The failure-destination message model: pointers, quarantined records, everything else."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from streamops.function_code import function_module
from streamops.redrive.failures import (
    BatchPointer,
    QuarantinePart,
    ReceivedMessage,
    UnknownMessage,
    group_quarantined,
    parse,
    parse_time,
)

quarantine = function_module("quarantine")
EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "shared" / "events"
RECORDED = EVENTS / (
    "localstack__localstack__test_lambda_integration_dynamodbstreams.snapshot__"
    "report_batch_item_failures_destination_queue_messages.json"
)
SEQUENCE = "49668041269432541846577543457862387349281563437853851650"[:40]
SHARD = "shardId-00000001700000000000-abcdef12"
STREAM = "arn:aws:dynamodb:eu-west-1:111111111111:table/orders/stream/2022-07-13T13:47:00.000"
RECORD: dict[str, Any] = {
    "eventID": "e1",
    "eventName": "INSERT",
    "eventSource": "aws:dynamodb",
    "dynamodb": {
        "Keys": {"PK": {"S": "USER#1"}, "SK": {"S": "PROFILE"}},
        "SequenceNumber": "200",
        "ApproximateCreationDateTime": 1657720081,
    },
    "eventSourceARN": STREAM,
}


def realistic(text: str) -> str:
    """The recorded message with its snapshot placeholders filled with real-looking values."""
    values = {
        "partition": "aws",
        "region": "eu-west-1",
        "resource:1": "orders",
        "resource:2": "2022-07-13T13:47:00.000",
        "resource:4": "orders-processor",
        "shard-id:1": SHARD,
        "sequence-number:6": SEQUENCE,
    }

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("timestamp:"):
            return name.removeprefix("timestamp:")
        if name.startswith("uuid:"):
            return f"00000000-0000-0000-0000-{int(name[5:]):012d}"
        return values.get(name, name)

    return re.sub(r"<([^<>]+)>", fill, text)


def message(body: Any, message_id: str = "m1") -> ReceivedMessage:
    return ReceivedMessage(message_id, body if isinstance(body, str) else json.dumps(body))


def recorded_body() -> dict[str, Any]:
    document = json.loads(realistic(RECORDED.read_text(encoding="utf-8-sig")))
    return document["Messages"][0]["Body"]


def test_the_recorded_aws_on_failure_message_is_a_pointer() -> None:
    parsed = parse(message(recorded_body()))
    assert parsed == BatchPointer(
        message_id="m1",
        stream_arn=STREAM,
        shard_id=SHARD,
        start_sequence=SEQUENCE,
        end_sequence=SEQUENCE,
        batch_size=1,
        first_arrival=dt.datetime(2022, 7, 13, 13, 48, 1, tzinfo=dt.UTC),
        last_arrival=dt.datetime(2022, 7, 13, 13, 48, 1, tzinfo=dt.UTC),
        condition="RetryAttemptsExhausted",
        invoke_count=4,
        function_error=None,
        timestamp=dt.datetime(2022, 7, 13, 13, 48, 1, tzinfo=dt.UTC),
    )
    assert parsed.expires_at() == dt.datetime(2022, 7, 14, 13, 48, 1, tzinfo=dt.UTC)


def test_the_recorded_message_with_its_placeholders_is_unknown_and_says_why() -> None:
    body = json.loads(RECORDED.read_text(encoding="utf-8-sig"))["Messages"][0]["Body"]
    parsed = parse(message(body))
    assert isinstance(parsed, UnknownMessage)
    assert "startSequenceNumber is not a sequence number ('<sequence-number:6>')" in parsed.reason
    assert "streamArn is not a DynamoDB stream ARN" in parsed.reason


def test_a_pointer_delivered_through_sns_without_raw_delivery_is_unwrapped() -> None:
    envelope = {"Type": "Notification", "MessageId": "x", "Message": json.dumps(recorded_body())}
    parsed = parse(message(envelope))
    assert isinstance(parsed, BatchPointer) and parsed.shard_id == SHARD


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"startSequenceNumber": "12", "endSequenceNumber": "11"},
            "start" + "SequenceNumber is after",
        ),
        ({"shardId": ""}, "shardId is missing"),
        ({"streamArn": "arn:aws:kinesis:eu-west-1:1:stream/x"}, "not a DynamoDB stream ARN"),
        ({"endSequenceNumber": 12}, "endSequenceNumber is not a sequence number (12)"),
    ],
)
def test_an_unusable_pointer_is_unknown_with_the_field_named(
    change: dict[str, Any], reason: str
) -> None:
    body = recorded_body()
    body["DDBStreamBatchInfo"].update(change)
    parsed = parse(message(body))
    assert isinstance(parsed, UnknownMessage) and reason in parsed.reason


def test_missing_optional_pointer_fields_are_none_not_errors() -> None:
    body = recorded_body()
    for name in ("approximateArrivalOfFirstRecord", "batchSize"):
        del body["DDBStreamBatchInfo"][name]
    del body["requestContext"]
    parsed = parse(message(body))
    assert isinstance(parsed, BatchPointer)
    assert (parsed.first_arrival, parsed.batch_size, parsed.expires_at()) == (None, None, None)
    assert parsed.condition == "unknown condition" and parsed.invoke_count is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("plain text", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"Records": []}', "top-level keys: Records"),
        ('{"DDBStreamBatchInfo": []}', "DDBStreamBatchInfo is not an object"),
    ],
)
def test_other_messages_are_unknown_with_the_reason(body: str, reason: str) -> None:
    parsed = parse(message(body))
    assert isinstance(parsed, UnknownMessage)
    assert reason in parsed.reason and parsed.preview == body[:120]


def test_a_quarantine_message_of_another_version_is_unknown() -> None:
    body = json.loads(quarantine.build_messages(RECORD, "bad", function_name="f")[0])
    body["version"] = 2
    parsed = parse(message(body))
    assert isinstance(parsed, UnknownMessage)
    assert "format version 2; this tool reads version 1" in parsed.reason


def parts_of(bodies: list[str], prefix: str = "m") -> list[QuarantinePart]:
    parsed = [parse(message(body, f"{prefix}{index}")) for index, body in enumerate(bodies)]
    assert all(isinstance(item, QuarantinePart) for item in parsed)
    return parsed  # type: ignore[return-value]


def noise(characters: int) -> str:
    """Text gzip cannot shrink much (hex of chained hashes), so a record needs parts."""
    chunks: list[str] = []
    seed = b"redrive"
    while sum(len(chunk) for chunk in chunks) < characters:
        seed = hashlib.sha256(seed).digest()
        chunks.append(seed.hex())
    return "".join(chunks)[:characters]


@pytest.mark.parametrize(
    ("text", "max_bytes", "encoding", "count"),
    [
        ("ü" * 300, 200 * 1024, "json", 1),
        ("x" * 300_000, 200 * 1024, "gzip+base64", 1),
        (noise(6000), 1500, "gzip+base64", 5),
    ],
)
def test_quarantined_records_are_reassembled_whole(
    text: str, max_bytes: int, encoding: str, count: int
) -> None:
    record = {**RECORD, "dynamodb": {**RECORD["dynamodb"], "NewImage": {"n": {"S": text}}}}
    bodies = quarantine.build_messages(record, "odd", function_name="f", max_bytes=max_bytes)
    assert len(bodies) >= count and json.loads(bodies[0])["encoding"] == encoding
    (group,) = group_quarantined(parts_of(list(reversed(bodies))))
    assert group.complete and group.record.record == record and group.record.reason == "odd"
    assert group.message_ids == [f"m{index}" for index in range(len(bodies))]


def test_copies_of_one_record_make_one_group_even_split_differently() -> None:
    record = {**RECORD, "dynamodb": {**RECORD["dynamodb"], "NewImage": {"n": {"S": noise(4000)}}}}
    whole = quarantine.build_messages(record, "odd", function_name="f")
    split = quarantine.build_messages(record, "odd", function_name="f", max_bytes=1600)
    assert len(whole) == 1 and len(split) > 1
    (group,) = group_quarantined(parts_of(split[1:] + whole, "a"))
    assert group.complete and group.record.record == record
    assert len(group.message_ids) == len(split)


def test_a_record_missing_parts_or_with_a_damaged_payload_is_not_complete() -> None:
    bodies = quarantine.build_messages(
        {**RECORD, "big": noise(5000)}, "odd", function_name="f", max_bytes=1500
    )
    (group,) = group_quarantined(parts_of(bodies[:-1]))
    assert not group.complete
    assert group.problem.startswith(f"{len(bodies) - 1} of {len(bodies)} parts received")

    damaged = [json.loads(body) for body in bodies]
    damaged[0]["record"] = "!!!" + damaged[0]["record"][3:]
    (group,) = group_quarantined(parts_of([json.dumps(body) for body in damaged]))
    assert not group.complete and "cannot be decoded" in group.problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-07-13T13:48:01Z", dt.datetime(2022, 7, 13, 13, 48, 1, tzinfo=dt.UTC)),
        ("2022-07-13T13:48:01.250Z", dt.datetime(2022, 7, 13, 13, 48, 1, 250000, tzinfo=dt.UTC)),
        ("2022-07-13T13:48:01", dt.datetime(2022, 7, 13, 13, 48, 1, tzinfo=dt.UTC)),
        ("yesterday", None),
        (None, None),
        (1657720081, None),
    ],
)
def test_times_are_read_as_aws_writes_them(text: Any, expected: dt.datetime | None) -> None:
    assert parse_time(text) == expected
