"""The pipeline's CloudWatch dashboard, as a pure function of resolved names and numbers
(``DashboardFacts`` -> ``dashboard_body``): one row per concern, every metric naming the
real resource, so what AWS receives can be read and tested without a deployment.
StreamAlarms (components/alarms.py) deploys it; the doctor and the planner rebuild it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.config import AlarmsConfig, FunctionConfig
from components.metrics import (
    BUCKET_DIMENSION,
    ESM_EVENT_COUNT_METRICS,
    FILTER_DIMENSION,
    FUNCTION_DIMENSION,
    LAMBDA_NAMESPACE,
    MAPPING_DIMENSION,
    PRICE_CHANGES,
    QUEUE_DIMENSION,
    RECORDS_FAILED,
    RECORDS_INSERTED,
    RECORDS_MODIFIED,
    RECORDS_PROCESSED,
    RECORDS_QUARANTINED,
    RECORDS_REMOVED,
    S3_NAMESPACE,
    SNS_NAMESPACE,
    SQS_NAMESPACE,
    STATUS_CHANGES,
    TOPIC_DIMENSION,
    TTL_EXPIRIES,
)

DASHBOARD_COLUMNS = 24
WIDGET_WIDTH, WIDGET_HEIGHT = 12, 6
ALARM_WIDGET_HEIGHT = 3


def dashboard_url(region: str, dashboard_name: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#dashboards:name={dashboard_name}"
    )


@dataclass(frozen=True)
class DashboardFacts:
    """Resolved names and numbers the dashboard body is built from."""

    region: str
    function_name: str
    failure_kind: str  # "s3" | "sqs" | "sns"
    failure_name: str
    alarms: AlarmsConfig
    function: FunctionConfig
    alarm_arns: list[str]
    failure_metrics_filter: str | None = None  # s3: the request-metrics FilterId
    mapping_id: str | None = None  # set when the mapping publishes its metrics (EventCount)


def dashboard_body(facts: DashboardFacts) -> dict:
    """The dashboard: one row per concern, metrics naming the real resources."""
    fn = facts.function_name
    ns = facts.function.metrics_namespace
    lam = LAMBDA_NAMESPACE

    def on_function(namespace: str, metric: str, stat: str, label: str | None = None) -> list:
        return [namespace, metric, FUNCTION_DIMENSION, fn, {"stat": stat, "label": label or metric}]

    timeout_ms = facts.function.timeout_seconds * 1000
    concurrency_lines = (
        [{"label": "reserved concurrency", "value": facts.function.reserved_concurrency}]
        if facts.function.reserved_concurrency > 0
        else []
    )
    if facts.failure_kind == "s3":
        failure_metrics = [
            [S3_NAMESPACE, "PutRequests", BUCKET_DIMENSION, facts.failure_name,
             FILTER_DIMENSION, facts.failure_metrics_filter or "",
             {"stat": "Sum", "label": "objects landed (batches + quarantined records)"}],
        ]  # fmt: skip
        failure_title = f"Failure bucket {facts.failure_name}"
    elif facts.failure_kind == "sqs":
        failure_metrics = [
            [SQS_NAMESPACE, "ApproximateNumberOfMessagesVisible", QUEUE_DIMENSION,
             facts.failure_name, {"stat": "Maximum", "label": "messages waiting"}],
            [SQS_NAMESPACE, "ApproximateAgeOfOldestMessage", QUEUE_DIMENSION,
             facts.failure_name, {"stat": "Maximum", "label": "oldest message (s)",
                                  "yAxis": "right"}],
        ]  # fmt: skip
        failure_title = f"Failure queue {facts.failure_name}"
    else:
        failure_metrics = [
            [SNS_NAMESPACE, "NumberOfMessagesPublished", TOPIC_DIMENSION, facts.failure_name,
             {"stat": "Sum", "label": "messages published"}],
        ]  # fmt: skip
        failure_title = f"Failure topic {facts.failure_name}"
    metric_widgets = [
        (f"{fn}: invocations, errors, throttles", [
            on_function(lam, "Invocations", "Sum"),
            on_function(lam, "Errors", "Sum"),
            on_function(lam, "Throttles", "Sum"),
        ], []),
        ("Duration (ms)", [
            on_function(lam, "Duration", "Average", "avg"),
            on_function(lam, "Duration", "p99", "p99"),
            on_function(lam, "Duration", "Maximum", "max"),
        ], [{"label": "timeout", "value": timeout_ms},
            {"label": "alarm", "value": facts.alarms.duration_threshold_ms}]),
        ("Iterator age (ms)", [on_function(lam, "IteratorAge", "Maximum", "max")],
         [{"label": "alarm", "value": facts.alarms.iterator_age_threshold_ms}]),
        ("Concurrent executions", [on_function(lam, "ConcurrentExecutions", "Maximum", "max")],
         concurrency_lines),
        (failure_title, failure_metrics, [{"label": "alarm", "value": 0}]),
        ("Records by event (EMF)", [
            on_function(ns, metric, "Sum")
            for metric in (RECORDS_PROCESSED, RECORDS_INSERTED, RECORDS_MODIFIED,
                           RECORDS_REMOVED, TTL_EXPIRIES)
        ], []),
        ("Status and price changes (EMF)", [
            on_function(ns, STATUS_CHANGES, "Sum"), on_function(ns, PRICE_CHANGES, "Sum"),
        ], []),
        ("Failed and quarantined records (EMF)", [
            on_function(ns, RECORDS_FAILED, "Sum"), on_function(ns, RECORDS_QUARANTINED, "Sum"),
        ], [{"label": "alarm", "value": 0}]),
    ]  # fmt: skip
    if facts.mapping_id:
        metric_widgets.append((
            "Event source mapping: events by outcome", [
                [lam, metric, MAPPING_DIMENSION, facts.mapping_id,
                 {"stat": "Sum", "label": metric.removesuffix("EventCount")}]
                for metric in ESM_EVENT_COUNT_METRICS
            ], [],
        ))  # fmt: skip
    # Alarm states first (what is wrong now), then two metric widgets per row.
    widgets: list[dict[str, Any]] = [
        {
            "type": "alarm",
            "x": 0,
            "y": 0,
            "width": DASHBOARD_COLUMNS,
            "height": ALARM_WIDGET_HEIGHT,
            "properties": {"title": "Alarms", "alarms": facts.alarm_arns},
        }
    ]
    per_row = DASHBOARD_COLUMNS // WIDGET_WIDTH
    for index, (title, metrics, lines) in enumerate(metric_widgets):
        properties: dict[str, Any] = {
            "title": title,
            "view": "timeSeries",
            "region": facts.region,
            "period": facts.alarms.period_seconds,
            "metrics": metrics,
        }
        if lines:
            properties["annotations"] = {"horizontal": lines}
        widgets.append(
            {
                "type": "metric",
                "x": (index % per_row) * WIDGET_WIDTH,
                "y": ALARM_WIDGET_HEIGHT + (index // per_row) * WIDGET_HEIGHT,
                "width": WIDGET_WIDTH,
                "height": WIDGET_HEIGHT,
                "properties": properties,
            }
        )
    return {"widgets": widgets}
