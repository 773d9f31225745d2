"""Where moto (5.2.5) forgets a setting AWS keeps, teach the embedded server to keep it.

Why: a deployed-stack check reads a setting back and compares it with the config. If
the emulator silently drops that setting, the check either fails on every emulated run
or has to be weakened, and a weakened check would also be weaker against real AWS.
So the gap is closed in the emulator instead, by storing and returning exactly what
AWS stores and returns, nothing more. The checks themselves are written for AWS.

The server runs in this process (ThreadedMotoServer), so patching moto's model classes
here changes what the server answers. `install()` is idempotent.

Gaps filled:
- Lambda `LoggingConfig`: moto ignores it on CreateFunction and UpdateFunctionConfiguration
  and never returns it. AWS returns it on every function: `LogFormat` (default `Text`),
  `LogGroup` (default `/aws/lambda/<name>`) and, for JSON, `ApplicationLogLevel` and
  `SystemLogLevel` (each defaulting to `INFO`).
- Lambda `KMSKeyArn` and `TracingConfig` on UpdateFunctionConfiguration: moto keeps them
  from CreateFunction but ignores updates. AWS applies both (an empty `KMSKeyArn` goes
  back to the AWS-managed key, and GetFunction then has no `KMSKeyArn`).
- DynamoDB stream delivery: when a table has an event source mapping, moto runs the
  function itself on every write (in Docker) and, whatever that returns, empties the
  stream's shard (and then reuses sequence numbers). Without Docker every write logs
  "error running docker" into the function's log group and its change is gone. AWS keeps
  each record in the stream for 24 hours and the mapping reads it from there; here the
  local stream runner (lambda_local.runner) is that mapping. So moto's own delivery is turned
  off: records stay in the stream, in order, with unique sequence numbers.
- DynamoDB stream retention: moto keeps records forever, answers an unknown shard id with
  an internal error (an assert) and a sequence number before the shard's first one with
  another. AWS trims records older than 24 hours: GetShardIterator or GetRecords at a
  trimmed position raises `TrimmedDataAccessException`, TRIM_HORIZON starts at the oldest
  record kept, and an unknown shard is `ResourceNotFoundException`. The redrive tool's
  "expired" reporting is proven against exactly these answers.
- S3 bucket policies and TLS: moto evaluates a bucket policy's conditions without the
  request's context, and treats a `Bool` condition as always true. The failure bucket's
  TLS-only statement (Deny everyone when `aws:SecureTransport` is false, FSBP S3.5) then
  denies every object write. AWS evaluates it per request; every client of the emulator
  stands for a client of AWS, which boto3 reaches over HTTPS only, so the emulator
  evaluates such a statement as it applies to TLS requests: never. GetBucketPolicy still
  returns the policy exactly as put (doctor reads it there).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.core.exceptions import JsonRESTError
from moto.core.utils import utcnow
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, ResourceNotFoundException
from moto.dynamodb.models.table import StreamShard
from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator

_installed = False
# The one condition the TLS-only statement has (components/failure_destination.py).
INSECURE_TRANSPORT = {"Bool": {"aws:SecureTransport": "false"}}
DEFAULT_LOG_LEVEL = "INFO"
# DynamoDB Streams keeps each record for 24 hours.
STREAM_RETENTION = dt.timedelta(hours=24)


def install() -> None:
    """Patch moto's in-process models (once)."""
    global _installed
    if _installed:
        return
    _patch_lambda_logging_config()
    _patch_lambda_key_and_tracing_updates()
    _keep_dynamodb_stream_records()
    _patch_stream_retention()
    _patch_bucket_policy_transport()
    _installed = True


def applies_over_tls(statement: dict[str, Any]) -> bool:
    """False for a statement that only matches requests made without TLS."""
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return True
    flattened = {
        operator: {key: value[0] if isinstance(value, list) and len(value) == 1 else value
                   for key, value in keys.items()}
        for operator, keys in condition.items() if isinstance(keys, dict)
    }  # fmt: skip
    return flattened != INSECURE_TRANSPORT


def _patch_bucket_policy_transport() -> None:
    import json

    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    original = FakeBucket.get_permission

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return original(self, action, resource)
        document = json.loads(self.policy.decode())
        statements = document.get("Statement")
        statements = statements if isinstance(statements, list) else [statements]
        applicable = [statement for statement in statements if applies_over_tls(statement)]
        if len(applicable) == len(statements):
            return original(self, action, resource)
        if not applicable:
            return PermissionResult.NEUTRAL
        policy = IAMPolicy(json.dumps({**document, "Statement": applicable}))
        return policy.is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]


