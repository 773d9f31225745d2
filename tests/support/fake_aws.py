"""The placeholder AWS of the unit tests: streamops/mock_aws.py (also what
`streamops resources` runs the program against)."""

from streamops.mock_aws import ACCOUNT, PARTITION, REGION, FakeAws, autoname

__all__ = ["ACCOUNT", "PARTITION", "REGION", "FakeAws", "autoname"]
