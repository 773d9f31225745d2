"""Acceptance for the EMF line: on a prod-config stack in the emulator (application log
level WARN) and at ERROR, every invocation's EMF line is in the function's log group after
Lambda's documented filter, applied by the local log pipeline to what the awslambdaric
execution environment wrote (developer guide, "Log-level filtering"; aws-facts.md)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from streamops.emulator.server import Deployment
from streamops.lambda_local.mapping import local_mapping
from streamops.lambda_local.runner import BatchInvoked, RunnerEvent
from streamops.sample_data import sample_changes, write_changes
from streamops.stacks import emulated_stack

pytestmark = pytest.mark.integration


def log_group_documents(deployment: Deployment) -> list[dict[str, Any]]:
    logs = deployment.aws("logs")
    group = deployment.outputs["logGroupName"]
    documents: list[dict[str, Any]] = []
    for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
        events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])
        documents.extend(json.loads(event["message"]) for event in events["events"])
    return documents


@pytest.mark.parametrize("level", ["WARN", "ERROR"])
def test_every_invocations_emf_line_reaches_the_log_group_at_prod_levels(
    fresh_deployment: Callable[..., Deployment], level: str
) -> None:
    deployment = fresh_deployment("prod", function={"logLevel": level})
    assert deployment.config.function.log_level == level
    invoked: list[BatchInvoked] = []

    def keep(event: RunnerEvent) -> None:
        if isinstance(event, BatchInvoked):
            invoked.append(event)

    write_changes(
        deployment.aws("dynamodb"), deployment.outputs["tableName"], sample_changes(time.time())
    )
    with local_mapping(emulated_stack(deployment), observers=[keep]) as runner:
        summary = runner.run_until_drained(timeout_seconds=120)

    assert summary.drained and summary.unaccounted == 0 and invoked
    documents = log_group_documents(deployment)
    emf = [document for document in documents if "_aws" in document]
    reports = [document for document in documents if document.get("type") == "platform.report"]
    assert len(emf) == len(reports) == len(invoked) == summary.invocations
    assert sum(document["RecordsQuarantined"] for document in emf) == 1  # the sample's poison
    assert all(document["level"] == level for document in emf)
    # Nothing below the level got through: no INFO application line in the group.
    application = [document for document in documents if "type" not in document]
    assert all(document.get("level") not in ("INFO", "DEBUG") for document in application)
