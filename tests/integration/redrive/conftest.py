"""Fixtures of the redrive tests: a fresh emulated deployment of the dev stack per test."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from streamops.emulator.server import Deployment


@pytest.fixture
def deployment(fresh_deployment: Callable[..., Deployment]) -> Deployment:
    return fresh_deployment()
