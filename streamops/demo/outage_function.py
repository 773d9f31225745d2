"""The real handler while a downstream service is down for one item's changes: a wrapper
module copied NEXT TO the function's modules into a demonstration package (``outage``),
so it runs inside the execution environment like the function itself (stdlib only).

Records before the item's first record in a batch are processed by the real handler;
that record is reported as failed, exactly as the handler reports a record whose route
raised (it stops there, and the mapping retries from it). Batches without the item go to
the handler untouched. The item's partition key comes from ``OUTAGE_PARTITION_KEY``.
"""

from __future__ import annotations

import os

PARTITION_KEY_VARIABLE = "OUTAGE_PARTITION_KEY"


def lambda_handler(event, context):  # type: ignore[no-untyped-def]
    # The function's own module, next to this one in the task root (imported here, not at
    # the top, so the operator tools can import this module for its constant and path).
    import handler

    partition_key = os.environ[PARTITION_KEY_VARIABLE]
    records = event.get("Records", []) if isinstance(event, dict) else []
    for position, record in enumerate(records):
        keys = (record.get("dynamodb") or {}).get("Keys") or {}
        if (keys.get("PK") or {}).get("S") != partition_key:
            continue
        if position:
            before = handler.lambda_handler({**event, "Records": records[:position]}, context)
            if (before or {}).get("batchItemFailures"):
                return before
        return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
    return handler.lambda_handler(event, context)
