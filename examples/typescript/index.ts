// StreamPipeline from a TypeScript program, through the SDK that
// `pulumi package add github.com/<org>/dynamodb-stream-processor@v0.1.0` generates under
// sdks/dynamodb-stream-processor (see README.md). The inputs are the stack configuration
// sections of the repository's own stacks, with the same keys, defaults and limits.
import * as pulumi from "@pulumi/pulumi";
import * as dsp from "@pulumi/dynamodb-stream-processor";

const stack = pulumi.getStack();

const orders = new dsp.StreamPipeline("orders", {
    table: {
        name: `orders-${stack}`,
        billingMode: "PAY_PER_REQUEST",
        ttlAttribute: "expires_at",
    },
    function: {
        name: `orders-${stack}-change-processor`,
        memoryMb: 256,
        timeoutSeconds: 60,
        reservedConcurrency: 20,
        logRetentionDays: 90,
    },
    trigger: {
        batchSize: 100,
        maxBatchingWindowSeconds: 1,
        retryAttempts: 5,
        maxRecordAgeSeconds: 21600,
        // Only new and changed orders invoke the function (a new image exists): DynamoDB
        // mappings filter on the record's `dynamodb` key only.
        filterPatterns: [{ dynamodb: { NewImage: { PK: { S: [{ exists: true }] } } } }],
    },
    alarms: {
        durationThresholdMs: 40000,
        emails: ["oncall@example.com"],
    },
    tags: { team: "orders", environment: stack },
});

export const tableName = orders.tableName;
export const functionName = orders.functionName;
export const failureQueueUrl = orders.failureQueueUrl;
export const alarmNames = orders.alarmNames;
export const dashboardUrl = orders.dashboardUrl;
