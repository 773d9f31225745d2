"""The checks' model: a Finding, the DeployedStack it is read from, and the check groups.

Each group reads, then judges. If a read fails (resource gone, access denied, output
missing), run_checks reports one failing finding under the group's first name with the
error, so a missing resource is reported by name instead of crashing the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from components.config import StackConfig
from components.kms import Account
from streamops.aws import AwsClients

REDEPLOY = "run `pulumi up` to put the configured value back (or change the config)"


@dataclass(frozen=True)
class Finding:
    name: str  # stable identifier, e.g. "mapping.batchSize"
    ok: bool
    detail: str  # what was read (and expected, when it differs)
    fix: str = ""  # what to do about it (failures only)


@dataclass
class DeployedStack:
    """A deployed stack: its outputs, its typed config, and clients for its account."""

    outputs: Mapping[str, Any]
    config: StackConfig
    aws: AwsClients
    _reads: dict[str, Any] = field(default_factory=dict, repr=False)

    def output(self, key: str) -> Any:
        if key not in self.outputs:
            raise MissingOutput(key)
        return self.outputs[key]

    def read(self, key: str, fetch: Callable[[], Any]) -> Any:
        """Read once per run: several groups look at the same table or function."""
        if key not in self._reads:
            self._reads[key] = fetch()
        return self._reads[key]

    def table(self) -> dict[str, Any]:
        name = self.output("tableName")
        return self.read("table", lambda: self.aws("dynamodb").describe_table(TableName=name))[
            "Table"
        ]

    def function(self) -> dict[str, Any]:
        name = self.output("functionName")
        return self.read("function", lambda: self.aws("lambda").get_function(FunctionName=name))

    def mapping(self) -> dict[str, Any]:
        uuid = self.output("eventSourceMappingId")
        return self.read("mapping", lambda: self.aws("lambda").get_event_source_mapping(UUID=uuid))

    def queue_attributes(self) -> dict[str, str]:
        url = self.output("failureQueueUrl")
        return self.read(
            "queue",
            lambda: self.aws("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"]),
        )["Attributes"]

    def bucket_name(self) -> str:
        return str(self.output("failureBucketName"))

    def bucket_encryption(self) -> dict[str, Any]:
        """The failure bucket's default encryption rule (empty when S3 returns none)."""
        name = self.bucket_name()
        answer = self.read(
            "bucket-encryption",
            lambda: self.aws("s3").get_bucket_encryption(Bucket=name),
        )
        rules = answer["ServerSideEncryptionConfiguration"]["Rules"]
        return rules[0] if rules else {}

    def topic_attributes(self) -> dict[str, str]:
        arn = self.output("failureDestinationArn")
        return self.read("topic", lambda: self.aws("sns").get_topic_attributes(TopicArn=arn))[
            "Attributes"
        ]

    def arn_part(self, index: int) -> str:
        """Partition (1), region (3) or account (4) of the function's ARN."""
        return str(self.output("functionArn")).split(":")[index]

    def account(self) -> Account:
        return Account(self.arn_part(1), self.arn_part(3), self.arn_part(4))


class MissingOutput(KeyError):
    def __str__(self) -> str:
        return f"stack output {self.args[0]!r} is missing (is this the right stack?)"


def passed(name: str, detail: str) -> Finding:
    return Finding(name, True, detail)


def failed(name: str, detail: str, fix: str = REDEPLOY) -> Finding:
    return Finding(name, False, detail, fix)


def compare(name: str, label: str, actual: Any, expected: Any, fix: str = REDEPLOY) -> Finding:
    """Pass when the deployed value equals the configured one."""
    if actual == expected:
        return passed(name, f"{label} {_show(actual)}")
    return failed(name, f"{label} is {_show(actual)}, configured {_show(expected)}", fix)


def _show(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ", ".join(_show(item) for item in value) if value else "none"
    if isinstance(value, tuple):
        return " / ".join(_show(item) for item in value)
    return str(value)


Group = Callable[[DeployedStack], Iterable[Finding]]
GROUPS: list[tuple[str, Group]] = []


def group(first_name: str) -> Callable[[Group], Group]:
    """Register a check group; `first_name` reports a failure to read its resources."""

    def register(function: Group) -> Group:
        GROUPS.append((first_name, function))
        return function

    return register


def run_checks(stack: DeployedStack) -> list[Finding]:
    """Every check, in a stable order."""
    findings: list[Finding] = []
    for first_name, check in GROUPS:
        try:
            # All or nothing: a group that cannot read reports one failure, not half a list.
            findings.extend(list(check(stack)))
        except (ClientError, BotoCoreError, MissingOutput) as error:
            findings.append(
                failed(
                    first_name,
                    f"cannot read: {error}",
                    "check that the stack is deployed (`pulumi up`) and that your AWS "
                    "credentials and region point at its account",
                )
            )
    return findings
