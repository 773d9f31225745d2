"""The README's first screen says what this is, how to run it, and what was verified where;
every command it shows exists."""

from __future__ import annotations

import re

from streamops.cli import SUBCOMMANDS
from streamops.program import ROOT

README = (ROOT / "README.md").read_text()
FIRST_SCREEN = "\n".join(README.splitlines()[:80])


def test_the_first_screen_says_what_was_verified_where() -> None:
    assert "## Two commands" in FIRST_SCREEN and "make local" in FIRST_SCREEN
    assert "## What was verified where" in FIRST_SCREEN
    assert "Not run against real AWS, and no real Pulumi engine" in FIRST_SCREEN


def test_no_path_a_clone_does_not_have() -> None:
    for path in re.findall(r"`((?:shared|\.\./shared)/[^`]*)`", README):
        assert (ROOT / path).exists(), f"README points at {path}, which a clone does not have"
    assert "shared/seed" not in README


def test_every_streamops_command_of_the_readme_exists() -> None:
    shown = set(re.findall(r"streamops ([a-z]+)", README)) - {"is", "the", "command"}
    assert shown <= set(SUBCOMMANDS) | {"console"}, shown - set(SUBCOMMANDS)
    assert set(SUBCOMMANDS) <= shown
