"""docs/policy.md lists every rule with its level and every dev relaxation as configured."""

from __future__ import annotations

import json

from policy.rules import RULES
from streamops.program import ROOT

DOC = (ROOT / "docs" / "policy.md").read_text()


def table_rows(heading: str) -> list[list[str]]:
    section = DOC.split(heading, 1)[1].split("\n### ", 1)[0]
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| `")
    ]


def test_rule_table_lists_every_rule_with_its_level():
    documented = {row[0].strip("`"): row[-1] for row in table_rows("### Rules")}
    expected = {rule.id: "mandatory" for rule in RULES if not rule.suppressed}
    expected.update({rule.id: "**disabled (suppressed)**" for rule in RULES if rule.suppressed})
    assert documented == expected


def test_relaxation_table_matches_dev_json():
    relaxed = json.loads((ROOT / "policy" / "dev.json").read_text())
    documented = {row[0].strip("`"): row for row in table_rows("### Dev relaxations")}
    assert set(documented) == set(relaxed)
    for name, settings in relaxed.items():
        key = settings["stackConfigKey"].split(":", 1)[1]
        value = json.dumps(settings["stackConfigValue"]).strip('"')
        assert documented[name][1] == f"`{key}: {value}`"
