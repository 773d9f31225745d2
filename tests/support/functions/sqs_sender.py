"""SQS SendMessage from a handler process, stdlib only: SQS's JSON protocol (the one
boto3 speaks) with a Signature Version 4 Authorization header (AWS General Reference,
"Create a signed AWS API request"), to the endpoint in AWS_ENDPOINT_URL with the
credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.

Why not boto3: importing it takes 1-2 s on the test machine. Inside an invocation that is
longer than the 1 s function timeout the no-loss scenarios run under (a quarantine that
timed out in its import would be retried in a fresh environment that imports it again);
at module level INIT's own 10 s limit would allow it, but every cold start of the
property tests (a few dozen per run) would pay it. (The emulator reads the service and
region from the signature's scope; it does not check the signature.)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from urllib.parse import urlsplit

SERVICE, TARGET = "sqs", "AmazonSQS.SendMessage"
CONTENT_TYPE = "application/x-amz-json-1.0"


def send_message(queue_url: str, body: str, region: str = "us-east-1") -> None:
    # Imported here, not in INIT (paid at every cold start): about 50 ms.
    from urllib.request import Request, urlopen

    endpoint = os.environ["AWS_ENDPOINT_URL"].rstrip("/")
    payload = json.dumps({"QueueUrl": queue_url, "MessageBody": body}).encode()
    headers = {
        "content-type": CONTENT_TYPE,
        "host": urlsplit(endpoint).netloc,
        "x-amz-date": dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ"),
        "x-amz-target": TARGET,
    }
    headers["authorization"] = _authorization(headers, payload, region)
    request = Request(endpoint + "/", data=payload, headers=headers)
    with urlopen(request, timeout=5) as response:
        if response.status != 200:
            raise RuntimeError(f"SendMessage answered {response.status}")


def _authorization(headers: dict[str, str], payload: bytes, region: str) -> str:
    signed = ";".join(sorted(headers))
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            *(f"{name}:{headers[name]}" for name in sorted(headers)),
            "",
            signed,
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    moment = headers["x-amz-date"]
    scope = f"{moment[:8]}/{region}/{SERVICE}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", moment, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + os.environ["AWS_SECRET_ACCESS_KEY"]).encode()
    for part in (moment[:8], region, SERVICE, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    access_key = os.environ["AWS_ACCESS_KEY_ID"]
    return (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
