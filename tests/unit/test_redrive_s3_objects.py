"""Reading S3 invocation records: AWS's documented example, no stream read, bad payloads."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from streamops.lambda_local.on_failure import s3_invocation_record, s3_object_key
from streamops.redrive.failures import ReceivedMessage
from streamops.redrive.inventory import KIND_POINTER, KIND_UNKNOWN, UNREADABLE, take_inventory
from streamops.redrive.readback import RECOVERED

STREAM = "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388"
# The Lambda developer guide's "Example Amazon S3 invocation record" (DynamoDB), with
# `payload` holding an event of one record at the documented sequence number.
DOCUMENTED = {
    "requestContext": {
        "requestId": "316aa6d0-8154-xmpl-9af7-85d5f4a6bc81",
        "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 1,
    },
    "responseContext": {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    },
    "version": "1.0",
    "timestamp": "2019-11-14T00:13:49.717Z",
    "DDBStreamBatchInfo": {
        "shardId": "shardId-00000001573689847184-864758bb",
        "startSequenceNumber": "800000000003126276362",
        "endSequenceNumber": "800000000003126276362",
        "approximateArrivalOfFirstRecord": "2019-11-14T00:13:19Z",
        "approximateArrivalOfLastRecord": "2019-11-14T00:13:19Z",
        "batchSize": 1,
        "streamArn": STREAM,
    },
}
RECORD = {
    "eventID": "1",
    "eventVersion": "1.0",
    "dynamodb": {
        "Keys": {"PK": {"S": "USER#1"}, "SK": {"S": "PROFILE"}},
        "NewImage": {"PK": {"S": "USER#1"}, "SK": {"S": "PROFILE"}},
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        "SequenceNumber": "800000000003126276362",
        "SizeBytes": 26,
    },
    "awsRegion": "us-east-2",
    "eventName": "INSERT",
    "eventSourceARN": STREAM,
    "eventSource": "aws:dynamodb",
}


class NoStream:
    """Any stream call fails the test: an S3 batch must not be read back."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the stream was called ({name})")


def test_the_documented_record_with_its_payload_is_recovered_without_a_stream_read():
    body = json.dumps(s3_invocation_record(DOCUMENTED, {"Records": [RECORD]}))
    assert json.loads(body)["payload"] == json.dumps({"Records": [RECORD]})  # escaped JSON
    inventory = take_inventory([ReceivedMessage("aws/lambda/x", body)], NoStream())
    (state,) = inventory.messages
    assert (state.kind, state.status) == (KIND_POINTER, RECOVERED)
    assert state.read_back is not None and state.read_back.expires_at() is None
    (recovered,) = inventory.ordered_records()
    assert recovered.record == RECORD
    assert recovered.key == f"{STREAM}#800000000003126276362"
    assert recovered.shard_id == "shardId-00000001573689847184-864758bb"


def test_a_payload_that_is_not_an_invocation_event_is_unreadable_not_dropped():
    for payload in ("<Whole Event>", json.dumps({"records": []}), json.dumps([1])):
        body = json.dumps({**DOCUMENTED, "payload": payload})
        (state,) = take_inventory([ReceivedMessage("k", body)], NoStream()).messages
        assert (state.kind, state.status) == (KIND_UNKNOWN, UNREADABLE), payload
        assert state.unknown is not None and state.keys == []


def test_object_keys_follow_the_documented_layout():
    moment = dt.datetime(2019, 11, 14, 0, 13, 49, 717000, tzinfo=dt.UTC)
    key = s3_object_key("f89f8514-cdd9-4602-9e1f-01a5b77d449b", "shardId-0001", moment, "u-1")
    assert key == (
        "aws/lambda/f89f8514-cdd9-4602-9e1f-01a5b77d449b/shardId-0001/2019/11/14/"
        "2019-11-14T00.13.49-u-1"
    )
    assert re.fullmatch(r"aws/lambda/[^/]+/[^/]+/\d{4}/\d{2}/\d{2}/[^/]+", key)
