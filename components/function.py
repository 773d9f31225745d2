"""StreamFunction: the Lambda function, its log group and its least-privilege role.

Why not the managed `AWSLambdaDynamoDBExecutionRole`: it grants stream reads on every
stream in the account and log writes everywhere (`Resource: *`). Here each statement names
the exact ARNs: the one stream, the function's own log group, the one failure destination
(and the keys encrypting them). `dynamodb:ListStreams` is the only `*` resource, because
AWS does not support resource-level permissions for it, and, with `function.tracing:
Active` only, X-Ray's `xray:PutTraceSegments` / `xray:PutTelemetryRecords`, which X-Ray
does not scope to resources either (its actions support no resource ARNs).

The log group and the environment variables are encrypted with a customer-managed key by
default (`function.logKmsKey`, `function.environmentKmsKey`: one created key serves both).
Its policy lets CloudWatch Logs use it for this one log group (encryption context
`aws:logs:arn`) and the account's principals only through Lambda; the execution role needs
no KMS permission for either (CloudWatch Logs and Lambda use the key themselves).

The log group is created before the function so retention applies from the first line
(Lambda would otherwise create it on first invoke with infinite retention).
"""

from __future__ import annotations

import json
import py_compile
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.config import PROJECT, FunctionConfig
from components.failure_destination import LAMBDA_RECORDS_PREFIX, QUARANTINE_PREFIX
from components.kms import KeyUser, customer_managed_key, logs_user, via_service

TYPE = f"{PROJECT}:index:StreamFunction"
FUNCTION_SOURCE = Path(__file__).resolve().parent.parent / "functions" / "stream_processor"
HANDLER = "handler.lambda_handler"

STREAM_READ_ACTIONS = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
]
LIST_STREAMS_ACTION = "dynamodb:ListStreams"
LOG_WRITE_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]
SEND_ACTION = {"s3": "s3:PutObject", "sqs": "sqs:SendMessage", "sns": "sns:Publish"}
# Sending to a queue or topic encrypted with a customer-managed key.
KMS_SEND_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]
# An S3 destination (Lambda developer guide, "Retain discarded records for a DynamoDB event
# source"): s3:PutObject and s3:ListBucket, plus kms:GenerateDataKey on the bucket's own
# key. Single-request PutObject under SSE-KMS needs no kms:Decrypt (multipart would).
S3_LIST_ACTION = "s3:ListBucket"
KMS_S3_PUT_ACTIONS = ["kms:GenerateDataKey"]
# Where in the bucket each writer puts objects: Lambda (discarded batches), the function
# (poison records).
S3_WRITE_PREFIXES = (LAMBDA_RECORDS_PREFIX, QUARANTINE_PREFIX)
# Reading a stream whose table is encrypted with a customer-managed key.
KMS_READ_ACTIONS = ["kms:Decrypt"]
# Sending traces with tracing Active (the AWSXRayDaemonWriteAccess actions Lambda needs).
XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
ACTIVE_TRACING = "Active"

# Environment variables the handler reads (functions/stream_processor). Kept as literals:
# the function package is deployed alone and components never import it; a unit test
# checks both sides agree.
ENV_DESTINATION_TYPE = "FAILURE_DESTINATION_TYPE"
ENV_DESTINATION = "FAILURE_DESTINATION"
ENV_METRICS_NAMESPACE = "METRICS_NAMESPACE"


def function_archive(
    source: Path = FUNCTION_SOURCE, runtime: str | None = None, build_dir: Path | None = None
) -> pulumi.AssetArchive:
    """The function's own .py files only (no tests, caches or repo files), plus their
    bytecode when ``runtime`` is this interpreter's Python (see ``function_bytecode``)."""
    files = sorted(path for path in source.glob("*.py") if path.is_file())
    if not any(path.name == "handler.py" for path in files):
        raise FileNotFoundError(f"{source}/handler.py is missing: nothing to deploy")
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {
        path.name: pulumi.FileAsset(str(path)) for path in files
    }
    if runtime is not None:
        compiled = function_bytecode(files, runtime, build_dir)
        if compiled is None:
            pulumi.log.warn(
                f"{runtime} function packaged as source only: this is Python "
                f"{sys.version_info.major}.{sys.version_info.minor}, so its bytecode would not "
                f"load there; every cold start compiles the source (the package directory is "
                f"read-only in Lambda). Deploy with {runtime} to ship bytecode."
            )
        else:
            assets.update(compiled)
    return pulumi.AssetArchive(assets)


