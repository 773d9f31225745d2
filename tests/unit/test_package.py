"""The component package: schema inferred in-process by Pulumi's own analyzer, `construct`
under mocks, one validation path with the stack files, and the examples.

No Pulumi CLI here: what `pulumi package add` does with the schema (SDK generation) is not
exercised; everything up to the schema the plugin serves, and the component it constructs,
is. Regenerate after a config key change: `make package-schema` (see
streamops/generators/package_schema.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from typing import Any

import pulumi
import pytest
import yaml
from google.protobuf import json_format, struct_pb2
from pulumi.errors import InputPropertyError
from pulumi.provider.server import ComponentInitError

from components.config import OTHER_TOP_LEVEL_KEYS, PROJECT, REQUIRED, SECTIONS, ConfigError
from components.package import PACKAGE_NAME, component_provider, inferred_schema, package_version
from components.pipeline import TYPE, StreamPipeline
from components.pipeline_inputs import PipelineInputError
from streamops.generators import package_schema
from streamops.program import ROOT, ProgramRun, RecordingMonitor, load_stack_config, run_program
from tests.support.fake_aws import ACCOUNT, REGION, FakeAws
from tests.support.graph import golden_path, graph_of
from tests.support.stacks import raw_config, stack_config

SCHEMA_TYPE = {bool: "boolean", int: "integer", str: "string", list: "array", dict: "object"}
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return inferred_schema()


def resource(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["resources"][TYPE]


def section_type(schema: dict[str, Any], section: str) -> dict[str, Any]:
    ref = resource(schema)["inputProperties"][section]["$ref"]
    return schema["types"][ref.removeprefix("#/types/")]


# --- the schema as a tested artefact -----------------------------------------------------------
def test_schema_golden_is_current(schema):
    golden = json.loads(package_schema.SCHEMA_GOLDEN.read_text())
    assert schema == golden, f"docs/package-schema.json is stale: run `{package_schema.REGENERATE}`"


def test_input_types_module_is_current():
    assert package_schema.ARGS_MODULE.read_text() == package_schema.render(), (
        f"components/pipeline_args.py is stale: run `{package_schema.REGENERATE}`"
    )


def test_package_name_and_version_come_from_one_place(schema):
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert schema["name"] == PACKAGE_NAME == PROJECT == TYPE.split(":")[0]
    assert schema["version"] == package_version() == pyproject["project"]["version"]
    changelog = (ROOT / "CHANGELOG.md").read_text()
    released = re.findall(r"^## (\d+\.\d+\.\d+)", changelog, flags=re.M)
    assert released and released[0] == package_version(), "CHANGELOG.md's newest entry"


def test_plugin_dependencies_are_the_programs():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    requirements = [line for line in lines if line and not line.startswith("#")]
    assert requirements == pyproject["project"]["dependencies"]


def test_plugin_manifest_runs_the_host():
    manifest = yaml.safe_load((ROOT / "PulumiPlugin.yaml").read_text())
    assert manifest["runtime"] == "python"
    entry = (ROOT / manifest["main"]).read_text()
    assert "from components.package import host" in entry and "host()" in entry


@pytest.mark.parametrize("section", SECTIONS)
def test_every_config_key_is_a_component_input_and_back(schema, section):
    """A key added to components/config without `make package-schema` (or an input with no config
    key) fails here: the inferred schema and components/config list the same keys and types."""
    required_section, keys = SECTIONS[section]
    inputs = resource(schema)["inputProperties"]
    assert (section in resource(schema)["requiredInputs"]) == required_section
    properties = section_type(schema, section)["properties"]
    assert set(properties) == {key.name for key in keys}
    for key in keys:
        assert properties[key.name]["type"] == SCHEMA_TYPE[key.kind], f"{section}.{key.name}"
        assert properties[key.name].get("plain") is True, "settings are plain values"
    required = set(section_type(schema, section).get("required", []))
    assert required == {key.name for key in keys if key.default is REQUIRED}
    assert set(inputs) == set(SECTIONS) | set(OTHER_TOP_LEVEL_KEYS)


def test_list_inputs_have_their_item_types(schema):
    emails = section_type(schema, "alarms")["properties"]["emails"]["items"]
    assert emails["type"] == "string"
    patterns = section_type(schema, "trigger")["properties"]["filterPatterns"]["items"]
    assert patterns["type"] == "object"
    assert patterns["additionalProperties"]["$ref"] == "pulumi.json#/Any"
    tags = resource(schema)["inputProperties"]["tags"]
    assert (tags["type"], tags["additionalProperties"]["type"]) == ("object", "string")


def test_every_input_output_and_type_is_described(schema):
    component = resource(schema)
    assert component["description"].strip()
    described = {
        **{f"input {n}": p for n, p in component["inputProperties"].items()},
        **{f"output {n}": p for n, p in component["properties"].items()},
    }
    for token, type_ in schema["types"].items():
        assert type_["description"].strip(), token
        described.update({f"{token}.{n}": p for n, p in type_["properties"].items()})
    empty = [name for name, prop in described.items() if not prop.get("description", "").strip()]
    assert empty == []


def test_descriptions_state_the_limits_of_config_py(schema):
    batch = section_type(schema, "trigger")["properties"]["batchSize"]["description"]
    assert "Allowed: 1 to 10000. Default: `100`." in batch
    name = section_type(schema, "function")["properties"]["name"]["description"]
    assert name.endswith("Required.")


def test_outputs_are_the_stack_outputs_with_their_types(schema):
    outputs = resource(schema)["properties"]
    dev_outputs = run_program(FakeAws(), stack_config("dev"), "dev").outputs
    prod_outputs = run_program(FakeAws(), stack_config("prod"), "prod").outputs
    # dev has an SQS destination (failureQueueUrl), prod an S3 one (failureBucketName);
    # both have alarms: between them, every output.
    assert set(outputs) == set(dev_outputs) | set(prod_outputs)
    assert set(dev_outputs) - set(prod_outputs) == {"failureQueueUrl"}
    assert set(prod_outputs) - set(dev_outputs) == {"failureBucketName"}
    assert (outputs["alarmNames"]["type"], outputs["alarmNames"]["items"]["type"]) == (
        "array",
        "string",
    )
    assert {outputs[name]["type"] for name in outputs if name != "alarmNames"} == {"string"}
    # Required = always there; the rest are left out with an SNS destination / no alarms.
    bare = run_program(
        FakeAws(),
        stack_config("dev", trigger={"onFailure": "sns"}, alarms={"enabled": False}),
        "dev",
    ).outputs
    assert set(resource(schema)["required"]) == set(bare)


# --- the plugin process, as Pulumi launches it ------------------------------------------------
def test_plugin_process_serves_the_golden_schema():
    """Start component_host.py as the plugin host would (engine address as its argument),
    ask it for its schema over gRPC (GetSchema), compare with the golden copy."""
    import grpc
    from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

    process = subprocess.Popen(
        [sys.executable, str(ROOT / "component_host.py"), "127.0.0.1:1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().decode().strip() or "0")
        assert port, process.stderr.read().decode() if process.stderr else "no port printed"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            reply = stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=30)
        assert json.loads(reply.schema) == json.loads(package_schema.SCHEMA_GOLDEN.read_text())
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- construct under mocks -------------------------------------------------------------------
def over_the_wire(value: dict[str, Any]) -> dict[str, Any]:
    """What the engine hands a provider's construct: a protobuf Struct (numbers as doubles)."""
    message = struct_pb2.Struct()
    message.update(value)
    return json_format.MessageToDict(message)


