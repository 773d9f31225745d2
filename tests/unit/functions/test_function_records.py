"""The record model: decoding every DynamoDB type, lazy images, stream views, change helpers."""

# Images are Optional (None when a stream view omits them); these tests know which exist.
# mypy: disable-error-code="index"

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest
from function_helpers import stream_record
from hypothesis import given
from hypothesis import strategies as st
from records import (
    Change,
    DecodeError,
    Image,
    MalformedRecordError,
    UnknownEventError,
    decode,
    decode_image,
)

# --------------------------------------------------------------------------- decode


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"S": "hello"}, "hello"),
        ({"S": ""}, ""),
        ({"S": "Xin chào 🌏"}, "Xin chào 🌏"),
        ({"N": "123"}, 123),
        ({"N": "-7"}, -7),
        ({"N": "0"}, 0),
        ({"N": "123.45"}, Decimal("123.45")),
        ({"N": "-0.001"}, Decimal("-0.001")),
        ({"N": "1E+2"}, Decimal("100")),
        ({"B": "AAEqQQ=="}, b"\x00\x01*A"),
        ({"B": ""}, b""),
        ({"BOOL": True}, True),
        ({"BOOL": False}, False),
        ({"NULL": True}, None),
        ({"SS": ["Giraffe", "Zebra"]}, {"Giraffe", "Zebra"}),
        ({"NS": ["1234", "567.8"]}, {1234, Decimal("567.8")}),
        ({"BS": ["AAEqQQ==", "QSoBAA==", "AAEqQQ=="]}, {b"\x00\x01*A", b"A*\x01\x00"}),
        ({"SS": []}, set()),
        ({"NS": []}, set()),
        ({"BS": []}, set()),
        ({"L": []}, []),
        ({"M": {}}, {}),
        (
            {"L": [{"S": "Cookies"}, {"N": "3.14159"}, {"L": [{"NULL": True}]}]},
            ["Cookies", Decimal("3.14159"), [None]],
        ),
        (
            {"M": {"Name": {"S": "Joe"}, "Age": {"N": "35"}, "Deep": {"M": {"x": {"B": "QQ=="}}}}},
            {"Name": "Joe", "Age": 35, "Deep": {"x": b"A"}},
        ),
    ],
)
def test_decode_each_type(value: dict, expected: object) -> None:
    decoded = decode(value)
    assert decoded == expected
    assert type(decoded) is type(expected)


def test_numbers_are_never_float() -> None:
    for text in ("1", "1.5", "1e3", "-2.50", "0.1"):
        assert not isinstance(decode({"N": text}), float)


@pytest.mark.parametrize(
    "text",
    [
        "12345678901234567890123456789012345678",  # 38 digits, DynamoDB's maximum
        "-12345678901234567890123456789012345678",
        "1234567890123456789012345678901234567.8",
        "0.12345678901234567890123456789012345678",
        "9.9999999999999999999999999999999999999E+125",  # the largest DynamoDB number
        "1E-130",  # the smallest positive one
    ],
)
def test_38_digit_numbers_are_exact(text: str) -> None:
    value = decode({"N": text})
    assert Decimal(str(value)) == Decimal(text)  # no digit lost, not even past 28 digits
    assert str(value) == text or Decimal(str(value)).normalize() == Decimal(text).normalize()


def test_numbers_compare_by_value() -> None:
    assert decode({"N": "10.0"}) == decode({"N": "10"})
    assert decode({"NS": ["1.0", "2"]}) == decode({"NS": ["2.00", "1"]})
    assert decode({"N": "0.1"}) + decode({"N": "0.2"}) == Decimal("0.3")


def dynamodb_holds(value: Decimal) -> bool:
    """Reference: DynamoDB's Number holds at most 38 significant digits (leading and
    trailing zeros are not stored) at a magnitude from 1E-130 to 9.99...E+125, or zero.
    Zero is also held to the exponent range: DynamoDB writes zero as "0"."""
    significant = "".join(map(str, value.as_tuple().digits)).strip("0")
    return len(significant) <= 38 and -130 <= value.adjusted() <= 125


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
def test_any_finite_decimal_text_in_dynamodb_range_round_trips(value: Decimal) -> None:
    if dynamodb_holds(value):
        assert decode({"N": str(value)}) == value
    else:
        with pytest.raises(DecodeError, match="N value"):
            decode({"N": str(value)})


