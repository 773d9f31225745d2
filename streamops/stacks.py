"""Where the checks look: a real stack (after `pulumi up`) or an emulated deployment.

A real stack is known by `pulumi stack output --json --show-secrets --stack NAME` (its
outputs) and `Pulumi.NAME.yaml` (its typed config); AWS is reached with the default
credential chain in the region the stack's resources live in. An emulated deployment
(streamops.emulator.server.deploy) carries the same two things plus its emulator endpoint.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from components.config import parse_stack_config
from streamops.aws import AwsClients
from streamops.doctor.checks import DeployedStack
from streamops.emulator.server import Deployment
from streamops.program import ROOT, load_stack_config


class StackUnavailable(Exception):
    """The stack's outputs or config cannot be read (no CLI, not deployed, bad JSON)."""


Runner = Callable[..., subprocess.CompletedProcess]


def parse_stack_outputs(text: str, stack: str = "?") -> dict[str, Any]:
    """The JSON object `pulumi stack output --json` prints."""
    try:
        outputs = json.loads(text)
    except ValueError as error:
        raise StackUnavailable(
            f"stack {stack}: `pulumi stack output` is not JSON: {error}"
        ) from error
    if not isinstance(outputs, dict):
        raise StackUnavailable(f"stack {stack}: expected a JSON object of outputs, got {outputs!r}")
    if not outputs:
        raise StackUnavailable(
            f"stack {stack} has no outputs: it has not been deployed yet (run `pulumi up`)"
        )
    return outputs


def pulumi_stack_outputs(
    stack: str, run: Runner = subprocess.run, root: Path = ROOT
) -> dict[str, Any]:
    """Outputs of a deployed stack, secrets shown (they are compared, never printed)."""
    command = ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack]
    try:
        result = run(command, capture_output=True, text=True, cwd=root, check=False)
    except FileNotFoundError as error:
        raise StackUnavailable(
            "the pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) "
            "and log in to the backend holding the stack, or run without --stack to check "
            "the embedded emulator"
        ) from error
    if result.returncode != 0:
        raise StackUnavailable(
            f"`{' '.join(command)}` failed (exit {result.returncode}): {result.stderr.strip()}"
        )
    return parse_stack_outputs(result.stdout, stack)


def region_of(outputs: dict[str, Any], config_map: dict[str, Any]) -> str:
    """The region the stack's resources live in: from their ARNs, else the stack config."""
    arn = str(outputs.get("functionArn") or outputs.get("tableArn") or "")
    parts = arn.split(":")
    if len(parts) > 3 and parts[3]:
        return parts[3]
    region = config_map.get("aws:region")
    if not region:
        raise StackUnavailable("cannot tell the stack's region: no ARN outputs and no aws:region")
    return str(region)


def real_stack(
    stack: str, run: Runner = subprocess.run, root: Path = ROOT, profile: str | None = None
) -> DeployedStack:
    """A stack deployed to AWS, checked with the default AWS credentials."""
    # The config first: an unknown stack is "no such stack", whether or not the pulumi CLI
    # is installed (FileNotFoundError naming the stacks that exist).
    config_map = load_stack_config(stack, root)
    outputs = pulumi_stack_outputs(stack, run, root)
    config = parse_stack_config(config_map, stack)
    return DeployedStack(outputs, config, AwsClients.real(region_of(outputs, config_map), profile))


def emulated_stack(deployment: Deployment) -> DeployedStack:
    return DeployedStack(deployment.outputs, deployment.config, deployment.aws)
