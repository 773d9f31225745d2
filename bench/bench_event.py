"""The benchmarks' event: a deterministic DynamoDB Streams batch of an e-commerce table
(INSERT/MODIFY/REMOVE of users, products and orders, 10 attributes with a nested map and a
set), as Lambda delivers it. Used by bench_handler.py and bench_bounds.py.
"""

from __future__ import annotations

import random
from typing import Any

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/shop/stream/2025-08-11T16:30:00.000"
STATUSES = ("pending", "paid", "packed", "shipped", "delivered", "cancelled")
TAGS = ("new", "sale", "eco", "gift", "bulk", "limited", "imported", "local")


def _s(value: str) -> dict[str, Any]:
    return {"S": value}


def _n(value: Any) -> dict[str, Any]:
    return {"N": str(value)}


def _item(rng: random.Random, pk: str, sk: str) -> dict[str, Any]:
    """10 attributes: 8 top-level (keys, status, price, quantity, a flag, a string set, a
    map) and the map's 2, with short names. A real record's envelope (event id, ARN, keys,
    sequence number...) is already about 460 bytes, so 10,000 records with such images
    make about 7 MB: Lambda caps a real batch at 6 MB."""
    return {
        "PK": _s(pk),
        "SK": _s(sk),
        "status": _s(rng.choice(STATUSES)),
        "price": _n(f"{rng.randint(1, 200)}.{rng.randint(0, 9)}"),
        "qty": _n(rng.randint(1, 9)),
        "on": {"BOOL": rng.random() < 0.8},
        "tags": {"SS": [rng.choice(TAGS)]},
        "addr": {"M": {"city": _s("Hue"), "zip": _n(rng.randint(10, 99))}},
    }


def generate_event(records: int = 10_000, seed: int = 20250811) -> dict[str, Any]:
    """A deterministic batch: 40% INSERT, 40% MODIFY, 20% REMOVE over users, products,
    orders and other items; MODIFYs change status and/or price about half the time."""
    rng = random.Random(seed)
    out = []
    for i in range(records):
        kind = rng.random()
        if kind < 0.3:
            pk, sk = f"USER#{rng.randint(1, 5000)}", "PROFILE"
        elif kind < 0.55:
            pk, sk = f"PRODUCT#{rng.randint(1, 5000)}", "METADATA"
        elif kind < 0.85:
            pk, sk = f"USER#{rng.randint(1, 5000)}", f"ORDER#{rng.randint(1, 10**6)}"
        else:
            pk, sk = f"LAMBDA#job-{rng.randint(1, 500)}", f"EVENT#{i:05d}"
        roll = rng.random()
        event_name = "INSERT" if roll < 0.45 else "MODIFY" if roll < 0.8 else "REMOVE"
        ddb: dict[str, Any] = {
            "ApproximateCreationDateTime": 1754929800 + i,
            "Keys": {"PK": _s(pk), "SK": _s(sk)},
            "SequenceNumber": f"{4421584500000000017450439091 + i}",
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        if event_name in ("MODIFY", "REMOVE"):
            ddb["OldImage"] = _item(rng, pk, sk)
        if event_name in ("INSERT", "MODIFY"):
            new = _item(rng, pk, sk)
            if event_name == "MODIFY":
                old = ddb["OldImage"]
                if rng.random() < 0.5:
                    new["status"] = old["status"]
                if rng.random() < 0.5:
                    new["price"] = old["price"]
            ddb["NewImage"] = new
        ddb["SizeBytes"] = 100
        record: dict[str, Any] = {
            "eventID": f"{rng.getrandbits(128):032x}",
            "eventName": event_name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": ddb,
            "eventSourceARN": STREAM_ARN,
        }
        if event_name == "REMOVE" and rng.random() < 0.2:
            record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
        out.append(record)
    return {"Records": out}
