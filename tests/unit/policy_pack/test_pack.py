"""The policy pack as Pulumi loads it: its policies, levels, config and runtime pins.

The end-to-end tests start the pack the way the Pulumi CLI does (`python -m pulumi.policy
<engine> <pack dir>`, which prints a port) and send it, over gRPC, the messages the CLI
sends: `Configure` with the contents of a `--policy-pack-config` file, then `Analyze` /
`AnalyzeStack` with resources from the mocked graphs. That exercises the real config path
(per-policy enforcementLevel and properties), not our assumptions about it.
"""

from __future__ import annotations

import itertools
import json
import re
import runpy
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policy.pack import PACK_NAME, policies
from policy.rules import RULES, TABLE, Resource
from streamops.program import ROOT
from tests.unit.policy_pack.conftest import edit, one

DEV_CONFIG = ROOT / "policy" / "dev.json"

# aws-facts.md "Security rules that apply", first column, row by row.
AWS_FACTS_RULES = [
    "FSBP Lambda.1",
    "FSBP Lambda.2 / Checkov CKV_AWS_363",
    "FSBP DynamoDB.1 / CKV2_AWS_16",
    "FSBP DynamoDB.2 / CKV_AWS_28",
    "FSBP DynamoDB.6",
    "CKV_AWS_119",
    "FSBP SQS.1 / CKV_AWS_27",
    "FSBP SNS.1 / CKV_AWS_26",
    "CKV_AWS_115",
    "CKV_AWS_66 / CKV_AWS_338",
    "CKV_AWS_319, CloudWatch.15/.17",
    "FSBP IAM.1, CKV_AWS_62/63/355",
    "CKV_AWS_60/61",
    "CKV_AWS_116",
    "CKV_AWS_158",
    "CKV2_AWS_64",
    "CKV_AWS_7",
    "CKV_AWS_173",
    "CKV_AWS_272",
    "CKV_AWS_50",
    "FSBP S3.1/S3.8, CKV2_AWS_6",
    "FSBP S3.5",
    "CKV_AWS_145 / FSBP S3.17",
    "CKV_AWS_21",
    "CKV2_AWS_61",
    "confused deputy",
]


def control_ids(cell: str) -> set[str]:
    """`"CKV_AWS_62/63/355"` -> {CKV_AWS_62, CKV_AWS_63, CKV_AWS_355}; FSBP/Checkov dropped."""
    ids: list[str] = []
    for token in re.split(r"\s*[,/]\s*", cell.strip()):
        token = token.removeprefix("FSBP ").removeprefix("Checkov ").strip()
        if re.fullmatch(r"\.?\d+", token):  # "63" after CKV_AWS_62, ".17" after CloudWatch.15
            stem = re.fullmatch(r"(.*?)(\.?\d+)", ids[-1])
            assert stem is not None
            token = (
                stem.group(1).rstrip(".") + token
                if token.startswith(".")
                else stem.group(1) + token
            )
        ids.append(token)
    return set(ids)


def aws_facts_path() -> Path:
    """The team's AWS facts, vendored in the repository (tests/fixtures/shared)."""
    return ROOT / "tests" / "fixtures" / "shared" / "reference" / "aws-facts.md"


def test_control_id_expansion():
    assert control_ids("FSBP IAM.1, CKV_AWS_62/63/355") == {
        "IAM.1", "CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_355"
    }  # fmt: skip
    assert control_ids("CKV_AWS_319, CloudWatch.15/.17") == {
        "CKV_AWS_319", "CloudWatch.15", "CloudWatch.17"
    }  # fmt: skip


def test_one_rule_per_aws_facts_row_in_order():
    assert [control_ids(" / ".join(rule.controls)) for rule in RULES] == [
        control_ids(cell) for cell in AWS_FACTS_RULES
    ]


def test_aws_facts_table_is_the_one_the_rules_follow():
    text = aws_facts_path().read_text(encoding="utf-8")
    section = text.split("## Security rules that apply", 1)[1].splitlines()[1:]
    table = itertools.takewhile(lambda line: line.startswith("|"), section)
    rows = [line.split("|")[1].strip() for line in table]
    assert rows[2:] == AWS_FACTS_RULES  # after the header and the |---| line


def test_main_builds_the_pack_pulumi_runs(monkeypatch):
    built: dict[str, Any] = {}
    monkeypatch.setattr("pulumi_policy.PolicyPack", lambda **kwargs: built.update(kwargs))
    runpy.run_path(str(ROOT / "policy" / "__main__.py"), run_name="__main__")
    assert built["name"] == PACK_NAME
    assert built["enforcement_level"] is EnforcementLevel.MANDATORY
    assert [policy.name for policy in built["policies"]] == [rule.id for rule in RULES]


# Each explicit suppression and a word its documented reason must contain.
SUPPRESSIONS = {"ckv-aws-116": "synchronously", "ckv-aws-272": "Signer", "ckv-aws-50": "opt-in"}


def test_levels_are_mandatory_except_the_explicit_suppressions():
    levels = {policy.name: policy.enforcement_level for policy in policies()}
    for name, reason_word in SUPPRESSIONS.items():
        assert levels.pop(name) is EnforcementLevel.DISABLED
        suppressed = next(policy for policy in policies() if policy.name == name)
        assert "SUPPRESSED" in suppressed.description
        assert reason_word in suppressed.description
    assert set(levels.values()) == {EnforcementLevel.MANDATORY}


