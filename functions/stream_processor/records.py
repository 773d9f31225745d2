"""The record model: one ``Change`` per DynamoDB Streams record, decoded only when asked.

Why it exists: stream records carry item images as DynamoDB JSON (``{"price": {"N": "10.0"}}``).
Comparing those raw shapes compares strings ("10.0" != "10"), leaves binary values as base64
text, and decoding whole images up front costs most of a batch's CPU at 128 MB. A ``Change``
validates only the envelope (event name, keys, sequence number) when built, and decodes an
image attribute the first time it is read, caching the result.

Decoded types (every value DynamoDB can hold):

==========  ===========================================================
tag         Python value
==========  ===========================================================
S           ``str``
N           ``int`` when the text is an integer literal, else ``decimal.Decimal``
            (exact up to DynamoDB's 38 digits; never ``float``)
B           ``bytes`` (the stream delivers base64 text; decoded strictly)
BOOL        ``bool``
NULL        ``None``
M           ``dict[str, value]`` (decoded recursively)
L           ``list[value]``
SS          ``set[str]``
NS          ``set[int | Decimal]``
BS          ``set[bytes]``
==========  ===========================================================

Anything that does not fit (unknown tag, two tags, wrong JSON type, bad base64, a number
that is not finite decimal text or that DynamoDB cannot hold: more than 38 significant
digits, or a magnitude outside 1E-130 to 9.99...E+125; maps and lists nested deeper than
Python's stack) raises ``DecodeError``: the value can never be decoded, so the record is
poison (see ``handler``). A malformed envelope raises ``MalformedRecordError`` and an
event name other than INSERT/MODIFY/REMOVE raises ``UnknownEventError``; all three are
``PoisonRecordError``. A route may raise ``PoisonRecordError`` itself to quarantine a
record it knows can never succeed.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping

TYPE_CHECKING = False  # typing is not imported at run time: it is cold-start time
if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime
    from typing import Any

    _MappingBase = Mapping[str, Any]
else:
    _MappingBase = Mapping

INSERT = "INSERT"
MODIFY = "MODIFY"
REMOVE = "REMOVE"
EVENT_NAMES = frozenset((INSERT, MODIFY, REMOVE))

TTL_PRINCIPAL = "dynamodb.amazonaws.com"


class PoisonRecordError(Exception):
    """A record that can never be processed successfully, however often it is retried."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MalformedRecordError(PoisonRecordError):
    """The record's envelope is not a DynamoDB Streams record (missing or mistyped fields)."""


class UnknownEventError(PoisonRecordError):
    """The record's ``eventName`` is not INSERT, MODIFY or REMOVE."""


class DecodeError(PoisonRecordError):
    """An attribute value is not valid DynamoDB JSON."""


# --------------------------------------------------------------------------- decoding

_Decimal: Any = None


def _load_decimal() -> Any:
    # decimal is imported on the first non-integer number: most keys and counters are
    # integers, and an import at module level is cold-start time for every container.
    global _Decimal
    from decimal import Decimal

    _Decimal = Decimal
    return Decimal


# DynamoDB's Number type holds at most 38 significant digits, at a magnitude from 1E-130 to
# 9.9999999999999999999999999999999999999E+125 (positive or negative), or zero; leading and
# trailing zeros are trimmed, so they are not significant. Amazon DynamoDB Developer Guide,
# "Supported data types and naming rules", Number:
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number
# A number outside that can never come from DynamoDB, and one like 1E+1000000 makes int()
# or format(x, "f") in a route run for many seconds (a timeout loop blocking the shard), so
# it is undecodable: the record is poison. The checks are cheap (lengths, strip, adjusted()).
MAX_SIGNIFICANT_DIGITS = 38
MIN_EXPONENT = -130  # of the leading digit (Decimal.adjusted()): 1E-130
MAX_EXPONENT = 125  # 9.99...E+125
# An integer literal of up to 38 digits is always in range. Longer ones are valid too when
# their trailing zeros are many: DynamoDB sends 1E+100 as "1" and 100 zeros.
_MAX_INTEGER_DIGITS = MAX_EXPONENT + 1


