"""`filter test` (streamops/cli/filter.py): exit 0 when the record matches, 1 when it
matches no pattern (with the first failing key and why), 2 for bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from streamops.cli.filter import app
from streamops.lambda_local import filter_tester
from streamops.program import load_stack_config

ROOT = Path(__file__).resolve().parents[2]
STATUS_CHANGED = f"@{ROOT / 'docs/examples/order-status-changed.json'}"
INSERTS_ONLY = '{"dynamodb": {"OldImage": {"PK": {"S": [{"exists": false}]}}}}'


def order(status: str, order_id: str = "o1001") -> str:
    return json.dumps(
        {
            "PK": {"S": "USER#u1"},
            "SK": {"S": f"ORDER#{order_id}"},
            "total": {"N": "29.98"},
            "status": {"S": status},
        }
    )


def invoke(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(app, ["test", *args], input=stdin)


def test_an_order_whose_status_changed_matches_the_readme_pattern() -> None:
    result = invoke(
        "--pattern", STATUS_CHANGED, "--item", order("paid"), "--event-name", "MODIFY",
        "--old-item", order("pending"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "  matches\n=> delivered to the function" in result.output


def test_a_new_order_misses_and_the_report_names_the_first_failing_key() -> None:
    result = invoke("--pattern", STATUS_CHANGED, "--item", order("paid"))
    assert result.exit_code == 1, result.output
    assert ("no match at dynamodb.$or[0].OldImage.status.S: not in the record") in result.output
    assert "=> filtered out: Lambda skips this record" in result.output


def test_json_output_carries_each_pattern_verdict() -> None:
    product = '{"PK": {"S": "PRODUCT#p1"}, "SK": {"S": "DETAILS"}, "price": {"N": "17.99"}}'
    result = invoke(
        "--pattern", STATUS_CHANGED, "--item", product, "--event-name", "MODIFY",
        "--old-item", product, "--json",
    )  # fmt: skip
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["matched"] is False
    assert [(p["key"], p["reason"]) for p in report["patterns"]] == [
        (
            "dynamodb.Keys.SK.S",
            'the record has "DETAILS", which matches none of [{"prefix":"ORDER#"}]',
        )
    ]
    assert report["record"]["dynamodb"]["OldImage"]["price"] == {"N": "17.99"}


def test_a_record_is_read_from_a_file_or_stdin(tmp_path: Path) -> None:
    record = filter_tester.stream_record(json.loads(order("paid")), "INSERT", "NEW_AND_OLD_IMAGES")
    path = tmp_path / "record.json"
    path.write_text(json.dumps({"Records": [record]}))  # a Lambda event with one record
    assert invoke("--pattern", INSERTS_ONLY, str(path)).exit_code == 0
    assert invoke("--pattern", INSERTS_ONLY, "-", stdin=json.dumps(record)).exit_code == 0
    modify = {**record, "dynamodb": {**record["dynamodb"], "OldImage": json.loads(order("new"))}}
    assert invoke("--pattern", INSERTS_ONLY, "-", stdin=json.dumps(modify)).exit_code == 1


def with_patterns(monkeypatch: pytest.MonkeyPatch, patterns: list[Any], view: str) -> None:
    real = load_stack_config("dev")
    key, table_key = "dynamodb-stream-processor:trigger", "dynamodb-stream-processor:table"
    config = {
        **real,
        key: {**real[key], "filterPatterns": patterns},
        table_key: {**real[table_key], "streamViewType": view},
    }
    monkeypatch.setattr(filter_tester, "load_stack_config", lambda stack: config)


def test_the_stack_patterns_and_view_type_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    removes = {"dynamodb": {"NewImage": {"PK": {"S": [{"exists": False}]}}}}
    with_patterns(monkeypatch, [json.loads(INSERTS_ONLY), removes], "NEW_AND_OLD_IMAGES")
    result = invoke("--stack", "dev", "--item", order("paid"), "--event-name", "REMOVE")
    assert result.exit_code == 0, result.output
    assert result.output.count("  matches") == 1  # the REMOVE pattern, not the INSERT one

    with_patterns(monkeypatch, [json.loads(INSERTS_ONLY)], "NEW_IMAGE")
    result = invoke("--stack", "dev", "--item", order("paid"))
    assert result.exit_code == 2  # the config refuses an OldImage pattern on NEW_IMAGE
    assert "trigger.filterPatterns filters on dynamodb.OldImage" in result.output


def test_a_stack_without_patterns_delivers_every_record() -> None:
    result = invoke("--stack", "dev", "--item", order("paid"))
    assert result.exit_code == 0
    assert "no patterns, so every record is delivered" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--pattern", '{"eventName": ["INSERT"]}', "--item", order("paid")],
            "--pattern.eventName: DynamoDB event source mappings only support",
        ),
        (["--pattern", "{not json", "--item", order("paid")], "--pattern is not JSON"),
        (["--item", order("paid")], "give --stack NAME"),
        # Neither a record nor an item: say what to give (it said "..., not both").
        (["--pattern", INSERTS_ONLY], "give a RECORD (file or -) or --item"),
        (["--pattern", INSERTS_ONLY, "-", "--item", order("paid")], "not both"),
        (
            ["--pattern", INSERTS_ONLY, "--item", order("paid"), "--event-name", "MODIFY"],
            "a MODIFY needs --old-item",
        ),
        (
            ["--pattern", INSERTS_ONLY, "--item", '{"PK": {"S": "A"}}'],
            "the item lacks its key attribute(s) SK",
        ),
        (
            ["--pattern", INSERTS_ONLY, "--item", '{"PK": "A", "SK": "B"}'],
            "--item.PK must be a typed value in DynamoDB JSON",
        ),
        (
            ["--pattern", INSERTS_ONLY, "--item", order("paid"), "--event-name", "UPSERT"],
            "--event-name must be one of",
        ),
        (["--stack", "nope", "--item", order("paid")], "no stack 'nope'"),
        (["--pattern", INSERTS_ONLY, "-"], "the record is not JSON"),
        (["--pattern", INSERTS_ONLY, "missing.json"], "RECORD: cannot read missing.json"),
    ],
)
def test_bad_input_exits_2_and_says_why(args: list[str], message: str) -> None:
    result = invoke(*args, stdin="")
    assert result.exit_code == 2, result.output
    assert message in result.output


@pytest.mark.parametrize(
    ("event", "view", "images"),
    [
        ("INSERT", "NEW_AND_OLD_IMAGES", {"NewImage"}),
        ("MODIFY", "NEW_AND_OLD_IMAGES", {"NewImage", "OldImage"}),
        ("REMOVE", "NEW_AND_OLD_IMAGES", {"OldImage"}),
        ("MODIFY", "NEW_IMAGE", {"NewImage"}),
        ("MODIFY", "OLD_IMAGE", {"OldImage"}),
        ("MODIFY", "KEYS_ONLY", set()),
    ],
)
def test_an_item_is_wrapped_as_its_view_type_records_it(
    event: str, view: str, images: set[str]
) -> None:
    item = json.loads(order("paid"))
    old = json.loads(order("pending")) if event == "MODIFY" else None
    record = filter_tester.stream_record(item, event, view, old)
    assert set(record["dynamodb"]) & {"NewImage", "OldImage"} == images
    assert record["dynamodb"]["Keys"] == {"PK": {"S": "USER#u1"}, "SK": {"S": "ORDER#o1001"}}
    assert (record["eventName"], record["dynamodb"]["StreamViewType"]) == (event, view)


KEEP_ONLY = {  # the README's "keeping one kind of change" table
    "INSERT": '{"dynamodb": {"OldImage": {"PK": {"S": [{"exists": false}]}}}}',
    "REMOVE": '{"dynamodb": {"NewImage": {"PK": {"S": [{"exists": false}]}}}}',
    "MODIFY": '{"dynamodb": {"OldImage": {"PK": {"S": [{"exists": true}]}}, '
    '"NewImage": {"PK": {"S": [{"exists": true}]}}}}',
}
TTL_CANDIDATES = (
    '{"dynamodb": {"NewImage": {"PK": {"S": [{"exists": false}]}}, '
    '"OldImage": {"expires_at": {"N": [{"exists": true}]}}}}'
)


@pytest.mark.parametrize("kept", sorted(KEEP_ONLY))
def test_the_readme_keep_only_patterns_keep_exactly_their_kind(kept: str) -> None:
    assert f"`{KEEP_ONLY[kept]}`" in (ROOT / "README.md").read_text()
    patterns = filter_tester.given_pattern(KEEP_ONLY[kept], "NEW_AND_OLD_IMAGES")
    item, old = json.loads(order("paid")), json.loads(order("pending"))
    for event in ("INSERT", "MODIFY", "REMOVE"):
        record = filter_tester.stream_record(
            item, event, "NEW_AND_OLD_IMAGES", old if event == "MODIFY" else None
        )
        assert filter_tester.evaluate(patterns, record).matched is (event == kept), event


def test_the_readme_ttl_pattern_keeps_removes_of_items_with_the_ttl_attribute() -> None:
    assert f"`{TTL_CANDIDATES}`" in (ROOT / "README.md").read_text()
    patterns = filter_tester.given_pattern(TTL_CANDIDATES, "NEW_AND_OLD_IMAGES")
    session = {"PK": {"S": "SESSION#s1"}, "SK": {"S": "SESSION"}, "expires_at": {"N": "1700000000"}}
    user = json.loads(order("paid"))
    removed = filter_tester.stream_record(session, "REMOVE", "NEW_AND_OLD_IMAGES")
    assert filter_tester.evaluate(patterns, removed).matched
    assert not filter_tester.evaluate(
        patterns, filter_tester.stream_record(user, "REMOVE", "NEW_AND_OLD_IMAGES")
    ).matched
    assert not filter_tester.evaluate(
        patterns, filter_tester.stream_record(session, "INSERT", "NEW_AND_OLD_IMAGES")
    ).matched
