"""Quarantine messages: format, oversize strategy, reassembly, and real sends (moto)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
import quarantine
from function_helpers import FakeSender, stream_record
from hypothesis import given
from hypothesis import strategies as st
from settings import Settings


def big_record(size: int, *, compressible: bool) -> dict[str, Any]:
    rng = random.Random(size)
    if compressible:
        text = "status=active;" * (size // 14)
    else:
        text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(size))
    image = {"PK": {"S": "USER#1"}, "blob": {"S": text}}
    return stream_record("MODIFY", keys={"PK": {"S": "USER#1"}}, old=image, new=image, seq="77")


def test_small_record_is_one_plain_json_message() -> None:
    record = stream_record("INSERT", new={"name": {"S": "Nguyễn 🌏"}})
    (body,) = quarantine.build_messages(record, "unknown eventName", function_name="fn", now=0)
    assert body.isascii()
    message = json.loads(body)
    assert message["kind"] == "quarantined-record"
    assert message["version"] == 1
    assert message["encoding"] == "json"
    assert message["part"] == {"index": 1, "count": 1}
    assert message["record"] == record
    assert message["reason"] == "unknown eventName"
    assert message["eventID"] == record["eventID"]
    assert message["sequenceNumber"] == "100"
    assert message["eventSourceARN"] == record["eventSourceARN"]
    assert message["eventName"] == "INSERT"
    assert message["functionName"] == "fn"
    assert message["time"] == "1970-01-01T00:00:00.000Z"
    assert len(message["id"]) == 32


def test_id_is_stable_for_the_same_record() -> None:
    record = stream_record()
    first = json.loads(quarantine.build_messages(record, "a", function_name="f", now=1)[0])
    again = json.loads(quarantine.build_messages(dict(record), "b", function_name="g", now=2)[0])
    assert first["id"] == again["id"]
    other = json.loads(quarantine.build_messages(stream_record(seq="9"), "a", function_name="f")[0])
    assert other["id"] != first["id"]


def test_large_compressible_record_is_gzipped_into_one_message() -> None:
    record = big_record(600_000, compressible=True)  # both images of a ~300 KB item
    bodies = quarantine.build_messages(record, "r", function_name="fn")
    assert len(bodies) == 1
    assert len(bodies[0]) <= quarantine.MAX_MESSAGE_BYTES
    assert json.loads(bodies[0])["encoding"] == "gzip+base64"
    (parsed,), incomplete = quarantine.reassemble(bodies)
    assert parsed.record == record and incomplete == {}


def test_large_incompressible_record_is_split_and_reassembled() -> None:
    record = big_record(400_000, compressible=False)  # two 400 KB images, random text
    bodies = quarantine.build_messages(record, "r", function_name="fn")
    assert len(bodies) >= 3
    assert all(len(b) <= quarantine.MAX_MESSAGE_BYTES and b.isascii() for b in bodies)
    heads = [json.loads(b) for b in bodies]
    assert {h["id"] for h in heads} == {heads[0]["id"]}
    assert [h["part"]["index"] for h in heads] == list(range(1, len(bodies) + 1))
    assert {h["part"]["count"] for h in heads} == {len(bodies)}
    assert all(h["sequenceNumber"] == "77" for h in heads)
    shuffled = bodies[::-1] + bodies[:1]  # any order, with a duplicate
    (parsed,), incomplete = quarantine.reassemble(shuffled)
    assert parsed.record == record and incomplete == {}


def test_missing_part_is_reported_incomplete() -> None:
    bodies = quarantine.build_messages(
        big_record(300_000, compressible=False), "r", function_name="f"
    )
    records, incomplete = quarantine.reassemble(bodies[1:])
    assert records == []
    ((_, (have, want)),) = incomplete.items()
    assert (have, want) == (len(bodies) - 1, len(bodies))


def test_budget_works_for_small_limits() -> None:
    record = big_record(50_000, compressible=False)
    bodies = quarantine.build_messages(record, "r", function_name="f", max_bytes=4096)
    assert all(len(b) <= 4096 for b in bodies)
    assert quarantine.reassemble(bodies)[0][0].record == record


def test_reassemble_unwraps_sns_envelopes_and_rejects_foreign_messages() -> None:
    (body,) = quarantine.build_messages(stream_record(), "r", function_name="f")
    envelope = json.dumps({"Type": "Notification", "Message": body, "TopicArn": "arn:x"})
    assert quarantine.reassemble([envelope])[0][0].reason == "r"
    with pytest.raises(quarantine.QuarantineFormatError):
        quarantine.reassemble([json.dumps({"requestContext": {}, "DDBStreamBatchInfo": {}})])
    future = json.loads(body) | {"version": 2}
    with pytest.raises(quarantine.QuarantineFormatError, match="unsupported"):
        quarantine.reassemble([future])


# -- SNS notification envelope: a queue subscribed to the topic without raw delivery gets
# each body JSON-escaped (every '"' and '\\' doubled) inside SNS's notification JSON.

SQS_DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024


def sns_notification(body: str) -> str:
    """The SQS body SNS delivers for ``body`` without raw delivery, its fields at their
    longest: a 256-character topic name, a subscription ARN in the unsubscribe URL, a
    4096-bit signature, a FIFO sequence number; laid out as SNS does (indented, " : ")."""
    topic = "arn:aws:sns:ap-southeast-2:123456789012:" + "t" * 251 + ".fifo"
    subscription = topic + ":c9135db0-26c4-47ec-8998-413945fb5a96"
    envelope = {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "SequenceNumber": "10000000000000012345",
        "TopicArn": topic,
        "Message": body,
        "Timestamp": "2025-08-11T16:30:01.123Z",
        "SignatureVersion": "2",
        "Signature": "A" * 684,
        "SigningCertURL": "https://sns.ap-southeast-2.amazonaws.com/"
        "SimpleNotificationService-" + "0" * 32 + ".pem",
        "UnsubscribeURL": "https://sns.ap-southeast-2.amazonaws.com/"
        "?Action=Unsubscribe&SubscriptionArn=" + subscription,
    }
    return json.dumps(envelope, indent=2, separators=(",", " : "))


def quote_heavy_record(chars: int) -> dict[str, Any]:
    # '"' and '\\' are escaped once in the body and once more in the notification: the
    # reviewer's inline body of 199,277 bytes became a 311,388-byte notification.
    image = {"PK": {"S": "USER#1"}, "note": {"S": '"\\' * (chars // 2)}}
    return stream_record("MODIFY", keys={"PK": {"S": "USER#1"}}, new=image, seq="88")


@pytest.mark.parametrize("chars", [60_000, 66_000, 100_000, 400_000])
def test_every_body_fits_inside_an_sns_notification(chars: int) -> None:
    record = quote_heavy_record(chars)
    bodies = quarantine.build_messages(record, 'reason "quoted" \\ too', function_name="f")
    for body in bodies:
        assert len(json.dumps(body)) - 2 <= quarantine.MAX_MESSAGE_BYTES
        assert len(sns_notification(body)) <= SQS_DEFAULT_MAX_MESSAGE_BYTES
    records, incomplete = quarantine.reassemble([sns_notification(b) for b in bodies])
    assert [r.record for r in records] == [record] and incomplete == {}


def test_the_sns_envelope_allowance_covers_the_notification_fields() -> None:
    (body,) = quarantine.build_messages(stream_record(), "r", function_name="f")
    fields = len(sns_notification(body)) - (len(json.dumps(body)) - 2)
    assert fields <= quarantine.SNS_ENVELOPE_BYTES
    assert (
        quarantine.MAX_MESSAGE_BYTES + quarantine.SNS_ENVELOPE_BYTES
        <= SQS_DEFAULT_MAX_MESSAGE_BYTES
    )


@given(st.text(max_size=200))
def test_escaped_length_is_the_length_json_escaping_gives(text: str) -> None:
    record = stream_record("INSERT", new={"t": {"S": text}}, event_id=text or None)
    (body,) = quarantine.build_messages(record, text, function_name="f")
    assert quarantine.escaped_length(body) == len(json.dumps(body)) - 2


def test_split_parts_fit_the_escaped_budget_with_a_quote_heavy_reason() -> None:
    record = big_record(60_000, compressible=False)
    reason = '"\\' * 400  # 800 characters, 1,600 in the body, 3,200 in the notification
    bodies = quarantine.build_messages(record, reason, function_name="f", max_bytes=8192)
    assert len(bodies) > 1
    assert all(len(json.dumps(b)) - 2 <= 8192 for b in bodies)
    assert quarantine.reassemble(bodies)[0][0].record == record


@pytest.mark.parametrize(
    "field", ["eventName", "eventID", "eventSourceARN", "dynamodb.SequenceNumber"]
)
def test_giant_envelope_fields_are_truncated_so_the_record_can_be_quarantined(
    field: str,
) -> None:
    # They were copied whole into every part's metadata: 300,000 characters left no room
    # for the record (ValueError), so it could never be quarantined.
    record = stream_record("MODIFY", seq="12")
    giant = '"\U0001f30f' * 150_000  # escapes to 14 characters per pair in a notification
    if field == "dynamodb.SequenceNumber":
        record["dynamodb"]["SequenceNumber"] = giant
    else:
        record[field] = giant
    bodies = quarantine.build_messages(record, "odd", function_name="f")
    assert all(quarantine.escaped_length(b) <= quarantine.MAX_MESSAGE_BYTES for b in bodies)
    head = json.loads(bodies[0])
    key = field.removeprefix("dynamodb.").replace("SequenceNumber", "sequenceNumber")
    assert head[key] == giant[: quarantine.MAX_FIELD_CHARS]
    (parsed,), incomplete = quarantine.reassemble(bodies)
    assert parsed.record == record and incomplete == {}


def test_a_giant_event_name_is_quarantined_through_the_handler(run_batch: Any) -> None:
    poison = stream_record("MODIFY", seq="13")
    poison["eventName"] = "X" * 300_000
    sender = FakeSender()
    run = run_batch({"Records": [poison]}, sender=sender)
    assert run.response == {"batchItemFailures": []}
    assert run.emf["RecordsQuarantined"] == 1
    assert quarantine.reassemble(sender.batches[0])[0][0].record == poison


def test_oversized_record_through_the_handler_sends_every_part(run_batch: Any) -> None:
    poison = big_record(400_000, compressible=False)
    poison["eventName"] = "UPSERT"
    sender = FakeSender()
    run = run_batch({"Records": [poison]}, sender=sender)
    assert run.response == {"batchItemFailures": []}
    (bodies,) = sender.batches
    assert len(bodies) > 1
    assert quarantine.reassemble(bodies)[0][0].record == poison


@pytest.mark.parametrize(
    ("kind", "address", "expected"),
    [
        (None, "arn:aws:sns:us-east-1:1:topic", "sns"),
        (None, "https://sqs.us-east-1.amazonaws.com/1/q", "sqs"),
        ("sqs", "anything", "sqs"),
    ],
)
def test_destination_type(kind: str | None, address: str, expected: str) -> None:
    assert quarantine.destination_type_of(kind, address) == expected


def test_destination_type_unknown() -> None:
    with pytest.raises(ValueError):
        quarantine.destination_type_of(None, "somewhere")
    with pytest.raises(ValueError):
        quarantine.destination_type_of("email", "x")


# --------------------------------------------------------------------------- moto

moto = pytest.importorskip("moto")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    quarantine._clients.clear()
    with moto.mock_aws():
        yield
    quarantine._clients.clear()


def _receive_all(sqs: Any, url: str) -> list[str]:
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        for message in got:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_quarantine_to_sqs_for_real(aws: Any, run_batch: Any) -> None:
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="poison")["QueueUrl"]
    big = big_record(300_000, compressible=False)
    big["eventName"] = "UPSERT"
    small = stream_record("INSERT", new={"x": {"B": "!!"}}, seq="5")
    settings = Settings(destination_type="sqs", destination=url, function_name="fn")
    processed = stream_record("INSERT", seq="6")
    run = run_batch({"Records": [big, small, processed]}, settings=settings)
    assert run.response == {"batchItemFailures": []}
    assert run.emf["RecordsQuarantined"] == 1  # the default routes never read "x"
    records, incomplete = quarantine.reassemble(_receive_all(sqs, url))
    assert incomplete == {}
    assert [r.record for r in records] == [big]


def test_quarantine_to_s3_writes_one_whole_object_per_poison_record(
    aws: Any, run_batch: Any
) -> None:
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="failures")
    # 300 KB of incompressible text: split into parts for SQS/SNS, one object in S3.
    big = big_record(300_000, compressible=False)
    big["eventName"] = "UPSERT"
    settings = Settings(destination_type="s3", destination="failures", function_name="fn")
    run = run_batch({"Records": [big, stream_record("INSERT", seq="6")]}, settings=settings)
    assert run.response == {"batchItemFailures": []}
    assert run.emf["RecordsQuarantined"] == 1
    listed = s3.list_objects_v2(Bucket="failures")["Contents"]
    (key,) = [item["Key"] for item in listed]
    body = s3.get_object(Bucket="failures", Key=key)["Body"].read().decode()
    message = json.loads(body)
    assert message["encoding"] == "json" and message["part"] == {"index": 1, "count": 1}
    assert message["record"] == big
    assert "eventName" in message["reason"] or message["reason"]
    day = message["time"][:10].replace("-", "/")
    assert key == f"quarantine/{day}/{message['id']}.json"
    records, incomplete = quarantine.reassemble([body])
    assert incomplete == {} and [r.record for r in records] == [big]


def test_quarantine_to_sns_for_real(aws: Any, run_batch: Any) -> None:
    import boto3

    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name="poison")["TopicArn"]
    url = sqs.create_queue(QueueName="tap")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)  # not raw: enveloped
    poison = stream_record("MODIFY", seq="9")
    poison["eventName"] = "TRUNCATE"
    settings = Settings(destination_type="sns", destination=topic, function_name="fn")
    run = run_batch({"Records": [poison]}, settings=settings)
    assert run.response == {"batchItemFailures": []}
    (parsed,), _ = quarantine.reassemble(_receive_all(sqs, url))
    assert parsed.record == poison and "TRUNCATE" in parsed.reason


def test_send_failure_for_real_reports_the_record(aws: Any, run_batch: Any) -> None:
    missing = "https://sqs.us-east-1.amazonaws.com/123456789012/does-not-exist"
    poison = stream_record("MODIFY", seq="31")
    poison["eventName"] = "TRUNCATE"
    settings = Settings(destination_type="sqs", destination=missing, function_name="fn")
    run = run_batch({"Records": [poison, stream_record(seq="32")]}, settings=settings)
    assert run.failures == ["31"]
    assert run.emf["RecordsProcessed"] == 0


def test_copies_sent_whole_and_in_parts_do_not_mix() -> None:
    # The same record quarantined twice (a retry after a failed send) can travel in
    # different shapes: whole at one budget, split at another. Both carry the same id;
    # reassembly must not splice part 1 of one copy with parts 2.. of the other.
    record = big_record(50_000, compressible=False)
    whole = quarantine.build_messages(record, "r", function_name="f")
    split = quarantine.build_messages(record, "r", function_name="f", max_bytes=8192)
    assert len(whole) == 1 and len(split) >= 3
    (parsed,), incomplete = quarantine.reassemble([*split[1:], *whole, split[0]])
    assert parsed.record == record and incomplete == {}
    (parsed,), incomplete = quarantine.reassemble([*whole, *split[1:]])
    assert parsed.record == record and incomplete == {}  # the whole copy suffices
    records, incomplete = quarantine.reassemble(split[1:])
    assert records == [] and list(incomplete.values()) == [(len(split) - 1, len(split))]


def test_boto_info_lines_stay_out_of_the_function_log(aws: Any, caplog: Any) -> None:
    # Lambda sets the ROOT logger to the application log level, so at INFO botocore's own
    # INFO lines ("Found credentials in environment variables.") would land in the
    # function's log whenever a poison record is quarantined.
    import logging

    import boto3

    url = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="q")["QueueUrl"]
    boto3.DEFAULT_SESSION = None  # as in a fresh Lambda container: credentials not yet found
    caplog.clear()
    with caplog.at_level(logging.INFO):
        send = quarantine.sender_for("sqs", url)
        send(quarantine.build_messages(stream_record(), "r", function_name="f"))
    assert [r.getMessage() for r in caplog.records if r.name.startswith("boto")] == []
