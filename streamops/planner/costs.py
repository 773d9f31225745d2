"""Monthly cost lines: usage, the free-tier allowance that covers it, what is billed, dollars.

Why lines with allowances and not just a total: "will this stay free?" is answered line by
line -- which allowance covers each one, and which line leaves the free tier first. Every
price and allowance comes from the price book (streamops/planner/prices.json); a missing figure is
shown as such. Free tiers are per account (DynamoDB's per region): other workloads in the
same account share them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from streamops.planner.prices import Figure, PriceBook
from streamops.planner.stack import KeyUse


@dataclass(frozen=True)
class Line:
    service: str
    name: str
    usage: float
    unit: str
    free: float | None  # allowance in `unit` (None: no free tier, or not found)
    free_text: str  # the allowance in words, e.g. "1,000,000 requests/month"
    unit_price: float  # dollars per unit
    note: str = ""
    price_text: str = ""  # the price as the book states it, e.g. "$0.2 per 1,000,000 requests"

    @property
    def billable(self) -> float:
        return max(0.0, self.usage - (self.free or 0.0))

    @property
    def dollars(self) -> float:
        return self.billable * self.unit_price

    @property
    def covered(self) -> bool:
        """Used, and entirely inside its free-tier allowance."""
        return self.usage > 0 and self.billable == 0 and bool(self.free)


def allowance_text(figure: Figure, service: str) -> str:
    if figure.missing:
        return f"not found ({figure.note})"
    return f"{service} free tier: {figure.value:,} {figure.unit}"


def total(lines: Sequence[Line]) -> float:
    return sum(line.dollars for line in lines)


def priced_line(
    book: PriceBook,
    service: str,
    name: str,
    usage: float,
    unit: str,
    price_key: str,
    free_key: str | None = None,
    note: str = "",
) -> Line:
    """A line whose allowance and price both come from the book under the given keys."""
    price = book.price(price_key)
    if free_key is None:
        free, free_text = None, "none"
    else:
        figure = book.free(free_key)
        free = None if figure.missing else float(figure.value)
        free_text = allowance_text(figure, service)
    return Line(
        service, name, usage, unit, free, free_text, price.unit_price, note, price_words(price)
    )


def price_words(price: Figure) -> str:
    per = f"{price.per:,.0f} " if price.per != 1 else ""
    return f"${price.value:g} per {per}{price.unit}"


# --------------------------------------------------------------------------- services


def lambda_lines(book: PriceBook, invocations: float, gb_seconds: float, arch: str) -> list[Line]:
    return [
        priced_line(
            book,
            "Lambda",
            "requests (invocations)",
            invocations,
            "requests",
            "lambda.requests",
            "lambda.requests",
        ),
        priced_line(
            book,
            "Lambda",
            f"compute ({arch})",
            gb_seconds,
            "GB-s",
            f"lambda.gb_seconds.{arch}",
            "lambda.gb_seconds",
        ),
    ]


def log_lines(book: PriceBook, ingested_gb: float, stored_gb: float, retention: str) -> list[Line]:
    """Ingestion and storage share ONE 5 GB allowance (see prices.json): ingestion uses it
    first, storage gets what is left."""
    ingest = priced_line(
        book, "CloudWatch", "log ingestion", ingested_gb, "GB", "logs.ingestion", "logs.data"
    )
    left = max(0.0, (ingest.free or 0.0) - ingested_gb)
    store = priced_line(
        book,
        "CloudWatch",
        f"log storage ({retention})",
        stored_gb,
        "GB-month",
        "logs.storage",
        note="stored as ingested; compression is not modelled, so an upper bound",
    )
    shared = f"{ingest.free_text}, shared with ingestion: {left:,.2f} GB left"
    return [ingest, replace(store, free=left, free_text=shared)]


def monitoring_lines(
    book: PriceBook, metrics: int, alarms: int, dashboards: int, dashboard_metrics: int = 0
) -> list[Line]:
    """Custom metrics (the EMF line's), standard alarms (one metric each) and dashboards.
    The dashboard allowance covers dashboards of up to 50 metrics (see prices.json)."""
    shown = f"{dashboard_metrics} metrics on it" if dashboards else ""
    specs = [
        ("custom metrics (EMF)", metrics, "metrics", "cloudwatch.custom_metrics", ""),
        ("alarms", alarms, "alarm metrics", "cloudwatch.alarms", ""),
        ("dashboards", dashboards, "dashboards", "cloudwatch.dashboards", shown),
    ]
    return [
        priced_line(book, "CloudWatch", name, usage, unit, key, key, note)
        for name, usage, unit, key, note in specs
    ]


def sqs_requests(messages: float, message_bytes: float, chunk_bytes: int = 65536) -> float:
    """SQS bills each 64 KB chunk of a message as one request (sends only: reading the
    queue back is the operator's redrive, not this pipeline)."""
    return messages * max(1, math.ceil(message_bytes / chunk_bytes))


def destination_lines(
    book: PriceBook, kind: str, messages: float, message_bytes: float, retention_days: int = 0
) -> list[Line]:
    if kind == "s3":
        return s3_destination_lines(book, messages, message_bytes, retention_days)
    if kind == "sqs":
        return [
            priced_line(
                book,
                "SQS",
                "failure queue sends",
                sqs_requests(messages, message_bytes),
                "requests",
                "sqs.requests",
                "sqs.requests",
            )
        ]
    return [
        priced_line(
            book,
            "SNS",
            "failure topic publishes",
            messages,
            "publishes",
            "sns.publishes",
            "sns.publishes",
        )
    ]


def s3_destination_lines(
    book: PriceBook, objects: float, object_bytes: float, retention_days: int
) -> list[Line]:
    """One PUT per object (a discarded batch or a poison record: at most one per failed
    record, the count used), and what the bucket holds: a month's objects kept for the
    lifecycle's days (a replayed object's noncurrent version stays as long: not doubled)."""
    monthly_gb = objects * object_bytes / float(book.model("gb_bytes"))
    stored_gb = monthly_gb * retention_days / float(book.model("month_days"))
    return [
        priced_line(
            book, "S3", "failure bucket PUTs", objects, "PUT requests", "s3.put_requests",
            note="one object per failed batch or poison record (upper bound: one per record)",
        ),
        priced_line(
            book, "S3", "failure bucket storage", stored_gb, "GB-month", "s3.storage",
            note=f"{retention_days}-day lifecycle expiration",
        ),
    ]  # fmt: skip


def extra_metric_lines(
    book: PriceBook, s3_request_metrics: bool, mapping_metrics: bool
) -> list[Line]:
    """Metrics billed as custom metrics besides the EMF ones: the failure bucket's request
    metrics (the landings alarm's signal) and the mapping's EventCount metrics. No free
    allowance is applied to them (the EMF metrics use it first): an upper bound."""
    specs = []
    if s3_request_metrics:
        specs.append(("S3 request metrics (failure bucket)", "s3_request_metrics"))
    if mapping_metrics:
        specs.append(("event source mapping metrics (EventCount)", "esm_event_count_metrics"))
    return [
        priced_line(
            book, "CloudWatch", name, float(book.model(key)), "metrics",
            "cloudwatch.custom_metrics", note=book.model_figure(key).note,
        )
        for name, key in specs
    ]  # fmt: skip


def alarm_topic_lines(book: PriceBook, notifications: float, emails: int) -> list[Line]:
    return [
        priced_line(
            book,
            "SNS",
            "alarm topic publishes",
            notifications,
            "publishes",
            "sns.publishes",
            "sns.publishes",
        ),
        priced_line(
            book, "SNS", "alarm emails", notifications * emails, "emails", "sns.email", "sns.email"
        ),
    ]


def kms_requests(
    book: PriceBook,
    keys: Sequence[KeyUse],
    month_seconds: float,
    failure_messages: float,
    notifications: float,
) -> float:
    """KMS requests a month (an estimate, see prices.json `model`): the table key once per
    caller per cache period; an SQS key once per data-key reuse period while messages are
    sent; an SNS topic key per publish."""
    cache_s = float(book.model("kms_key_cache_seconds"))
    per_publish = float(book.model("kms_requests_per_sns_publish"))
    requests = 0.0
    for key in keys:
        if not key.requests_billed:
            continue
        if key.purpose == "table":
            requests += book.model("kms_table_key_callers") * month_seconds / cache_s
        elif key.purpose in ("failure sqs", "failure s3"):
            # SQS reuses a data key per reuse period; S3 Bucket Keys likewise per bucket key.
            requests += min(failure_messages, month_seconds / cache_s)
        elif key.purpose == "failure sns":
            requests += failure_messages * per_publish
        elif key.purpose in ("function", "function logs"):
            # CloudWatch Logs (and Lambda, for the environment) reuse a data key per cache
            # period, like the table key's callers.
            requests += book.model("kms_function_key_callers") * month_seconds / cache_s
        else:  # alarm topic
            requests += notifications * per_publish
    return requests


def kms_lines(book: PriceBook, keys: Sequence[KeyUse], requests: float) -> list[Line]:
    created = [key for key in keys if key.created]
    names = ", ".join(key.setting for key in created) or "none created"
    return [
        priced_line(
            book, "KMS", "customer-managed keys", len(created), "key-months", "kms.keys", note=names
        ),
        priced_line(
            book,
            "KMS",
            "key requests",
            requests,
            "requests",
            "kms.requests",
            "kms.requests",
            "estimated from the key cache periods",
        ),
    ]


def provisioned_line(book: PriceBook, kind: str, units: int, hours: float) -> Line:
    """Provisioned capacity is billed per unit-hour; the free tier is 25 units all month."""
    key = f"dynamodb.{kind}_capacity"
    unit = "WCU" if kind == "write" else "RCU"
    free = book.free(key)
    free_hours = float(free.value) * hours
    return Line(
        "DynamoDB",
        f"{kind} capacity ({units} {unit})",
        units * hours,
        f"{unit}-hours",
        free_hours,
        f"{allowance_text(free, 'DynamoDB')} = {free_hours:,.0f} {unit}-hours",
        book.price(key).unit_price,
    )


def dynamodb_lines(
    book: PriceBook,
    billing_mode: str,
    write_capacity: int | None,
    read_capacity: int | None,
    write_units_per_month: float,
    table_gb: float,
    pitr: bool,
    hours: float,
    stream_reads: float,
) -> list[Line]:
    if billing_mode == "PROVISIONED":
        table = [
            provisioned_line(book, "write", write_capacity or 0, hours),
            provisioned_line(book, "read", read_capacity or 0, hours),
        ]
    else:
        table = [
            priced_line(
                book,
                "DynamoDB",
                "write requests (on-demand)",
                write_units_per_month,
                "write units",
                "dynamodb.write_requests",
                note="the application's reads are not modelled",
            ),
        ]
    table.append(
        priced_line(
            book,
            "DynamoDB",
            "storage",
            table_gb,
            "GB-month",
            "dynamodb.storage",
            "dynamodb.storage",
            "table size from --table-gb",
        )
    )
    if pitr:
        table.append(
            priced_line(
                book,
                "DynamoDB",
                "point-in-time recovery",
                table_gb,
                "GB-month",
                "dynamodb.pitr",
                note="table size from --table-gb",
            )
        )
    reads = book.price("dynamodb.stream_reads_by_lambda")
    table.append(
        Line(
            "DynamoDB",
            "stream reads by Lambda",
            stream_reads,
            "GetRecords",
            stream_reads,
            "no charge",
            reads.unit_price,
            "GetRecords made by a Lambda trigger are free",
        )
    )
    return table
