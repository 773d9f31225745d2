"""Deployed-stack checks: what is actually deployed, compared with the stack's config.

Why: mocked unit tests prove what the program asks AWS for; these checks read back what
AWS (or the embedded emulator) actually holds, after `pulumi up` or after someone changed
things by hand. They are the seed tutorial's verification list and its "Lambda not
triggering" troubleshooting list done by code: table active and streaming, function
healthy and configured, mapping enabled on the table's current stream with every
trigger setting as configured, failure destination present and encrypted, the execution
role granting exactly what the function needs, log retention, alarms and dashboard.

One package, used by the integration tests and by `doctor`. Each check returns Findings
with a stable name (`mapping.batchSize`), whether it passed, what was read, and on
failure what to do. Expectations come from the typed config (components/config/) and
the stack outputs; the expected IAM policy is built by the same function the program
uses (components.function.execution_policy), never copied.

Where each concern lives (import from `streamops.doctor.checks`, which re-exports them):
- model.py: Finding, DeployedStack (reads once per run), the check groups and run_checks;
- policies.py: policy documents as sets of grants (grants, describe_difference);
- keys.py: KMS key facts, key judgements and key policy findings;
- table.py: the table and its stream; function.py: the function and its log group;
- trigger.py: the event source mapping and the failure destination;
- role.py: the execution role; alarms.py: the alarm topic, alarms and dashboard.
"""

# isort: off
# The check groups register in import order, which is the order run_checks reports
# them in (as in the single module these came from): keep these imports in this order.
from streamops.doctor.checks.model import (
    GROUPS,
    REDEPLOY,
    DeployedStack,
    Finding,
    Group,
    MissingOutput,
    compare,
    failed,
    group,
    passed,
    run_checks,
)
from streamops.doctor.checks.policies import (
    Grant,
    describe_difference,
    grants,
)
from streamops.doctor.checks.keys import (
    KeyFacts,
    key_policy_finding,
)
from streamops.doctor.checks.table import (
    AWS_MANAGED_DYNAMODB_KEY,
    _stream_finding,
    check_table,
)
from streamops.doctor.checks.function import (
    check_function,
    check_log_group,
)
from streamops.doctor.checks.trigger import (
    check_failure_destination,
    check_mapping,
)
from streamops.doctor.checks.role import (
    check_role,
    expected_execution_policy,
)
from streamops.doctor.checks.alarms import (
    _alarm_topic_finding,
    _subscriptions_finding,
    check_alarms,
    check_dashboard,
    expected_alarms,
    subscriptions_of,
)
# isort: on

__all__ = [
    "AWS_MANAGED_DYNAMODB_KEY",
    "GROUPS",
    "REDEPLOY",
    "DeployedStack",
    "Finding",
    "Grant",
    "Group",
    "KeyFacts",
    "MissingOutput",
    "_alarm_topic_finding",
    "_stream_finding",
    "_subscriptions_finding",
    "check_alarms",
    "check_dashboard",
    "check_failure_destination",
    "check_function",
    "check_log_group",
    "check_mapping",
    "check_role",
    "check_table",
    "compare",
    "describe_difference",
    "expected_alarms",
    "expected_execution_policy",
    "failed",
    "grants",
    "group",
    "key_policy_finding",
    "passed",
    "run_checks",
    "subscriptions_of",
]
