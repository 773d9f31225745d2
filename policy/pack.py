"""Wraps the rules of `policy/rules.py` as Pulumi CrossGuard policies.

Single-resource rules become `ResourceValidationPolicy` (the engine attaches each violation
to the resource, and a value unknown during preview only skips that one resource);
cross-resource rules become `StackValidationPolicy`.

Relaxations: every policy accepts the config properties in `RELAXATION_SCHEMA`. A stack's
policy-pack config file (`policy/dev.json`) lowers a rule's `enforcementLevel` and says
why; the reason is appended to every violation the rule reports, so a reviewer reading the
preview sees the relaxation and its justification next to the finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.rules import RULES, Resource, Rule

PACK_NAME = "dynamodb-stream-processor-security"

RELAXATION_SCHEMA = PolicyConfigSchema(
    properties={
        "reason": {
            "type": "string",
            "description": "Why this stack relaxes the rule (shown with every violation).",
        },
        "stackConfigKey": {
            "type": "string",
            "description": "The stack config key that makes the stack violate the rule.",
        },
        "stackConfigValue": {
            "type": ["string", "number", "boolean"],
            "description": "The value of stackConfigKey in the stack file.",
        },
    }
)


def relaxation_note(config: Mapping[str, Any]) -> str:
    """The text appended to a relaxed rule's violations ("" when the config has no reason).

    Looks like ` [relaxed for this stack: <reason> (<stackConfigKey> = <stackConfigValue>)]`.
    """
    reason = config.get("reason")
    if not reason:
        return ""
    key = config.get("stackConfigKey")
    setting = f" ({key} = {config.get('stackConfigValue')})" if key else ""
    return f" [relaxed for this stack: {reason}{setting}]"


def enforcement_level(rule: Rule) -> EnforcementLevel:
    return EnforcementLevel.DISABLED if rule.suppressed else EnforcementLevel.MANDATORY


def description(rule: Rule) -> str:
    controls = ", ".join(rule.controls)
    text = f"[{controls}] {rule.description}"
    if rule.suppressed:
        text += f" SUPPRESSED: {rule.suppressed}"
    return text


def to_policy(rule: Rule) -> Policy:
    """The CrossGuard policy that runs `rule`."""
    common: dict[str, Any] = {
        "name": rule.id,
        "description": description(rule),
        "enforcement_level": enforcement_level(rule),
        "config_schema": RELAXATION_SCHEMA,
        "severity": Severity(rule.severity),
        "remediation_steps": rule.remediation,
        "tags": ["security", *rule.controls],
    }
    if rule.check_stack is not None:
        return StackValidationPolicy(validate=_stack_validation(rule), **common)
    return ResourceValidationPolicy(validate=_resource_validation(rule), **common)


def _resource_validation(rule: Rule):
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in rule.types:
            return
        resource = Resource(args.resource_type, args.name, args.props, args.urn)
        note = relaxation_note(args.get_config())
        for violation in rule.evaluate([resource]):
            report_violation(violation.message + note, None)

    return validate


def _stack_validation(rule: Rule):
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            Resource(r.resource_type, r.name, r.props, r.urn)
            for r in args.resources
            if r.resource_type in rule.types
        ]
        note = relaxation_note(args.get_config())
        for violation in rule.evaluate(resources):
            report_violation(violation.message + note, violation.resource.urn or None)

    return validate


def policies() -> list[Policy]:
    """Every rule, in aws-facts.md's order."""
    return [to_policy(rule) for rule in RULES]
