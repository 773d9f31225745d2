"""The batch loop: seed log lines, order semantics, malformed input, quarantine, EMF line."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import handler
import pytest
import quarantine
import routes
from function_helpers import FakeSender, stream_record
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from records import Change, PoisonRecordError
from settings import Settings

SEED_ITEM = {
    "PK": {"S": "LAMBDA#test-processing"},
    "SK": {"S": "EVENT#001"},
    "event_type": {"S": "lambda_test"},
    "description": {"S": "Testing Lambda stream processing"},
    "created_at": {"S": "2025-08-11T16:30:00Z"},
    "test_purpose": {"S": "verify_lambda_trigger"},
}
SEED_KEYS = {"PK": SEED_ITEM["PK"], "SK": SEED_ITEM["SK"]}


def batch(*records: Any) -> dict[str, Any]:
    return {"Records": list(records)}


def numbered(n: int) -> list[dict[str, Any]]:
    return [
        stream_record("INSERT", keys={"PK": {"S": f"ITEM#{i}"}}, seq=str(1000 + i))
        for i in range(n)
    ]


# --------------------------------------------------------------------------- seed behaviour


def test_seed_test_item_yields_the_seed_log_lines(run_batch: Any) -> None:
    """The seed's lines word for word; a record's lines share ONE entry (see Observability
    in docs/function.md), the invocation summary is an entry of its own."""
    run = run_batch(batch(stream_record("INSERT", keys=SEED_KEYS, new=SEED_ITEM)))
    assert run.response == {"batchItemFailures": []}
    assert run.messages == [
        "Processing INSERT for item: LAMBDA#test-processing#EVENT#001\nProcessing INSERT event",
        "Successfully processed 1 records",
    ]


@pytest.mark.parametrize(
    ("event_name", "pk", "sk", "expected"),
    [
        ("INSERT", "USER#1", "PROFILE", "New user created - could send welcome email"),
        ("INSERT", "PRODUCT#1", "META", "New product created - could update search index"),
        ("INSERT", "USER#1", "ORDER#9", "New order created - could trigger fulfillment"),
        ("REMOVE", "USER#1", "PROFILE", "User deleted - could cleanup user data"),
        ("REMOVE", "PRODUCT#1", "META", "Product deleted - could remove from search"),
    ],
)
def test_seed_entity_lines(
    run_batch: Any, event_name: str, pk: str, sk: str, expected: str
) -> None:
    keys = {"PK": {"S": pk}, "SK": {"S": sk}}
    image = dict(keys)
    kwargs: dict[str, Any] = {"new": image} if event_name == "INSERT" else {"old": image}
    run = run_batch(batch(stream_record(event_name, keys=keys, **kwargs)))
    assert run.messages == [
        f"Processing {event_name} for item: {pk}#{sk}\nProcessing {event_name} event\n{expected}",
        "Successfully processed 1 records",
    ]


def test_seed_modify_lines_compare_values_not_strings(run_batch: Any) -> None:
    keys = {"PK": {"S": "PRODUCT#1"}, "SK": {"S": "META"}}
    old = {**keys, "status": {"S": "draft"}, "price": {"N": "10.0"}}
    same_price = {**keys, "status": {"S": "live"}, "price": {"N": "10"}}
    new_price = {**keys, "status": {"S": "live"}, "price": {"N": "12.50"}}
    run = run_batch(
        batch(
            stream_record("MODIFY", keys=keys, old=old, new=same_price, seq="1"),
            stream_record("MODIFY", keys=keys, old=same_price, new=new_price, seq="2"),
        )
    )
    assert run.messages == [
        "Processing MODIFY for item: PRODUCT#1#META\n"
        "Processing MODIFY event\n"
        "Status changed from draft to live",
        "Processing MODIFY for item: PRODUCT#1#META\n"
        "Processing MODIFY event\n"
        "Price changed from 10 to 12.50",
        "Successfully processed 2 records",
    ]
    assert (run.emf["StatusChanges"], run.emf["PriceChanges"]) == (1, 1)


def test_seed_defaults_for_absent_status_and_price(run_batch: Any) -> None:
    keys = {"PK": {"S": "X#1"}}
    run = run_batch(
        batch(stream_record("MODIFY", keys=keys, old=keys, new={**keys, "price": {"N": "5"}}))
    )
    assert "Price changed from 0 to 5" in run.lines
    assert not any(line.startswith("Status changed") for line in run.lines)


def test_modify_without_old_image_claims_no_change(run_batch: Any) -> None:
    keys = {"PK": {"S": "X#1"}}
    new = {**keys, "status": {"S": "live"}, "price": {"N": "5"}}
    run = run_batch(batch(stream_record("MODIFY", keys=keys, new=new, view="NEW_IMAGE")))
    assert not any("changed from" in line for line in run.lines)
    assert run.emf["StatusChanges"] == run.emf["PriceChanges"] == 0


def test_production_level_writes_no_per_record_lines(run_batch: Any) -> None:
    keys = {"PK": {"S": "PRODUCT#1"}}
    old = {**keys, "status": {"S": "a"}}
    new = {**keys, "status": {"S": "b"}}
    run = run_batch(batch(stream_record("MODIFY", keys=keys, old=old, new=new)), level="WARNING")
    assert run.messages == []
    assert run.emf["StatusChanges"] == 1  # metrics are counted at every level


# --------------------------------------------------------------------------- per-record entries


def test_one_info_entry_per_record_then_the_summary(
    run_batch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    users = [
        stream_record("INSERT", keys={"PK": {"S": f"USER#{i}"}, "SK": {"S": "PROFILE"}}, seq=str(i))
        for i in range(3)
    ]
    run = run_batch(batch(*users))
    assert run.messages == [
        f"Processing INSERT for item: USER#{i}#PROFILE\n"
        "Processing INSERT event\n"
        "New user created - could send welcome email"
        for i in range(3)
    ] + ["Successfully processed 3 records"]
    entries = caplog.records[:3]
    assert {(r.name, r.levelname) for r in entries} == {("stream_processor", "INFO")}
    # Built without walking the stack: the location is the method that writes the entry.
    assert {(Path(r.pathname).name, r.funcName) for r in entries} == {("routes.py", "flush_notes")}
    assert all(r.exc_info is None and r.lineno > 0 for r in entries)


def test_the_lines_grep_finds_are_still_in_the_captured_text(
    run_batch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Other tools grep captured log text for these lines as substrings."""
    run_batch(batch(stream_record("INSERT", keys=SEED_KEYS, new=SEED_ITEM)))
    assert "Processing INSERT for item: LAMBDA#test-processing#EVENT#001" in caplog.text
    assert "Processing INSERT event" in caplog.text
    assert "Successfully processed 1 records" in caplog.text


