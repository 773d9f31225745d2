"""A Python program using StreamPipeline on a table it does not own.

A platform team's program: change processing on an existing `orders` table (its stream
must already be on), only INSERT records reach the function, poison records and
exhausted batches go to an encrypted SNS topic, and on-call is paged by the alarms.

Python programs can use the component class directly (no SDK generation): the inputs
are the stack configuration sections, as plain dicts checked by components/config/.
Run from this folder of a checkout, in the repository's environment (README.md here):

    source ../../.venv/bin/activate && PYTHONPATH=../.. pulumi up

tests/unit/test_package.py runs this file under Pulumi mocks.
"""

import pulumi

from components.pipeline import StreamPipeline, StreamPipelineArgs

pipeline = StreamPipeline(
    "orders",
    StreamPipelineArgs(
        table={"existingTableName": "orders"},
        function={
            "name": "orders-change-processor",
            "memoryMb": 256,
            "timeoutSeconds": 60,
            "reservedConcurrency": 20,
            "logRetentionDays": 30,
        },
        trigger={
            "batchSize": 50,
            "maxBatchingWindowSeconds": 1,
            "onFailure": "sns",
            # Only new orders invoke the function (no old image: an INSERT); DynamoDB
            # mappings filter on the record's `dynamodb` key only.
            "filterPatterns": [{"dynamodb": {"OldImage": {"PK": {"S": [{"exists": False}]}}}}],
        },
        alarms={"durationThresholdMs": 40000, "emails": ["oncall@example.com"]},
        tags={"team": "orders", "environment": pulumi.get_stack()},
    ),
)

pulumi.export("functionName", pipeline.function_name)
pulumi.export("failureDestinationArn", pipeline.failure_destination_arn)
pulumi.export("alarmTopicArn", pipeline.alarm_topic_arn)
