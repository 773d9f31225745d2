"""A realistic sample of the seed's e-commerce data, written to the table as a story of
changes: users, products and orders created, statuses and prices changed, items removed,
a session left to expire by TTL, the seed's own test item (its "Bài tập 4") and one poison
record (a price changed to text by a faulty import: the function quarantines it).

Single-table keys as the function's routes expect them: `USER#<id>` / `PROFILE`,
`PRODUCT#<id>` / `DETAILS`, orders under their user (`USER#<id>` / `ORDER#<id>`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeSerializer

# The seed tutorial's test item (its "Bài tập 4"), exactly as the tutorial creates it.
SEED_TEST_ITEM: dict[str, Any] = {
    "PK": "LAMBDA#test-processing",
    "SK": "EVENT#001",
    "event_type": "lambda_test",
    "description": "Testing Lambda stream processing",
    "created_at": "2025-08-11T16:30:00Z",
    "test_purpose": "verify_lambda_trigger",
}
SEED_TEST_LINE = "Processing INSERT for item: LAMBDA#test-processing#EVENT#001"
TTL_SECONDS_AGO = 60  # the session expired this long before the sample is written


@dataclass(frozen=True)
class Change:
    action: str  # "put" (INSERT or MODIFY) or "delete" (REMOVE)
    item: dict[str, Any]  # the whole item (put) or its key (delete)
    note: str  # what this change is, for the person watching

    def key(self) -> str:
        return f"{self.item['PK']}#{self.item['SK']}"


def _user(user_id: str, name: str, status: str = "active") -> dict[str, Any]:
    return {
        "PK": f"USER#{user_id}",
        "SK": "PROFILE",
        "name": name,
        "email": f"{name.split()[0].lower()}@example.com",
        "status": status,
    }


def _product(product_id: str, name: str, price: Any, stock: int) -> dict[str, Any]:
    return {
        "PK": f"PRODUCT#{product_id}",
        "SK": "DETAILS",
        "name": name,
        "price": price,
        "stock": stock,
        "status": "active",
    }


def _order(user_id: str, order_id: str, total: str, status: str) -> dict[str, Any]:
    return {
        "PK": f"USER#{user_id}",
        "SK": f"ORDER#{order_id}",
        "total": Decimal(total),
        "status": status,
        "currency": "USD",
    }


def sample_changes(now: float) -> list[Change]:
    """The sample, in the order it is written. `now`: epoch seconds, for the TTL item."""
    mouse = _product("p1", "Wireless Mouse", Decimal("19.99"), 120)
    stand = _product("p3", "Laptop Stand", Decimal("34.50"), 15)
    return [
        Change("put", _user("u1", "An Nguyen"), "new user"),
        Change("put", _user("u2", "Binh Tran"), "new user"),
        Change("put", _user("u3", "Chi Le"), "new user"),
        Change("put", mouse, "new product"),
        Change("put", _product("p2", "USB-C Cable", Decimal("9.99"), 300), "new product"),
        Change("put", stand, "new product"),
        Change("put", _order("u1", "o1001", "29.98", "pending"), "new order"),
        Change("put", _order("u2", "o1002", "34.50", "pending"), "new order"),
        Change("put", _order("u1", "o1001", "29.98", "paid"), "order paid (status change)"),
        Change("put", {**mouse, "price": Decimal("17.99")}, "price drop (price change)"),
        Change("put", _order("u1", "o1001", "29.98", "shipped"), "order shipped (status change)"),
        Change("put", _user("u2", "Binh Tran", "suspended"), "user suspended (status change)"),
        Change("delete", {"PK": "PRODUCT#p2", "SK": "DETAILS"}, "product removed"),
        Change("delete", {"PK": "USER#u3", "SK": "PROFILE"}, "user removed"),
        Change(
            "put",
            {
                "PK": "SESSION#s1",
                "SK": "SESSION",
                "user": "USER#u1",
                "expires_at": int(now) - TTL_SECONDS_AGO,
            },
            "session already past its TTL (expires_at)",
        ),
        Change("put", dict(SEED_TEST_ITEM), "the seed's test item"),
        Change(
            "put",
            {**stand, "price": "free"},
            "POISON: price changed to text by a faulty import",
        ),
    ]


def dynamodb_item(item: dict[str, Any]) -> dict[str, Any]:
    serialize = TypeSerializer().serialize
    return {name: serialize(value) for name, value in item.items()}


def write_changes(
    dynamodb: Any,
    table_name: str,
    changes: list[Change],
    on_change: Callable[[Change], None] = lambda change: None,
) -> None:
    """Write each change with the low-level client (any endpoint: emulator or AWS)."""
    for change in changes:
        if change.action == "put":
            dynamodb.put_item(TableName=table_name, Item=dynamodb_item(change.item))
        elif change.action == "delete":
            dynamodb.delete_item(TableName=table_name, Key=dynamodb_item(change.item))
        else:
            raise ValueError(f"unknown change action {change.action!r}")
        on_change(change)
