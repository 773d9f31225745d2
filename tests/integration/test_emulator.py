"""The emulator deployment: real identifiers from the emulator, and nothing skipped.

The program's outputs and the wiring between resources must be the emulator's own
values (read back through boto3), and anything the emulator cannot create faithfully
must stop the deployment with a message naming the resource type or input.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from components.config import ConfigError
from streamops.emulator.resources import CREATORS, UnsupportedResource
from streamops.emulator.server import Deployment, Emulator, EmulatorMocks, deploy, new_account_id
from streamops.program import run_program
from tests.support.failure_messages import age_stream, put_items, shard_id, stream_records
from tests.support.stacks import stack_config

pytestmark = pytest.mark.integration


def test_outputs_and_wiring_are_the_emulators_own(
    fresh_deployment: Callable[..., Deployment],
) -> None:
    deployment = fresh_deployment("prod")
    aws, outputs = deployment.aws, deployment.outputs
    table = aws("dynamodb").describe_table(TableName=outputs["tableName"])["Table"]
    assert outputs["tableArn"] == table["TableArn"]
    assert outputs["streamArn"] == table["LatestStreamArn"]
    assert f":{deployment.account_id}:" in outputs["functionArn"]
    # prod's failure destination is the bucket (S3 ARNs hold no account or region).
    bucket = outputs["failureBucketName"]
    assert outputs["failureDestinationArn"] == f"arn:aws:s3:::{bucket}"
    encryption = aws("s3").get_bucket_encryption(Bucket=bucket)
    (rule,) = encryption["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    mapping = aws("lambda").get_event_source_mapping(UUID=outputs["eventSourceMappingId"])
    assert mapping["EventSourceArn"] == table["LatestStreamArn"]
    # The role policy the program rendered names the emulator's ARNs, KMS keys included.
    function = aws("lambda").get_function(FunctionName=outputs["functionName"])
    role = function["Configuration"]["Role"].rsplit("/", 1)[-1]
    (policy_name,) = aws("iam").list_role_policies(RoleName=role)["PolicyNames"]
    document = aws("iam").get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    resources = {statement["Sid"]: statement["Resource"] for statement in document["Statement"]}
    assert resources["ReadTableStream"] == table["LatestStreamArn"]
    assert resources["DecryptTableStream"] == table["SSEDescription"]["KMSMasterKeyArn"]
    # Every registered cloud resource was created through a creator (none skipped).
    created = {r.type for r in deployment.resources if r.custom}
    assert created <= set(CREATORS)
    assert all(r.id for r in deployment.resources if r.custom)


def test_the_function_package_is_the_programs_archive(
    fresh_deployment: Callable[..., Deployment],
) -> None:
    deployment = fresh_deployment()
    code = deployment.aws("lambda").get_function(FunctionName=deployment.outputs["functionName"])
    assert code["Configuration"]["Handler"] == "handler.lambda_handler"
    assert code["Configuration"]["CodeSize"] > 0


def test_deployments_are_isolated_from_each_other(
    fresh_deployment: Callable[..., Deployment],
) -> None:
    first, second = fresh_deployment(), fresh_deployment()
    assert first.account_id != second.account_id
    first.aws("lambda").delete_function(FunctionName=first.outputs["functionName"])
    assert second.aws("lambda").get_function(FunctionName=second.outputs["functionName"])


def test_an_unsupported_resource_type_stops_the_deployment(
    emulator_only: Emulator, tmp_path: Path
) -> None:
    program = tmp_path / "__main__.py"
    # An S3 access point: a type the program never registers, so no creator exists.
    program.write_text(
        "import pulumi_aws as aws\npipeline = None\naws.s3.AccessPoint('archive', bucket='b')\n"
    )
    with pytest.raises(
        UnsupportedResource, match=r"cannot create aws:s3/accessPoint:AccessPoint \('archive'\)"
    ):
        run_program(EmulatorMocks(emulator_only.aws(new_account_id())), {}, "dev", main=program)


def test_an_input_the_emulator_does_not_apply_stops_the_deployment(
    emulator_only: Emulator, tmp_path: Path
) -> None:
    program = tmp_path / "__main__.py"
    program.write_text(
        "import pulumi_aws as aws\npipeline = None\naws.sqs.Queue('q', fifo_queue=True)\n"
    )
    with pytest.raises(UnsupportedResource, match=r"aws:sqs/queue:Queue 'q'.*\['fifoQueue'\]"):
        run_program(EmulatorMocks(emulator_only.aws(new_account_id())), {}, "dev", main=program)


def test_a_nested_setting_the_emulator_does_not_apply_stops_the_deployment(
    emulator_only: Emulator, tmp_path: Path
) -> None:
    program = tmp_path / "__main__.py"
    program.write_text(
        "import pulumi_aws as aws\n"
        "pipeline = None\n"
        "aws.dynamodb.Table('t', hash_key='PK', attributes=[{'name': 'PK', 'type': 'S'}],\n"
        "    billing_mode='PAY_PER_REQUEST',\n"
        "    point_in_time_recovery={'enabled': True, 'recovery_period_in_days': 7})\n"
    )
    with pytest.raises(UnsupportedResource, match="recoveryPeriodInDays"):
        run_program(EmulatorMocks(emulator_only.aws(new_account_id())), {}, "dev", main=program)


def test_a_missing_existing_table_is_a_config_error(emulator_only: Emulator) -> None:
    config = stack_config("dev")
    config["dynamodb-stream-processor:table"] = {"existingTableName": "not-there"}
    with pytest.raises(ConfigError, match="existingTableName: cannot read table 'not-there'"):
        deploy(emulator_only, "dev", config)


def test_logging_config_is_kept_as_aws_keeps_it(
    fresh_deployment: Callable[..., Deployment],
) -> None:
    """moto 5.2.5 drops LoggingConfig; streamops.emulator.moto_compat stores it the way AWS does."""
    deployment = fresh_deployment()
    lambda_ = deployment.aws("lambda")
    name = deployment.outputs["functionName"]
    logging = lambda_.get_function(FunctionName=name)["Configuration"]["LoggingConfig"]
    assert logging == {
        "LogFormat": "JSON",
        "ApplicationLogLevel": "INFO",
        "SystemLogLevel": "INFO",
        "LogGroup": f"/aws/lambda/{name}",
    }
    lambda_.update_function_configuration(FunctionName=name, LoggingConfig={"LogFormat": "Text"})
    logging = lambda_.get_function(FunctionName=name)["Configuration"]["LoggingConfig"]
    assert logging == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}


def test_stream_records_stay_readable_with_a_mapping_on_the_table(
    fresh_deployment: Callable[..., Deployment],
) -> None:
    """moto 5.2.5 hands each write to the mapping's function and then EMPTIES the shard; AWS
    keeps every record 24 h whoever reads it (streamops.emulator.moto_compat)."""
    deployment = fresh_deployment()
    assert deployment.outputs["eventSourceMappingId"]
    put_items(deployment, ("PRODUCT#1", "METADATA"), ("PRODUCT#2", "METADATA"))
    put_items(deployment, ("PRODUCT#1", "METADATA"), price="12")
    events = [record["eventName"] for record in stream_records(deployment)]
    assert events == ["INSERT", "INSERT", "MODIFY"]


def test_stream_records_older_than_24_hours_are_trimmed_as_aws_trims_them(
    fresh_deployment: Callable[..., Deployment],
) -> None:
    deployment = fresh_deployment()
    put_items(deployment, *[(f"PRODUCT#{index}", "METADATA") for index in range(3)])
    first, second, third = (r["dynamodb"]["SequenceNumber"] for r in stream_records(deployment))
    age_stream(deployment, hours=25, count=2)
    streams = deployment.aws("dynamodbstreams")
    stream_arn = deployment.outputs["streamArn"]
    shard = shard_id(deployment)

    def iterator(kind: str, number: str | None = None) -> str:
        request = {"StreamArn": stream_arn, "ShardId": shard, "ShardIteratorType": kind}
        if number:
            request["SequenceNumber"] = number
        return streams.get_shard_iterator(**request)["ShardIterator"]

    assert [r["eventName"] for r in stream_records(deployment)] == ["INSERT"]  # TRIM_HORIZON
    for trimmed in (first, second):
        with pytest.raises(streams.exceptions.TrimmedDataAccessException):
            iterator("AT_SEQUENCE_NUMBER", trimmed)
    records = streams.get_records(ShardIterator=iterator("AT_SEQUENCE_NUMBER", third))["Records"]
    assert [r["dynamodb"]["SequenceNumber"] for r in records] == [third]
    kept = iterator("AT_SEQUENCE_NUMBER", third)
    age_stream(deployment, hours=25, count=3)
    with pytest.raises(streams.exceptions.TrimmedDataAccessException):
        streams.get_records(ShardIterator=kept)  # trimmed while the iterator was held
    with pytest.raises(streams.exceptions.ResourceNotFoundException):
        streams.get_shard_iterator(
            StreamArn=stream_arn,
            ShardId="shardId-00000001000000000000-0000gone",
            ShardIteratorType="TRIM_HORIZON",
        )


def test_an_emulator_serves_on_loopback_one_account_per_client_and_stops(
    real_stack_name: str | None,
) -> None:
    if real_stack_name:
        pytest.skip("exercises the embedded emulator itself")
    emulator = Emulator()
    with pytest.raises(RuntimeError, match="not running"):
        emulator.aws(new_account_id())
    account = new_account_id()
    with emulator:
        assert emulator.endpoint.startswith("http://127.0.0.1:")
        assert emulator.aws(account)("sts").get_caller_identity()["Account"] == account
    assert emulator.endpoint == ""