def test_noted_text_is_not_formatted_again(run_batch: Any) -> None:
    """A "%" in a key or a noted line stays as it is: a line is formatted once, when noted
    with arguments (as logging would), and the entry itself has no arguments."""
    router = routes.seed_router()

    @router.on(routes.ANY, "INSERT")
    def notes(change: Any, inv: Any) -> None:
        inv.note("50% off")
        inv.note("%d%% of %s done", 100, "it")

    keys = {"PK": {"S": "ITEM#50%s"}, "SK": {"S": "%d"}}
    run = run_batch(batch(stream_record("INSERT", keys=keys)), router=router)
    assert run.lines[:4] == [
        "Processing INSERT for item: ITEM#50%s#%d",
        "Processing INSERT event",
        "50% off",
        "100% of it done",
    ]


def test_notes_are_dropped_when_info_is_off(run_batch: Any) -> None:
    router = routes.Router()
    router.on(routes.ANY, routes.ANY)(lambda c, inv: inv.note("seen %s", c.pk))
    run = run_batch(batch(*numbered(3)), router=router, level="WARNING")
    assert run.messages == []


def test_a_failing_records_lines_come_before_its_error_entry(run_batch: Any) -> None:
    router = routes.Router()

    @router.on(routes.ANY, routes.ANY)
    def business(change: Any, inv: Any) -> None:
        inv.note("calling the shipping API for %s", change.pk)
        if change.pk == "ITEM#1":
            raise TimeoutError("downstream timed out")

    run = run_batch(batch(*numbered(3)), router=router)
    assert run.failures == ["1001"]
    assert run.messages[:3] == [
        "calling the shipping API for ITEM#0",
        "calling the shipping API for ITEM#1",
        "Record 1 failed (sequence number 1001): TimeoutError: downstream timed out",
    ]


def test_a_poison_records_lines_come_before_its_poison_entry(run_batch: Any) -> None:
    router = routes.Router()

    @router.on(routes.ANY, routes.ANY)
    def reject(change: Any, inv: Any) -> None:
        inv.note("checking %s", change.pk)
        raise PoisonRecordError("customer deleted")

    run = run_batch(batch(*numbered(1)), router=router, sender=FakeSender())
    assert run.messages[:2] == [
        "checking ITEM#0",
        "Poison record 0 (sequence number 1000): customer deleted",
    ]


