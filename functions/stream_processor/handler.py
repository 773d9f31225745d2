"""Placeholder until the stream processor lands (issue 3): reports no failures."""


def lambda_handler(event, context):
    return {"batchItemFailures": []}
