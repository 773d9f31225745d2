"""The deployed stack's event source mapping, run locally: the real function package,
invoked by the stream runner in execution environments running awslambdaric (one
process each, see lambda_local.function), for a stack deployed into the embedded emulator.

Why here: the emulator holds the table, stream, function definition, log group and failure
destination, but runs no mapping. This module connects them the way Lambda would:
- the handler is `functions/stream_processor` (handler.lambda_handler), the task root of
  each environment; at most as many environments as the mapping can run at once;
- its environment is the DEPLOYED function's variables (read back from the emulator, so
  a wrong variable shows up here too), plus credentials of its execution role (STS
  AssumeRole, as Lambda does; in the emulator these also select the stack's account) and
  `AWS_ENDPOINT_URL`, so the handler's own boto3 calls (quarantine) reach the emulator;
- its log lines go to the deployed log group, one Lambda-named log stream per environment;
- the mapping's settings are the stack's typed trigger config; failures go to the stack's
  failure destination.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from components.config import StackConfig
from components.function import FUNCTION_SOURCE, HANDLER
from streamops.aws import AwsClients
from streamops.lambda_local.function import ProcessFunction, pool_size
from streamops.lambda_local.logs import CloudWatchLogsSink, LogSink
from streamops.lambda_local.on_failure import FailureDestination, destination_for
from streamops.lambda_local.runner import RunnerEvent, StreamRunner


class Stack(Protocol):
    """What is needed of a deployment (emulator.server.Deployment or checks.DeployedStack)."""

    @property
    def outputs(self) -> Mapping[str, Any]: ...

    @property
    def config(self) -> StackConfig: ...

    @property
    def aws(self) -> AwsClients: ...


def handler_environment(stack: Stack) -> dict[str, str]:
    """The deployed function's variables, its role's credentials, and the endpoint."""
    aws = stack.aws
    configuration = aws("lambda").get_function_configuration(
        FunctionName=stack.outputs["functionName"]
    )
    variables = dict((configuration.get("Environment") or {}).get("Variables") or {})
    credentials = aws("sts").assume_role(
        RoleArn=configuration["Role"], RoleSessionName=configuration["FunctionName"]
    )["Credentials"]
    variables.update(
        AWS_ACCESS_KEY_ID=credentials["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=credentials["SecretAccessKey"],
        AWS_SESSION_TOKEN=credentials["SessionToken"],
    )
    if aws.endpoint:
        variables["AWS_ENDPOINT_URL"] = aws.endpoint
    return variables


def failure_destination(stack: Stack) -> FailureDestination:
    kind = stack.config.trigger.on_failure
    address_output = {"s3": "failureBucketName", "sqs": "failureQueueUrl"}.get(
        kind, "failureDestinationArn"
    )
    return destination_for(
        kind,
        str(stack.outputs[address_output]),
        stack.aws(kind),
        mapping_uuid=stack.outputs.get("eventSourceMappingId"),
    )


def shard_count(stack: Stack) -> int:
    stream = stack.aws("dynamodbstreams").describe_stream(StreamArn=stack.outputs["streamArn"])
    return max(1, len(stream["StreamDescription"].get("Shards", [])))


def wrapped_package(into: Path, wrapper: Path, module: str, source: Path = FUNCTION_SOURCE) -> Path:
    """A task root holding the function's modules and ``wrapper`` beside them as
    ``<module>.py`` (a handler wrapping the real one, run inside the environments)."""
    into.mkdir(parents=True, exist_ok=True)
    for path in source.glob("*.py"):
        shutil.copy2(path, into / path.name)
    shutil.copy2(wrapper, into / f"{module}.py")
    return into


def local_function(
    stack: Stack,
    *,
    sinks: Sequence[LogSink] = (),
    source: Path = FUNCTION_SOURCE,
    handler: str = HANDLER,
    variables: Mapping[str, str] | None = None,
) -> ProcessFunction:
    """The deployed function's execution environments; its lines also go to its log group
    (one log stream per environment, as in Lambda). ``source``, ``handler`` and
    ``variables`` let a demonstration wrap the package (e.g. a downstream outage)."""
    outputs = stack.outputs
    logs = stack.aws("logs")
    config = stack.config
    return ProcessFunction(
        source,
        handler,
        config.function,
        function_arn=outputs["functionArn"],
        region=stack.aws.region,
        environment={**handler_environment(stack), **(variables or {})},
        max_environments=pool_size(config.trigger, config.function, shard_count(stack)),
        sinks=sinks,
        stream_sinks=lambda stream: [CloudWatchLogsSink(logs, outputs["logGroupName"], stream)],
    )


def local_mapping(
    stack: Stack,
    *,
    sinks: Sequence[LogSink] = (),
    observers: Sequence[Callable[[RunnerEvent], None]] = (),
    function: ProcessFunction | None = None,
) -> StreamRunner:
    """A runner for the stack's mapping (``function``: the deployed package's environments
    by default). The environments run in real time; ``runner.close()`` ends them."""
    return StreamRunner(
        stack.aws("dynamodbstreams"),
        stack.outputs["streamArn"],
        stack.config.trigger,
        function or local_function(stack, sinks=sinks),
        failure_destination(stack),
        observers=observers,
    )
