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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """On the embedded emulator nothing may be skipped: a skipped check is not a passing
    one. (With --stack, tests that would change a real stack are skipped by design.)"""
    if session.config.getoption("--stack") or exitstatus != pytest.ExitCode.OK:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        names = ", ".join(report.nodeid for report in skipped[:5])
        if reporter is not None:
            reporter.write_line(
                f"\nFAILED: {len(skipped)} test(s) skipped without --stack ({names}); "
                "every test must run on the embedded emulator",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
