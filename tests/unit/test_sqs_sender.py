"""The no-loss handler's stdlib SQS sender signs its requests as botocore does (Signature
Version 4), so the emulator routes them as it routes boto3's, and AWS would accept them."""

from __future__ import annotations

import datetime as dt
import json
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support.functions.sqs_sender import CONTENT_TYPE, TARGET, _authorization

# The example credentials of the AWS General Reference's signing examples.
ACCESS_KEY, SECRET_KEY = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
MOMENT = dt.datetime(2026, 12, 1, 23, 0, 0)


class _Frozen(dt.datetime):
    @classmethod
    def utcnow(cls) -> _Frozen:
        return cls(*MOMENT.timetuple()[:6])

    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> _Frozen:
        return cls(*MOMENT.timetuple()[:6], tzinfo=tz)


def test_the_authorization_header_is_the_one_botocore_computes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    payload = json.dumps({"QueueUrl": "http://127.0.0.1:5000/1/q", "MessageBody": "x"}).encode()
    headers = {
        "content-type": CONTENT_TYPE,
        "host": "127.0.0.1:5000",
        "x-amz-date": MOMENT.strftime("%Y%m%dT%H%M%SZ"),
        "x-amz-target": TARGET,
    }

    ours = _authorization(dict(headers), payload, "us-east-1")

    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:5000/",
        data=payload,
        headers={"content-type": CONTENT_TYPE, "x-amz-target": TARGET},
    )
    with mock.patch("botocore.auth.datetime.datetime", _Frozen):
        SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "sqs", "us-east-1").add_auth(request)
    assert request.headers["X-Amz-Date"] == headers["x-amz-date"]
    assert ours == request.headers["Authorization"]
    assert ours != _authorization(dict(headers), payload + b" ", "us-east-1")
