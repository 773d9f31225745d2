"""Every real DynamoDB Streams payload in shared/events, through the handler and the model.

Each file is processed without error or failure; decoded values are checked against the
file's own contents, by an independent reference decoder (written here, from the AWS type
descriptions) and by hand for the values each file exists to exercise.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from function_helpers import EVENT_FILES, EVENTS_DIR, load_json
from records import Change


def reference_decode(value: dict[str, Any]) -> Any:
    """Slow and obvious: the meaning of each DynamoDB JSON type."""
    ((tag, inner),) = value.items()
    if tag == "S":
        return inner
    if tag == "N":
        return Decimal(inner)
    if tag == "B":
        return base64.b64decode(inner, validate=True)
    if tag == "BOOL":
        return inner
    if tag == "NULL":
        return None
    if tag == "M":
        return {k: reference_decode(v) for k, v in inner.items()}
    if tag == "L":
        return [reference_decode(v) for v in inner]
    if tag == "SS":
        return set(inner)
    if tag == "NS":
        return {Decimal(v) for v in inner}
    if tag == "BS":
        return {base64.b64decode(v, validate=True) for v in inner}
    raise AssertionError(f"unexpected tag {tag}")


def by_name(fragment: str) -> Path:
    (path,) = [p for p in EVENT_FILES if fragment in p.name]
    return path


def test_the_shared_events_are_there() -> None:
    assert len(EVENT_FILES) == 8, f"expected the 8 record payloads in {EVENTS_DIR}"


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: p.name[:60])
def test_every_payload_processes_without_failure(path: Path, run_batch: Any) -> None:
    event = load_json(path)
    run = run_batch(event)
    assert run.response == {"batchItemFailures": []}
    emf = run.emf
    records = event["Records"]
    assert emf["RecordsProcessed"] == len(records)
    for name, metric in (
        ("INSERT", "RecordsInserted"),
        ("MODIFY", "RecordsModified"),
        ("REMOVE", "RecordsRemoved"),
    ):
        assert emf[metric] == sum(r["eventName"] == name for r in records)
    assert emf["RecordsFailed"] == emf["RecordsQuarantined"] == 0
    assert f"Successfully processed {len(records)} records" in run.messages


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: p.name[:60])
def test_every_value_decodes_as_the_reference_says(path: Path) -> None:
    for record in load_json(path)["Records"]:
        change = Change(record)
        ddb = record["dynamodb"]
        for field, image in (
            ("Keys", change.keys),
            ("OldImage", change.old_image),
            ("NewImage", change.new_image),
        ):
            if field not in ddb:
                assert image is None
                continue
            assert image is not None
            assert set(image) == set(ddb[field])
            for name, raw in ddb[field].items():
                assert image[name] == reference_decode(raw), (path.name, field, name)


def test_go_event_all_ten_types() -> None:
    record = load_json(by_name("aws-lambda-go__dynamodb-event"))["Records"][1]
    new = Change(record).new_image
    assert new is not None
    assert new["String"] == "Hello"
    assert new["IntegerNumber"] == 123 and isinstance(new["IntegerNumber"], int)
    assert new["FloatNumber"] == Decimal("123.45")
    assert new["Binary"] == b"\x00\x01*A"
    assert new["b2"] == base64.b64decode("test")
    assert new["BinarySet"] == {b"\x00\x01*A"}  # duplicates collapse in a set
    assert new["Boolean"] is True
    assert new["Null"] is None
    assert new["List"] == ["Cookies", "Coffee", Decimal("3.14159")]
    assert new["Map"] == {"Name": "Joe", "Age": 35}
    assert new["NumberSet"] == {1234, Decimal("567.8")}
    assert new["StringSet"] == {"Giraffe", "Zebra"}
    assert new["EmptyStringSet"] == set()


def test_go_event_records_sharing_a_sequence_number(run_batch: Any) -> None:
    event = load_json(by_name("aws-lambda-go__dynamodb-event"))
    seqs = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    assert len(set(seqs)) == 1
    assert run_batch(event).emf["RecordsInserted"] == 2


def test_dotnet_event_bom_ttl_and_nested_map(run_batch: Any) -> None:
    path = by_name("aws-lambda-dotnet")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    event = load_json(path)
    insert, remove = (Change(r) for r in event["Records"])
    assert insert.new_image is not None
    assert insert.new_image["misc1"] == []
    assert insert.new_image["misc2"] == {
        "ItemsEmpty": [],
        "ItemsNonEmpty": ["Cookies", "Coffee", Decimal("3.14159")],
        "ItemBoolean": False,
        "ItemNumberSet": {0, 50, 150},
        "ItemNull": None,
        "ItemStringSet": {"Hippo", "Zebra"},
    }
    assert remove.is_ttl_expiry and not insert.is_ttl_expiry
    assert remove.stream_view_type == "OLD_IMAGE" and remove.new_image is None
    assert remove.old_image is not None
    assert remove.old_image["asdf2"] == {b"\x00\x01*A", b"A*\x01\x00"}
    assert run_batch(event).emf["TtlExpiries"] == 1


def test_go_insert_by_dynamodb_principal_is_not_a_ttl_expiry(run_batch: Any) -> None:
    event = load_json(by_name("aws-lambda-go__dynamodb-event"))
    assert event["Records"][0]["userIdentity"]["principalId"] == "dynamodb.amazonaws.com"
    assert run_batch(event).emf["TtlExpiries"] == 0


def test_java_event_exponent_and_fractional_times() -> None:
    first, second, _ = (Change(r) for r in load_json(by_name("java-libs"))["Records"])
    assert first.approximate_creation_time == datetime(2015, 4, 9, 0, 0, tzinfo=UTC)
    when = second.approximate_creation_time
    assert when is not None and when.year == 2021 and when.microsecond == 123000


def test_powertools_event_time_missing_on_one_record() -> None:
    first, second = (Change(r) for r in load_json(by_name("dynamoStreamEvent"))["Records"])
    assert first.approximate_creation_time is not None
    assert second.approximate_creation_time is None
    assert second.changed("Message")
    assert second.old_value("Message") == "New item!"
    assert second.new_value("Message") == "This item has changed"


def test_powertools_event_ids_collide_but_sequence_numbers_do_not() -> None:
    changes = [Change(r) for r in load_json(by_name("getting_started"))["Records"]]
    assert changes[0].event_id == changes[1].event_id == "1"
    assert changes[0].sequence_number != changes[1].sequence_number
    assert changes[0].keys["Id"] == 101


def test_time_window_envelope_is_processed(run_batch: Any) -> None:
    event = load_json(by_name("time-window"))
    assert "window" in event and "state" in event
    run = run_batch(event)
    assert (run.emf["RecordsInserted"], run.emf["RecordsModified"], run.emf["RecordsRemoved"]) == (
        1,
        1,
        1,
    )


def test_sam_template_with_placeholders(run_batch: Any) -> None:
    event = load_json(by_name("sam-cli"))
    assert "{{{region}}}" in event["Records"][0]["awsRegion"]
    assert run_batch(event).response == {"batchItemFailures": []}


def test_localstack_redeliveries_and_new_image_view(run_batch: Any) -> None:
    event = load_json(by_name("dynamodb_records"))
    changes = [Change(r) for r in event["Records"]]
    assert all(c.stream_view_type == "NEW_IMAGE" and c.old_image is None for c in changes)
    assert changes[-1].new_image is not None and changes[-1].new_image["should_fail"] is True
    assert changes[0].approximate_creation_time is None  # "<approximate-creation-datetime>"
    assert run_batch(event).emf["RecordsProcessed"] == 10


def test_destination_message_is_not_a_stream_batch() -> None:
    """The on-failure message AWS sends is pointers, not records: nothing here decodes it,
    and a quarantine message is told apart from it by its kind marker (see quarantine)."""
    import quarantine

    (path,) = EVENTS_DIR.glob("*destination_queue_messages.json")
    body = load_json(path)["Messages"][0]["Body"]
    assert "DDBStreamBatchInfo" in body
    assert not quarantine.is_quarantine_message(body)