def _number(text: Any) -> Any:
    # Cheapest test first: most numbers are non-negative integers. The checks refuse what
    # int()/Decimal() would accept but DynamoDB never sends (spaces, "_", non-ASCII digits).
    if type(text) is str and text.isascii():
        if text.isdigit():
            if len(text) <= MAX_SIGNIFICANT_DIGITS:
                return int(text)
            return _long_integer(text, text)
        elif text[1:].isdigit() and text[0] == "-":
            if len(text) <= MAX_SIGNIFICANT_DIGITS + 1:
                return int(text)
            return -_long_integer(text[1:], text)
        elif "_" not in text and text == text.strip():
            try:
                value = (_Decimal or _load_decimal())(text)
            except ArithmeticError:  # decimal.InvalidOperation
                pass
            else:
                if value.is_finite():
                    if not MIN_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
                        raise _out_of_range(text)
                    # Up to 39 characters, one at least not a digit: 38 digits at most.
                    if len(text) > MAX_SIGNIFICANT_DIGITS + 1 and _too_precise(text):
                        raise _imprecise(text)
                    return value
    raise DecodeError(f"N value is not a decimal number: {_preview(text)}")


def _long_integer(digits: str, text: str) -> int:
    """An integer literal of more than 38 digits (``digits`` without its sign): leading zeros
    are not significant (accepted, though DynamoDB never sends them), trailing ones are not
    significant either but count towards the magnitude."""
    magnitude = digits.lstrip("0")
    if len(magnitude) > _MAX_INTEGER_DIGITS:
        raise _out_of_range(text)
    if len(magnitude.rstrip("0")) > MAX_SIGNIFICANT_DIGITS:
        raise _imprecise(text)
    return int(magnitude or "0")  # at most 126 digits: int() is instant


def _too_precise(text: str) -> bool:
    """Whether decimal text (already accepted by Decimal) has more than 38 significant
    digits: those between the first and the last non-zero digit of its mantissa."""
    mantissa = text.lstrip("+-").partition("e")[0].partition("E")[0]
    return len(mantissa.replace(".", "").strip("0")) > MAX_SIGNIFICANT_DIGITS


def _out_of_range(text: str) -> DecodeError:
    return DecodeError(
        "N value is outside DynamoDB's range (magnitude 1E-130 to "
        f"9.9999999999999999999999999999999999999E+125, or 0): {_preview(text)}"
    )


def _imprecise(text: str) -> DecodeError:
    return DecodeError(f"N value has more than 38 significant digits: {_preview(text)}")


def _string(value: Any) -> str:
    if type(value) is str:
        return value
    raise DecodeError(f"S value is not a string: {_preview(value)}")


def _binary(value: Any) -> bytes:
    if type(value) is str:
        try:
            return binascii.a2b_base64(value, strict_mode=True)
        except (binascii.Error, ValueError):
            pass
    raise DecodeError(f"B value is not base64 text: {_preview(value)}")


