"""Redrive on the embedded emulator: an SNS destination, the command line on a
deployed stack, the operator's answer, the trigger's filters."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from typer.testing import CliRunner

from streamops.cli import redrive as redrive_cli
from streamops.emulator.server import Deployment, Emulator, deploy
from streamops.redrive.inventory import COMPLETE
from streamops.redrive.readback import RECOVERED
from streamops.redrive.session import (
    EXIT_LEFT,
    EXIT_OK,
    EXIT_UNREADABLE,
    Options,
    redrive,
)
from tests.integration.redrive.redrive_helpers import (
    Seen,
    router,
    run,
    site,
    the_fix,
)
from tests.support.failure_messages import (
    on_failure_document,
    put_items,
    quarantine_bodies,
    queue_counts,
    send,
    stream_records,
)
from tests.support.stacks import stack_config

pytestmark = pytest.mark.integration


def test_an_sns_destination_is_explained_and_a_subscribed_queue_is_redriven(
    fresh_deployment: Callable[..., Deployment],
) -> None:
    deployment = fresh_deployment(trigger={"onFailure": "sns"})
    topic = deployment.outputs["failureDestinationArn"]
    assert "failureQueueUrl" not in deployment.outputs

    result, output = run(deployment)

    assert result.exit_code == EXIT_UNREADABLE and result.inventory is None
    assert f"The failure destination is the SNS topic {topic}." in output
    assert "A topic keeps no messages" in output
    assert "No SQS queue is subscribed" in output
    assert f"aws sns subscribe --topic-arn {topic} --protocol sqs" in output

    sqs, sns = deployment.aws("sqs"), deployment.aws("sns")
    url = sqs.create_queue(QueueName="failure-copy")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)  # not raw: enveloped

    result, output = run(deployment)
    assert f"uv run streamops redrive list --stack dev --queue {url}" in output
    assert "SNS envelope (unwrapped by this tool)" in output

    put_items(deployment, ("PRODUCT#1", "METADATA"), ("USER#1", "PROFILE"))
    stream = stream_records(deployment)
    pointer = json.dumps(on_failure_document(deployment, stream[:1]))
    for body in [pointer, *quarantine_bodies(stream[1], "odd user")]:
        sns.publish(TopicArn=topic, Message=body)

    seen = Seen()
    result, output = run(deployment, router(seen), replay=True, queue_url=url)

    assert result.inventory is not None
    assert sorted(state.status for state in result.inventory.messages) == [COMPLETE, RECOVERED]
    assert [pk for pk, _ in seen.records] == ["PRODUCT#1", "USER#1"]
    assert result.exit_code == EXIT_OK
    assert queue_counts(deployment, url) == (0, 0)


def test_the_command_line_on_a_deployed_stack_lists_archives_and_asks_before_replaying(
    emulator_only: Emulator,
    through_pulumi_cli: Callable[[Deployment, str], None],
    tmp_path: Path,
) -> None:
    """`--stack dev` end to end through the Pulumi CLI and the default AWS credentials (the
    emulator standing in for AWS; names changed so as not to meet other tests' dev stack in
    moto's default account)."""
    config = stack_config(
        "dev", table={"name": "redrive-cli-table"}, function={"name": "redrive-cli-function"}
    )
    deployment = deploy(emulator_only, "dev", config, account_id=DEFAULT_ACCOUNT_ID)
    through_pulumi_cli(deployment, "dev")
    put_items(deployment, ("PRODUCT#1", "METADATA"))
    stream = stream_records(deployment)
    send(deployment, on_failure_document(deployment, stream), "{}")
    archive = tmp_path / "failed.jsonl"

    listed = CliRunner().invoke(
        redrive_cli.app, ["list", "--stack", "dev", "--wait", "0", "--json"]
    )
    assert listed.exit_code == EXIT_OK, listed.output
    document = json.loads(listed.stdout)
    assert document["messages"] == 2
    assert [record["status"] for record in document["records"]] == ["recovered", "unreadable"]
    assert queue_counts(deployment) == (2, 0)  # read-only

    archived = CliRunner().invoke(
        redrive_cli.app, ["archive", str(archive), "--stack", "dev", "--wait", "0"]
    )
    assert archived.exit_code == EXIT_OK, archived.output
    output = archived.stdout
    assert output.startswith("redrive: stack dev (us-east-1, AWS)")
    assert "recovered: 1 record(s) for a batch of 1" in output
    assert [json.loads(line)["status"] for line in archive.read_text().splitlines()] == [
        "recovered",
        "unreadable",
    ]

    replayed = CliRunner().invoke(redrive_cli.app, ["replay", "--stack", "dev", "--wait", "0"])
    assert replayed.exit_code == EXIT_UNREADABLE
    assert "not replaying: no terminal to confirm on; pass --yes" in replayed.stderr
    assert "replaying 1 record(s)" not in replayed.stdout
    assert queue_counts(deployment) == (2, 0)


@pytest.mark.parametrize(("answer", "replayed"), [("n", False), ("", False), ("yes", True)])
def test_a_real_stack_is_replayed_only_when_the_operator_says_yes(
    deployment: Deployment, answer: str, replayed: bool
) -> None:
    put_items(deployment, ("PRODUCT#1", "METADATA"))
    send(deployment, on_failure_document(deployment, stream_records(deployment)))
    asked: list[str] = []
    seen = Seen()

    def ask(question: str) -> str:
        asked.append(question)
        return answer

    out = io.StringIO()
    with site(deployment, router(seen)) as confirming:
        confirming.confirm = True
        options = Options(replay=True, wait_seconds=0)
        result = redrive(confirming, options, out, io.StringIO(), ask=ask)

    assert asked == [
        "\nreplay 1 record(s) through the function's package in awslambdaric execution "
        "environments (recorder.lambda_handler), in batches of at most 10? [y/N] "
    ]
    assert bool(seen.records) is replayed
    assert queue_counts(deployment) == ((0, 0) if replayed else (1, 0))
    assert result.exit_code == (EXIT_OK if replayed else EXIT_LEFT)
    assert ("not replayed" in out.getvalue()) is not replayed


def test_records_the_trigger_filters_out_are_not_replayed(
    fresh_deployment: Callable[..., Deployment],
) -> None:
    # INSERTs only, the supported way: an INSERT has no old image (the key is in every image).
    inserts_only = {"dynamodb": {"OldImage": {"PK": {"S": [{"exists": False}]}}}}
    deployment = fresh_deployment(trigger={"filterPatterns": [inserts_only]})
    put_items(deployment, ("PRODUCT#1", "METADATA"), ("PRODUCT#2", "METADATA"))
    put_items(deployment, ("PRODUCT#1", "METADATA"), price="3")  # MODIFY: never delivered
    put_items(deployment, ("PRODUCT#3", "METADATA"))
    stream = stream_records(deployment)
    delivered = [record for record in stream if record["eventName"] == "INSERT"]
    send(deployment, on_failure_document(deployment, delivered))

    seen = Seen()
    result, output = run(deployment, the_fix(seen), replay=True)

    assert "3 record(s) for a batch of 3 (1 more in the range match none" in output
    assert [number for _, number in seen.records] == [
        record["dynamodb"]["SequenceNumber"] for record in delivered
    ]
    assert result.exit_code == EXIT_OK and queue_counts(deployment) == (0, 0)
