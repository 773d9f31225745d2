"""Reading a stack's configuration: from a `Pulumi.<stack>.yaml` `config:` block, or
through Pulumi at run time (`pulumi up`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.config.limits import PROJECT
from components.config.models import StackConfig
from components.config.parse import parse_config


def sections_of(config_map: Mapping[str, Any], project: str = PROJECT) -> dict[str, Any]:
    """A stack file's `config:` block as parse_config takes it: the project's keys
    (`<project>:<name>`) by name; other namespaces (e.g. `aws:region`) are the providers'."""
    prefix = f"{project}:"
    return {
        key[len(prefix) :]: value for key, value in config_map.items() if key.startswith(prefix)
    }


def parse_stack_config(config_map: Mapping[str, Any], stack: str) -> StackConfig:
    """parse_config for a stack file's `config:` block (as in Pulumi.<stack>.yaml)."""
    region = config_map.get("aws:region")
    return parse_config(sections_of(config_map), stack, region=region if region else None)


def load_config() -> StackConfig:
    """Read this stack's configuration through Pulumi and validate it."""
    import pulumi

    return parse_config(
        read_config_sections(), pulumi.get_stack(), region=pulumi.Config("aws").get("region")
    )


def read_config_sections() -> dict[str, Any]:
    """This stack's objects under the project namespace, by name, unvalidated (what
    parse_config takes, and the same document as StreamPipeline's inputs).

    Objects are read with `get_object`; every key present under the project namespace is
    listed, so a misspelt top-level key is read too and parse_config reports it.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    config = pulumi.Config(PROJECT)
    present = {
        key.split(":", 1)[1]
        for key in {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
        if key.startswith(f"{PROJECT}:")
    }
    # Missing required sections are reported by parse_config, together with every other
    # problem, rather than by require_object's one-at-a-time ConfigMissingError.
    return {key: _read_object(config, key) for key in present}


def _read_object(config: Any, key: str) -> Any:
    """A structured value, or the plain string when it is not JSON (reported as a type error)."""
    import pulumi

    try:
        return config.get_object(key)
    except pulumi.ConfigTypeError:
        return config.get(key)
