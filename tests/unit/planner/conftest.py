"""Fixtures of the planner tests: the fixture price book and benchmark file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamops.planner.prices import PriceBook, load_prices
from tests.unit.planner.plan_helpers import BENCH, write_book


@pytest.fixture
def book(tmp_path: Path) -> PriceBook:
    return load_prices(write_book(tmp_path))


@pytest.fixture
def bench(tmp_path: Path) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(BENCH))
    return path
