"""Redrive's small pieces: the atomic archive, holding SQS messages, the command line."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from streamops.redrive import command as redrive
from streamops.redrive.archive import write_jsonl
from streamops.redrive.failure_queue import FailureQueue, QueueError

URL = "https://sqs.us-east-1.amazonaws.com/111111111111/failures"


def test_the_archive_is_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    assert write_jsonl(target, [{"a": 1}, {"b": "ü"}]) == 2
    assert [json.loads(line) for line in target.read_text("utf-8").splitlines()] == [
        {"a": 1},
        {"b": "ü"},
    ]
    assert list(tmp_path.iterdir()) == [target]


def test_a_crash_while_archiving_leaves_no_partial_file_and_the_old_one_intact(
    tmp_path: Path,
) -> None:
    def entries() -> Iterator[dict[str, Any]]:
        yield {"first": 1}
        raise KeyboardInterrupt  # Ctrl-C half way

    fresh = tmp_path / "fresh.jsonl"
    with pytest.raises(KeyboardInterrupt):
        write_jsonl(fresh, entries())
    assert list(tmp_path.iterdir()) == []

    kept = tmp_path / "kept.jsonl"
    write_jsonl(kept, [{"old": True}])
    with pytest.raises(KeyboardInterrupt):
        write_jsonl(kept, entries())
    assert kept.read_text() == '{"old": true}\n'
    assert list(tmp_path.iterdir()) == [kept]


def test_the_archive_directory_must_exist(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_jsonl(tmp_path / "missing" / "out.jsonl", [])


def sqs_stub() -> tuple[Any, Stubber]:
    client = boto3.client(
        "sqs", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    return client, Stubber(client)


def received(*ids: str, handle: str = "h") -> dict[str, Any]:
    return {
        "Messages": [
            {
                "MessageId": message_id,
                "ReceiptHandle": f"{handle}-{message_id}",
                "Body": "{}",
                "Attributes": {"SentTimestamp": "1767225600000", "ApproximateReceiveCount": "1"},
            }
            for message_id in ids
        ]
    }


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_messages_are_held_extended_at_half_time_deleted_and_the_rest_released() -> None:
    client, stubber = sqs_stub()
    clock = Clock()
    receive = {
        "QueueUrl": URL,
        "MaxNumberOfMessages": 10,
        "VisibilityTimeout": 100,
        "WaitTimeSeconds": 0,
        "AttributeNames": ["SentTimestamp", "ApproximateReceiveCount"],
    }
    stubber.add_response("receive_message", received("a", "b"), receive)
    stubber.add_response("receive_message", received("b", handle="again"), receive)
    stubber.add_response("receive_message", {}, receive)
    extend = [
        {"Id": "0", "ReceiptHandle": "h-a", "VisibilityTimeout": 100},
        {"Id": "1", "ReceiptHandle": "again-b", "VisibilityTimeout": 100},
    ]
    stubber.add_response(
        "change_message_visibility_batch",
        {"Successful": [], "Failed": []},
        {"QueueUrl": URL, "Entries": extend},
    )
    stubber.add_response(
        "delete_message_batch",
        {"Successful": [{"Id": "0"}], "Failed": []},
        {"QueueUrl": URL, "Entries": [{"Id": "0", "ReceiptHandle": "h-a"}]},
    )
    stubber.add_response(
        "change_message_visibility_batch",
        {"Successful": [{"Id": "0"}], "Failed": []},
        {
            "QueueUrl": URL,
            "Entries": [{"Id": "0", "ReceiptHandle": "again-b", "VisibilityTimeout": 0}],
        },
    )
    with (
        stubber,
        FailureQueue(client, URL, visibility_seconds=100, wait_seconds=0, clock=clock) as queue,
    ):
        messages = queue.receive()
        assert [message.message_id for message in messages] == ["a", "b"]  # b once
        clock.now = 49
        queue.keep_alive()  # not yet half the timeout
        clock.now = 50
        queue.keep_alive()
        queue.delete(["a"])
        assert queue.held_ids == {"b"}
    stubber.assert_no_pending_responses()
    assert queue.held_ids == set()


def test_a_refused_delete_keeps_the_message_and_says_so() -> None:
    client, stubber = sqs_stub()
    stubber.add_response("receive_message", received("a"))
    stubber.add_response("receive_message", {})
    stubber.add_response(
        "delete_message_batch",
        {
            "Successful": [],
            "Failed": [
                {"Id": "0", "SenderFault": True, "Code": "ReceiptHandleIsInvalid", "Message": "x"}
            ],
        },
    )
    stubber.add_response(
        "change_message_visibility_batch", {"Successful": [{"Id": "0"}], "Failed": []}
    )
    with stubber, FailureQueue(client, URL, wait_seconds=0) as queue:
        queue.receive()
        with pytest.raises(QueueError, match=r"ReceiptHandleIsInvalid.*they stay"):
            queue.delete(["a"])
        assert queue.held_ids == {"a"}


def test_releasing_at_the_end_never_hides_the_error_that_ended_the_run() -> None:
    client, stubber = sqs_stub()
    stubber.add_response("receive_message", received("a"))
    stubber.add_response("receive_message", {})
    stubber.add_client_error("change_message_visibility_batch", "ServiceUnavailable")
    queue = FailureQueue(client, URL, wait_seconds=0)
    with pytest.raises(KeyboardInterrupt), stubber, queue:
        queue.receive()
        raise KeyboardInterrupt
    assert "ServiceUnavailable" in queue.warnings[0]


def test_at_most_max_messages_are_received() -> None:
    client, stubber = sqs_stub()
    stubber.add_response(
        "receive_message",
        received("a", "b"),
        {
            "QueueUrl": URL,
            "MaxNumberOfMessages": 3,
            "VisibilityTimeout": ANY,
            "WaitTimeSeconds": ANY,
            "AttributeNames": ANY,
        },
    )
    stubber.add_response(
        "receive_message",
        received("c"),
        {
            "QueueUrl": URL,
            "MaxNumberOfMessages": 1,
            "VisibilityTimeout": ANY,
            "WaitTimeSeconds": ANY,
            "AttributeNames": ANY,
        },
    )
    with stubber:
        queue = FailureQueue(client, URL, wait_seconds=0)
        assert [message.message_id for message in queue.receive(3)] == ["a", "b", "c"]


def test_a_visibility_timeout_outside_sqs_limits_is_refused() -> None:
    client, _ = sqs_stub()
    with pytest.raises(ValueError, match="visibility timeout"):
        FailureQueue(client, URL, visibility_seconds=0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--list", "--replay"], "--list is read-only"),
        (["--drop-expired"], "--drop-expired needs --archive FILE"),
        (["--max", "0"], "--max must be at least 1"),
        (["--wait", "21"], "--wait must be 0..20"),
    ],
)
def test_contradictory_options_are_refused(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        redrive.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_options_map_onto_the_run() -> None:
    options = redrive.options_of(
        redrive.parse_args(
            [
                "--stack",
                "dev",
                "--archive",
                "a.jsonl",
                "--replay",
                "--drop-expired",
                "--max",
                "5",
                "--yes",
                "--queue",
                URL,
            ]
        )
    )
    assert options == redrive.Options(
        replay=True,
        archive=Path("a.jsonl"),
        drop_expired=True,
        max_messages=5,
        queue_url=URL,
        yes=True,
        wait_seconds=redrive.DEFAULT_WAIT_SECONDS,
    )


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(5, "0m 05s"), (3599, "59m 59s"), (3600, "1h 00m"), (86399, "23h 59m"), (90000, "1d 1h")],
)
def test_durations_read_at_a_glance(seconds: int, shown: str) -> None:
    assert redrive.duration(seconds) == shown


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_redraws_on_a_terminal_and_prints_tenths_elsewhere() -> None:
    terminal = Terminal()
    bar = redrive.Progress(terminal, "replaying")
    for done in range(1, 5):
        bar.update(done, 4)
    bar.finish()
    assert terminal.getvalue().count("\r") == 4 and terminal.getvalue().endswith("4/4 records\n")
    assert "[" + "#" * 30 + "]" in terminal.getvalue()

    log = io.StringIO()
    bar = redrive.Progress(log, "replaying")
    for done in range(1, 101):
        bar.update(done, 100)
    bar.finish()
    lines = log.getvalue().splitlines()
    assert (
        len(lines) == 11
        and lines[0].endswith(" 1/100 records")
        and lines[-1].endswith("100/100 records")
        and "\r" not in log.getvalue()
    )


def test_every_option_and_make_variable_is_documented() -> None:
    root = Path(__file__).resolve().parents[2]
    documented = (root / "docs" / "redrive.md").read_text()
    options = [
        option
        for action in redrive.build_parser()._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    ]
    assert options and [option for option in options if f"`{option}" not in documented] == []
    makefile = (root / "Makefile").read_text()
    block = makefile[makefile.index("REDRIVE_OPTIONS =") : makefile.index("redrive: install")]
    variables = sorted(set(re.findall(r"\$\(([A-Z_]+)\)", block)) - {"REDRIVE_ACTION"})
    assert variables == ["ARCHIVE", "DROP_EXPIRED", "MAX", "QUEUE", "STACK", "YES"]
    assert [name for name in variables if f"`{name}" not in documented] == []
    assert "`ACTION=replay`" in documented and "`ACTION=list`" in documented
