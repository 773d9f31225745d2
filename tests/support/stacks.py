"""Stack configs for tests: the real stack files, with targeted overrides."""

from __future__ import annotations

import copy
from typing import Any

from components.config import PROJECT, sections_of
from streamops.program import load_stack_config


def stack_config(stack: str = "dev", **sections: dict[str, Any] | None) -> dict[str, Any]:
    """Pulumi.<stack>.yaml's config with sections merged in (None removes a section).

    `stack_config(trigger={"batchSize": 0})` changes one key and keeps the rest; a value of
    `DELETE` removes that key.
    """
    config = copy.deepcopy(load_stack_config(stack))
    for section, overrides in sections.items():
        key = f"{PROJECT}:{section}"
        if overrides is None:
            config.pop(key, None)
            continue
        merged = dict(config.get(key) or {})
        for name, value in overrides.items():
            if value is DELETE:
                merged.pop(name, None)
            else:
                merged[name] = value
        config[key] = merged
    return config


DELETE: Any = object()


def raw_config(stack: str = "dev", **sections: dict[str, Any] | None) -> dict[str, Any]:
    """The same config as parse_config takes it: top-level names without the project prefix."""
    return sections_of(stack_config(stack, **sections))
