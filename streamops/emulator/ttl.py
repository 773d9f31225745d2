"""DynamoDB's Time to Live process, for the embedded emulator: expired items are deleted.

Why: moto stores a table's TTL setting but never deletes anything. In AWS a background
process deletes an item some time after the epoch-seconds value in its TTL attribute has
passed, and the deletion reaches the stream as a REMOVE whose `userIdentity` is the
DynamoDB service (`Type: Service`, `PrincipalId: dynamodb.amazonaws.com`). That identity is
how the function tells a TTL expiry from a user's delete (its `TtlExpiries` metric), so
`make local` runs this sweep to show one. Rules kept from AWS: only an `N` value counts;
an item whose TTL is more than five years in the past is never deleted by TTL.

The emulator's server runs in this process, so the sweep works on moto's models directly
(a client cannot delete with the service's identity).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from moto.dynamodb.models import dynamodb_backends

TTL_PRINCIPAL = "dynamodb.amazonaws.com"
TTL_IDENTITY = {"Type": "Service", "PrincipalId": TTL_PRINCIPAL}
FIVE_YEARS_SECONDS = 5 * 365 * 24 * 3600


def expire_items(account_id: str, region: str, table_name: str, now: float) -> int:
    """Delete the table's expired items as DynamoDB's TTL process does; return how many."""
    table = dynamodb_backends[account_id][region].get_table(table_name)
    if table.ttl.get("TimeToLiveStatus") != "ENABLED":
        return 0
    attribute = table.ttl["AttributeName"]
    expired = 0
    for item in table.all_items():
        value = item.attrs.get(attribute)
        if value is None or value.type != "N":
            continue
        try:
            expires_at = Decimal(value.value)
        except InvalidOperation:
            continue
        if not now - FIVE_YEARS_SECONDS <= expires_at <= now:
            continue
        table.delete_item(item.hash_key, item.range_key)
        if table.stream_shard is not None:  # the REMOVE just written: mark it as TTL's
            table.stream_shard.items[-1].record["userIdentity"] = dict(TTL_IDENTITY)
        expired += 1
    return expired