def _boolean(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise DecodeError(f"BOOL value is not a boolean: {_preview(value)}")


def _null(value: Any) -> None:
    if value is True:
        return None
    raise DecodeError(f"NULL value is not true: {_preview(value)}")


def _map(value: Any) -> dict[str, Any]:
    if type(value) is dict:
        return {name: _decode(item) for name, item in value.items()}
    raise DecodeError(f"M value is not an object: {_preview(value)}")


def _list(value: Any) -> list[Any]:
    if type(value) is list:
        return [_decode(item) for item in value]
    raise DecodeError(f"L value is not an array: {_preview(value)}")


def _string_set(value: Any) -> set[str]:
    if type(value) is list:
        return {_string(item) for item in value}
    raise DecodeError(f"SS value is not an array: {_preview(value)}")


def _number_set(value: Any) -> set[Any]:
    if type(value) is list:
        return {_number(item) for item in value}
    raise DecodeError(f"NS value is not an array: {_preview(value)}")


def _binary_set(value: Any) -> set[bytes]:
    if type(value) is list:
        return {_binary(item) for item in value}
    raise DecodeError(f"BS value is not an array: {_preview(value)}")


_NO_TAG: Any = object()

_DECODERS = {
    "S": _string,
    "N": _number,
    "B": _binary,
    "BOOL": _boolean,
    "NULL": _null,
    "M": _map,
    "L": _list,
    "SS": _string_set,
    "NS": _number_set,
    "BS": _binary_set,
}


def decode(value: Any) -> Any:
    """Decode one DynamoDB JSON attribute value (``{"N": "10"}`` -> ``10``)."""
    try:
        return _decode(value)
    except RecursionError:
        raise _too_deep() from None


def _too_deep() -> DecodeError:
    # Decoding recurses once per level of M/L; Python's stack runs out at a few hundred.
    # A RecursionError would be retried like any error, forever: the value can never be
    # decoded, so it is a DecodeError (poison). Raised where decoding started, with the
    # stack unwound.
    return DecodeError(
        "value is nested too deeply to decode (DynamoDB allows 32 levels of nesting)"
    )


def _decode(value: Any) -> Any:
    # The recursive core of decode(); callers that already catch DecodeError call it
    # directly and catch RecursionError next to it (no extra call per value).
    if type(value) is dict and len(value) == 1:
        # S and N first, by lookup: the commonest tags, decoded without a dispatch.
        inner = value.get("S", _NO_TAG)
        if type(inner) is str:
            return inner
        inner = value.get("N", _NO_TAG)
        if inner is not _NO_TAG:
            return _number(inner)
        for tag in value:
            decoder = _DECODERS.get(tag)
            if decoder is not None:
                return decoder(value[tag])
            raise DecodeError(f"unknown attribute type tag {_preview(tag)}")
    raise DecodeError(f"attribute value is not an object with one type tag: {_preview(value)}")


def decode_image(image: Mapping[str, Any]) -> dict[str, Any]:
    """Decode a whole image (``{"name": {"S": "x"}}`` -> ``{"name": "x"}``)."""
    return {name: decode(value) for name, value in image.items()}


def _preview(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- images

_MISSING: Any = object()
_NO_ATTRIBUTES: dict[str, Any] = {}


def _in_attribute(name: str, error: DecodeError) -> DecodeError:
    return DecodeError(f"attribute {name!r}: {error.reason}")


def _decode_attribute(name: str, raw: Any) -> Any:
    try:
        return _decode(raw)
    except DecodeError as exc:
        raise _in_attribute(name, exc) from None
    except RecursionError:
        raise _in_attribute(name, _too_deep()) from None


class Image(_MappingBase):
    """An item image whose attributes are decoded one at a time, on first access.

    Behaves as a read-only ``Mapping``: ``image["price"]``, ``image.get("status", "")``,
    ``"sku" in image`` (no decoding), iteration over attribute names (no decoding),
    ``image.to_dict()`` (decodes everything). ``image.raw`` is the DynamoDB JSON.
    """

    __slots__ = ("_decoded", "raw")

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self._decoded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        value = self.get(name, _MISSING)
        if value is _MISSING:
            raise KeyError(name)
        return value

    def get(self, name: str, default: Any = None) -> Any:
        decoded = self._decoded
        if name in decoded:
            return decoded[name]
        raw = self.raw.get(name, _MISSING)
        if raw is _MISSING:
            return default
        value = decoded[name] = _decode_attribute(name, raw)
        return value

    def __contains__(self, name: object) -> bool:
        return name in self.raw

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def to_dict(self) -> dict[str, Any]:
        return {name: self[name] for name in self.raw}

    def __repr__(self) -> str:
        return f"Image({self.raw!r})"


_EMPTY_IMAGE = Image({})
_UNREAD: Any = object()  # a lazily built attribute of a Change not built yet


# --------------------------------------------------------------------------- comparing

_SETS = (set, frozenset)
_CONTAINERS = (dict, list, set, frozenset, tuple)


def same_value(a: Any, b: Any) -> bool:
    """Whether two decoded values are the same DynamoDB value.

    Python's ``==`` is not enough: ``True == 1 == Decimal(1)`` and ``False == 0``, so
    ``BOOL true`` would equal ``N "1"`` and a price changed from 1 to true would look
    unchanged. Here a bool equals only a bool, at any depth of maps, lists and sets; numbers
    still compare by value (``N "10.0"`` equals ``N "10"``: int and Decimal), sets as sets.

    Written with plain loops, one frame per level: it runs on values ``decode`` produced,
    and must never need more stack than decoding them did.
    """
    kind = type(a)
    if kind is type(b):
        if kind is dict:
            if len(a) != len(b):
                return False
            for name, value in a.items():
                other = b.get(name, _MISSING)
                if other is _MISSING or not same_value(value, other):
                    return False
            return True
        if kind is list:
            if len(a) != len(b):
                return False
            return all(map(same_value, a, b))  # map, not a generator: no extra frame
        if kind is set or kind is frozenset:
            return _same_set(a, b)
        return a == b  # str, int, Decimal, bytes, bool, None
    other_kind = type(b)
    if kind is bool or other_kind is bool:
        return False
    if kind in _SETS and other_kind in _SETS:
        return _same_set(a, b)
    if kind in _CONTAINERS or other_kind in _CONTAINERS:
        return False
    return a == b  # numbers of different types: int and Decimal (or a float default)


def _same_set(a: Any, b: Any) -> bool:
    # Equal elements of two sets hash alike, so a == b pairs every element with its equal;
    # the pairs are type-correct when both sides hold the same bools (decoded sets hold
    # strings, numbers or bytes only, so this is an empty comparison for them).
    return a == b and {x for x in a if type(x) is bool} == {x for x in b if type(x) is bool}


# --------------------------------------------------------------------------- changes


def _key_string(keys: Mapping[str, Any], name: str) -> str:
    """The string value of key attribute ``name`` ("" when absent or not a string), like the
    seed's ``keys.get(name, {}).get("S", "")`` but refusing malformed values."""
    value = keys.get(name)
    if value is None:
        return ""
    if type(value) is dict:
        text = value.get("S")
        if type(text) is str:
            return text
    decode(value)  # raises DecodeError when malformed; a valid N/B key is simply not a string
    return ""


def unknown_event(name: Any) -> UnknownEventError:
    return UnknownEventError(f"unknown eventName {_preview(name)}")


def is_ttl_identity(identity: Any) -> bool:
    """Whether a record's ``userIdentity`` is DynamoDB's Time to Live process."""
    return (
        type(identity) is dict
        and identity.get("type") == "Service"
        and identity.get("principalId") == TTL_PRINCIPAL
    )


class Change:
    """One stream record: what changed, on which item, and where it sits in the stream.

    Built from the raw record (a dict as Lambda delivers it). Construction checks only the
    envelope; images and non-string keys are decoded when read.

    - ``event_name``: INSERT, MODIFY or REMOVE; ``sequence_number``, ``event_id``,
      ``event_source_arn``, ``stream_view_type``, ``approximate_creation_time``
    - ``keys`` (``Image`` of the key attributes), ``pk``/``sk`` (the ``PK``/``SK`` strings,
      "" when absent or not strings)
    - ``old_image``/``new_image``: an ``Image``, or ``None`` when the record carries none
      (INSERT has no old image, REMOVE no new one; the stream view may omit either or both)
    - ``is_ttl_expiry``: a REMOVE made by DynamoDB's TTL process
    - ``changed(attr)``, ``old_value(attr)``, ``new_value(attr)``, ``changed_attributes()``
    - ``raw``: the record exactly as delivered
    """

    # _keys, _old and _new hold _UNREAD until first read. Not left unset: reading an unset
    # slot raises AttributeError, and catching it cost ~0.5 us per image a route reads,
    # against ~15 ns per store here.
    __slots__ = (
        "_ddb",
        "_keys",
        "_new",
        "_old",
        "event_name",
        "pk",
        "raw",
        "sequence_number",
        "sk",
    )

    def __init__(self, record: Any) -> None:
        """Check the envelope and raise the precise ``PoisonRecordError`` when it is bad.

        This is the authoritative check; the batch loop accepts the common well-formed
        shape inline (``handler._process``) and hands every other record to it."""
        if type(record) is not dict:
            raise MalformedRecordError(f"record is not an object: {_preview(record)}")
        ddb = record.get("dynamodb")
        if type(ddb) is not dict:
            raise MalformedRecordError("record has no 'dynamodb' object")
        sequence_number = ddb.get("SequenceNumber")
        if type(sequence_number) is not str or not sequence_number:
            raise MalformedRecordError("record has no 'dynamodb.SequenceNumber' string")
        keys = ddb.get("Keys")
        if type(keys) is not dict or not keys:
            raise MalformedRecordError("record has no 'dynamodb.Keys' object")
        event_name = record.get("eventName")
        # isinstance first: an unhashable JSON value (list, object) cannot be looked up in a set.
        if not isinstance(event_name, str) or event_name not in EVENT_NAMES:
            raise unknown_event(event_name)
        self.raw: dict[str, Any] = record
        self._ddb: dict[str, Any] = ddb
        self.event_name: str = event_name
        self.sequence_number: str = sequence_number
        self.pk: str = _key_string(keys, "PK")
        self.sk: str = _key_string(keys, "SK")
        self._keys: Image = _UNREAD
        self._old: Image | None = _UNREAD
        self._new: Image | None = _UNREAD

    # -- envelope

    @property
    def event_id(self) -> str | None:
        return self.raw.get("eventID")

    @property
    def event_source_arn(self) -> str | None:
        return self.raw.get("eventSourceARN")

    @property
    def stream_view_type(self) -> str | None:
        return self._ddb.get("StreamViewType")

    @property
    def approximate_creation_time(self) -> datetime | None:
        """When the change was made (UTC), or ``None`` when the record carries no usable
        ``ApproximateCreationDateTime``: it is informational, so a missing or odd value
        never makes the record poison."""
        seconds = self._ddb.get("ApproximateCreationDateTime")
        if type(seconds) is not int and type(seconds) is not float:
            return None
        from datetime import UTC, datetime

        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None

    @property
    def is_ttl_expiry(self) -> bool:
        """True for a REMOVE that DynamoDB's Time to Live process made."""
        return self.event_name == REMOVE and is_ttl_identity(self.raw.get("userIdentity"))

    # -- keys and images

    @property
    def keys(self) -> Image:
        keys = self._keys
        if keys is _UNREAD:
            keys = self._keys = Image(self._ddb["Keys"])
        return keys

    def _raw_image(self, field: str) -> dict[str, Any] | None:
        raw = self._ddb.get(field)
        if raw is None or type(raw) is dict:
            return raw
        raise MalformedRecordError(f"'dynamodb.{field}' is not an object")

    @property
    def old_image(self) -> Image | None:
        old = self._old
        if old is _UNREAD:
            raw = self._raw_image("OldImage")
            old = self._old = None if raw is None else Image(raw)
        return old

    @property
    def new_image(self) -> Image | None:
        new = self._new
        if new is _UNREAD:
            raw = self._raw_image("NewImage")
            new = self._new = None if raw is None else Image(raw)
        return new

    def _sides(self) -> tuple[Image | None, Image | None]:
        # An image that cannot exist for this event (INSERT's old, REMOVE's new) is empty;
        # an image the stream view left out is unknown (None).
        name = self.event_name
        old = _EMPTY_IMAGE if name == INSERT else self.old_image
        new = _EMPTY_IMAGE if name == REMOVE else self.new_image
        return old, new

    def old_value(self, attr: str, default: Any = None) -> Any:
        """The attribute's decoded value before the change (``default`` when absent)."""
        old = self.old_image
        return default if old is None else old.get(attr, default)

    def new_value(self, attr: str, default: Any = None) -> Any:
        """The attribute's decoded value after the change (``default`` when absent)."""
        new = self.new_image
        return default if new is None else new.get(attr, default)

    def changed(self, attr: str, default: Any = _MISSING) -> bool:
        """Whether ``attr``'s value differs between the images, compared as decoded values
        by ``same_value`` (``N "10.0"`` equals ``N "10"``; sets compare as sets; ``BOOL true``
        never equals ``N "1"``, nor ``BOOL false`` an absent attribute defaulting to 0).

        An absent attribute counts as ``default`` when one is given (the seed treated a
        missing price as 0), otherwise as a value of its own. Returns False when an image
        needed for the comparison is not in the record (KEYS_ONLY, NEW_IMAGE or OLD_IMAGE
        views): nothing is claimed that the record does not show.
        """
        name = self.event_name
        ddb = self._ddb
        old_raw = _NO_ATTRIBUTES if name == INSERT else ddb.get("OldImage")
        new_raw = _NO_ATTRIBUTES if name == REMOVE else ddb.get("NewImage")
        if type(old_raw) is not dict or type(new_raw) is not dict:
            if old_raw is None or new_raw is None:
                return False
            raise MalformedRecordError("'dynamodb.OldImage' or 'NewImage' is not an object")
        before = old_raw.get(attr, _MISSING)
        after = new_raw.get(attr, _MISSING)
        if before == after:
            # Identical DynamoDB JSON decodes to identical values: most unchanged
            # attributes are settled without decoding anything.
            return False
        try:
            old_value = default if before is _MISSING else _decode(before)
            new_value = default if after is _MISSING else _decode(after)
        except DecodeError as exc:
            raise _in_attribute(attr, exc) from None
        except RecursionError:
            raise _in_attribute(attr, _too_deep()) from None
        if type(old_value) is str and type(new_value) is str:
            return old_value != new_value  # the commonest case, settled without a call
        return not same_value(old_value, new_value)

    def changed_attributes(self) -> set[str]:
        """Names of every attribute whose value differs (decodes both images in full);
        empty when an image needed for the comparison is not in the record."""
        old, new = self._sides()
        if old is None or new is None:
            return set()
        return {
            name
            for name in set(old) | set(new)
            if not same_value(old.get(name, _MISSING), new.get(name, _MISSING))
        }

    def __repr__(self) -> str:
        return (
            f"Change({self.event_name} {self.pk}#{self.sk} "
            f"seq={self.sequence_number} id={self.event_id})"
        )


class CheckedChange(Change):
    """A ``Change`` for a record whose envelope the caller has already checked at least as
    strictly as ``Change(record)`` does: the batch loop (``handler._process``), which reads
    these fields anyway. Building it is six slot stores, not a second pass over the record."""

    __slots__ = ()

    def __init__(
        self,
        record: dict[str, Any],
        ddb: dict[str, Any],
        event_name: str,
        sequence_number: str,
        pk: str,
        sk: str,
    ) -> None:
        self.raw = record
        self._ddb = ddb
        self.event_name = event_name
        self.sequence_number = sequence_number
        self.pk = pk
        self.sk = sk
        self._keys = self._old = self._new = _UNREAD
