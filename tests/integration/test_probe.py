"""The end-to-end probe: on the emulator with the local stream runner playing the mapping,
or with --stack against a real stack (where Lambda processes the stream itself)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from streamops.clock import ManualClock
from streamops.doctor.checks import DeployedStack, Finding
from streamops.doctor.probe import POISON_PK, run_probe
from streamops.emulator.server import Deployment
from streamops.lambda_local.mapping import local_mapping
from streamops.sample_data import SEED_TEST_ITEM, dynamodb_item
from streamops.stacks import emulated_stack

pytestmark = pytest.mark.integration


def probe_with_runner(deployment: Deployment) -> list[Finding]:
    stack = emulated_stack(deployment)
    with local_mapping(stack) as runner:
        return run_probe(stack, pump=runner.step, timeout=60)


def assert_all_passed(findings: list[Finding]) -> None:
    assert [finding.name for finding in findings] == ["probe.testItem", "probe.poison"]
    failures = [f"{finding.name}: {finding.detail}" for finding in findings if not finding.ok]
    assert not failures, failures


def test_the_probe_follows_the_test_item_and_a_poison_item_through_the_pipeline(
    request: pytest.FixtureRequest, real_stack_name: str | None
) -> None:
    if real_stack_name:  # Lambda processes the stream by itself
        stack: DeployedStack = request.getfixturevalue("deployed")
        assert_all_passed(run_probe(stack))
        return
    fresh_deployment = request.getfixturevalue("fresh_deployment")
    findings = probe_with_runner(fresh_deployment())
    assert_all_passed(findings)
    assert "Processing INSERT for item: LAMBDA#test-processing#EVENT#001" in findings[0].detail


def test_at_warn_the_probe_takes_the_metrics_line_as_evidence(
    fresh_deployment: Callable[..., Deployment],
) -> None:
    findings = probe_with_runner(fresh_deployment(function={"logLevel": "WARN"}))
    assert_all_passed(findings)
    assert "EMF" in findings[0].detail


def test_with_an_s3_destination_the_probe_finds_and_removes_its_quarantine_object(
    fresh_deployment: Callable[..., Deployment],
) -> None:
    deployment = fresh_deployment("prod")  # prod: trigger.onFailure s3
    findings = probe_with_runner(deployment)
    assert_all_passed(findings)
    assert "bucket" in findings[1].detail
    bucket = deployment.outputs["failureBucketName"]
    assert deployment.aws("s3").list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_with_an_sns_destination_the_probe_reads_the_functions_own_account(
    fresh_deployment: Callable[..., Deployment],
) -> None:
    findings = probe_with_runner(fresh_deployment(trigger={"onFailure": "sns"}))
    assert_all_passed(findings)
    assert "topic" in findings[1].detail


def test_the_probe_fails_by_name_when_nothing_processes_the_stream_and_cleans_up(
    fresh_deployment: Callable[..., Deployment],
) -> None:
    deployment = fresh_deployment()
    stack = emulated_stack(deployment)

    findings = run_probe(stack, timeout=30, clock=ManualClock())  # no mapping runs

    assert [(finding.name, finding.ok) for finding in findings] == [
        ("probe.testItem", False),
        ("probe.poison", False),
    ]
    assert "within 30 s" in findings[0].detail and "make doctor" in findings[0].fix
    dynamodb = deployment.aws("dynamodb")
    table = deployment.outputs["tableName"]
    probe_keys = [
        {"PK": SEED_TEST_ITEM["PK"], "SK": SEED_TEST_ITEM["SK"]},
        {"PK": POISON_PK, "SK": "DETAILS"},
    ]
    for key in probe_keys:
        assert "Item" not in dynamodb.get_item(TableName=table, Key=dynamodb_item(key))
