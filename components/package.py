"""The component package: StreamPipeline served to any Pulumi language.

`PulumiPlugin.yaml` (repo root) declares a Python plugin whose entry point,
`component_host.py`, calls `host()`: the SDK's component provider (what
`component_provider_host` serves, with one fix, see StreamPipelineProvider) infers the
package schema from StreamPipeline's type annotations (components/pipeline_args.py for
the inputs, the class's annotated attributes for the outputs) and serves `construct`
requests, so `pulumi package add <this repo>@<tag>` generates an SDK in the consumer's
language. The package name is the type tokens' prefix (`dynamodb-stream-processor:index:
StreamPipeline`); the version is pyproject.toml's `[project] version`, the one place it is
written (CHANGELOG.md records each).
"""

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import pulumi
from pulumi.provider.experimental.component import ComponentProvider

from components.config import PROJECT
from components.pipeline import StreamPipeline
from components.pipeline_inputs import whole_numbers_as_integers

PACKAGE_NAME = PROJECT
COMPONENTS: list[type[pulumi.ComponentResource]] = [StreamPipeline]
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def package_version() -> str:
    """The package version: pyproject.toml's `[project] version`."""
    with PYPROJECT.open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


class StreamPipelineProvider(ComponentProvider):
    """The SDK's ComponentProvider (schema inference, construct), integer inputs fixed.

    Why: numbers cross the wire as doubles. This SDK's map_input_properties
    (pulumi/provider/experimental/component.py, pulumi 3.272) converts an integer property
    with int() and then overwrites it with the original value, so `memoryMb: 256` from
    TypeScript or YAML reaches the component as 256.0, which components/config refuses ("must be an
    integer"). Here whole-number doubles of integer keys become ints again; anything else
    (10.5) is left for components/config to report, not truncated as int() would.
    tests/unit/test_package.py notices when the SDK no longer needs this.
    """

    def map_inputs(self, inputs: Any, component_def: Any) -> Any:
        return whole_numbers_as_integers(super().map_inputs(inputs, component_def))


def component_provider() -> StreamPipelineProvider:
    """The provider the plugin serves: the SDK's own analyzer runs here."""
    return StreamPipelineProvider(COMPONENTS, PACKAGE_NAME, version=package_version())


def inferred_schema() -> dict[str, Any]:
    """The package schema exactly as the plugin serves it (GetSchema), in-process."""
    schema = component_provider().schema
    if schema is None:
        raise RuntimeError("the component provider inferred no schema")
    return json.loads(schema)


def host() -> None:
    """Serve the package (component_host.py, when Pulumi launches the plugin).

    What `component_provider_host(COMPONENTS, PACKAGE_NAME, version=...)` does (gRPC server,
    engine address from the command line), with the provider above in place of the SDK's.
    """
    from pulumi.provider import main

    main(component_provider(), sys.argv[1:])