def construct(
    inputs: dict[str, Any],
    mocks: FakeAws | None = None,
    name: str = "pipeline",
    preview: bool = False,
) -> tuple[ProgramRun, dict[str, Any]]:
    """ComponentProvider.construct (what the plugin's Construct RPC calls) under mocks.

    The RPC layer above it (ProviderServicer._construct) is not used: it resets the
    runtime to the engine's monitor address from the request, which mocks do not have.
    """
    mocks = mocks or FakeAws()
    run = ProgramRun()
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack="dev", preview=preview, monitor=RecordingMonitor(mocks, run)
    )
    pulumi.runtime.set_all_config({"aws:region": REGION})
    state: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> pulumi.Output:
        result = component_provider().construct(
            name=name, resource_type=TYPE, inputs=over_the_wire(inputs), options=None
        )
        return pulumi.Output.all(**result.state).apply(state.update)

    program()
    return run, state


def test_construct_with_the_dev_sections_registers_the_dev_graph():
    """Another language's program passing dev's sections gets exactly what dev deploys."""
    run, state = construct(raw_config("dev"))
    golden = json.loads(golden_path("dev").read_text())
    assert graph_of(run)["resources"] == golden["resources"]
    assert state == golden["outputs"]


def test_construct_in_a_preview_registers_the_same_resources():
    """`pulumi preview` from another language: the inputs are plain values, known before
    any resource exists, so the preview plans the whole graph and validates it."""
    run, _ = construct(raw_config("dev"), preview=True)
    golden = json.loads(golden_path("dev").read_text())
    assert sorted(r.urn for r in run.resources) == [r["urn"] for r in golden["resources"]]