def aws_logging_config(function_name: str, requested: dict[str, Any] | None) -> dict[str, Any]:
    """The LoggingConfig AWS reports for a function created/updated with `requested`."""
    config = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function_name}"}
    config.update(requested or {})
    if config["LogFormat"] == "JSON":
        config.setdefault("ApplicationLogLevel", DEFAULT_LOG_LEVEL)
        config.setdefault("SystemLogLevel", DEFAULT_LOG_LEVEL)
    else:  # log levels only apply to JSON logs; AWS drops them for Text
        config.pop("ApplicationLogLevel", None)
        config.pop("SystemLogLevel", None)
    return config


def _patch_lambda_logging_config() -> None:
    original_init = LambdaFunction.__init__
    original_get_configuration = LambdaFunction.get_configuration
    original_update_configuration = LambdaFunction.update_configuration

    @functools.wraps(original_init)
    def init(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        original_init(self, account_id, spec, *args, **kwargs)
        self.logging_config = aws_logging_config(self.function_name, spec.get("LoggingConfig"))

    @functools.wraps(original_get_configuration)
    def get_configuration(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = original_get_configuration(self, *args, **kwargs)
        # setdefault: should a later moto return LoggingConfig itself, moto's answer wins.
        config.setdefault("LoggingConfig", dict(self.logging_config))
        return config

    @functools.wraps(original_update_configuration)
    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "LoggingConfig" in config_updates:
            merged = {**self.logging_config, **config_updates["LoggingConfig"]}
            self.logging_config = aws_logging_config(self.function_name, merged)
        return original_update_configuration(self, config_updates)

    LambdaFunction.__init__ = init  # type: ignore[method-assign]
    LambdaFunction.get_configuration = get_configuration  # type: ignore[method-assign]
    LambdaFunction.update_configuration = update_configuration  # type: ignore[method-assign]


def _patch_lambda_key_and_tracing_updates() -> None:
    original_update_configuration = LambdaFunction.update_configuration

    @functools.wraps(original_update_configuration)
    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "KMSKeyArn" in config_updates:
            self.kms_key_arn = config_updates["KMSKeyArn"] or None
        if "TracingConfig" in config_updates:
            self.tracing_config = {
                "Mode": config_updates["TracingConfig"].get("Mode", "PassThrough")
            }
        return original_update_configuration(self, config_updates)

    LambdaFunction.update_configuration = update_configuration  # type: ignore[method-assign]


def _keep_dynamodb_stream_records() -> None:
    def send_dynamodb_items(self: Any, function_arn: str, items: list[Any], source: str) -> str:
        # Falsy: moto's StreamShard.add keeps the records only when delivery "returns" nothing.
        return ""

    LambdaBackend.send_dynamodb_items = send_dynamodb_items  # type: ignore[method-assign]


class TrimmedDataAccessException(JsonRESTError):
    def __init__(self, message: str):
        super().__init__(ERROR_TYPE_PREFIX + "TrimmedDataAccessException", message)


def retained_from(shard: StreamShard) -> int:
    """The sequence number of the oldest record AWS would still hold (records are kept 24 h;
    past the newest one when every record is older)."""
    cutoff = utcnow() - STREAM_RETENTION
    for index, item in enumerate(shard.items):
        if item.record["dynamodb"]["ApproximateCreationDateTime"] >= cutoff:
            return int(shard.starting_sequence_number) + index
    return int(shard.starting_sequence_number) + len(shard.items)


def _check_retained(shard: StreamShard, sequence_number: int) -> None:
    oldest = retained_from(shard)
    if sequence_number < oldest:
        raise TrimmedDataAccessException(
            f"The operation attempted to read past the oldest stream record in a shard "
            f"(sequence number {sequence_number} is older than 24 hours)"
        )


def _patch_stream_retention() -> None:
    original_get_shard_iterator = DynamoDBStreamsBackend.get_shard_iterator
    original_get = ShardIterator.get

    @functools.wraps(original_get_shard_iterator)
    def get_shard_iterator(
        self: Any,
        arn: str,
        shard_id: str,
        shard_iterator_type: str,
        sequence_number: str | None = None,
    ) -> ShardIterator:
        table = self._get_table_from_arn(arn)
        shard = table.stream_shard
        if shard is None or shard.id != shard_id:
            raise ResourceNotFoundException(
                f"Requested resource not found: Shard {shard_id} does not exist in {arn}"
            )
        if shard_iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            _check_retained(shard, int(sequence_number or 0))
        iterator = original_get_shard_iterator(
            self, arn, shard_id, shard_iterator_type, sequence_number
        )
        if shard_iterator_type == "TRIM_HORIZON":
            iterator.sequence_number = retained_from(shard)
        return iterator

    @functools.wraps(original_get)
    def get(self: Any, limit: int = 1000) -> dict[str, Any]:
        _check_retained(self.stream_shard, int(self.sequence_number))
        return original_get(self, limit)

    DynamoDBStreamsBackend.get_shard_iterator = get_shard_iterator  # type: ignore[method-assign]
    ShardIterator.get = get  # type: ignore[method-assign]
