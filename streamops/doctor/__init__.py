"""Deployed-stack checks (one set, used by the tests and by the doctor command) and the probe."""
