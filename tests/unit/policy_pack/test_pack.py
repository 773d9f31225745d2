"""The policy pack as Pulumi loads it: its policies, levels, config and runtime pins.

The end-to-end tests drive pulumi_policy's own analyzer servicer (the object the Pulumi
CLI talks to over gRPC) with the messages the CLI sends: `Configure` with the contents of
a `--policy-pack-config` file, then `Analyze` / `AnalyzeStack` with resources from the
mocked graphs. That exercises the real config path (per-policy enforcementLevel and
properties) rather than our assumptions about it. The servicer class is private API of
pulumi_policy (pinned in uv.lock); if an upgrade renames it, these tests fail loudly.
"""

from __future__ import annotations

import itertools
import json
import re
import runpy
import tomllib
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy import policy as pulumi_policy_module
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from devtools.program import ROOT
from policy.pack import PACK_NAME, policies
from policy.rules import RULES, TABLE, Resource
from tests.unit.policy_pack.conftest import edit, one

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


def aws_facts_path() -> Path | None:
    """shared/ sits beside the clone (CI) or above the worktree (development)."""
    for folder in ROOT.parents:
        candidate = folder / "shared" / "reference" / "aws-facts.md"
        if candidate.exists():
            return candidate
    return None


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
    path = aws_facts_path()
    if path is None:
        pytest.skip("shared/reference/aws-facts.md is not beside this clone")
    text = path.read_text(encoding="utf-8")
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


def test_levels_are_mandatory_except_the_explicit_suppression():
    levels = {policy.name: policy.enforcement_level for policy in policies()}
    assert levels.pop("ckv-aws-116") is EnforcementLevel.DISABLED
    assert set(levels.values()) == {EnforcementLevel.MANDATORY}
    suppressed = next(policy for policy in policies() if policy.name == "ckv-aws-116")
    assert "SUPPRESSED" in suppressed.description
    assert "synchronously" in suppressed.description


def test_cross_resource_rules_are_stack_policies():
    kinds = {policy.name: type(policy) for policy in policies()}
    assert kinds.pop("fsbp-dynamodb-1-ckv2-aws-16") is StackValidationPolicy
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
# End to end through pulumi_policy's analyzer servicer.
# ---------------------------------------------------------------------------------------
LEVELS = {"advisory": proto.ADVISORY, "mandatory": proto.MANDATORY, "disabled": proto.DISABLED}


def analyzer(config_file: Path | None = None):
    servicer = pulumi_policy_module._PolicyAnalyzerServicer(
        PACK_NAME, "0.0.1", policies(), EnforcementLevel.MANDATORY
    )
    request = proto.ConfigureAnalyzerRequest()
    for name, settings in json.loads(config_file.read_text()).items() if config_file else []:
        properties = struct_pb2.Struct()
        properties.update({k: v for k, v in settings.items() if k != "enforcementLevel"})
        request.policyConfig[name].CopyFrom(
            proto.PolicyConfig(
                enforcementLevel=LEVELS[settings["enforcementLevel"]], properties=properties
            )
        )
    servicer.Configure(request, None)
    return servicer


def struct(props: Any) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    # Assets (the function's code archive) travel as special objects; a string stands in.
    message.update(json.loads(json.dumps(props, default=repr)))
    return message


def analyze(servicer, resource: Resource) -> list:
    request = proto.AnalyzeRequest(
        type=resource.type, properties=struct(resource.props), urn=resource.urn, name=resource.name
    )
    return list(servicer.Analyze(request, None).diagnostics)


def analyze_stack(servicer, resources) -> list:
    request = proto.AnalyzeStackRequest(
        resources=[
            proto.AnalyzerResource(type=r.type, properties=struct(r.props), urn=r.urn, name=r.name)
            for r in resources
        ]
    )
    return list(servicer.AnalyzeStack(request, None).diagnostics)


def test_prod_graph_passes_the_pack_without_config(prod):
    servicer = analyzer()
    found = [d for resource in prod for d in analyze(servicer, resource)]
    found += analyze_stack(servicer, prod)
    assert [(d.policyName, d.message) for d in found] == []


def test_dev_graph_without_config_is_blocked_by_mandatory_violations(dev):
    servicer = analyzer()
    found = analyze(servicer, one(dev, TABLE)) + analyze_stack(servicer, dev)
    assert {d.policyName for d in found} == {
        "fsbp-dynamodb-1-ckv2-aws-16", "fsbp-dynamodb-2-ckv-aws-28",
        "fsbp-dynamodb-6", "ckv-aws-119",
    }  # fmt: skip
    assert {d.enforcementLevel for d in found} == {proto.MANDATORY}


def test_dev_config_lowers_exactly_the_relaxed_rules_and_shows_the_reason(dev):
    servicer = analyzer(ROOT / "policy" / "dev.json")
    found = [d for resource in dev for d in analyze(servicer, resource)]
    found += analyze_stack(servicer, dev)
    relaxed = json.loads((ROOT / "policy" / "dev.json").read_text())
    assert {d.policyName for d in found} == set(relaxed)
    for diagnostic in found:
        assert diagnostic.enforcementLevel == proto.ADVISORY
        settings = relaxed[diagnostic.policyName]
        assert f"relaxed for this stack: {settings['reason']}" in diagnostic.message
        assert settings["stackConfigKey"] in diagnostic.message
    capacity = next(d for d in found if d.policyName == "fsbp-dynamodb-1-ckv2-aws-16")
    assert capacity.urn == one(dev, TABLE).urn


def test_value_unknown_during_preview_is_reported_not_crashed(prod):
    # During a first preview the execution policy is computed from ARNs that do not exist
    # yet; pulumi_policy reports such a rule as "can't run during preview" (advisory), and
    # `pulumi up` re-runs it with the real document. The rule must not swallow that.
    unknown = one(
        edit(prod, "aws:iam/rolePolicy:RolePolicy", policy=UNKNOWN_STRING_VALUE),
        "aws:iam/rolePolicy:RolePolicy",
    )
    found = analyze(analyzer(), unknown)
    assert [(d.policyName, d.enforcementLevel) for d in found] == [
        ("fsbp-iam-1-ckv-aws-62-63-355", proto.ADVISORY)
    ]
    assert "can't run policy" in found[0].message


def test_pack_declares_the_relaxation_properties():
    info = analyzer().GetAnalyzerInfo(None, None)
    assert info.supportsConfig
    for policy in info.policies:
        assert set(policy.configSchema.properties) == {
            "reason",
            "stackConfigKey",
            "stackConfigValue",
        }