def function_bytecode(
    files: list[Path], runtime: str, build_dir: Path | None = None
) -> dict[str, pulumi.FileAsset] | None:
    """``__pycache__/<module>.<tag>.pyc`` for each file, or None when ``runtime`` is not
    this interpreter's version (bytecode is version-specific).

    Why: Lambda's package directory is read-only, so Python cannot cache what it compiles
    and compiles every module on every cold start. Shipped bytecode is validated by the
    source's hash (PEP 552), not by file times, which a zip need not keep: a stale .pyc is
    never used, and a matching one always is."""
    if runtime != f"python{sys.version_info.major}.{sys.version_info.minor}":
        return None
    out = build_dir or Path(tempfile.mkdtemp(prefix="stream-processor-bytecode-"))
    compiled: dict[str, pulumi.FileAsset] = {}
    for path in files:
        name = f"__pycache__/{path.stem}.{sys.implementation.cache_tag}.pyc"
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        py_compile.compile(
            str(path),
            cfile=str(target),
            dfile=path.name,
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
        )
        compiled[name] = pulumi.FileAsset(str(target))
    return compiled


@dataclass
class StreamFunctionArgs:
    function: FunctionConfig
    stream_arn: pulumi.Input[str]
    destination_kind: str  # "s3" | "sqs" | "sns"
    destination_arn: pulumi.Input[str]
    destination_address: pulumi.Input[str]  # bucket name, queue URL or topic ARN
    destination_kms_key_arn: pulumi.Input[str] | None = None
    table_kms_key_arn: pulumi.Input[str] | None = None
    tags: dict[str, str] | None = None


def execution_policy(
    stream_arn: str,
    log_group_arn: str,
    destination_kind: str,
    destination_arn: str,
    destination_kms_key_arn: str | None = None,
    table_kms_key_arn: str | None = None,
    tracing_active: bool = False,
) -> dict:
    """The execution role's policy document: each statement scoped to the exact ARNs."""
    statements: list[dict] = [
        {"Sid": "ReadTableStream", "Effect": "Allow", "Action": STREAM_READ_ACTIONS,
         "Resource": stream_arn},
        # ListStreams does not support resource-level permissions: "*" is the only form.
        {"Sid": "ListStreams", "Effect": "Allow", "Action": [LIST_STREAMS_ACTION],
         "Resource": "*"},
        {"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": LOG_WRITE_ACTIONS,
         "Resource": f"{log_group_arn}:*"},
    ]  # fmt: skip
    if destination_kind == "s3":
        statements += s3_destination_statements(log_group_arn, destination_arn)
    else:
        statements.append(
            {"Sid": "SendToFailureDestination", "Effect": "Allow",
             "Action": [SEND_ACTION[destination_kind]], "Resource": destination_arn}
        )  # fmt: skip
    if table_kms_key_arn:
        statements.append(
            {"Sid": "DecryptTableStream", "Effect": "Allow", "Action": KMS_READ_ACTIONS,
             "Resource": table_kms_key_arn}
        )  # fmt: skip
    if destination_kms_key_arn:
        statement: dict[str, object] = {
            "Sid": "EncryptForFailureDestination", "Effect": "Allow",
            "Action": KMS_SEND_ACTIONS, "Resource": destination_kms_key_arn,
        }  # fmt: skip
        if destination_kind == "s3":
            # Only through S3 (the bucket's SSE-KMS), in this region.
            region = log_group_arn.split(":")[3]
            statement["Action"] = KMS_S3_PUT_ACTIONS
            statement["Condition"] = {
                "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}
            }
        statements.append(statement)
    if tracing_active:
        # X-Ray's write actions support no resource-level permissions: "*" is the only form.
        statements.append(
            {"Sid": "WriteTraces", "Effect": "Allow", "Action": XRAY_ACTIONS, "Resource": "*"}
        )
    return {"Version": "2012-10-17", "Statement": statements}


def log_group_name(config: FunctionConfig) -> str:
    return f"/aws/lambda/{config.name}"


def function_key_users(config: FunctionConfig) -> list[KeyUser]:
    """Who uses the function's created key: CloudWatch Logs for its log group, and/or the
    account's principals through Lambda (environment variables)."""
    users = []
    if config.log_kms_key == "create":
        users.append(logs_user(log_group_name(config)))
    if config.environment_kms_key == "create":
        users.append(via_service("UseThroughLambda", "lambda"))
    return users


