"""The embedded AWS emulator: a moto server on 127.0.0.1, and the program deployed into it.

Why: there is no AWS account (and no Pulumi engine) where the tests run, yet the
deployed-stack checks must be proven against something that behaves like AWS. So the
real `__main__.py` runs under the Pulumi mock monitor (streamops.program.run_program) and
each resource it registers is created for real in a moto server through boto3
(streamops.emulator.resources). The stack outputs and every ARN wired between resources
are the emulator's own values.

Usage (a plain library: no pytest here; `make local` and `doctor` reuse it):

    with Emulator() as emulator:
        deployment = deploy(emulator, "dev")
        deployment.aws("lambda").get_function(FunctionName=deployment.outputs["functionName"])

One server can hold many deployments: each gets its own emulated account (moto keeps
accounts apart), so tests can tamper with a fresh copy without touching the shared one.
moto keeps its state in this process's memory; it is gone when the process ends.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pulumi
from moto.server import ThreadedMotoServer

from components.config import StackConfig, parse_stack_config
from streamops.aws import AwsClients
from streamops.emulator import moto_compat
from streamops.emulator import resources as emulated_resources
from streamops.program import ProgramMocks, Registration, load_stack_config, run_program

DEFAULT_REGION = "us-east-1"
LOOPBACK = "127.0.0.1"


class Emulator:
    """A moto server on 127.0.0.1 and a free port, started and stopped with `with`."""

    def __init__(self, region: str = DEFAULT_REGION, port: int = 0):
        self.region = region
        self.port = port  # 0: any free port (`make local --port` asks for a fixed one)
        self._server: ThreadedMotoServer | None = None
        self.endpoint = ""

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        moto_compat.install()
        # werkzeug logs one line per request at INFO; the checks make hundreds.
        if logging.getLogger("werkzeug").level == logging.NOTSET:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address=LOOPBACK, port=self.port, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server, self.endpoint = server, f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server, self.endpoint = None, ""

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def aws(self, account_id: str, region: str | None = None) -> AwsClients:
        """boto3 clients for one emulated account."""
        if self._server is None:
            raise RuntimeError("the emulator is not running: use `with Emulator() as emulator`")
        return AwsClients.emulated(self.endpoint, account_id, region or self.region)


def new_account_id() -> str:
    """A random 12-digit account id: one per deployment keeps deployments apart."""
    return str(100_000_000_000 + secrets.randbelow(900_000_000_000))


@dataclass
class Deployment:
    """A stack deployed into the emulator: what `pulumi up` + `pulumi stack output` give."""

    stack: str
    config: StackConfig
    outputs: dict[str, Any]
    endpoint: str
    account_id: str
    region: str
    resources: list[Registration] = field(default_factory=list)

    @cached_property
    def aws(self) -> AwsClients:
        """Clients for this deployment's account (valid while its emulator runs)."""
        return AwsClients.emulated(self.endpoint, self.account_id, self.region)


class EmulatorMocks(ProgramMocks):
    """Resource callbacks that create each resource in the emulator."""

    def __init__(self, aws: AwsClients):
        self.aws = aws

    def create(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        return emulated_resources.create(self.aws, args.typ, args.name, dict(args.inputs))

    def invoke(self, token: str, args: dict[str, Any]) -> dict:
        return emulated_resources.invoke(self.aws, token, args)


def deploy(
    emulator: Emulator,
    stack: str,
    config_map: Mapping[str, Any] | None = None,
    account_id: str | None = None,
) -> Deployment:
    """Run the program with `stack`'s config (Pulumi.<stack>.yaml unless given) into a new
    emulated account, and return its outputs and typed config.

    Raises ConfigError for invalid config and UnsupportedResource for anything the
    emulator cannot create faithfully. Not thread-safe (Pulumi's mock runtime is global).
    """
    config_map = dict(load_stack_config(stack) if config_map is None else config_map)
    config = parse_stack_config(config_map, stack)
    region = str(config_map.get("aws:region") or emulator.region)
    account_id = account_id or new_account_id()
    aws = emulator.aws(account_id, region)
    run = run_program(EmulatorMocks(aws), config_map, stack)
    return Deployment(
        stack=stack,
        config=config,
        outputs=dict(run.outputs),
        endpoint=emulator.endpoint,
        account_id=account_id,
        region=region,
        resources=run.resources,
    )
