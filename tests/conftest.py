"""Options shared by the test suites (pytest reads `addoption` only from top-level conftests)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--stack",
        default=None,
        metavar="NAME",
        help="run the integration checks against stack NAME deployed with `pulumi up` (reads "
        "`pulumi stack output` and uses the default AWS credentials) instead of the "
        "embedded emulator; tamper tests are skipped (they never touch a real stack)",
    )