def s3_destination_statements(log_group_arn: str, bucket_arn: str) -> list[dict]:
    """PutObject under the two writers' prefixes, ListBucket on the bucket: what AWS
    documents for an S3 on-failure destination, plus the function's quarantine writes.

    Both are limited to buckets of this account (`s3:ResourceAccount`), as the guide's
    "Security best practices for Amazon S3 destinations" asks: if the bucket were deleted
    and its name taken by another account, no batch would be written there. The account
    is read from the log group's ARN (S3 ARNs carry none).
    """
    in_this_account = {"StringEquals": {"s3:ResourceAccount": log_group_arn.split(":")[4]}}
    return [
        {"Sid": "SendToFailureDestination", "Effect": "Allow",
         "Action": [SEND_ACTION["s3"]],
         "Resource": [f"{bucket_arn}/{prefix}*" for prefix in S3_WRITE_PREFIXES],
         "Condition": in_this_account},
        {"Sid": "ListFailureDestination", "Effect": "Allow", "Action": [S3_LIST_ACTION],
         "Resource": bucket_arn, "Condition": in_this_account},
    ]  # fmt: skip


LAMBDA_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _chosen_key(choice: str, created: pulumi.Output[str] | None) -> pulumi.Input[str] | None:
    """`create` -> the created key, a key ARN as it is, `none` / `aws-managed` -> None."""
    if choice == "create":
        return created
    return choice if choice.startswith("arn:") else None


class StreamFunction(pulumi.ComponentResource):
    """The processor function packaged from functions/stream_processor/."""

    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    log_group_arn: pulumi.Output[str]
    log_kms_key_arn: pulumi.Input[str] | None
    environment_kms_key_arn: pulumi.Input[str] | None
    function: aws.lambda_.Function  # the mapping depends on it (and so on its policy)

    def __init__(
        self, name: str, args: StreamFunctionArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(TYPE, name, None, opts)
        config = args.function
        tags = args.tags or {}
        child = pulumi.ResourceOptions(parent=self)

        users = function_key_users(config)
        created_key = (
            customer_managed_key(
                f"{name}-key",
                f"Encrypts the log group and environment of Lambda function {config.name}",
                tags,
                self,
                users,
            ).arn
            if users
            else None
        )
        self.log_kms_key_arn = _chosen_key(config.log_kms_key, created_key)
        self.environment_kms_key_arn = _chosen_key(config.environment_kms_key, created_key)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=log_group_name(config),
            retention_in_days=config.log_retention_days,
            kms_key_id=self.log_kms_key_arn,
            tags=tags,
            opts=child,
        )
        # Role names allow 64 characters; Pulumi appends 8 to the resource name.
        role = aws.iam.Role(
            f"{config.name[: 64 - len('-role') - 8]}-role",
            description=f"Execution role of {config.name}: reads one stream, writes its logs",
            assume_role_policy=json.dumps(LAMBDA_TRUST_POLICY),
            tags=tags,
            opts=child,
        )
        policy_document = pulumi.Output.all(
            args.stream_arn,
            log_group.arn,
            args.destination_arn,
            args.destination_kms_key_arn,
            args.table_kms_key_arn,
        ).apply(
            lambda arns: json.dumps(
                execution_policy(
                    *(arns[0], arns[1], args.destination_kind, arns[2], arns[3], arns[4]),
                    tracing_active=config.tracing == ACTIVE_TRACING,
                )
            )
        )
        policy = aws.iam.RolePolicy(
            f"{config.name}-policy", role=role.id, policy=policy_document, opts=child
        )
        self.function = aws.lambda_.Function(
            name,
            name=config.name,
            description="Processes the table's DynamoDB stream (dynamodb-stream-processor)",
            role=role.arn,
            runtime=config.runtime,
            architectures=[config.architecture],
            handler=HANDLER,
            code=function_archive(runtime=config.runtime),
            memory_size=config.memory_mb,
            timeout=config.timeout_seconds,
            reserved_concurrent_executions=config.reserved_concurrency,
            logging_config={
                "log_format": "JSON",
                "application_log_level": config.log_level,
                "log_group": log_group.name,
            },
            environment={
                "variables": {
                    ENV_DESTINATION_TYPE: args.destination_kind,
                    ENV_DESTINATION: args.destination_address,
                    ENV_METRICS_NAMESPACE: config.metrics_namespace,
                }
            },
            kms_key_arn=self.environment_kms_key_arn,
            tracing_config={"mode": config.tracing},
            tags=tags,
            # The role's policy must exist before the mapping is created (AWS checks the
            # role can read the stream), and the log group before the first invoke.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, log_group]),
        )
        self.function_name = self.function.name
        self.function_arn = self.function.arn
        self.role_arn = role.arn
        self.role_name = role.name
        self.log_group_name = log_group.name
        self.log_group_arn = log_group.arn
        self.register_outputs(
            {
                "functionName": self.function_name,
                "functionArn": self.function_arn,
                "roleArn": self.role_arn,
                "logGroupName": self.log_group_name,
            }
        )
