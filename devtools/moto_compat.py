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
- DynamoDB stream delivery: when a table has an event source mapping, moto runs the
  function itself on every write (in Docker) and, whatever that returns, empties the
  stream's shard (and then reuses sequence numbers). Without Docker every write logs
  "error running docker" into the function's log group and its change is gone. AWS keeps
  each record in the stream for 24 hours and the mapping reads it from there; here the
  local stream runner (devtools.runner) is that mapping. So moto's own delivery is turned
  off: records stay in the stream, in order, with unique sequence numbers.
"""

from __future__ import annotations

import functools
from typing import Any

from moto.awslambda.models import LambdaBackend, LambdaFunction

_installed = False
DEFAULT_LOG_LEVEL = "INFO"


def install() -> None:
    """Patch moto's in-process models (once)."""
    global _installed
    if _installed:
        return
    _patch_lambda_logging_config()
    _keep_dynamodb_stream_records()
    _installed = True


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


def _keep_dynamodb_stream_records() -> None:
    def send_dynamodb_items(self: Any, function_arn: str, items: list[Any], source: str) -> str:
        # Falsy: moto's StreamShard.add keeps the records only when delivery "returns" nothing.
        return ""

    LambdaBackend.send_dynamodb_items = send_dynamodb_items  # type: ignore[method-assign]
