"""Every rule against the real dev and prod graphs, and dev's relaxations kept honest.

- prod passes every enforced rule at its default (mandatory) level, with NO config file;
- dev violates only rules that `policy/dev.json` relaxes, and violates every one of them
  (a relaxation that no longer relaxes anything is stale and must go);
- each relaxation names a key that Pulumi.dev.yaml sets explicitly, to a value that is not
  the secure default of components/config/ (a relaxation is a visible choice).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.config import PROJECT, SECTIONS
from policy.rules import RULES, enforced, evaluate
from streamops.program import ROOT, load_stack_config

DEV_CONFIG = ROOT / "policy" / "dev.json"
ENFORCED_IDS = [rule.id for rule in enforced()]


def relaxations(path: Path = DEV_CONFIG) -> dict[str, dict]:
    return json.loads(path.read_text())


def by_rule(violations) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for violation in violations:
        found.setdefault(violation.rule, []).append(
            f"{violation.resource.name}: {violation.message}"
        )
    return found


def test_prod_has_no_violation_of_any_enforced_rule(prod):
    assert by_rule(evaluate(prod, enforced())) == {}


def test_prod_contains_what_the_rules_inspect(prod):
    # Guards the test above against passing vacuously on an empty or partial graph.
    types = {resource.type for resource in prod}
    # The program grants no Lambda permission (test_rules.py adds hand-made ones); alarms
    # and their topic exist once the alarms component (components/alarms.py) is in.
    absent = {"fsbp-lambda-1"}
    # prod's failure destination is the S3 bucket (issue 14), so it has no queue: the queue
    # rule is exercised on dev and in test_rules.py.
    assert "aws:s3/bucket:Bucket" in types
    absent |= {rule.id for rule in RULES if rule.types == frozenset({"aws:sqs/queue:Queue"})}
    if not (ROOT / "components" / "alarms.py").exists():
        absent |= {"ckv-aws-319-fsbp-cloudwatch-15-17", "fsbp-sns-1-ckv-aws-26"}
    for rule in RULES:
        if rule.id not in absent:
            assert types & rule.types, f"prod registers nothing that {rule.id} inspects"


def test_dev_violates_only_relaxed_rules(dev):
    violated = set(by_rule(evaluate(dev, enforced())))
    assert violated <= set(relaxations()), (
        f"dev violates {sorted(violated - set(relaxations()))} without a relaxation in "
        "policy/dev.json"
    )


def test_every_dev_relaxation_is_needed(dev):
    violated = set(by_rule(evaluate(dev, enforced())))
    stale = set(relaxations()) - violated
    assert not stale, f"policy/dev.json relaxes {sorted(stale)}, which dev does not violate"


@pytest.mark.parametrize("rule_id", sorted(relaxations()))
def test_relaxation_is_advisory_with_a_reason(rule_id):
    relaxation = relaxations()[rule_id]
    assert rule_id in ENFORCED_IDS, f"{rule_id} is not an enforced rule of the pack"
    # advisory, not disabled: the violation still shows in every preview.
    assert relaxation["enforcementLevel"] == "advisory"
    assert len(relaxation["reason"]) > 20


@pytest.mark.parametrize("rule_id", sorted(relaxations()))
def test_relaxation_matches_an_explicit_non_default_value_in_the_dev_stack(rule_id):
    relaxation = relaxations()[rule_id]
    project, path = relaxation["stackConfigKey"].split(":")
    section, key = path.split(".")
    assert project == PROJECT
    stack_file = load_stack_config("dev")
    written = stack_file.get(f"{PROJECT}:{section}", {})
    assert key in written, f"Pulumi.dev.yaml does not set {relaxation['stackConfigKey']}"
    assert written[key] == relaxation["stackConfigValue"]
    default = next(spec.default for spec in SECTIONS[section][1] if spec.name == key)
    assert written[key] != default, (
        f"{relaxation['stackConfigKey']} is the default, not a relaxation"
    )


def test_suppressed_rule_is_not_vacuous(dev, prod):
    # CKV_AWS_116 ships disabled because stream invocations never reach a DLQ, CKV_AWS_272
    # because nothing signs the package, CKV_AWS_50 because tracing is opt-in; both stacks
    # do lack each, so enabling a rule would report them.
    suppressed = [rule for rule in RULES if rule.suppressed]
    assert [rule.id for rule in suppressed] == ["ckv-aws-116", "ckv-aws-272", "ckv-aws-50"]
    for rule in suppressed:
        assert rule.evaluate(dev) and rule.evaluate(prod), rule.id
