"""Integration fixtures: the stack under check, and fresh emulated copies to tamper with.

By default the dev stack is deployed once per session into the embedded emulator (a moto
server on 127.0.0.1). With `--stack NAME` the same checks run against that real stack.
Tests that change resources get their own deployment in a new emulated account, so the
shared deployment stays as deployed and tests cannot affect each other.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from streamops.doctor.checks import DeployedStack
from streamops.emulator.server import Deployment, Emulator, deploy
from streamops.stacks import emulated_stack, real_stack
from tests.support.stacks import stack_config


@pytest.fixture(scope="session")
def real_stack_name(request: pytest.FixtureRequest) -> str | None:
    return request.config.getoption("--stack")


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


@pytest.fixture(scope="session")
def deployed(request: pytest.FixtureRequest, real_stack_name: str | None) -> DeployedStack:
    """The stack under check: the real one with --stack, else dev in the emulator."""
    if real_stack_name:
        return real_stack(real_stack_name)
    emulator = request.getfixturevalue("emulator")
    return emulated_stack(deploy(emulator, "dev"))


@pytest.fixture
def emulator_only(request: pytest.FixtureRequest, real_stack_name: str | None) -> Emulator:
    """The emulator, for tests that create or change resources: skipped with --stack,
    so nothing ever touches a real stack."""
    if real_stack_name:
        pytest.skip("creates or changes resources: runs on the embedded emulator only")
    return request.getfixturevalue("emulator")


@pytest.fixture
def fresh_deployment(emulator_only: Emulator) -> Callable[..., Deployment]:
    """Deploy `stack` (with config overrides, as tests.support.stacks.stack_config) into a
    new emulated account."""
    emulator = emulator_only

    def make(stack: str = "dev", **sections: Any) -> Deployment:
        return deploy(emulator, stack, stack_config(stack, **sections))

    return make


@pytest.fixture
def moto_endpoint(emulator_only: Emulator) -> str:
    """The emulator's endpoint, for tests that call AWS APIs directly (moto's default
    account; tests keep apart by unique resource names)."""
    return emulator_only.endpoint


@pytest.fixture
def through_pulumi_cli(
    emulator_only: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[Deployment, str], None]:
    """Make `--stack NAME` reach a deployment with the emulator standing in for AWS: a
    `pulumi` executable prints its outputs as the CLI does, and boto3's default chain is
    pointed at the emulator through the standard AWS_* environment variables only (so the
    deployment must live in moto's default account)."""

    def serve(deployment: Deployment, stack: str = "dev") -> None:
        outputs = tmp_path / f"{stack}-outputs.json"
        outputs.write_text(json.dumps(deployment.outputs))
        fake_cli = tmp_path / "pulumi"
        fake_cli.write_text(
            f'#!/bin/sh\n[ "$*" = "stack output --json --show-secrets --stack {stack}" ] '
            f'|| exit 3\ncat "{outputs}"\n'
        )
        fake_cli.chmod(0o755)
        monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.setenv("AWS_ENDPOINT_URL", emulator_only.endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(variable, raising=False)

    return serve
