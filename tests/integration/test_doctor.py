"""`doctor` against the embedded emulator: a readable report and an honest exit code."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from moto.core import DEFAULT_ACCOUNT_ID

from devtools import doctor
from devtools.checks import DeployedStack, run_checks
from devtools.emulator import Deployment, Emulator, deploy
from devtools.program import ROOT
from devtools.stacks import emulated_stack

pytestmark = pytest.mark.integration

# The account moto answers in when a request names none (credentials it does not know).
MOTO_DEFAULT_ACCOUNT = DEFAULT_ACCOUNT_ID


def test_doctor_reports_every_check_and_live_figures_on_the_emulator(
    real_stack_name: str | None,
) -> None:
    if real_stack_name:
        pytest.skip("doctor --stack is what the rest of this suite checks on a real stack")
    out = io.StringIO()
    assert doctor.main([], out=out) == 0
    report = out.getvalue()
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


def test_doctor_reports_a_stack_it_cannot_read(capsys: pytest.CaptureFixture[str]) -> None:
    assert doctor.main(["--emulate", "no-such-stack"]) == 2
    assert "no stack 'no-such-stack'" in capsys.readouterr().err


def test_every_check_is_documented(deployed: DeployedStack) -> None:
    documented = (ROOT / "docs" / "doctor.md").read_text()
    missing = [f.name for f in run_checks(deployed) if f"`{f.name}`" not in documented]
    assert not missing, f"describe these checks in docs/doctor.md: {missing}"


def test_doctor_on_a_deployed_stack_goes_through_the_pulumi_cli_and_default_credentials(
    emulator_only: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The --stack path end to end, with the emulator standing in for AWS: a `pulumi`
    executable prints the outputs as the CLI does, and boto3's default chain is pointed
    at the emulator through the standard AWS_* environment variables only."""
    deployment = deploy(emulator_only, "dev", account_id=MOTO_DEFAULT_ACCOUNT)
    fake_cli = tmp_path / "pulumi"
    (tmp_path / "outputs.json").write_text(json.dumps(deployment.outputs))
    fake_cli.write_text(
        f'#!/bin/sh\n[ "$*" = "stack output --json --show-secrets --stack dev" ] || exit 3\n'
        f'cat "{tmp_path / "outputs.json"}"\n'
    )
    fake_cli.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator_only.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable, raising=False)

    out = io.StringIO()
    assert doctor.main(["--stack", "dev"], out=out) == 0, out.getvalue()
    assert out.getvalue().startswith("doctor: stack dev (us-east-1, AWS)")
    assert "PASS  role.policy" in out.getvalue()
