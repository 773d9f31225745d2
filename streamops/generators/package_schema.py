"""Generate StreamPipeline's input types from components/config/, and the schema golden.

Why generated: the stack file and the component take the same document, checked by the
same code (parse_config). Writing the input types by hand would be a second list of keys,
defaults and limits that drifts the day a key is added to components/config. Here each config key
becomes one field of the section's TypedDict, its description built from the key's own
`doc`, allowed values and default (as the README's configuration reference is), so the
schema other languages see documents exactly what components/config enforces.

    make package-schema   # = python -m streamops.generators.package_schema --write

rewrites components/pipeline_args.py and docs/package-schema.json (the schema Pulumi's
analyzer infers, in-process); tests/unit/test_package.py fails while either is stale.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from components.config import (
    MAX_TAGS,
    OTHER_TOP_LEVEL_KEYS,
    REQUIRED,
    SECTIONS,
    TAG_KEY_MAX,
    TAG_PUNCTUATION,
    TAG_VALUE_MAX,
    Key,
)
from streamops.generators.config_reference import _allowed, _default

ROOT = Path(__file__).resolve().parents[2]
ARGS_MODULE = ROOT / "components" / "pipeline_args.py"
SCHEMA_GOLDEN = ROOT / "docs" / "package-schema.json"
REGENERATE = "make package-schema"

# What components/config does not say: each section's description, the item type of list keys and
# the top-level keys that are not sections. A new section or list key must be added here
# (render() refuses to guess).
SECTION_DOCS = {
    "table": "The DynamoDB table and its stream (keys PK and SK, strings): created by the "
    "component (`name`), or an existing table (`existingTableName`), checked before anything "
    "is created. Stack file: `dynamodb-stream-processor:table`.",
    "function": "The Lambda function processing the stream, its log group and its "
    "least-privilege execution role. Stack file: `dynamodb-stream-processor:function`.",
    "trigger": "The event source mapping: batching, bounded retries, the failure destination "
    "(an encrypted SQS queue or SNS topic) and event filters. Stack file: "
    "`dynamodb-stream-processor:trigger`.",
    "alarms": "The alarm topic, six CloudWatch alarms and a dashboard. Stack file: "
    "`dynamodb-stream-processor:alarms`.",
}
LIST_ITEM_TYPES = {
    ("trigger", "filterPatterns"): "dict[str, Any]",
    ("trigger", "metrics"): "str",
    ("alarms", "emails"): "str",
    ("alarms", "httpsEndpoints"): "str",
    ("alarms", "forwardToTopicArns"): "str",
}
TOP_LEVEL_FIELDS = {
    "tags": (
        "dict[str, str]",
        f"Tags on every resource that takes tags (at most {MAX_TAGS}; names 1-{TAG_KEY_MAX} "
        f"and values 0-{TAG_VALUE_MAX} characters of letters, digits, spaces and "
        f"{' '.join(sorted(TAG_PUNCTUATION))}; no `aws:` names). "
        "Stack file: `dynamodb-stream-processor:tags`.",
    ),
}
KIND_TYPES = {bool: "bool", int: "int", str: "str", dict: "dict[str, Any]"}


def section_type_name(section: str) -> str:
    return f"{section[0].upper()}{section[1:]}Settings"


def _annotation(section: str, key: Key) -> str:
    if key.kind is list:
        if (section, key.name) not in LIST_ITEM_TYPES:
            raise KeyError(
                f"{section}.{key.name} is a list: add its item type to LIST_ITEM_TYPES in "
                f"{Path(__file__).name}"
            )
        base = f"list[{LIST_ITEM_TYPES[section, key.name]}]"
    else:
        base = KIND_TYPES[key.kind]
    return base if key.default is REQUIRED else f"NotRequired[{base}]"


def describe(key: Key) -> str:
    """The schema description of one key: what it means, what is allowed, its default."""
    allowed = _allowed(key).replace("\\|", "|")
    text = key.doc.strip()
    if allowed:
        text += f" Allowed: {allowed}."
    default = _default(key)
    return text + (" Required." if default == "required" else f" Default: {default}.")


def _docstring(text: str) -> str:
    if '"""' in text or text.endswith('"') or "\\" in text:
        raise ValueError(f"cannot write as a docstring: {text!r}")
    return f'"""{text}"""'


def render() -> str:
    """The source of components/pipeline_args.py."""
    if unknown := set(SECTIONS) - set(SECTION_DOCS):
        raise KeyError(f"sections without a description in SECTION_DOCS: {sorted(unknown)}")
    if unknown := set(OTHER_TOP_LEVEL_KEYS) - set(TOP_LEVEL_FIELDS):
        raise KeyError(f"top-level keys without a type in TOP_LEVEL_FIELDS: {sorted(unknown)}")
    lines = [
        "# ruff: noqa: E501",
        '"""StreamPipeline\'s inputs: one TypedDict per stack configuration section.',
        "",
        f"GENERATED from components/config/ by `{REGENERATE}`: do not edit by hand",
        "(streamops/generators/package_schema.py writes it; a unit test fails while it is stale).",
        "",
        "The keys are the stack file's own camelCase names, so a program's inputs and a",
        "Pulumi.<stack>.yaml section are one document, checked by the same code",
        "(components/config/, parse_config). Every setting is a plain value (no Output): it",
        "decides which resources exist and is validated before any is registered.",
        '"""',
        "",
        "from typing import Any, NotRequired, TypedDict",
    ]
    for section, (_required, keys) in SECTIONS.items():
        lines += ["", "", f"class {section_type_name(section)}(TypedDict):"]
        lines += [f"    {_docstring(SECTION_DOCS[section])}", ""]
        for key in keys:
            lines += [
                f"    {key.name}: {_annotation(section, key)}",
                f"    {_docstring(describe(key))}",
            ]
    lines += ["", "", "class StreamPipelineArgs(TypedDict):"]
    lines += [
        f"    {_docstring('Inputs of StreamPipeline: the stack configuration sections.')}",
        "",
    ]
    for section, (required, _keys) in SECTIONS.items():
        annotation = section_type_name(section)
        lines.append(f"    {section}: {annotation if required else f'NotRequired[{annotation}]'}")
        lines.append(f"    {_docstring(SECTION_DOCS[section])}")
    for name, (annotation, doc) in TOP_LEVEL_FIELDS.items():
        lines += [f"    {name}: NotRequired[{annotation}]", f"    {_docstring(doc)}"]
    return "\n".join(lines) + "\n"


def render_schema() -> str:
    """The package schema as Pulumi's analyzer infers it from the components, in-process."""
    from components.package import inferred_schema

    return json.dumps(inferred_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if argv == ["--write"]:
        ARGS_MODULE.write_text(render())
        print(f"wrote {ARGS_MODULE.relative_to(ROOT)}")
        # A fresh interpreter imports the module just written (this one holds the old one).
        return subprocess.call(
            [sys.executable, "-m", "streamops.generators.package_schema", "--schema"]
        )
    if argv == ["--schema"]:
        SCHEMA_GOLDEN.write_text(render_schema())
        print(f"wrote {SCHEMA_GOLDEN.relative_to(ROOT)}")
        return 0
    print("usage: python -m streamops.generators.package_schema --write", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