_MAX_38 = "9" * 38


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # DynamoDB trims trailing zeros, so these are 17 and 1 significant digits; it sends
        # 1E+100 as a 101-digit integer literal (boto3 issue 2500).
        ("110111111111111110000000000000000000000", 110111111111111110000000000000000000000),
        ("1" + "0" * 100, 10**100),
        ("-1" + "0" * 125, -(10**125)),
        (_MAX_38 + "0" * 88, int(_MAX_38) * 10**88),  # 9.99...E+125, the largest
        ("0" * 60 + "7", 7),  # leading zeros are not significant: accepted
        ("-" + "0" * 60, 0),
        ("9." + "9" * 37 + "E+125", Decimal("9." + "9" * 37 + "E+125")),
        ("-1E-130", Decimal("-1E-130")),
        ("0." + "0" * 129 + "1", Decimal("1E-130")),
        ("1.5" + "0" * 60, Decimal("1.5")),  # trailing zeros after the point
        ("0.00", Decimal("0")),
    ],
)
def test_numbers_at_dynamodb_limits_decode(text: str, expected: object) -> None:
    value = decode({"N": text})
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1" * 39, "38 significant digits"),
        ("-" + "1" * 39, "38 significant digits"),
        ("1." + "1" * 38, "38 significant digits"),
        ("1" + "0" * 126, "outside DynamoDB's range"),  # 1E+126
        ("1" * 4000, "outside DynamoDB's range"),
        ("-1" + "0" * 4000, "outside DynamoDB's range"),
        ("1E+126", "outside DynamoDB's range"),
        ("-1E+126", "outside DynamoDB's range"),
        ("9.9E-131", "outside DynamoDB's range"),
        ("1E+1000000", "outside DynamoDB's range"),  # int() of it took 22 s
        ("1E+999999999999999999", "outside DynamoDB's range"),
        ("0E-1000000", "outside DynamoDB's range"),  # format(x, "f") is a million zeros
    ],
)
def test_numbers_dynamodb_cannot_hold_are_undecodable(text: str, fragment: str) -> None:
    with pytest.raises(DecodeError, match=fragment):
        decode({"N": text})
    with pytest.raises(DecodeError, match=fragment):
        decode({"NS": ["1", text]})


