"""The README's configuration reference is generated from components/config/: it must
match the code (run `make docs` after changing a key)."""

from streamops.generators.config_reference import README, current_block, render


def test_readme_configuration_reference_matches_the_code():
    assert current_block(README.read_text()) == render(), "README is stale: run `make docs`"


def test_reference_lists_every_key_with_its_default():
    block = render()
    for key, default in [("batchSize", "`100`"), ("kmsKey", "`create`"), ("name", "required")]:
        assert any(f"| `{key}` | {default} |" in line for line in block.splitlines()), key
