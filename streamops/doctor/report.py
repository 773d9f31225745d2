"""`streamops doctor`: is the deployed pipeline healthy and as configured? One line per check.

    uv run streamops doctor --stack dev   # a stack deployed with `pulumi up` (real AWS)
    uv run streamops doctor               # the embedded emulator, dev config deployed into it
    uv run streamops doctor --emulate prod
    uv run streamops doctor --probe       # also the end-to-end probe (writes test items)

Prints every check (streamops.doctor.checks) as PASS / FAIL with what was read and, for a
failure, what to do; then live figures that tell whether records are flowing (iterator
age, errors, failure destination depth, the mapping's last processing result). The command
line is streamops/cli/doctor.py: exit 1 if any check fails, 2 if the stack cannot be read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError

from streamops.doctor.checks import DeployedStack, Finding, run_checks
from streamops.doctor.probe import run_probe
from streamops.lambda_local.mapping import local_mapping

DEFAULT_EMULATED_STACK = "dev"
FIGURE_WINDOW = dt.timedelta(hours=1)
FIGURE_PERIOD_SECONDS = 300
NOT_AVAILABLE = "n/a"


@dataclass(frozen=True)
class Figure:
    label: str
    value: str


def _metric(
    stack: DeployedStack, namespace: str, metric: str, statistic: str, dimensions: dict[str, str]
) -> float | None:
    """`statistic` over the last hour (max of maxima, sum of sums); None: no datapoints."""
    now = dt.datetime.now(dt.UTC)
    points = stack.aws("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": key, "Value": value} for key, value in dimensions.items()],
        StartTime=now - FIGURE_WINDOW,
        EndTime=now,
        Period=FIGURE_PERIOD_SECONDS,
        Statistics=[statistic],
    )["Datapoints"]
    values = [point[statistic] for point in points]
    if not values:
        return None
    return max(values) if statistic == "Maximum" else sum(values)


def live_figures(stack: DeployedStack) -> list[Figure]:
    """Figures from CloudWatch, the queue and the mapping; n/a where there is no data."""
    function = {"FunctionName": str(stack.outputs.get("functionName", ""))}

    def metric(label: str, name: str, statistic: str, unit: str) -> Figure:
        value = _metric(stack, "AWS/Lambda", name, statistic, function)
        shown = f"{value:g} {unit}" if value is not None else f"{NOT_AVAILABLE} (no datapoints)"
        return Figure(f"{label} (last hour)", shown)

    readers = [
        lambda: metric("iterator age, max", "IteratorAge", "Maximum", "ms"),
        lambda: metric("invocations", "Invocations", "Sum", ""),
        lambda: metric("invocation errors", "Errors", "Sum", ""),
        lambda: metric("throttles", "Throttles", "Sum", ""),
        lambda: _destination_depth(stack),
        lambda: _last_processing_result(stack),
    ]
    figures = []
    for read in readers:
        try:
            figures.append(read())
        except (ClientError, BotoCoreError, KeyError) as error:
            figures.append(Figure("(figure)", f"{NOT_AVAILABLE}: {error}"))
    return figures


def _destination_depth(stack: DeployedStack) -> Figure:
    label = "failure destination depth"
    if stack.config.trigger.on_failure == "s3":
        bucket = stack.output("failureBucketName")
        pages = stack.aws("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
        count = sum(page.get("KeyCount", 0) for page in pages)
        return Figure(label, f"{count} objects waiting (batches and quarantined records)")
    if stack.config.trigger.on_failure != "sqs":
        return Figure(label, f"{NOT_AVAILABLE} (an SNS topic holds no messages)")
    attributes = stack.queue_attributes()
    visible = attributes.get("ApproximateNumberOfMessages", NOT_AVAILABLE)
    in_flight = attributes.get("ApproximateNumberOfMessagesNotVisible", NOT_AVAILABLE)
    return Figure(label, f"{visible} messages waiting, {in_flight} in flight")


def _last_processing_result(stack: DeployedStack) -> Figure:
    mapping = stack.mapping()
    return Figure(
        "mapping last processing result",
        mapping.get("LastProcessingResult") or f"{NOT_AVAILABLE} (none reported)",
    )


def report(title: str, findings: Sequence[Finding], figures: Sequence[Figure], out: TextIO) -> None:
    width = max((len(finding.name) for finding in findings), default=0)
    print(title, file=out)
    print(file=out)
    for finding in findings:
        status = "PASS" if finding.ok else "FAIL"
        print(f"{status}  {finding.name:<{width}}  {finding.detail}", file=out)
        if not finding.ok:
            print(f"      {'':<{width}}  fix: {finding.fix}", file=out)
    print(file=out)
    print("Live figures", file=out)
    label_width = max((len(figure.label) for figure in figures), default=0)
    for figure in figures:
        print(f"  {figure.label:<{label_width}}  {figure.value}", file=out)
    failures = sum(not finding.ok for finding in findings)
    print(file=out)
    print(f"{len(findings)} checks: {len(findings) - failures} passed, {failures} failed", file=out)


Probe = Callable[[DeployedStack], list[Finding]]


def diagnose(
    stack: DeployedStack, probe: Probe | None = None
) -> tuple[list[Finding], list[Figure]]:
    """Every check on `stack` (then the probe, if given) and the live figures."""
    findings = run_checks(stack)
    if probe is not None:
        findings.extend(probe(stack))
    return findings, live_figures(stack)


def examine(stack: DeployedStack, title: str, out: TextIO, probe: Probe | None = None) -> int:
    """Run every check on `stack` (and the probe, if given), print the report; 0 if all
    passed, else 1."""
    findings, figures = diagnose(stack, probe)
    report(title, findings, figures, out)
    return 0 if all(finding.ok for finding in findings) else 1


def probe_with_local_mapping(stack: DeployedStack) -> list[Finding]:
    """The probe on the emulator: the local stream runner processes while it waits."""
    with local_mapping(stack) as runner:
        return run_probe(stack, pump=runner.step)