@given(st.binary(max_size=64))
def test_any_binary_round_trips(data: bytes) -> None:
    assert decode({"B": base64.b64encode(data).decode()}) == data


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"X": "1"}, "unknown attribute type tag"),
        ({"s": "lower-case tag"}, "unknown attribute type tag"),
        ({}, "one type tag"),
        ({"S": "a", "N": "1"}, "one type tag"),
        ("plain", "one type tag"),
        (None, "one type tag"),
        ({"S": 5}, "S value"),
        ({"N": 5}, "N value"),
        ({"N": "abc"}, "N value"),
        ({"N": "NaN"}, "N value"),
        ({"N": "Infinity"}, "N value"),
        ({"N": "1_000"}, "N value"),
        ({"N": " 1"}, "N value"),
        ({"N": "١٢"}, "N value"),  # Arabic-Indic digits: int() would accept them
        ({"N": ""}, "N value"),
        ({"N": "-"}, "N value"),
        ({"B": "not base64!"}, "B value"),
        ({"B": "QQ"}, "B value"),  # missing padding
        ({"B": 12}, "B value"),
        ({"BOOL": "true"}, "BOOL value"),
        ({"NULL": False}, "NULL value"),
        ({"SS": "a"}, "SS value"),
        ({"SS": [1]}, "S value"),
        ({"NS": ["x"]}, "N value"),
        ({"BS": ["%%%"]}, "B value"),
        ({"M": []}, "M value"),
        ({"L": {}}, "L value"),
        ({"L": [{"Q": 1}]}, "unknown attribute type tag"),
        ({"M": {"a": {"N": "x"}}}, "N value"),
    ],
)
def test_undecodable_values_raise_decode_error(value: object, fragment: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(value)
    assert fragment in caught.value.reason


def test_decode_image_decodes_every_attribute() -> None:
    assert decode_image({"a": {"S": "x"}, "b": {"N": "2"}}) == {"a": "x", "b": 2}


# --------------------------------------------------------------------------- Image


def test_image_decodes_lazily_and_caches() -> None:
    image = Image({"good": {"N": "1"}, "bad": {"N": "not a number"}})
    assert image["good"] == 1  # the bad attribute is never touched
    assert "bad" in image  # membership does not decode
    assert sorted(image) == ["bad", "good"]
    assert len(image) == 2
    first = image.get("good")
    assert image.get("good") is first  # cached
    with pytest.raises(DecodeError, match="attribute 'bad'"):
        image["bad"]
    with pytest.raises(KeyError):
        image["missing"]
    assert image.get("missing", "dflt") == "dflt"


def test_image_unicode_attribute_names() -> None:
    image = Image({"giá": {"N": "10"}, "名前": {"S": "タロウ"}, "🔑": {"BOOL": True}})
    assert image.to_dict() == {"giá": 10, "名前": "タロウ", "🔑": True}


# --------------------------------------------------------------------------- Change


def test_change_envelope_fields() -> None:
    record = stream_record(
        "MODIFY",
        keys={"PK": {"S": "USER#1"}, "SK": {"S": "PROFILE"}},
        seq="4421584500000000017450439092",
        event_id="abc",
    )
    change = Change(record)
    assert change.event_name == "MODIFY"
    assert (change.pk, change.sk) == ("USER#1", "PROFILE")
    assert change.sequence_number == "4421584500000000017450439092"
    assert change.event_id == "abc"
    assert (change.event_source_arn or "").startswith("arn:aws:dynamodb:")
    assert change.stream_view_type == "NEW_AND_OLD_IMAGES"
    assert change.approximate_creation_time is not None
    assert change.approximate_creation_time.timestamp() == 1754929800
    assert change.keys.to_dict() == {"PK": "USER#1", "SK": "PROFILE"}
    assert change.raw is record


def test_change_keys_without_pk_sk_and_unicode_keys() -> None:
    change = Change(stream_record(keys={"Id": {"N": "101"}}))
    assert (change.pk, change.sk) == ("", "")
    assert change.keys["Id"] == 101
    change = Change(stream_record(keys={"PK": {"S": "USER#Nguyễn Văn Á"}, "SK": {"S": "名前#1"}}))
    assert (change.pk, change.sk) == ("USER#Nguyễn Văn Á", "名前#1")
    change = Change(stream_record(keys={"PK": {"N": "7"}, "SK": {"B": "QQ=="}}))
    assert (change.pk, change.sk) == ("", "")  # not strings: "" like the seed's .get("S", "")


def test_change_rejects_malformed_key_value() -> None:
    with pytest.raises(DecodeError):
        Change(stream_record(keys={"PK": {"S": 5}}))


def test_creation_time_is_informational() -> None:
    for value in ("<approximate-creation-datetime>", None, [1]):
        record = stream_record()
        record["dynamodb"]["ApproximateCreationDateTime"] = value
        assert Change(record).approximate_creation_time is None
    record = stream_record()
    record["dynamodb"]["ApproximateCreationDateTime"] = 1.635734407123e9
    when = Change(record).approximate_creation_time
    assert when is not None and when.microsecond == 123000


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda r: r.pop("dynamodb"), MalformedRecordError),
        (lambda r: r.__setitem__("dynamodb", "x"), MalformedRecordError),
        (lambda r: r["dynamodb"].pop("Keys"), MalformedRecordError),
        (lambda r: r["dynamodb"].__setitem__("Keys", {}), MalformedRecordError),
        (lambda r: r["dynamodb"].pop("SequenceNumber"), MalformedRecordError),
        (lambda r: r["dynamodb"].__setitem__("SequenceNumber", 5), MalformedRecordError),
        (lambda r: r.pop("eventName"), UnknownEventError),
        (lambda r: r.__setitem__("eventName", "UPDATE"), UnknownEventError),
        # Unhashable JSON values: once a TypeError escaped instead of a poison error.
        (lambda r: r.__setitem__("eventName", ["INSERT"]), UnknownEventError),
        (lambda r: r.__setitem__("eventName", {"name": "INSERT"}), UnknownEventError),
    ],
)
def test_change_rejects_bad_envelopes(mutate, error) -> None:  # type: ignore[no-untyped-def]
    record = stream_record()
    mutate(record)
    with pytest.raises(error):
        Change(record)


