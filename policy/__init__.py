"""Pulumi policy pack (CrossGuard): the security baseline, one rule per control ID.

`rules.py` holds the rules (plain functions, unit-tested against the mocked resource graph),
`pack.py` turns them into CrossGuard policies, `__main__.py` is what `pulumi preview
--policy-pack policy` runs.
"""
