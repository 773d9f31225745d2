"""devtools.program.run_program: the in-process runner the unit tests rely on."""

from __future__ import annotations

from devtools.program import run_program
from tests.support.fake_aws import ACCOUNT, FakeAws

PROJECT_KEY = "dynamodb-stream-processor"


def test_invokes_are_answered_by_the_mocks():
    # Regression: ProgramMocks.call returned (result, None) and Pulumi's mock monitor
    # iterates the failures, so every invoke (getCallerIdentity, getTable, ...) crashed
    # the program with "'NoneType' object is not iterable".
    name = "existing-orders"
    arn = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{name}"
    mocks = FakeAws(
        tables={
            name: {
                "arn": arn,
                "streamEnabled": True,
                "streamArn": f"{arn}/stream/2026-01-01T00:00:00.000",
                "streamViewType": "NEW_AND_OLD_IMAGES",
            }
        }
    )
    program = run_program(
        mocks,
        {
            f"{PROJECT_KEY}:table": {"existingTableName": name},
            f"{PROJECT_KEY}:function": {"name": "orders-processor"},
            f"{PROJECT_KEY}:alarms": {"topicKmsKey": "none"},
        },
        "test",
    )
    assert program.outputs["streamArn"] == f"{arn}/stream/2026-01-01T00:00:00.000"
    assert ("aws:dynamodb/getTable:getTable", {"name": name}) in mocks.invokes
