"""Create each Pulumi AWS resource for real in the emulator, the way the provider would.

One creator per resource type token: it maps the program's inputs (camelCase, numbers as
floats, as the mock monitor hands them over) onto the boto3 calls the AWS provider makes,
then reads the result back from the emulator and returns the provider's output
properties (`arn`, `streamArn`, `url`, `uuid`, ...). The program's wiring therefore runs
on the emulator's own identifiers, not on invented ones.

Nothing is dropped silently: a resource type without a creator raises UnsupportedResource,
and so does an input (or nested field) a creator does not apply. Adding a resource or a
setting to the program without teaching the emulator fails the emulated deployment with
a message naming the type and key, instead of deploying something the checks would then
misjudge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from streamops.aws import AwsClients
from streamops.emulator.cloudwatch_resources import CLOUDWATCH_CREATORS
from streamops.emulator.creators import (
    Created,
    Creator,
    Inputs,
    UnsupportedResource,
    archive_zip,
    autoname,
    only,
    tag_list,
)
from streamops.emulator.s3_resources import S3_CREATORS
from streamops.program import InvokeFailure


def create_table(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    dynamodb = aws("dynamodb")
    table_name = inputs.take("name") or autoname(name)
    billing_mode = inputs.take("billingMode", "PROVISIONED")  # the provider's default
    keys = [("HASH", inputs.take("hashKey")), ("RANGE", inputs.take("rangeKey"))]
    request: dict[str, Any] = {
        "TableName": table_name,
        "BillingMode": billing_mode,
        "AttributeDefinitions": [
            {"AttributeName": a["name"], "AttributeType": a["type"]}
            for a in (
                only(item, ("name", "type"), f"{inputs.where} attributes")
                for item in inputs.take("attributes", [])
            )
        ],
        "KeySchema": [{"AttributeName": key, "KeyType": kind} for kind, key in keys if key],
        "DeletionProtectionEnabled": bool(inputs.take("deletionProtectionEnabled", False)),
        "Tags": tag_list(inputs.take("tags")),
    }
    read, write = inputs.number("readCapacity"), inputs.number("writeCapacity")
    if billing_mode == "PROVISIONED":
        request["ProvisionedThroughput"] = {
            "ReadCapacityUnits": read or 0,
            "WriteCapacityUnits": write or 0,
        }
    if inputs.take("streamEnabled"):
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": inputs.take("streamViewType"),
        }
    else:
        inputs.take("streamViewType")
    encryption = inputs.object("serverSideEncryption", ("enabled", "kmsKeyArn"))
    if encryption and encryption.get("enabled"):
        # Enabled = KMS: the AWS-managed key, or the customer-managed key given.
        request["SSESpecification"] = {"Enabled": True, "SSEType": "KMS"}
        if encryption.get("kmsKeyArn"):
            request["SSESpecification"]["KMSMasterKeyId"] = encryption["kmsKeyArn"]
    recovery = inputs.object("pointInTimeRecovery", ("enabled",))
    ttl = inputs.object("ttl", ("attributeName", "enabled"))
    inputs.done()

    dynamodb.create_table(**request)
    dynamodb.get_waiter("table_exists").wait(TableName=table_name)
    if recovery and recovery.get("enabled"):
        dynamodb.update_continuous_backups(
            TableName=table_name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    if ttl and ttl.get("enabled"):
        dynamodb.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["attributeName"]},
        )
    table = dynamodb.describe_table(TableName=table_name)["Table"]
    return table_name, {
        "name": table_name,
        "arn": table["TableArn"],
        "streamArn": table.get("LatestStreamArn", ""),
        "streamLabel": table.get("LatestStreamLabel", ""),
    }


def get_table(aws: AwsClients, args: dict[str, Any]) -> dict[str, Any]:
    """`aws.dynamodb.get_table`: the provider's result shape for an existing table."""
    try:
        table = aws("dynamodb").describe_table(TableName=args["name"])["Table"]
    except ClientError as error:  # not found, access denied: the provider's invoke error
        raise InvokeFailure(f"reading DynamoDB table {args['name']!r}: {error}") from error
    stream = table.get("StreamSpecification") or {}
    sse = table.get("SSEDescription") or {}
    keys = {key["KeyType"]: key["AttributeName"] for key in table["KeySchema"]}
    return {
        "id": table["TableName"],
        "name": table["TableName"],
        "arn": table["TableArn"],
        "hashKey": keys.get("HASH", ""),
        "rangeKey": keys.get("RANGE", ""),
        "billingMode": table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
        "streamEnabled": bool(stream.get("StreamEnabled")),
        "streamViewType": stream.get("StreamViewType", ""),
        "streamArn": table.get("LatestStreamArn", "") if stream.get("StreamEnabled") else "",
        "streamLabel": table.get("LatestStreamLabel", ""),
        "deletionProtectionEnabled": bool(table.get("DeletionProtectionEnabled")),
        "serverSideEncryption": {
            "enabled": sse.get("Status") == "ENABLED",
            "kmsKeyArn": sse.get("KMSMasterKeyArn", ""),
        },
    }


