"""The alarms' CloudWatch types in the embedded emulator: metric alarms (metric or metric-math
queries) and dashboards, each created through boto3 as the provider would."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streamops.aws import AwsClients
from streamops.emulator.creators import Created, Creator, Inputs, autoname, only, tag_list

ALARM_SCALARS = {
    "comparisonOperator": "ComparisonOperator",
    "metricName": "MetricName",
    "namespace": "Namespace",
    "statistic": "Statistic",
    "extendedStatistic": "ExtendedStatistic",
    "unit": "Unit",
    "threshold": "Threshold",
    "thresholdMetricId": "ThresholdMetricId",
    "treatMissingData": "TreatMissingData",
    "alarmDescription": "AlarmDescription",
    "actionsEnabled": "ActionsEnabled",
    "evaluateLowSampleCountPercentiles": "EvaluateLowSampleCountPercentiles",
}
ALARM_INTEGERS = {
    "evaluationPeriods": "EvaluationPeriods",
    "datapointsToAlarm": "DatapointsToAlarm",
    "period": "Period",
}
ALARM_LISTS = {
    "alarmActions": "AlarmActions",
    "okActions": "OKActions",
    "insufficientDataActions": "InsufficientDataActions",
}


def _dimensions(values: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"Name": key, "Value": value} for key, value in (values or {}).items()]


def _metric_query(query: Mapping[str, Any], where: str) -> dict[str, Any]:
    fields = ("id", "expression", "label", "returnData", "period", "accountId", "metric")
    query = only(query, fields, where)
    result: dict[str, Any] = {"Id": query["id"]}
    for key, target in (
        ("expression", "Expression"),
        ("label", "Label"),
        ("accountId", "AccountId"),
    ):
        if key in query:
            result[target] = query[key]
    if "returnData" in query:
        result["ReturnData"] = bool(query["returnData"])
    if "period" in query:
        result["Period"] = int(query["period"])
    if "metric" in query:
        metric = only(
            query["metric"],
            ("metricName", "namespace", "period", "stat", "unit", "dimensions"),
            f"{where}.metric",
        )
        result["MetricStat"] = {
            "Metric": {
                "Namespace": metric.get("namespace"),
                "MetricName": metric["metricName"],
                "Dimensions": _dimensions(metric.get("dimensions")),
            },
            "Period": int(metric["period"]),
            "Stat": metric["stat"],
            **({"Unit": metric["unit"]} if "unit" in metric else {}),
        }
    return result


def create_metric_alarm(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    cloudwatch = aws("cloudwatch")
    alarm_name = inputs.take("name") or autoname(name)
    request: dict[str, Any] = {
        "AlarmName": alarm_name,
        **inputs.renamed(ALARM_SCALARS),
        **inputs.renamed(ALARM_INTEGERS, int),
    }
    for key, target in ALARM_LISTS.items():
        request[target] = list(inputs.take(key) or [])
    if inputs.take("dimensions"):
        request["Dimensions"] = _dimensions(inputs.take("dimensions"))
    queries = inputs.take("metricQueries") or []
    if queries:
        request["Metrics"] = [
            _metric_query(query, f"{inputs.where} metricQueries[{index}]")
            for index, query in enumerate(queries)
        ]
    request["Tags"] = tag_list(inputs.take("tags"))
    inputs.done()

    cloudwatch.put_metric_alarm(**request)
    alarm = cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"][0]
    return alarm_name, {"name": alarm_name, "arn": alarm["AlarmArn"]}


def create_dashboard(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    cloudwatch = aws("cloudwatch")
    dashboard_name = inputs.take("dashboardName") or autoname(name)
    body = inputs.take("dashboardBody")
    inputs.done()

    cloudwatch.put_dashboard(DashboardName=dashboard_name, DashboardBody=body)
    arn = cloudwatch.get_dashboard(DashboardName=dashboard_name)["DashboardArn"]
    return dashboard_name, {"dashboardName": dashboard_name, "dashboardArn": arn}


# --- Lambda ----------------------------------------------------------------------------


CLOUDWATCH_CREATORS: dict[str, Creator] = {
    "aws:cloudwatch/metricAlarm:MetricAlarm": create_metric_alarm,
    "aws:cloudwatch/dashboard:Dashboard": create_dashboard,
}
