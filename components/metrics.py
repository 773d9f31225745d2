"""The CloudWatch metrics the pipeline's alarms and dashboard read: AWS's namespaces and
dimensions, the event source mapping's EventCount metrics, and the handler's EMF metrics.
"""

from __future__ import annotations

LAMBDA_NAMESPACE = "AWS/Lambda"
SQS_NAMESPACE = "AWS/SQS"
SNS_NAMESPACE = "AWS/SNS"
S3_NAMESPACE = "AWS/S3"
FUNCTION_DIMENSION = "FunctionName"
QUEUE_DIMENSION = "QueueName"
TOPIC_DIMENSION = "TopicName"
BUCKET_DIMENSION = "BucketName"
FILTER_DIMENSION = "FilterId"  # an S3 request-metrics configuration
MAPPING_DIMENSION = "EventSourceMappingUUID"
# The mapping's metrics with metrics_config [EventCount] (Lambda developer guide, "Event
# source mapping metrics"), in the order an event goes through the mapping.
ESM_EVENT_COUNT_METRICS = (
    "PolledEventCount",
    "FilteredOutEventCount",
    "InvokedEventCount",
    "FailedInvokeEventCount",
    "DroppedEventCount",
)

# The handler's EMF metrics (functions/stream_processor/metrics.py). Kept as literals:
# components never import the function package (it is deployed alone); a unit test
# checks both sides agree.
RECORDS_PROCESSED = "RecordsProcessed"
RECORDS_INSERTED = "RecordsInserted"
RECORDS_MODIFIED = "RecordsModified"
RECORDS_REMOVED = "RecordsRemoved"
TTL_EXPIRIES = "TtlExpiries"
STATUS_CHANGES = "StatusChanges"
PRICE_CHANGES = "PriceChanges"
RECORDS_FAILED = "RecordsFailed"
RECORDS_QUARANTINED = "RecordsQuarantined"