# --- KMS -------------------------------------------------------------------------------
def create_key(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    kms = aws("kms")
    request: dict[str, Any] = {
        "Description": inputs.take("description", ""),
        "KeyUsage": inputs.take("keyUsage", "ENCRYPT_DECRYPT"),
        "KeySpec": inputs.take("customerMasterKeySpec", "SYMMETRIC_DEFAULT"),
        "Tags": tag_list(inputs.take("tags"), "TagKey", "TagValue"),
    }
    policy = inputs.take("policy")
    if policy:
        request["Policy"] = policy
    rotate = bool(inputs.take("enableKeyRotation", False))
    # Only used when the key is deleted (the waiting period): nothing to create.
    deletion_window = inputs.number("deletionWindowInDays")
    inputs.done()

    key = kms.create_key(**request)["KeyMetadata"]
    if rotate:
        kms.enable_key_rotation(KeyId=key["KeyId"])
    return key["KeyId"], {
        "arn": key["Arn"],
        "keyId": key["KeyId"],
        "deletionWindowInDays": deletion_window,
    }


# --- SQS / SNS -------------------------------------------------------------------------
# Pulumi input -> SQS queue attribute (values are strings in the SQS API).
QUEUE_ATTRIBUTES = {
    "messageRetentionSeconds": "MessageRetentionPeriod",
    "visibilityTimeoutSeconds": "VisibilityTimeout",
    "delaySeconds": "DelaySeconds",
    "maxMessageSize": "MaximumMessageSize",
    "receiveWaitTimeSeconds": "ReceiveMessageWaitTimeSeconds",
    "kmsMasterKeyId": "KmsMasterKeyId",
    "kmsDataKeyReusePeriodSeconds": "KmsDataKeyReusePeriodSeconds",
    "sqsManagedSseEnabled": "SqsManagedSseEnabled",
    "policy": "Policy",
    "redrivePolicy": "RedrivePolicy",
}


def _attribute_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def create_queue(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    sqs = aws("sqs")
    queue_name = inputs.take("name") or autoname(name)
    attributes = inputs.renamed(QUEUE_ATTRIBUTES, _attribute_text)
    tags = inputs.take("tags") or {}
    inputs.done()

    url = sqs.create_queue(QueueName=queue_name, Attributes=attributes, tags=tags)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, {"name": queue_name, "arn": arn, "url": url}


TOPIC_ATTRIBUTES = {
    "kmsMasterKeyId": "KmsMasterKeyId",
    "displayName": "DisplayName",
    "policy": "Policy",
}


def create_topic(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    sns = aws("sns")
    topic_name = inputs.take("name") or autoname(name)
    attributes = inputs.renamed(TOPIC_ATTRIBUTES, str)
    tags = tag_list(inputs.take("tags"))
    inputs.done()

    arn = sns.create_topic(Name=topic_name, Attributes=attributes, Tags=tags)["TopicArn"]
    owner = sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Owner"]
    return arn, {"name": topic_name, "arn": arn, "owner": owner}


def create_topic_subscription(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    sns = aws("sns")
    topic_arn, protocol, endpoint = (inputs.take(key) for key in ("topic", "protocol", "endpoint"))
    attributes = {}
    if inputs.take("rawMessageDelivery") is not None:
        attributes["RawMessageDelivery"] = _attribute_text(inputs.take("rawMessageDelivery"))
    if inputs.take("filterPolicy") is not None:
        attributes["FilterPolicy"] = inputs.take("filterPolicy")
    inputs.done()

    arn = sns.subscribe(
        TopicArn=topic_arn,
        Protocol=protocol,
        Endpoint=endpoint,
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return arn, {"arn": arn, "topic": topic_arn, "protocol": protocol, "endpoint": endpoint}


def create_topic_policy(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    sns = aws("sns")
    topic_arn, policy = inputs.take("arn"), inputs.take("policy")
    inputs.done()

    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="Policy", AttributeValue=policy)
    owner = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Owner"]
    return topic_arn, {"arn": topic_arn, "policy": policy, "owner": owner}


# --- IAM -------------------------------------------------------------------------------
def create_role(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    iam = aws("iam")
    role_name = inputs.take("name") or autoname(name)
    request: dict[str, Any] = {
        "RoleName": role_name,
        "AssumeRolePolicyDocument": inputs.take("assumeRolePolicy"),
        "Description": inputs.take("description", ""),
        "Path": inputs.take("path", "/"),
        "Tags": tag_list(inputs.take("tags")),
    }
    duration = inputs.number("maxSessionDuration")
    if duration is not None:
        request["MaxSessionDuration"] = duration
    inputs.done()

    role = iam.create_role(**request)["Role"]
    return role_name, {
        "name": role_name,
        "arn": role["Arn"],
        "uniqueId": role["RoleId"],
        "createDate": role["CreateDate"].isoformat(),
    }


def create_role_policy(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    role, policy = inputs.take("role"), inputs.take("policy")
    policy_name = inputs.take("name") or autoname(name)
    inputs.done()

    aws("iam").put_role_policy(RoleName=role, PolicyName=policy_name, PolicyDocument=policy)
    return f"{role}:{policy_name}", {"name": policy_name, "role": role, "policy": policy}


# --- CloudWatch Logs / CloudWatch ------------------------------------------------------
def create_log_group(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    logs = aws("logs")
    group_name = inputs.take("name") or autoname(name)
    request: dict[str, Any] = {"logGroupName": group_name, "tags": inputs.take("tags") or {}}
    if inputs.take("kmsKeyId"):
        request["kmsKeyId"] = inputs.take("kmsKeyId")
    retention = inputs.number("retentionInDays", 0)
    inputs.done()

    logs.create_log_group(**request)
    if retention:  # 0: never expire (no retention policy)
        logs.put_retention_policy(logGroupName=group_name, retentionInDays=retention)
    group = next(
        found
        for found in logs.describe_log_groups(logGroupNamePrefix=group_name)["logGroups"]
        if found["logGroupName"] == group_name
    )
    return group_name, {"name": group_name, "arn": group["logGroupArn"]}


def create_function(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    lambda_ = aws("lambda")
    function_name = inputs.take("name") or autoname(name)
    request: dict[str, Any] = {
        "FunctionName": function_name,
        "Role": inputs.take("role"),
        "Runtime": inputs.take("runtime"),
        "Handler": inputs.take("handler"),
        "Code": {"ZipFile": archive_zip(inputs.take("code"), inputs.where)},
        "Description": inputs.take("description", ""),
        "MemorySize": inputs.number("memorySize", 128),
        "Timeout": inputs.number("timeout", 3),
        "Architectures": list(inputs.take("architectures") or ["x86_64"]),
        "Tags": inputs.take("tags") or {},
    }
    environment = inputs.object("environment", ("variables",))
    if environment:
        request["Environment"] = {"Variables": dict(environment.get("variables") or {})}
    logging = inputs.object(
        "loggingConfig", ("logFormat", "applicationLogLevel", "systemLogLevel", "logGroup")
    )
    if logging:
        request["LoggingConfig"] = {
            key[0].upper() + key[1:]: value for key, value in logging.items()
        }
    tracing = inputs.object("tracingConfig", ("mode",))
    if tracing:
        request["TracingConfig"] = {"Mode": tracing["mode"]}
    if inputs.take("kmsKeyArn"):  # environment variables under a customer-managed key
        request["KMSKeyArn"] = inputs.take("kmsKeyArn")
    reserved = inputs.number("reservedConcurrentExecutions", -1)
    inputs.done()

    lambda_.create_function(**request)
    # The provider waits for the function to leave Pending before it reports success.
    lambda_.get_waiter("function_active_v2").wait(FunctionName=function_name)
    if reserved is not None and reserved >= 0:  # -1: unreserved
        lambda_.put_function_concurrency(
            FunctionName=function_name, ReservedConcurrentExecutions=reserved
        )
    config = lambda_.get_function(FunctionName=function_name)["Configuration"]
    arn = config["FunctionArn"]
    region = arn.split(":")[3]
    return function_name, {
        "name": function_name,
        "arn": arn,
        "qualifiedArn": f"{arn}:{config['Version']}",
        "version": config["Version"],
        "invokeArn": (
            f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations"
        ),
        "codeSha256": config["CodeSha256"],
        "lastModified": config["LastModified"],
    }


ESM_NUMBERS = {
    "batchSize": "BatchSize",
    "maximumBatchingWindowInSeconds": "MaximumBatchingWindowInSeconds",
    "maximumRetryAttempts": "MaximumRetryAttempts",
    "maximumRecordAgeInSeconds": "MaximumRecordAgeInSeconds",
    "parallelizationFactor": "ParallelizationFactor",
    "tumblingWindowInSeconds": "TumblingWindowInSeconds",
}


def create_event_source_mapping(aws: AwsClients, name: str, inputs: Inputs) -> Created:
    lambda_ = aws("lambda")
    request: dict[str, Any] = {
        "EventSourceArn": inputs.take("eventSourceArn"),
        "FunctionName": inputs.take("functionName"),
        "Enabled": bool(inputs.take("enabled", True)),
        "Tags": inputs.take("tags") or {},
    }
    if inputs.take("startingPosition"):
        request["StartingPosition"] = inputs.take("startingPosition")
    request.update(inputs.renamed(ESM_NUMBERS, int))
    if inputs.take("bisectBatchOnFunctionError") is not None:
        request["BisectBatchOnFunctionError"] = bool(inputs.take("bisectBatchOnFunctionError"))
    if inputs.take("functionResponseTypes"):
        request["FunctionResponseTypes"] = list(inputs.take("functionResponseTypes"))
    destination = inputs.object("destinationConfig", ("onFailure",))
    if destination and destination.get("onFailure"):
        on_failure = only(
            destination["onFailure"], ("destinationArn",), f"{inputs.where} onFailure"
        )
        request["DestinationConfig"] = {"OnFailure": {"Destination": on_failure["destinationArn"]}}
    criteria = inputs.object("filterCriteria", ("filters",))
    if criteria and criteria.get("filters"):
        filters = [
            only(item, ("pattern",), f"{inputs.where} filter") for item in criteria["filters"]
        ]
        request["FilterCriteria"] = {"Filters": [{"Pattern": item["pattern"]} for item in filters]}
    metrics = inputs.object("metricsConfig", ("metrics",))
    if metrics:
        request["MetricsConfig"] = {"Metrics": list(metrics["metrics"])}
    inputs.done()

    mapping = lambda_.create_event_source_mapping(**request)
    mapping = lambda_.get_event_source_mapping(UUID=mapping["UUID"])
    return mapping["UUID"], {
        "uuid": mapping["UUID"],
        "arn": mapping.get("EventSourceMappingArn", ""),
        "functionArn": mapping["FunctionArn"],
        "state": mapping["State"],
        "stateTransitionReason": mapping.get("StateTransitionReason", ""),
        "lastModified": mapping["LastModified"].isoformat(),
    }


# --- Invokes ---------------------------------------------------------------------------
def get_caller_identity(aws: AwsClients, args: dict[str, Any]) -> dict[str, Any]:
    identity = aws("sts").get_caller_identity()
    return {
        "accountId": identity["Account"],
        "arn": identity["Arn"],
        "userId": identity["UserId"],
        "id": identity["Account"],
    }


def get_region(aws: AwsClients, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": aws.region, "region": aws.region, "id": aws.region}


def get_partition(aws: AwsClients, args: dict[str, Any]) -> dict[str, Any]:
    return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}


CREATORS: dict[str, Creator] = {
    "aws:dynamodb/table:Table": create_table,
    "aws:kms/key:Key": create_key,
    "aws:sqs/queue:Queue": create_queue,
    "aws:sns/topic:Topic": create_topic,
    "aws:sns/topicSubscription:TopicSubscription": create_topic_subscription,
    "aws:sns/topicPolicy:TopicPolicy": create_topic_policy,
    "aws:iam/role:Role": create_role,
    "aws:iam/rolePolicy:RolePolicy": create_role_policy,
    "aws:cloudwatch/logGroup:LogGroup": create_log_group,
    "aws:lambda/function:Function": create_function,
    "aws:lambda/eventSourceMapping:EventSourceMapping": create_event_source_mapping,
}

INVOKES: dict[str, Callable[[AwsClients, dict[str, Any]], dict[str, Any]]] = {
    "aws:dynamodb/getTable:getTable": get_table,
    "aws:index/getCallerIdentity:getCallerIdentity": get_caller_identity,
    "aws:index/getRegion:getRegion": get_region,
    "aws:index/getPartition:getPartition": get_partition,
}


def create(aws: AwsClients, type_token: str, name: str, inputs: Mapping[str, Any]) -> Created:
    """Create one resource in the emulator; returns (id, provider output properties)."""
    creator = CREATORS.get(type_token)
    if creator is None:
        raise UnsupportedResource(
            f"the embedded emulator cannot create {type_token} ({name!r}): no creator in "
            f"streamops/emulator/resources.py; supported: {', '.join(sorted(CREATORS))}"
        )
    resource_id, outputs = creator(aws, name, Inputs(type_token, name, inputs))
    # The provider's state holds the inputs as applied plus the computed properties.
    return resource_id, {**inputs, **outputs}


def invoke(aws: AwsClients, token: str, args: dict[str, Any]) -> dict[str, Any]:
    answer = INVOKES.get(token)
    if answer is None:
        raise UnsupportedResource(
            f"the embedded emulator cannot answer invoke {token}; supported: "
            f"{', '.join(sorted(INVOKES))}"
        )
    return answer(aws, args)


# The alarms' CloudWatch types and the failure bucket's (one creator per S3 setting) live
# in their own modules.
CREATORS.update(CLOUDWATCH_CREATORS)
CREATORS.update(S3_CREATORS)
