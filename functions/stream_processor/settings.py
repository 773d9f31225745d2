"""Names of the environment variables the function reads, and their defaults, in one place.

Why a module of its own: the ``StreamFunction`` Pulumi component sets these variables and
the tests, the local runner and the redrive tool set or read them too. A name typed twice
is a name that drifts; every other module imports it from here. Values are read per
invocation (three dictionary look-ups), so tests and the local runner can change them
without reloading modules.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing is not imported at run time: it is cold-start time
if TYPE_CHECKING:
    from collections.abc import Mapping

# Set by the StreamFunction component.
ENV_FAILURE_DESTINATION_TYPE = "FAILURE_DESTINATION_TYPE"  # "s3", "sqs" or "sns"
# Bucket name (s3), queue URL (sqs) or topic ARN (sns)
ENV_FAILURE_DESTINATION = "FAILURE_DESTINATION"
ENV_METRICS_NAMESPACE = "METRICS_NAMESPACE"

# Set by Lambda itself.
ENV_FUNCTION_NAME = "AWS_LAMBDA_FUNCTION_NAME"
ENV_REGION = "AWS_REGION"
ENV_LOG_LEVEL = "AWS_LAMBDA_LOG_LEVEL"  # only with the JSON log format + application level

DESTINATION_SQS = "sqs"
DESTINATION_SNS = "sns"
DESTINATION_S3 = "s3"
DESTINATION_TYPES = (DESTINATION_SQS, DESTINATION_SNS, DESTINATION_S3)

DEFAULT_METRICS_NAMESPACE = "DynamoDBStreamProcessor"
# Used as the FunctionName dimension and in quarantine messages outside Lambda.
LOCAL_FUNCTION_NAME = "local"

# One logger for the package; Lambda's JSON log format adds the request id to each line.
LOGGER_NAME = "stream_processor"


class Settings:
    """The configuration one invocation runs with."""

    __slots__ = (
        "destination",
        "destination_type",
        "function_name",
        "log_level",
        "metrics_namespace",
        "region",
    )

    def __init__(
        self,
        *,
        destination_type: str | None = None,
        destination: str | None = None,
        metrics_namespace: str = DEFAULT_METRICS_NAMESPACE,
        function_name: str = LOCAL_FUNCTION_NAME,
        region: str | None = None,
        log_level: str | None = None,
    ) -> None:
        self.destination_type = destination_type
        self.destination = destination
        self.metrics_namespace = metrics_namespace
        self.function_name = function_name
        self.region = region
        # Lambda's application log level (JSON log format only), e.g. "WARN"; None when unset.
        self.log_level = log_level

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"Settings({fields})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env: Mapping[str, str] = os.environ if environ is None else environ
        return cls(
            destination_type=(env.get(ENV_FAILURE_DESTINATION_TYPE) or "").strip().lower() or None,
            destination=(env.get(ENV_FAILURE_DESTINATION) or "").strip() or None,
            metrics_namespace=env.get(ENV_METRICS_NAMESPACE) or DEFAULT_METRICS_NAMESPACE,
            function_name=env.get(ENV_FUNCTION_NAME) or LOCAL_FUNCTION_NAME,
            region=env.get(ENV_REGION) or None,
            log_level=(env.get(ENV_LOG_LEVEL) or "").strip().upper() or None,
        )