def test_inv_log_still_writes_entries_of_its_own(run_batch: Any) -> None:
    router = routes.seed_router()
    router.on(routes.ANY, "INSERT")(lambda c, inv: inv.log.warning("audit %s", c.pk))
    run = run_batch(batch(stream_record("INSERT", keys=SEED_KEYS)), router=router)
    assert run.messages == [
        "audit LAMBDA#test-processing",  # written at once; the record's lines after its routes
        "Processing INSERT for item: LAMBDA#test-processing#EVENT#001\nProcessing INSERT event",
        "Successfully processed 1 records",
    ]


def test_the_entry_goes_through_logger_filters(
    run_batch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Like any entry: Lambda's handler filter adds the request id; a logger filter applies."""
    import logging

    logger = logging.getLogger("stream_processor")

    def no_lambda_items(record: logging.LogRecord) -> bool:
        return "LAMBDA#" not in record.getMessage()

    logger.addFilter(no_lambda_items)
    try:
        run = run_batch(batch(stream_record("INSERT", keys=SEED_KEYS), *numbered(1)))
    finally:
        logger.removeFilter(no_lambda_items)
    assert run.messages == [
        "Processing INSERT for item: ITEM#0#\nProcessing INSERT event",
        "Successfully processed 2 records",
    ]


# --------------------------------------------------------------------------- order semantics


@pytest.mark.parametrize("k", [0, 1, 4, 9])
def test_failure_at_k_reports_exactly_that_record_and_stops(run_batch: Any, k: int) -> None:
    records = numbered(10)
    seen: list[str] = []
    router = routes.Router()

    @router.on(routes.ANY, routes.ANY)
    def business(change: Any, inv: Any) -> None:
        seen.append(change.sequence_number)
        if change.pk == f"ITEM#{k}":
            raise TimeoutError("downstream timed out")

    run = run_batch(batch(*records), router=router)
    assert run.failures == [str(1000 + k)]
    assert seen == [str(1000 + i) for i in range(k + 1)]  # nothing after k ran
    assert run.emf["RecordsProcessed"] == k
    assert run.emf["RecordsFailed"] == 1
    assert any("Stopped at record" in m for m in run.messages)


def test_all_success_returns_an_empty_list(run_batch: Any) -> None:
    run = run_batch(batch(*numbered(25)))
    assert run.response == {"batchItemFailures": []}
    assert run.emf["RecordsProcessed"] == 25


def test_lambda_handler_entry_point(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "prod-fn")
    monkeypatch.setenv("METRICS_NAMESPACE", "Shop/Streams")
    assert handler.lambda_handler(batch(*numbered(3)), object()) == {"batchItemFailures": []}
    (line,) = capsys.readouterr().out.splitlines()
    emf = json.loads(line)
    assert emf["FunctionName"] == "prod-fn"
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Shop/Streams"


# --------------------------------------------------------------------------- malformed input


def test_no_records_key_processes_nothing(run_batch: Any) -> None:
    run = run_batch({"hello": "console test"})
    assert run.response == {"batchItemFailures": []}
    assert any("no 'Records'" in m for m in run.messages)


def test_empty_records(run_batch: Any) -> None:
    run = run_batch({"Records": []})
    assert run.response == {"batchItemFailures": []}
    assert run.emf["RecordsProcessed"] == 0


@pytest.mark.parametrize("event", [{"Records": {"a": 1}}, {"Records": "x"}, {"Records": None}])
def test_records_not_a_list_fails_the_invocation(event: Any) -> None:
    with pytest.raises(TypeError, match="Records"):
        handler.process_event(event, settings=Settings(), metrics_stream=_Sink())


@pytest.mark.parametrize("event", [None, [], "Records"])
def test_event_not_an_object_fails_the_invocation(event: Any) -> None:
    with pytest.raises(TypeError, match="event"):
        handler.process_event(event, settings=Settings(), metrics_stream=_Sink())


class _Sink:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


def test_emf_line_is_written_even_when_the_invocation_fails() -> None:
    sink = _Sink()
    with pytest.raises(TypeError):
        handler.process_event({"Records": 5}, settings=Settings(), metrics_stream=sink)
    assert json.loads(sink.text)["RecordsProcessed"] == 0


def _poison(mutate: Any) -> dict[str, Any]:
    record = stream_record(
        "MODIFY",
        keys={"PK": {"S": "PRODUCT#1"}},
        old={"status": {"S": "a"}, "price": {"N": "1"}},
        new={"status": {"S": "b"}, "price": {"N": "2"}},
        seq="2000",
    )
    mutate(record)
    return record


def _set(path: list[str], value: Any) -> Any:
    def mutate(record: dict[str, Any]) -> None:
        target = record
        for name in path[:-1]:
            target = target[name]
        target[path[-1]] = value

    return mutate


def _drop(path: list[str]) -> Any:
    def mutate(record: dict[str, Any]) -> None:
        target = record
        for name in path[:-1]:
            target = target[name]
        del target[path[-1]]

    return mutate


# (name, mutation, fragment of the reason): every one is quarantined with that reason.
POISON = [
    ("missing dynamodb", _drop(["dynamodb"]), "no 'dynamodb'"),
    ("dynamodb not an object", _set(["dynamodb"], [1]), "no 'dynamodb'"),
    ("missing Keys", _drop(["dynamodb", "Keys"]), "Keys"),
    ("empty Keys", _set(["dynamodb", "Keys"], {}), "Keys"),
    ("Keys not an object", _set(["dynamodb", "Keys"], "PK"), "Keys"),
    ("unknown eventName", _set(["eventName"], "UPSERT"), "unknown eventName"),
    ("missing eventName", _drop(["eventName"]), "unknown eventName"),
    ("eventName a list", _set(["eventName"], ["MODIFY"]), "unknown eventName"),
    ("eventName an object", _set(["eventName"], {"S": "MODIFY"}), "unknown eventName"),
    ("bad base64", _set(["dynamodb", "NewImage", "status"], {"B": "@@@"}), "B value"),
    ("unknown type tag", _set(["dynamodb", "NewImage", "price"], {"Q": "1"}), "type tag"),
    ("non-numeric N", _set(["dynamodb", "NewImage", "price"], {"N": "ten"}), "N value"),
    ("two type tags", _set(["dynamodb", "OldImage", "status"], {"S": "a", "N": "1"}), "tag"),
    ("bad key value", _set(["dynamodb", "Keys", "PK"], {"S": None}), "S value"),
    ("NewImage not an object", _set(["dynamodb", "NewImage"], "x"), "NewImage"),
]


@pytest.mark.parametrize(("name", "mutate", "reason"), POISON, ids=[p[0] for p in POISON])
def test_poison_records_are_quarantined_and_the_batch_continues(
    run_batch: Any, name: str, mutate: Any, reason: str
) -> None:
    records = numbered(3)
    poison = _poison(mutate)
    sender = FakeSender()
    run = run_batch(batch(records[0], poison, records[1], records[2]), sender=sender)
    assert run.response == {"batchItemFailures": []}
    assert run.emf["RecordsQuarantined"] == 1
    assert run.emf["RecordsProcessed"] == 3
    (bodies,) = sender.batches
    (parsed,), incomplete = quarantine.reassemble(bodies)
    assert incomplete == {}
    assert parsed.record == poison  # the full raw record, as delivered
    assert reason in parsed.reason
    assert parsed.function_name == "test-fn"


def test_missing_sequence_number_is_quarantined(run_batch: Any) -> None:
    poison = _poison(_drop(["dynamodb", "SequenceNumber"]))
    sender = FakeSender()
    run = run_batch(batch(poison, *numbered(2)), sender=sender)
    assert run.response == {"batchItemFailures": []}
    (parsed,), _ = quarantine.reassemble(sender.batches[0])
    assert parsed.sequence_number is None and "SequenceNumber" in parsed.reason


@pytest.mark.parametrize("record", [None, "a record", 42, ["list"]])
def test_record_not_an_object_is_quarantined(run_batch: Any, record: Any) -> None:
    sender = FakeSender()
    run = run_batch(batch(record, *numbered(1)), sender=sender)
    assert run.response == {"batchItemFailures": []}
    (parsed,), _ = quarantine.reassemble(sender.batches[0])
    assert parsed.record == record and "not an object" in parsed.reason


def test_route_may_declare_a_record_poison(run_batch: Any) -> None:
    router = routes.Router()

    @router.on(routes.ANY, "INSERT")
    def reject(change: Any, inv: Any) -> None:
        if change.pk == "ITEM#1":
            raise PoisonRecordError("order references a deleted customer")

    sender = FakeSender()
    run = run_batch(batch(*numbered(3)), router=router, sender=sender)
    assert run.response == {"batchItemFailures": []}
    (parsed,), _ = quarantine.reassemble(sender.batches[0])
    assert parsed.sequence_number == "1001"
    assert parsed.reason == "order references a deleted customer"


def test_failed_quarantine_reports_the_record_and_stops(run_batch: Any) -> None:
    poison = _poison(_set(["eventName"], "UPSERT"))
    run = run_batch(batch(numbered(1)[0], poison, *numbered(2)), sender=FakeSender(fail=True))
    assert run.failures == ["2000"]
    assert run.emf["RecordsProcessed"] == 1
    assert run.emf["RecordsQuarantined"] == 0
    assert run.emf["RecordsFailed"] == 1
    assert any("Could not quarantine" in m for m in run.messages)


def test_unset_destination_reports_the_record_and_says_why(run_batch: Any) -> None:
    poison = _poison(_set(["eventName"], "UPSERT"))
    run = run_batch(batch(poison, *numbered(2)), settings=Settings(function_name="f"))
    assert run.failures == ["2000"]
    assert any("FAILURE_DESTINATION is not set" in m for m in run.messages)


def test_unknown_destination_type_reports_the_record(run_batch: Any) -> None:
    poison = _poison(_set(["eventName"], "UPSERT"))
    settings = Settings(destination_type="kinesis", destination="arn:aws:kinesis:x")
    run = run_batch(batch(poison), settings=settings)
    assert run.failures == ["2000"]
    assert any("unknown failure destination type" in m for m in run.messages)


def test_unreportable_record_fails_the_whole_invocation() -> None:
    """No destination and no sequence number: raising is the only way not to lose it."""
    sink = _Sink()
    with pytest.raises(RuntimeError, match="no sequence number"):
        handler.process_event(
            batch(numbered(1)[0], "garbage", *numbered(1)),
            settings=Settings(),
            metrics_stream=sink,
        )
    emf = json.loads(sink.text)
    assert emf["RecordsFailed"] == 1 and emf["RecordsProcessed"] == 1


def test_decode_error_inside_a_route_is_poison(run_batch: Any) -> None:
    router = routes.Router()

    @router.on(routes.ANY, "INSERT")
    def read_all(change: Any, inv: Any) -> None:
        change.new_image.to_dict()

    bad = stream_record("INSERT", new={"x": {"N": "1.2.3"}}, seq="7")
    sender = FakeSender()
    run = run_batch(batch(bad), router=router, sender=sender)
    assert run.response == {"batchItemFailures": []}
    assert run.emf["RecordsQuarantined"] == 1


def test_handler_does_not_mutate_the_event(run_batch: Any) -> None:
    import copy

    event = batch(*numbered(2), _poison(_set(["eventName"], "X")))
    before = copy.deepcopy(event)
    handler.process_event(event, settings=Settings(), sender=FakeSender(), metrics_stream=_Sink())
    assert event == before


# --------------------------------------------------------------------------- EMF


def test_one_emf_line_with_the_contract_names(run_batch: Any) -> None:
    keys = {"PK": {"S": "P#1"}}
    ttl = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    run = run_batch(
        batch(
            stream_record("INSERT", keys=keys, new=keys, seq="1"),
            stream_record(
                "MODIFY",
                keys=keys,
                old={"status": {"S": "a"}, "price": {"N": "1"}},
                new={"status": {"S": "b"}, "price": {"N": "1.0"}},
                seq="2",
            ),
            stream_record("REMOVE", keys=keys, old=keys, seq="3", userIdentity=ttl),
            stream_record("REMOVE", keys=keys, seq="4", view="KEYS_ONLY"),
            _poison(_set(["eventName"], "X")),
        ),
        sender=FakeSender(),
        settings=Settings(function_name="fn-1", metrics_namespace="NS"),
    )
    emf = run.emf
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "NS"
    assert directive["Dimensions"] == [["FunctionName"]]
    names = [m["Name"] for m in directive["Metrics"]]
    assert names == [
        "RecordsProcessed",
        "RecordsInserted",
        "RecordsModified",
        "RecordsRemoved",
        "TtlExpiries",
        "StatusChanges",
        "PriceChanges",
        "RecordsFailed",
        "RecordsQuarantined",
    ]
    assert {m["Unit"] for m in directive["Metrics"]} == {"Count"}
    assert isinstance(emf["_aws"]["Timestamp"], int)
    assert emf["FunctionName"] == "fn-1"
    assert {name: emf[name] for name in names} == {
        "RecordsProcessed": 4,
        "RecordsInserted": 1,
        "RecordsModified": 1,
        "RecordsRemoved": 2,
        "TtlExpiries": 1,
        "StatusChanges": 1,
        "PriceChanges": 0,
        "RecordsFailed": 0,
        "RecordsQuarantined": 1,
    }


def test_settings_from_environment() -> None:
    env = {
        "FAILURE_DESTINATION_TYPE": " SQS ",
        "FAILURE_DESTINATION": "https://sqs.eu-west-1.amazonaws.com/1/q",
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_REGION": "eu-west-1",
    }
    settings = Settings.from_env(env)
    assert settings.destination_type == "sqs"
    assert settings.destination == "https://sqs.eu-west-1.amazonaws.com/1/q"
    assert settings.metrics_namespace == "DynamoDBStreamProcessor"
    assert settings.function_name == "fn"
    empty = Settings.from_env({})
    assert empty.destination is None and empty.function_name == "local"


def test_no_boto3_or_heavy_imports_outside_the_quarantine_path() -> None:
    """Cold start: the module and a normal batch import neither boto3 nor typing."""
    import subprocess
    import sys

    from function_helpers import FUNCTION_DIR

    code = "\n".join(
        [
            f"import sys, io; sys.path.insert(0, {str(FUNCTION_DIR)!r})",
            "import handler",
            "handler.process_event({'Records': []}, metrics_stream=io.StringIO())",
            "print(sorted(m for m in ('boto3', 'botocore', 'typing', 'gzip') if m in sys.modules))",
        ]
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- envelope check

_DELETE = object()
# JSON values that sit on either side of an envelope rule, equally likely.
_JSON_VALUES = st.sampled_from(
    [
        _DELETE,
        None,
        True,
        0,
        7,
        "",
        "1",
        "INSERT",
        "MODIFY",
        "REMOVE",
        "ORDER#1",
        [],
        ["INSERT"],
        {},
        {"S": ""},
        {"S": "x"},
        {"S": None},
        {"S": 5},
        {"N": "7"},
        {"N": "x"},
        {"B": "QQ=="},
        {"S": "x", "N": "1"},
    ]
)
_FIELDS = [
    ("eventName",),
    ("dynamodb",),
    ("dynamodb", "Keys"),
    ("dynamodb", "SequenceNumber"),
    ("dynamodb", "Keys", "PK"),
    ("dynamodb", "Keys", "SK"),
    ("dynamodb", "Keys", "PK", "S"),
    ("dynamodb", "Keys", "SK", "S"),
]


@hypothesis_settings(max_examples=600, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_FIELDS), _JSON_VALUES), max_size=3))
def test_the_loop_accepts_exactly_what_change_accepts(mutations: list[Any]) -> None:
    """The batch loop checks the common envelope shape inline and hands every other record
    to Change(); whatever the shape, a route sees the fields Change() reads, and a record
    Change() refuses is quarantined with Change()'s reason."""
    record: Any = stream_record(
        "MODIFY", keys={"PK": {"S": "USER#1"}, "SK": {"S": "ORDER#1"}}, seq="42"
    )
    for path, value in mutations:
        target = record
        for name in path[:-1]:
            target = target.get(name) if type(target) is dict else None
        if type(target) is dict:
            if value is _DELETE:
                target.pop(path[-1], None)
            else:
                target[path[-1]] = copy.deepcopy(value)  # never share: no cycles
    try:
        change = Change(copy.deepcopy(record))
        expected: Any = (change.event_name, change.sequence_number, change.pk, change.sk)
    except PoisonRecordError as exc:
        expected = exc.reason

    seen: list[Any] = []
    router = routes.Router()
    router.on(routes.ANY, routes.ANY)(
        lambda c, inv: seen.append((c.event_name, c.sequence_number, c.pk, c.sk, c.raw))
    )
    sender = FakeSender()
    response = handler.process_event(
        {"Records": [record]},
        router=router,
        sender=sender,
        settings=Settings(function_name="f"),
        metrics_stream=_Sink(),
    )
    assert response == {"batchItemFailures": []}
    if isinstance(expected, str):
        assert seen == []
        (parsed,), _ = quarantine.reassemble(sender.batches[0])
        assert parsed.reason == expected
    else:
        assert [entry[:4] for entry in seen] == [expected]
        assert seen[0][4] is record
        assert sender.batches == []
