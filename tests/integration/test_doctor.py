"""`doctor` against the embedded emulator: a readable report and an honest exit code."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from typer.testing import CliRunner

from streamops.cli import doctor as doctor_cli
from streamops.doctor import report as doctor
from streamops.doctor.checks import DeployedStack, run_checks
from streamops.emulator.server import Deployment, Emulator, deploy
from streamops.program import ROOT
from streamops.stacks import emulated_stack

pytestmark = pytest.mark.integration

# The account moto answers in when a request names none (credentials it does not know).
MOTO_DEFAULT_ACCOUNT = DEFAULT_ACCOUNT_ID


def test_doctor_reports_every_check_and_live_figures_on_the_emulator(
    real_stack_name: str | None,
) -> None:
    if real_stack_name:
        pytest.skip("doctor --stack is what the rest of this suite checks on a real stack")
    result = CliRunner().invoke(doctor_cli.app, [])
    assert result.exit_code == 0, result.output
    report = result.stdout
    assert report.startswith("doctor: stack dev deployed into the embedded emulator")
    assert "PASS  table.status" in report
    assert "PASS  mapping.batchSize" in report and "batch size 10" in report
    assert "FAIL" not in report
    assert "Live figures" in report
    assert "iterator age, max (last hour)" in report
    assert "failure destination depth       0 messages waiting" in report
    assert "checks: " in report and ", 0 failed" in report


def test_doctor_fails_with_the_fix_when_a_check_fails(
    fresh_deployment: Callable[..., Deployment],
) -> None:
    deployment = fresh_deployment()
    deployment.aws("lambda").update_event_source_mapping(
        UUID=deployment.outputs["eventSourceMappingId"], BatchSize=500
    )
    out = io.StringIO()
    assert doctor.examine(emulated_stack(deployment), "doctor: tampered", out) == 1
    lines = out.getvalue().splitlines()
    failing = [line for line in lines if line.startswith("FAIL")]
    assert len(failing) == 1 and "mapping.batchSize" in failing[0]
    assert "batch size is 500, configured 10" in failing[0]
    fix = lines[lines.index(failing[0]) + 1]
    assert fix.strip().startswith("fix: run `pulumi up`")
    assert lines[-1].endswith("1 failed")


def test_doctor_reports_a_stack_it_cannot_read() -> None:
    result = CliRunner().invoke(doctor_cli.app, ["--emulate", "no-such-stack"])
    assert result.exit_code == 2
    assert "no stack 'no-such-stack'" in result.stderr


def test_doctor_json_holds_every_check_and_figure(real_stack_name: str | None) -> None:
    if real_stack_name:
        pytest.skip("doctor --stack is what the rest of this suite checks on a real stack")
    result = CliRunner().invoke(doctor_cli.app, ["--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True
    assert document["title"].startswith("doctor: stack dev deployed into the embedded emulator")
    checks = {check["name"]: check for check in document["checks"]}
    assert (
        checks["mapping.batchSize"]["ok"]
        and "batch size 10" in checks["mapping.batchSize"]["detail"]
    )
    assert document["figures"]["failure destination depth"].startswith("0 messages waiting")


def test_every_check_is_documented(deployed: DeployedStack) -> None:
    documented = (ROOT / "docs" / "doctor.md").read_text()
    missing = [f.name for f in run_checks(deployed) if f"`{f.name}`" not in documented]
    assert not missing, f"describe these checks in docs/doctor.md: {missing}"


def test_doctor_on_a_deployed_stack_goes_through_the_pulumi_cli_and_default_credentials(
    emulator_only: Emulator, through_pulumi_cli: Callable[[Deployment, str], None]
) -> None:
    """The --stack path end to end, with the emulator standing in for AWS."""
    through_pulumi_cli(deploy(emulator_only, "dev", account_id=MOTO_DEFAULT_ACCOUNT), "dev")

    result = CliRunner().invoke(doctor_cli.app, ["--stack", "dev"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("doctor: stack dev (us-east-1, AWS)")
    assert "PASS  role.policy" in result.stdout
