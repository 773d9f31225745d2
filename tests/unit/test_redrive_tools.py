"""Redrive's small pieces: the atomic archive, holding SQS messages, the command line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import typer
from botocore.stub import ANY, Stubber
from typer.testing import CliRunner

from streamops.cli import redrive as redrive_cli
from streamops.progress import Bar
from streamops.redrive import report
from streamops.redrive import session as redrive
from streamops.redrive.archive import write_jsonl
from streamops.redrive.failure_queue import DEFAULT_WAIT_SECONDS, FailureQueue, QueueError

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
        (["replay", "--drop-expired"], "--drop-expired needs --archive FILE"),
        (["list", "--max", "0"], "--max"),
        (["list", "--wait", "21"], "--wait"),
        (["archive"], "FILE"),
        (["list", "--replay"], "--replay"),
    ],
)
def test_contradictory_options_are_refused(argv: list[str], message: str) -> None:
    result = CliRunner().invoke(redrive_cli.app, argv)
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_options_map_onto_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[redrive.Options] = []

    def run(stack: str | None, profile: str | None, options: redrive.Options, quiet: bool = False):
        seen.append(options)
        return redrive.Result()

    monkeypatch.setattr(redrive_cli, "_run", run)
    argv = ["replay", "--stack", "dev", "--archive", "a.jsonl", "--drop-expired", "--max", "5"]
    result = CliRunner().invoke(redrive_cli.app, [*argv, "--yes", "--queue", URL])
    assert result.exit_code == 0, result.output
    assert seen == [
        redrive.Options(
            replay=True,
            archive=Path("a.jsonl"),
            drop_expired=True,
            max_messages=5,
            queue_url=URL,
            yes=True,
            wait_seconds=DEFAULT_WAIT_SECONDS,
        )
    ]


def test_the_cli_waits_as_long_as_the_queue_reader_by_default() -> None:
    assert redrive_cli.DEFAULT_WAIT_SECONDS == DEFAULT_WAIT_SECONDS


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(5, "0m 05s"), (3599, "59m 59s"), (3600, "1h 00m"), (86399, "23h 59m"), (90000, "1d 1h")],
)
def test_durations_read_at_a_glance(seconds: int, shown: str) -> None:
    assert report.duration(seconds) == shown


def test_the_progress_bar_prints_tenths_when_not_on_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bar = Bar("replaying")
    for done in range(1, 101):
        bar.update(done, 100)
    bar.finish()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 11
    assert lines[0] == "replaying: 1/100 records" and lines[-1] == "replaying: 100/100 records"


def test_every_option_and_make_variable_is_documented() -> None:
    root = Path(__file__).resolve().parents[2]
    documented = (root / "docs" / "redrive.md").read_text()
    commands = typer.main.get_command(redrive_cli.app).commands  # type: ignore[attr-defined]
    assert sorted(commands) == ["archive", "list", "replay"]
    assert [name for name in commands if f"`redrive {name}" not in documented] == []
    options = {
        option
        for command in commands.values()
        for param in command.params
        for option in param.opts
        if option.startswith("--") and option != "--help"
    }
    assert options and sorted(option for option in options if f"`{option}" not in documented) == []
    makefile = (root / "Makefile").read_text()
    recipe = makefile[makefile.index("REDRIVE_ACTION =") : makefile.index("lint: install")]
    variables = sorted(set(re.findall(r"\$\(([A-Z_]+)\)", recipe)) - {"REDRIVE_ACTION", "RUN"})
    variables = [name.replace("STACK_OPTION", "STACK") for name in variables]  # --stack "$(STACK)"
    expected = ["ACTION", "ARCHIVE", "ARGS", "DROP_EXPIRED", "MAX", "QUEUE", "STACK", "YES"]
    assert variables == expected
    assert [name for name in variables if name != "ARGS" and f"`{name}" not in documented] == []
    assert "`ACTION=replay`" in documented and "`ACTION=list`" in documented
