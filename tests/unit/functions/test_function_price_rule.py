"""A price change to a value that is not a number is poison: the seed read such a price as
"0" (``.get('N', '0')``) and announced a price change that never happened. It can never be
processed as a price change, however often it is retried, so it is quarantined whole."""

from __future__ import annotations

from typing import Any

import pytest
import quarantine
from function_helpers import FakeSender, stream_record

KEYS = {"PK": {"S": "PRODUCT#p3"}, "SK": {"S": "DETAILS"}}


def batch(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


@pytest.mark.parametrize("price", [{"S": "free"}, {"BOOL": True}, {"NULL": True}, {"M": {}}])
def test_a_price_changed_to_a_non_number_is_quarantined(run_batch: Any, price: Any) -> None:
    old = {**KEYS, "price": {"N": "19.99"}}
    poison = stream_record("MODIFY", keys=KEYS, old=old, new={**KEYS, "price": price}, seq="2")
    later = stream_record("MODIFY", keys=KEYS, old=old, new={**KEYS, "price": {"N": "9"}}, seq="3")
    sender = FakeSender()

    run = run_batch(batch(poison, later), sender=sender)

    assert run.response == {"batchItemFailures": []}
    assert (run.emf["RecordsQuarantined"], run.emf["RecordsProcessed"]) == (1, 1)
    assert run.emf["PriceChanges"] == 1  # only the real one
    (parsed,), _ = quarantine.reassemble(sender.batches[0])
    assert parsed.record == poison
    assert "price is not a number" in parsed.reason


def test_numeric_and_absent_prices_are_not_poison(run_batch: Any) -> None:
    old = {**KEYS, "price": {"N": "19.99"}}
    records = [
        stream_record("MODIFY", keys=KEYS, old=old, new={**KEYS, "price": {"N": "17.99"}}),
        stream_record("MODIFY", keys=KEYS, old=old, new=dict(KEYS), seq="101"),  # removed: 0
    ]
    sender = FakeSender()
    run = run_batch(batch(*records), sender=sender)
    assert run.emf["RecordsQuarantined"] == 0 and sender.batches == []
    assert run.emf["PriceChanges"] == 2


@pytest.mark.parametrize(
    ("old_price", "new_price"),
    [
        ({"N": "1"}, {"BOOL": True}),  # True == 1 in Python: once no change was seen at all
        ({"N": "0"}, {"BOOL": False}),
        (None, {"BOOL": False}),  # absent reads as 0, and 0 == False
    ],
)
def test_a_price_changed_from_an_equal_looking_number_to_a_boolean_is_quarantined(
    run_batch: Any, old_price: Any, new_price: Any
) -> None:
    old = dict(KEYS) if old_price is None else {**KEYS, "price": old_price}
    poison = stream_record("MODIFY", keys=KEYS, old=old, new={**KEYS, "price": new_price})
    sender = FakeSender()

    run = run_batch(batch(poison), sender=sender)

    assert (run.emf["RecordsQuarantined"], run.emf["PriceChanges"]) == (1, 0)
    (parsed,), _ = quarantine.reassemble(sender.batches[0])
    assert "price is not a number" in parsed.reason


@pytest.mark.parametrize(
    "new_price",
    [{"S": "free"}, {"N": "not a number"}],  # poison by the price rule, and undecodable
)
@pytest.mark.parametrize("destination", ["none", "sender"])
def test_a_poison_modify_counts_no_status_change(
    run_batch: Any, new_price: Any, destination: str
) -> None:
    # The status check ran first and counted its change before the price check raised:
    # with no destination every retry of the failed record added one more StatusChanges.
    old = {**KEYS, "status": {"S": "draft"}, "price": {"N": "19.99"}}
    new = {**KEYS, "status": {"S": "live"}, "price": new_price}
    poison = stream_record("MODIFY", keys=KEYS, old=old, new=new, seq="7")
    sender = FakeSender() if destination == "sender" else None

    for _attempt in range(2):  # the first try and one redelivery of the same record
        run = run_batch(batch(poison), sender=sender)
        assert (run.emf["StatusChanges"], run.emf["PriceChanges"]) == (0, 0)
        assert run.emf["RecordsProcessed"] == 0
        if sender is None:
            assert run.failures == ["7"]
        else:
            assert run.emf["RecordsQuarantined"] == 1
    if sender is not None:
        assert not any("Status changed" in line for line in run.lines)


def test_status_and_price_changes_are_both_counted_for_a_good_record(run_batch: Any) -> None:
    old = {**KEYS, "status": {"S": "draft"}, "price": {"N": "19.99"}}
    new = {**KEYS, "status": {"S": "live"}, "price": {"N": "17.5"}}
    run = run_batch(batch(stream_record("MODIFY", keys=KEYS, old=old, new=new)))
    assert (run.emf["StatusChanges"], run.emf["PriceChanges"]) == (1, 1)
    assert run.lines[-3:-1] == [
        "Status changed from draft to live",
        "Price changed from 19.99 to 17.5",
    ]


def test_a_price_dynamodb_cannot_hold_is_quarantined_not_processed(run_batch: Any) -> None:
    # Any route calling int() or format(x, "f") on 1E+1000000 ran for 22 s: a timeout loop
    # blocking the shard. DynamoDB never holds such a number; the record is poison.
    old = {**KEYS, "price": {"N": "19.99"}}
    poison = stream_record(
        "MODIFY", keys=KEYS, old=old, new={**KEYS, "price": {"N": "1E+1000000"}}, seq="5"
    )
    sender = FakeSender()

    run = run_batch(batch(poison), sender=sender)

    assert (run.emf["RecordsQuarantined"], run.emf["PriceChanges"]) == (1, 0)
    (parsed,), _ = quarantine.reassemble(sender.batches[0])
    assert "attribute 'price'" in parsed.reason and "outside DynamoDB's range" in parsed.reason