def test_change_rejects_non_objects() -> None:
    records: tuple[Any, ...] = (None, [], "record", 3)
    for record in records:
        with pytest.raises(MalformedRecordError, match="not an object"):
            Change(record)


# -- stream views

ITEM_OLD = {"PK": {"S": "PRODUCT#1"}, "status": {"S": "draft"}, "price": {"N": "10.0"}}
ITEM_NEW = {"PK": {"S": "PRODUCT#1"}, "status": {"S": "live"}, "price": {"N": "10"}}
KEYS = {"PK": {"S": "PRODUCT#1"}, "SK": {"S": "META"}}


def test_new_and_old_images_view() -> None:
    change = Change(stream_record("MODIFY", keys=KEYS, old=ITEM_OLD, new=ITEM_NEW))
    assert change.old_image["status"] == "draft"
    assert change.new_image["status"] == "live"
    assert change.changed("status")
    assert not change.changed("price")  # "10.0" and "10" are the same price
    assert not change.changed("absent")
    assert change.changed_attributes() == {"status"}
    assert change.old_value("price") == change.new_value("price") == 10


def test_new_image_view_modify() -> None:
    change = Change(stream_record("MODIFY", keys=KEYS, new=ITEM_NEW, view="NEW_IMAGE"))
    assert change.old_image is None
    assert change.new_image["status"] == "live"
    assert not change.changed("status")  # cannot tell: no old image
    assert change.changed_attributes() == set()
    assert change.old_value("status", "?") == "?"


def test_old_image_view_modify() -> None:
    change = Change(stream_record("MODIFY", keys=KEYS, old=ITEM_OLD, view="OLD_IMAGE"))
    assert change.new_image is None
    assert change.old_image["price"] == Decimal("10.0")
    assert not change.changed("status")


def test_keys_only_view() -> None:
    for name in ("INSERT", "MODIFY", "REMOVE"):
        change = Change(stream_record(name, keys=KEYS, view="KEYS_ONLY"))
        assert change.old_image is None and change.new_image is None
        assert change.pk == "PRODUCT#1"
        assert not change.changed("status")


def test_insert_and_remove_compare_against_nothing() -> None:
    insert = Change(stream_record("INSERT", keys=KEYS, new=ITEM_NEW))
    assert insert.changed("status")
    assert not insert.changed("absent")
    assert insert.changed("price", 0)
    assert not Change(stream_record("INSERT", keys=KEYS, new={"price": {"N": "0"}})).changed(
        "price", 0
    )
    remove = Change(stream_record("REMOVE", keys=KEYS, old=ITEM_OLD))
    assert remove.changed("status")
    assert remove.changed_attributes() == {"PK", "status", "price"}


def test_changed_uses_default_for_absent_attributes() -> None:
    change = Change(
        stream_record("MODIFY", keys=KEYS, old={"price": {"N": "0"}}, new={"status": {"S": ""}})
    )
    assert not change.changed("price", 0)  # 0 -> absent, with absent meaning 0
    assert change.changed("price")  # 0 -> absent
    assert not change.changed("status", "")
    assert change.changed("status")


def test_changed_compares_sets_and_maps_as_values() -> None:
    old = {"tags": {"SS": ["a", "b"]}, "m": {"M": {"x": {"N": "1.50"}}}, "n": {"NS": ["1", "2"]}}
    new = {"tags": {"SS": ["b", "a"]}, "m": {"M": {"x": {"N": "1.5"}}}, "n": {"NS": ["2", "1.0"]}}
    change = Change(stream_record("MODIFY", keys=KEYS, old=old, new=new))
    assert change.changed_attributes() == set()


def test_changed_raises_on_undecodable_changed_value() -> None:
    change = Change(
        stream_record("MODIFY", keys=KEYS, old={"price": {"N": "1"}}, new={"price": {"N": "x"}})
    )
    with pytest.raises(DecodeError, match="attribute 'price'"):
        change.changed("price")


def test_malformed_image_is_poison_when_read() -> None:
    record = stream_record("MODIFY", keys=KEYS, old=ITEM_OLD, new=ITEM_NEW)
    record["dynamodb"]["NewImage"] = ["not", "a", "map"]
    change = Change(record)  # envelope is fine
    with pytest.raises(MalformedRecordError):
        _ = change.new_image
    with pytest.raises(MalformedRecordError):
        change.changed("status")