def test_construct_turns_wire_numbers_back_into_integers():
    run, _ = construct(raw_config("dev", trigger={"batchSize": 7}))
    assert over_the_wire({"n": 7}) == {"n": 7.0}
    mapping = run.one("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert mapping.inputs["batchSize"] == 7


def test_the_sdks_own_mapping_still_leaves_integers_as_floats():
    """Why StreamPipelineProvider exists: if this fails, the SDK converts integers itself
    and components/package.py's fix can go."""
    from pulumi.provider.experimental.component import ComponentProvider

    provider = component_provider()
    definition = provider._component_defs["StreamPipeline"]
    sdk_mapped: Any = ComponentProvider.map_inputs(
        provider, over_the_wire(raw_config("dev")), definition
    )
    assert sdk_mapped["function"]["memoryMb"] == 128.0
    assert isinstance(sdk_mapped["function"]["memoryMb"], float)


def test_a_fractional_number_is_refused_not_truncated():
    with pytest.raises(ComponentInitError) as raised:
        construct(raw_config("dev", function={"memoryMb": 256.5}))
    error = raised.value.inner
    assert isinstance(error, PipelineInputError)
    assert error.problems == ["function.memoryMb must be an integer (got 256.5)"]


def test_construct_refuses_a_missing_required_input():
    sections = raw_config("dev")
    del sections["function"]
    with pytest.raises(InputPropertyError, match="Missing required input 'function'"):
        construct(sections)


def test_construct_reports_a_bad_input_by_its_path_and_registers_nothing():
    mocks = FakeAws()
    with pytest.raises(ComponentInitError) as raised:
        construct(raw_config("dev", trigger={"batchSize": 0}), mocks)
    error = raised.value.inner
    assert isinstance(error, PipelineInputError)
    assert error.problems == ["trigger.batchSize must be between 1 and 10000 (got 0)"]
    assert mocks.registered == []


# --- one validation path -------------------------------------------------------------------
# AWS limits (Lambda CreateEventSourceMapping / CreateFunction, CloudWatch Logs
# PutRetentionPolicy) as components/config enforces them.
BAD_VALUES = [
    ("trigger", "batchSize", 0),
    ("trigger", "batchSize", 10001),
    ("trigger", "parallelizationFactor", 11),
    ("trigger", "maxRecordAgeSeconds", 59),
    ("function", "memoryMb", 127),
    ("function", "timeoutSeconds", 901),
    ("function", "logRetentionDays", 2),
    # DynamoDB Streams take TRIM_HORIZON or LATEST; AT_TIMESTAMP is for Kinesis, MSK, Kafka.
    ("trigger", "startingPosition", "AT_TIMESTAMP"),
]


def component_problems(sections: dict[str, Any]) -> list[str]:
    pulumi.runtime.set_mocks(FakeAws(), project=PROJECT, stack="dev", preview=False)
    pulumi.runtime.set_all_config({"aws:region": REGION})
    with pytest.raises(PipelineInputError) as raised:
        StreamPipeline("pipeline", sections)  # type: ignore[arg-type]
    return raised.value.problems


def stack_file_problems(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        run_program(FakeAws(), config, "dev")
    assert not isinstance(raised.value, PipelineInputError), "a stack file names full keys"
    return raised.value.problems


@pytest.mark.parametrize(("section", "key", "value"), BAD_VALUES)
def test_a_bad_value_gets_the_same_message_as_input_and_in_a_stack_file(section, key, value):
    from_component = component_problems(raw_config("dev", **{section: {key: value}}))
    from_stack_file = stack_file_problems(stack_config("dev", **{section: {key: value}}))
    assert from_stack_file == [f"{PROJECT}:{problem}" for problem in from_component]
    assert len(from_component) == 1 and from_component[0].startswith(f"{section}.{key} ")


def test_the_issues_example_message():
    assert component_problems(raw_config("dev", trigger={"batchSize": 0})) == [
        "trigger.batchSize must be between 1 and 10000 (got 0)"
    ]
    assert stack_file_problems(stack_config("dev", trigger={"batchSize": 0})) == [
        f"{PROJECT}:trigger.batchSize must be between 1 and 10000 (got 0)"
    ]


def test_cross_section_and_existing_table_problems_name_input_paths_too():
    problems = component_problems(raw_config("dev", alarms={"durationThresholdMs": 30000}))
    assert problems[0].startswith(
        "alarms.durationThresholdMs must be below function.timeoutSeconds"
    )
    existing = component_problems({**raw_config("dev"), "table": {"existingTableName": "gone"}})
    assert existing[0].startswith("table.existingTableName: cannot read table 'gone'")


# --- the examples ---------------------------------------------------------------------------
EXISTING_ORDERS = {
    "orders": {
        "arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders",
        "streamArn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders/stream/2026-01-01T00:00",
        "streamEnabled": True,
        "streamViewType": "NEW_AND_OLD_IMAGES",
        "serverSideEncryption": {"enabled": False, "kmsKeyArn": ""},
    }
}


def test_python_example_runs_under_mocks():
    run = run_program(
        FakeAws(EXISTING_ORDERS),
        {"aws:region": REGION},
        "dev",
        main=EXAMPLES / "python" / "main.py",
    )
    assert run.of_type("aws:dynamodb/table:Table") == []  # attached to the existing table
    mapping = run.one("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert mapping.inputs["eventSourceArn"] == EXISTING_ORDERS["orders"]["streamArn"]
    assert mapping.inputs["filterCriteria"]["filters"] == [
        {
            "pattern": json.dumps(
                {"dynamodb": {"OldImage": {"PK": {"S": [{"exists": False}]}}}},
                separators=(",", ":"),
            )
        }
    ]
    failure_topic = run.outputs["failureDestinationArn"]
    assert mapping.inputs["destinationConfig"]["onFailure"]["destinationArn"] == failure_topic
    assert ":sns:" in failure_topic and "failureQueueUrl" not in run.outputs
    subscription = run.one("aws:sns/topicSubscription:TopicSubscription")
    assert subscription.inputs["endpoint"] == "oncall@example.com"
    assert run.one("aws:lambda/function:Function").inputs["tags"]["team"] == "orders"


def yaml_example_properties() -> dict[str, Any]:
    program = yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text())
    (declared,) = program["resources"].values()
    assert declared["type"] == TYPE
    assert set(program["packages"]) == {PACKAGE_NAME}
    return declared["properties"]


def typescript_example_properties() -> dict[str, Any]:
    """The object literal passed to `new dsp.StreamPipeline(...)` in index.ts, as JSON
    (comments dropped, `${stack}` read as dev, keys quoted, trailing commas removed)."""
    source = (EXAMPLES / "typescript" / "index.ts").read_text()
    literal = source.split('new dsp.StreamPipeline("orders", ', 1)[1].split("\n});", 1)[0] + "}"
    literal = re.sub(r"//[^\n]*", "", literal).replace("${stack}", "dev")
    literal = re.sub(r"`([^`]*)`", r'"\1"', literal).replace("stack }", '"dev" }')
    literal = re.sub(r"(\b[A-Za-z]\w*)\s*:", r'"\1":', literal)
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", literal))


@pytest.mark.parametrize("properties", [yaml_example_properties, typescript_example_properties])
def test_example_inputs_are_schema_inputs_that_pass_validation(schema, properties):
    given = properties()
    inputs = resource(schema)["inputProperties"]
    assert set(given) <= set(inputs)
    for section in set(given) & set(SECTIONS):
        assert set(given[section]) <= set(section_type(schema, section)["properties"]), section
    run, state = construct(given)
    assert state["tableName"] == given["table"]["name"]
    assert run.one("aws:lambda/function:Function").inputs["memorySize"] == 256


def test_examples_have_readmes_with_the_add_command():
    for folder in ("python", "yaml", "typescript"):
        readme = (EXAMPLES / folder / "README.md").read_text()
        assert "pulumi package add github.com/<org>/dynamodb-stream-processor@v" in readme
        assert "Not verified here" in readme


def test_stack_files_keep_their_full_key_messages():
    """The repo's own stacks: sections read as the component's inputs, problems re-named."""
    sections = {f"{PROJECT}:{name}": value for name, value in raw_config("prod").items()}
    assert sections == {k: v for k, v in load_stack_config("prod").items() if k.startswith(PROJECT)}
    problems = stack_file_problems(stack_config("prod", function={"memoryMb": 20000}))
    assert problems == [f"{PROJECT}:function.memoryMb must be between 128 and 10240 (got 20000)"]


def test_the_example_folder_is_what_the_readme_lists():
    readme = (ROOT / "README.md").read_text()
    for folder in sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()):
        assert f"examples/{folder}/" in readme, folder
