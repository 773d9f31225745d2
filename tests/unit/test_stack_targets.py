"""Reading a real stack: `pulumi stack output --json --show-secrets` and Pulumi.<stack>.yaml.

There is no Pulumi CLI here, so the CLI is replaced by a runner returning a sample in the
CLI's format (tests/unit/data, written to that format, with an eu-west-1 stack so the
region visibly comes from the outputs rather than from Pulumi.dev.yaml's us-east-1).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from streamops.program import ROOT
from streamops.stacks import StackUnavailable, parse_stack_outputs, real_stack, region_of

SAMPLE = Path(__file__).parent / "data" / "pulumi_stack_output_dev.json"


class FakePulumi:
    """Stands in for subprocess.run: records the command, answers like the CLI."""

    def __init__(self, stdout: str = "", returncode: int = 0, stderr: str = ""):
        self.stdout, self.returncode, self.stderr = stdout, returncode, stderr
        self.calls: list[tuple[list[str], dict[str, Any]]] = []

    def __call__(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
        self.calls.append((command, kwargs))
        return subprocess.CompletedProcess(command, self.returncode, self.stdout, self.stderr)


def test_a_real_stack_is_read_from_the_cli_and_its_stack_file() -> None:
    pulumi = FakePulumi(SAMPLE.read_text())
    stack = real_stack("dev", run=pulumi)

    (command, options), *_ = pulumi.calls
    assert command == ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", "dev"]
    assert options["cwd"] == ROOT
    assert stack.outputs["failureQueueUrl"].startswith("https://sqs.eu-west-1.amazonaws.com/")
    assert stack.outputs["alarmNames"][2] == "dynamodb-stream-processor-dev-iterator-age"
    assert stack.config.stack == "dev"
    assert stack.config.trigger.batch_size == 10  # from Pulumi.dev.yaml
    assert stack.aws.region == "eu-west-1"  # where the resources are, from their ARNs
    assert stack.aws.endpoint is None  # real AWS


def test_a_missing_cli_is_a_clear_error() -> None:
    def no_cli(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
        raise FileNotFoundError(2, "No such file or directory", "pulumi")

    with pytest.raises(StackUnavailable, match=r"pulumi CLI is not on PATH.*without --stack"):
        real_stack("dev", run=no_cli)


def test_a_failing_cli_reports_its_error() -> None:
    pulumi = FakePulumi(returncode=255, stderr="error: no stack named 'dev' found\n")
    with pytest.raises(StackUnavailable, match=r"failed \(exit 255\): error: no stack named 'dev'"):
        real_stack("dev", run=pulumi)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{}", "has no outputs: it has not been deployed yet"),
        ("[1, 2]", "expected a JSON object of outputs"),
        ("warning: something\n{", "is not JSON"),
    ],
)
def test_unusable_output_is_rejected(text: str, message: str) -> None:
    with pytest.raises(StackUnavailable, match=message):
        parse_stack_outputs(text, "dev")


def test_an_unknown_stack_file_is_reported() -> None:
    with pytest.raises(FileNotFoundError, match="no stack 'qa'"):
        real_stack("qa", run=FakePulumi(SAMPLE.read_text()))


def test_region_falls_back_to_the_stack_config() -> None:
    assert region_of({}, {"aws:region": "ap-south-1"}) == "ap-south-1"
    with pytest.raises(StackUnavailable, match="cannot tell the stack's region"):
        region_of({}, {})


def test_an_unknown_stack_is_named_as_such_even_without_the_pulumi_cli() -> None:
    """`make doctor STACK=nope` / `make redrive STACK=nope` on a machine without the CLI
    answered "the pulumi CLI is not on PATH" (seen failing first): the stack file is read
    first, so the answer is "no such stack", with the stacks that exist."""

    def no_cli(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
        raise FileNotFoundError(2, "No such file or directory", "pulumi")

    with pytest.raises(FileNotFoundError, match=r"no stack 'nope'.*stacks: \['dev', 'prod'\]"):
        real_stack("nope", run=no_cli)
