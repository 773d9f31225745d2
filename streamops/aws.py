"""boto3 clients for one AWS account and region: real AWS, or the embedded emulator.

Why one factory: the deployed-stack checks, `doctor` and the emulator deployment all talk
to "the account the stack lives in" and must not care whether that is AWS (default
credential chain) or the moto server on 127.0.0.1. The emulator case differs only in the
endpoint, dummy credentials, and a header that selects the emulated account: moto keeps
every account apart, so each deployment into one server gets its own account and cannot
see or break another one (tests deploy fresh copies next to the shared one).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

# Credentials moto accepts; they never reach AWS (the endpoint is the local server).
EMULATOR_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# moto answers each request in the account this header names (moto.core.responses).
EMULATOR_ACCOUNT_HEADER = "x-moto-account-id"
# A check that hangs on a throttled or unreachable endpoint is worse than one that fails.
CLIENT_CONFIG = Config(connect_timeout=10, read_timeout=30, retries={"max_attempts": 3})
_CREATING = threading.Lock()


@dataclass
class AwsClients:
    """Creates (and caches) boto3 clients: `aws("lambda")` -> a Lambda client."""

    region: str
    endpoint: str | None = None  # None: AWS itself
    account_id: str | None = None  # emulated account (with `endpoint`)
    session: boto3.Session | None = None
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def real(cls, region: str, profile: str | None = None) -> AwsClients:
        """Clients for AWS with the default credential chain (env, profile, SSO, role)."""
        return cls(region=region, session=boto3.Session(region_name=region, profile_name=profile))

    @classmethod
    def emulated(cls, endpoint: str, account_id: str, region: str) -> AwsClients:
        """Clients for one account of the moto server listening at `endpoint`."""
        return cls(
            region=region, endpoint=endpoint, account_id=account_id, session=_emulator_session()
        )

    def __call__(self, service: str) -> Any:
        with _CREATING:  # sessions are not thread-safe; Pulumi registers from a thread pool
            return self._client(service)

    def configured(self, service: str, config: Config) -> Any:
        """A client of its own with other settings (not cached): e.g. a Lambda client whose
        read timeout covers the function's own timeout."""
        with _CREATING:
            return self._new_client(service, config)

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._new_client(service, CLIENT_CONFIG)
        return self._clients[service]

    def _new_client(self, service: str, config: Config) -> Any:
        session = self.session or boto3.Session(region_name=self.region)
        client = session.client(
            service, region_name=self.region, endpoint_url=self.endpoint, config=config
        )
        if self.account_id is not None:
            client.meta.events.register("before-sign", self._select_account)
        return client

    def _select_account(self, request: Any, **_: Any) -> None:
        request.headers[EMULATOR_ACCOUNT_HEADER] = self.account_id


@functools.cache
def _emulator_session() -> boto3.Session:
    """One session for every emulated account: clients then share its parsed service
    models (a new session re-reads them from disk, ~50 ms per client)."""
    return boto3.Session(**EMULATOR_CREDENTIALS)
