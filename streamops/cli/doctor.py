"""`streamops doctor`: every check on a deployed stack (or the emulator), then live figures.

The checks and the report: streamops/doctor/; docs/doctor.md. Exit 1 if a check fails,
2 if the stack cannot be read at all.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from streamops.cli.output import EXIT_FAILED, EXIT_OK, JSON_OPTION, fail, print_json
from streamops.progress import step

if TYPE_CHECKING:
    from streamops.doctor.checks import DeployedStack, Finding
    from streamops.doctor.report import Figure, Probe

# The subsystem is imported when a command runs (boto3, moto, pulumi): `--help` stays fast.


def command(
    stack: str | None = typer.Option(
        None, "--stack", help="a stack deployed with `pulumi up` (uses AWS credentials)"
    ),
    emulate: str = typer.Option(
        "dev",
        "--emulate",
        metavar="STACK",
        help="without --stack: deploy this stack's config into the embedded emulator and check it",
    ),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile for --stack"),
    probe: bool = typer.Option(
        False,
        "--probe",
        help="also write a test item and a poison item and follow them through "
        "(on the emulator the local stream runner plays the mapping)",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Is the deployed pipeline healthy and as configured? One line per check."""
    from components.config import ConfigError
    from streamops.doctor.probe import run_probe
    from streamops.doctor.report import probe_with_local_mapping
    from streamops.emulator.server import Emulator, deploy
    from streamops.stacks import StackUnavailable, emulated_stack, real_stack

    try:
        if stack:
            deployed = real_stack(stack, profile=profile)
            title = f"doctor: stack {stack} ({deployed.aws.region}, AWS)"
            code = _examine(deployed, title, run_probe if probe else None, as_json)
        else:
            with Emulator() as emulator:
                with step(f"deploying stack {emulate} into the embedded emulator"):
                    deployment = deploy(emulator, emulate)
                title = (
                    f"doctor: stack {emulate} deployed into the embedded emulator "
                    f"({emulator.endpoint}, account {deployment.account_id})"
                )
                deployed = emulated_stack(deployment)
                code = _examine(
                    deployed, title, probe_with_local_mapping if probe else None, as_json
                )
    except (StackUnavailable, ConfigError, FileNotFoundError) as error:
        fail("doctor", error)
    raise typer.Exit(code)


def _examine(stack: DeployedStack, title: str, probe: Probe | None, as_json: bool) -> int:
    from streamops.doctor.report import diagnose, report

    with step("checking"):
        findings, figures = diagnose(stack, probe)
    if as_json:
        print_json(as_document(title, findings, figures))
    else:
        report(title, findings, figures, sys.stdout)
    return EXIT_OK if all(finding.ok for finding in findings) else EXIT_FAILED


def as_document(title: str, findings: list[Finding], figures: list[Figure]) -> dict[str, Any]:
    return {
        "title": title,
        "ok": all(finding.ok for finding in findings),
        "checks": [
            {"name": f.name, "ok": f.ok, "detail": f.detail, "fix": None if f.ok else f.fix}
            for f in findings
        ],
        "figures": {figure.label: figure.value for figure in figures},
    }


app = typer.Typer()
app.command()(command)

if __name__ == "__main__":
    app()
