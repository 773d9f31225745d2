"""The suite's own rule, in parallel too: on the emulator a skipped test fails the run
(tests/conftest.py), also when pytest-xdist runs the tests in worker processes."""

from __future__ import annotations

import pytest

from streamops.program import ROOT

pytest_plugins = ["pytester"]


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_skipped_test_fails_the_run(pytester: pytest.Pytester, workers: list[str]) -> None:
    pytester.makeconftest((ROOT / "tests" / "conftest.py").read_text())
    pytester.makepyfile(
        test_rule="""
        import pytest

        def test_runs():
            pass

        def test_skips():
            pytest.skip("no emulator today")
        """
    )
    result = pytester.runpytest_subprocess(*workers, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*FAILED: 1 test(s) skipped without --stack*"])
