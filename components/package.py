"""The component package: StreamPipeline served to any Pulumi language.

`PulumiPlugin.yaml` (repo root) declares a Python plugin whose entry point,
`component_host.py`, calls `host()`: Pulumi's `component_provider_host` infers the
package schema from StreamPipeline's type annotations (components/pipeline_args.py for
the inputs, the class's annotated attributes for the outputs) and serves `construct`
requests, so `pulumi package add <this repo>@<tag>` generates an SDK in the consumer's
language. The package name is the type tokens' prefix (`dynamodb-stream-processor:index:
StreamPipeline`); the version is pyproject.toml's `[project] version`, the one place it is
written (CHANGELOG.md records each).
"""

import tomllib
from pathlib import Path
from typing import Any

from components.config import PROJECT
from components.pipeline import StreamPipeline

PACKAGE_NAME = PROJECT
COMPONENTS = [StreamPipeline]
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def package_version() -> str:
    """The package version: pyproject.toml's `[project] version`."""
    with PYPROJECT.open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


def component_provider() -> Any:
    """The provider `component_provider_host` serves: the SDK's own analyzer runs here."""
    from pulumi.provider.experimental.component import ComponentProvider

    return ComponentProvider(COMPONENTS, PACKAGE_NAME, version=package_version())


def inferred_schema() -> dict[str, Any]:
    """The package schema exactly as the host would serve it (GetSchema), in-process."""
    import json

    return json.loads(component_provider().schema)


def host() -> None:
    """Serve the package (called by component_host.py when Pulumi launches the plugin)."""
    from pulumi.provider.experimental import component_provider_host

    component_provider_host(COMPONENTS, PACKAGE_NAME, version=package_version())