# -- TTL


def test_ttl_expiry_flag() -> None:
    service = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert Change(stream_record("REMOVE", keys=KEYS, userIdentity=service)).is_ttl_expiry
    assert not Change(stream_record("REMOVE", keys=KEYS)).is_ttl_expiry
    assert not Change(stream_record("INSERT", keys=KEYS, userIdentity=service)).is_ttl_expiry
    other = {"type": "Service", "principalId": "other.amazonaws.com"}
    assert not Change(stream_record("REMOVE", keys=KEYS, userIdentity=other)).is_ttl_expiry
    assert not Change(stream_record("REMOVE", keys=KEYS, userIdentity="x")).is_ttl_expiry


# -- type-aware comparison: Python's True == 1 == Decimal(1) must not hide a change

NUMBER_ONE = {"N": "1"}
NUMBER_ZERO = {"N": "0"}
BOOL_TRUE = {"BOOL": True}
BOOL_FALSE = {"BOOL": False}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (NUMBER_ONE, BOOL_TRUE),
        (BOOL_TRUE, NUMBER_ONE),
        (NUMBER_ZERO, BOOL_FALSE),
        ({"N": "1.0"}, BOOL_TRUE),  # Decimal(1) == True too
        ({"L": [NUMBER_ONE]}, {"L": [BOOL_TRUE]}),
        ({"M": {"x": NUMBER_ZERO}}, {"M": {"x": BOOL_FALSE}}),
        ({"L": [{"M": {"x": {"L": [NUMBER_ONE]}}}]}, {"L": [{"M": {"x": {"L": [BOOL_TRUE]}}}]}),
    ],
)
def test_a_number_and_a_boolean_are_never_the_same_value(before: Any, after: Any) -> None:
    change = Change(stream_record("MODIFY", keys=KEYS, old={"v": before}, new={"v": after}))
    assert change.changed("v")
    assert change.changed("v", 0)
    assert change.changed_attributes() == {"v"}


def test_status_number_to_boolean_is_a_change() -> None:
    change = Change(
        stream_record("MODIFY", keys=KEYS, old={"status": NUMBER_ONE}, new={"status": BOOL_TRUE})
    )
    assert change.changed("status", "")


def test_an_absent_price_defaulting_to_0_differs_from_false() -> None:
    change = Change(stream_record("MODIFY", keys=KEYS, old={}, new={"price": BOOL_FALSE}))
    assert change.changed("price", 0)
    insert = Change(stream_record("INSERT", keys=KEYS, new={"price": BOOL_FALSE}))
    assert insert.changed("price", 0)


def test_numbers_still_compare_by_value_at_any_depth() -> None:
    old = {"p": {"N": "10.0"}, "l": {"L": [{"N": "1"}, BOOL_TRUE]}, "s": {"NS": ["1", "2.50"]}}
    new = {"p": {"N": "10"}, "l": {"L": [{"N": "1.00"}, BOOL_TRUE]}, "s": {"NS": ["2.5", "1.0"]}}
    change = Change(stream_record("MODIFY", keys=KEYS, old=old, new=new))
    assert change.changed_attributes() == set()
    assert not change.changed("p", 0)


def test_same_value_is_type_aware_for_bools_in_sets_and_defaults() -> None:
    from records import same_value

    assert same_value(1, Decimal("1.0")) and same_value(0, 0.0)
    assert not same_value(True, 1) and not same_value(Decimal(0), False)
    assert same_value(True, True) and not same_value(True, False)
    assert not same_value({True}, {1}) and same_value({1, 2}, frozenset({Decimal(2), 1}))
    assert not same_value({"a": [1]}, {"a": [True]}) and same_value({"a": [1]}, {"a": [1.0]})
    assert not same_value([1], (1,)) and not same_value({"a": 1}, {"b": 1})
    assert not same_value([1, 2], [1]) and not same_value(None, False)


