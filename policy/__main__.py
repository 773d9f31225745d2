"""Entry point Pulumi runs for `pulumi preview|up --policy-pack policy`.

The pack imports its rules as `policy.*` (as the unit tests do) and the runtime deprecation
dates from `components/config/` (one home for AWS limits), so the repository root goes on
the import path: the pack is run from this repository, next to the program it checks.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policy.pack import PACK_NAME, policies

PolicyPack(
    name=PACK_NAME,
    policies=policies(),
    enforcement_level=EnforcementLevel.MANDATORY,
)
