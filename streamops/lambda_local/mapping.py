"""The deployed stack's event source mapping, run locally: the real function package,
invoked in-process by the stream runner, for a stack deployed into the embedded emulator.

Why here: the emulator holds the table, stream, function definition, log group and failure
destination, but runs no mapping. This module connects them the way Lambda would:
- the handler is `functions/stream_processor` imported fresh (handler.lambda_handler);
- its environment is the DEPLOYED function's variables (read back from the emulator, so
  a wrong variable shows up here too), plus credentials of its execution role (STS
  AssumeRole, as Lambda does; in the emulator these also select the stack's account) and
  `AWS_ENDPOINT_URL`, so the handler's own boto3 calls (quarantine) reach the emulator;
- its log lines go to the deployed log group, in a Lambda-named log stream;
- the mapping's settings are the stack's typed trigger config; failures go to the stack's
  failure destination.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from components.config import StackConfig
from components.function import FUNCTION_SOURCE, HANDLER
from streamops.aws import AwsClients
from streamops.clock import Clock, SystemClock
from streamops.lambda_local.function import FunctionPackage, LocalFunction
from streamops.lambda_local.logs import CloudWatchLogsSink, LogSink, log_stream_name
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


def local_mapping(
    stack: Stack,
    *,
    sinks: Sequence[LogSink] = (),
    observers: Sequence[Callable[[RunnerEvent], None]] = (),
    clock: Clock | None = None,
) -> StreamRunner:
    """A runner for the stack's mapping; the function's lines also go to its log group."""
    clock = clock or SystemClock()
    outputs = stack.outputs
    log_stream = log_stream_name(clock.now())
    log_group = CloudWatchLogsSink(stack.aws("logs"), outputs["logGroupName"], log_stream)
    function = LocalFunction(
        FunctionPackage(FUNCTION_SOURCE, HANDLER),
        stack.config.function,
        function_arn=outputs["functionArn"],
        region=stack.aws.region,
        environment=handler_environment(stack),
        clock=clock,
        sinks=[*sinks, log_group],
        log_stream=log_stream,
    )
    return StreamRunner(
        stack.aws("dynamodbstreams"),
        outputs["streamArn"],
        stack.config.trigger,
        function,
        failure_destination(stack),
        observers=observers,
    )