def test_cross_resource_rules_are_stack_policies():
    kinds = {policy.name: type(policy) for policy in policies()}
    # A table and its auto scaling; a bucket and the resources configuring it.
    for name in ("fsbp-dynamodb-1-ckv2-aws-16", "fsbp-s3-1-s3-8-ckv2-aws-6", "fsbp-s3-5",
                 "ckv-aws-145-fsbp-s3-17", "ckv-aws-21", "ckv2-aws-61"):  # fmt: skip
        assert kinds.pop(name) is StackValidationPolicy
    assert set(kinds.values()) == {ResourceValidationPolicy}


def test_requirements_pin_the_locked_versions():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {package["name"]: package["version"] for package in lock["package"]}
    pins = [
        line.split("==")
        for line in (ROOT / "policy" / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert {name for name, _ in pins} == {"pulumi-policy", "pulumi"}
    for name, version in pins:
        assert locked[name] == version, f"policy/requirements.txt pins {name}=={version}"


# ---------------------------------------------------------------------------------------
# End to end: the pack runs as Pulumi runs it (`python -m pulumi.policy <engine> <pack>`),
# and the tests play the CLI's part over gRPC.
# ---------------------------------------------------------------------------------------
LEVELS = {"advisory": proto.ADVISORY, "mandatory": proto.MANDATORY, "disabled": proto.DISABLED}


@pytest.fixture(scope="module")
def pack():
    """A running policy pack process and a gRPC stub to talk to it."""
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", "."],
        cwd=ROOT / "policy",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = (process.stdout.readline() if process.stdout else "").strip()
        assert port.isdigit(), f"the pack did not start: {process.communicate()[1]}"
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        yield proto.AnalyzerStub(channel)
        channel.close()
    finally:
        process.kill()
        process.wait()


def configure(stub, config_file: Path | None = None):
    """What `--policy-pack-config FILE` sends (nothing at all without the flag)."""
    request = proto.ConfigureAnalyzerRequest()
    settings_by_policy = json.loads(config_file.read_text()) if config_file else {}
    for name, settings in settings_by_policy.items():
        properties = struct_pb2.Struct()
        properties.update({k: v for k, v in settings.items() if k != "enforcementLevel"})
        level = LEVELS[settings["enforcementLevel"]]
        request.policyConfig[name].CopyFrom(
            proto.PolicyConfig(enforcementLevel=level, properties=properties)
        )
    stub.Configure(request)
    return stub


def struct(props: Any) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    # Assets (the function's code archive) travel as special objects; a string stands in.
    message.update(json.loads(json.dumps(props, default=repr)))
    return message


def analyze(stub, resource: Resource) -> list:
    request = proto.AnalyzeRequest(
        type=resource.type, properties=struct(resource.props), urn=resource.urn, name=resource.name
    )
    return list(stub.Analyze(request).diagnostics)


def analyze_stack(stub, resources) -> list:
    request = proto.AnalyzeStackRequest(
        resources=[
            proto.AnalyzerResource(type=r.type, properties=struct(r.props), urn=r.urn, name=r.name)
            for r in resources
        ]
    )
    return list(stub.AnalyzeStack(request).diagnostics)


def analyze_all(stub, resources) -> list:
    return [d for resource in resources for d in analyze(stub, resource)] + analyze_stack(
        stub, resources
    )


def test_pack_process_declares_every_rule_with_its_level(pack):
    info = pack.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == PACK_NAME and info.supportsConfig
    levels = {policy.name: policy.enforcementLevel for policy in info.policies}
    assert list(levels) == [rule.id for rule in RULES]
    for name in SUPPRESSIONS:
        assert levels.pop(name) == proto.DISABLED
    assert set(levels.values()) == {proto.MANDATORY}
    for policy in info.policies:
        assert set(policy.configSchema.properties) == {
            "reason",
            "stackConfigKey",
            "stackConfigValue",
        }


def test_prod_graph_passes_the_pack_without_config(pack, prod):
    found = analyze_all(configure(pack), prod)
    assert [(d.policyName, d.message) for d in found] == []


def test_dev_graph_without_config_is_blocked_by_mandatory_violations(pack, dev):
    found = analyze_all(configure(pack), dev)
    assert {d.policyName for d in found} == set(json.loads(DEV_CONFIG.read_text()))
    assert {d.enforcementLevel for d in found} == {proto.MANDATORY}


def test_dev_config_lowers_exactly_the_relaxed_rules_and_shows_the_reason(pack, dev):
    found = analyze_all(configure(pack, DEV_CONFIG), dev)
    relaxed = json.loads(DEV_CONFIG.read_text())
    assert {d.policyName for d in found} == set(relaxed)
    for diagnostic in found:
        assert diagnostic.enforcementLevel == proto.ADVISORY
        settings = relaxed[diagnostic.policyName]
        assert f"relaxed for this stack: {settings['reason']}" in diagnostic.message
        assert settings["stackConfigKey"] in diagnostic.message
    capacity = next(d for d in found if d.policyName == "fsbp-dynamodb-1-ckv2-aws-16")
    assert capacity.urn == one(dev, TABLE).urn


def test_value_unknown_during_preview_is_reported_not_crashed(pack, prod):
    # During a first preview the execution policy is computed from ARNs that do not exist
    # yet; pulumi_policy reports such a rule as "can't run during preview" (advisory), and
    # `pulumi up` re-runs it with the real document. The rule must not swallow that.
    role_policy = "aws:iam/rolePolicy:RolePolicy"
    unknown = one(edit(prod, role_policy, policy=UNKNOWN_STRING_VALUE), role_policy)
    found = analyze(configure(pack), unknown)
    assert [(d.policyName, d.enforcementLevel) for d in found] == [
        ("fsbp-iam-1-ckv-aws-62-63-355", proto.ADVISORY)
    ]
    assert "can't run policy" in found[0].message