# Values small enough that hypothesis meets the collisions Python's == makes (1, 1.0, true).
_scalar_values = st.sampled_from(
    [{"N": "0"}, {"N": "1"}, {"N": "1.0"}, {"N": "0.00"}, BOOL_TRUE, BOOL_FALSE, {"S": "1"}]
)
_values = st.recursive(
    _scalar_values,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: {"L": items}),
        st.dictionaries(st.sampled_from("ab"), inner, max_size=2).map(lambda m: {"M": m}),
    ),
    max_leaves=6,
)


def _typed(value: Any) -> Any:
    """A reference form whose == is exactly DynamoDB's notion of the same value."""
    ((tag, inner),) = value.items()
    if tag == "N":
        return ("N", Decimal(inner).normalize())
    if tag == "L":
        return ("L", tuple(_typed(item) for item in inner))
    if tag == "M":
        return ("M", tuple(sorted((name, _typed(item)) for name, item in inner.items())))
    return (tag, inner)


@given(_values, _values)
def test_changed_agrees_with_a_typed_reference(before: Any, after: Any) -> None:
    change = Change(stream_record("MODIFY", keys=KEYS, old={"v": before}, new={"v": after}))
    assert change.changed("v") == (_typed(before) != _typed(after))


# -- nesting deeper than Python's stack: DynamoDB allows 32 levels, decoding ~330 needs more


def nested_value(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"N": "1"}
    for level in range(depth):
        value = {"M": {"a": value}} if level % 2 else {"L": [value]}
    return value


def depth_that_overflows_decoding() -> int:
    """The shallowest nesting (in steps of 50) that decoding cannot handle here: the stack
    depth it needs differs between Python versions (3.13 inlines comprehensions)."""
    for depth in range(50, 20_000, 50):
        try:
            decode(nested_value(depth))
        except (RecursionError, DecodeError):
            return depth
    raise AssertionError("decoding never ran out of stack")


def test_too_deep_nesting_is_a_decode_error() -> None:
    deep = nested_value(depth_that_overflows_decoding())
    with pytest.raises(DecodeError, match="nested too deeply"):
        decode(deep)
    with pytest.raises(DecodeError, match=r"attribute 'doc': .*nested too deeply"):
        Image({"doc": deep})["doc"]
    with pytest.raises(DecodeError, match="nested too deeply"):
        decode_image({"doc": deep})
    change = Change(stream_record("MODIFY", keys=KEYS, old={"doc": {"N": "1"}}, new={"doc": deep}))
    with pytest.raises(DecodeError, match=r"attribute 'doc': .*nested too deeply"):
        change.changed("doc")
    with pytest.raises(DecodeError, match="nested too deeply"):
        change.changed_attributes()
    with pytest.raises(DecodeError, match="nested too deeply"):
        Change(stream_record(keys={"PK": deep}))


def test_deepest_decodable_nesting_compares_without_running_out_of_stack() -> None:
    depth = depth_that_overflows_decoding() - 50
    old, new = nested_value(depth), nested_value(depth)
    new_leaf = new
    while "N" not in new_leaf:
        new_leaf = new_leaf["L"][0] if "L" in new_leaf else new_leaf["M"]["a"]
    new_leaf["N"] = "1.0"  # the same value, different text: decoded and compared in full
    change = Change(stream_record("MODIFY", keys=KEYS, old={"doc": old}, new={"doc": new}))
    assert not change.changed("doc")
    assert change.changed_attributes() == set()


def test_too_deep_nesting_is_quarantined_not_retried() -> None:
    # The handler directly: the run_batch fixture's deepcopy would itself run out of stack.
    import io
    import json

    import handler
    from function_helpers import FakeSender
    from quarantine import reassemble
    from settings import Settings

    deep = nested_value(depth_that_overflows_decoding())
    keys = {"PK": {"S": "PRODUCT#1"}, "SK": {"S": "META"}}
    poison = stream_record(
        "MODIFY", keys=keys, old={"status": {"S": "a"}}, new={"status": deep}, seq="3"
    )
    sender = FakeSender()
    emf = io.StringIO()
    response = handler.process_event(
        {"Records": [poison]}, None, sender=sender, settings=Settings(), metrics_stream=emf
    )
    assert response == {"batchItemFailures": []}
    assert json.loads(emf.getvalue())["RecordsQuarantined"] == 1
    (parsed,), _ = reassemble(sender.batches[0])
    assert "nested too deeply" in parsed.reason and parsed.record == poison
