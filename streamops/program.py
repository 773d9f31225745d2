"""Run the real Pulumi program (`__main__.py`) in-process under a mock resource monitor.

Why: there is no Pulumi engine here (and none is needed to know what the program asks
for). The unit tests use fake resource callbacks to inspect the resource graph; the
embedded emulator uses callbacks that create each resource in moto. Both go through this
one runner, so both exercise exactly the code `pulumi up` runs.
"""

from __future__ import annotations

import logging
import runpy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from components.config import PROJECT

ROOT = Path(__file__).resolve().parent.parent
MAIN = ROOT / "__main__.py"


@dataclass
class Registration:
    """One resource the program registered: what it asked for and what it got back."""

    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    id: str | None
    custom: bool
    parent: str  # parent URN ("" for the stack's direct children)
    urn: str
    depends_on: list[str]  # URNs of explicit dependencies (depends_on)
    delete_before_replace: bool


@dataclass
class ProgramRun:
    resources: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    # What the program logged (pulumi.log.warn ...), as (level, message): what `pulumi
    # preview` would print. Kept here rather than printed, so each caller decides (a warning
    # about email subscriptions means nothing inside the emulator; `streamops resources`
    # shows them all).
    diagnostics: list[tuple[str, str]] = field(default_factory=list)

    def of_type(self, type_token: str) -> list[Registration]:
        return [resource for resource in self.resources if resource.type == type_token]

    def one(self, type_token: str) -> Registration:
        found = self.of_type(type_token)
        if len(found) != 1:
            raise AssertionError(f"expected one {type_token}, found {len(found)}")
        return found[0]

    def by_urn(self, urn: str) -> Registration:
        return next(resource for resource in self.resources if resource.urn == urn)


class _DiagnosticsHandler(logging.Handler):
    def __init__(self, run: ProgramRun):
        super().__init__()
        self.run = run

    def emit(self, record: logging.LogRecord) -> None:
        self.run.diagnostics.append((record.levelname.lower(), record.getMessage()))


def _diagnostics_logger(run: ProgramRun) -> logging.Logger:
    """The mock engine's logger: records into `run`, never reaches the root logger."""
    logger = logging.getLogger(f"{__name__}.diagnostics")
    logger.handlers = [_DiagnosticsHandler(run)]
    logger.propagate = False
    logger.setLevel(logging.INFO)  # not the mock engine's debug chatter
    return logger


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that also records the resource options the mocks API hides."""

    def __init__(self, mocks: pulumi.runtime.Mocks, run: ProgramRun):
        super().__init__(mocks)
        self.run = run

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            registration = self.resources[response.urn]
            self.run.resources.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    inputs=rpc.deserialize_properties(request.object),
                    outputs=dict(registration.state),
                    id=registration.id,
                    custom=bool(request.custom),
                    parent=request.parent,
                    urn=response.urn,
                    depends_on=list(request.dependencies),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                )
            )
        return response


class InvokeFailure(Exception):
    """Raised by `ProgramMocks.invoke` for a provider-side failure (e.g. table not found)."""


class ProgramMocks(pulumi.runtime.Mocks):
    """Base for mocks used with `run_program`: `create` cloud resources, answer invokes."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        if not args.custom:  # components have no cloud state
            return (None, {})
        return self.create(args)

    def create(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        raise NotImplementedError

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list]:
        try:
            return self.invoke(args.token, dict(args.args)), []
        except InvokeFailure as failure:
            # Reported the way a provider reports a failed invoke: the program sees an
            # error from the invoke call itself, as under `pulumi up`.
            return {}, [("", str(failure))]

    def invoke(self, token: str, args: dict[str, Any]) -> dict:
        raise NotImplementedError


def run_program(
    mocks: ProgramMocks,
    config: Mapping[str, Any],
    stack: str,
    main: Path = MAIN,
) -> ProgramRun:
    """Run `main` with `config` (full keys, e.g. "dynamodb-stream-processor:table").

    Raises whatever the program raises (ConfigError for bad config). Returns every
    registered resource and the stack outputs, all resolved.
    """
    run = ProgramRun()
    # The SDK keeps the root Stack resource across set_mocks calls (it makes one only when
    # none exists): without this, a second run in the process would parent its resources
    # to the first run's stack.
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        mocks,
        project=PROJECT,
        stack=stack,
        preview=False,
        logger=_diagnostics_logger(run),
        monitor=RecordingMonitor(mocks, run),
    )
    pulumi.runtime.set_all_config({key: _config_value(value) for key, value in config.items()})

    @pulumi.runtime.test
    def program() -> pulumi.Output:
        namespace = runpy.run_path(str(main), run_name="__main__")
        pipeline = namespace["pipeline"]
        return pulumi.Output.all(**pipeline.outputs()).apply(run.outputs.update)

    program()
    return run


def _config_value(value: Any) -> str:
    """Pulumi passes config values to programs as strings; objects as JSON."""
    import json

    return value if isinstance(value, str) else json.dumps(value)


def load_stack_config(stack: str, root: Path = ROOT) -> dict[str, Any]:
    """The `config:` block of Pulumi.<stack>.yaml, keys as written (project:key)."""
    import yaml

    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(f"no stack {stack!r}: {path.name} not found (stacks: {stacks})")
    document = yaml.safe_load(path.read_text()) or {}
    return dict(document.get("config") or {})
