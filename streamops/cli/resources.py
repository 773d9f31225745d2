"""`streamops resources [--stack dev] [--diff prod]`: what a stack declares, without AWS or the
Pulumi CLI: the program's resource tree under mocks (streamops/declared.py), or the
differences between two stacks.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from streamops.cli.output import EXIT_OK, JSON_OPTION, fail, print_json
from streamops.progress import step

if TYPE_CHECKING:
    from streamops.declared import Change, StackResources

MAX_VALUE = 200  # characters of one setting shown in the table (--json has them whole)


def command(
    stack: str = typer.Option("dev", "--stack", help="stack name: Pulumi.<stack>.yaml"),
    diff: str | None = typer.Option(
        None, "--diff", metavar="OTHER", help="show what OTHER declares differently from --stack"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """The resources a stack declares: type, name, parent, the settings that matter."""
    # The program is imported when the command runs (pulumi): `--help` stays fast.
    from components.config import ConfigError
    from streamops.declared import declared_resources, differences

    try:
        with step("running the program under mocks"):
            left = declared_resources(stack)
            right = declared_resources(diff) if diff else None
    except (FileNotFoundError, ConfigError) as error:
        fail("resources", error)
    if right is not None:
        changes = differences(left, right)
        if as_json:
            print_json({"stack": stack, "other": diff, "differences": changes})
        else:
            _print_changes(left.stack, right.stack, changes)
    elif as_json:
        print_json(
            {
                "stack": stack,
                "resources": left.resources,
                "outputs": left.outputs,
                "warnings": left.warnings,
            }
        )
    else:
        _print_tree(left)
    raise typer.Exit(EXIT_OK)


def _console() -> Console:
    return Console(file=sys.stdout, highlight=False, width=None if sys.stdout.isatty() else 160)


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 3] + "..."


def _print_tree(resources: StackResources) -> None:
    table = Table(title=f"stack {resources.stack}: {len(resources.resources)} resources")
    for column in ("type", "name", "parent", "settings"):
        table.add_column(column, overflow="fold")
    for resource in resources.resources:
        settings = [
            f"{key}: {_shown(line)}"
            for key, value in resource.settings.items()
            for line in (value if isinstance(value, list) and key.endswith("olicy") else [value])
        ]
        if resource.physical_name:
            settings.insert(0, f"name: {resource.physical_name}")
        table.add_row(
            resource.type,
            resource.name,
            resource.parent,
            "\n".join(settings),
        )
    console = _console()
    console.print(table)
    for warning in resources.warnings:
        console.print(f"warning (as `pulumi preview` prints it): {warning}")
    console.print(
        "Run under Pulumi mocks: types, names and inputs are the program's own; ids and ARNs "
        "of resources are placeholders in account 123456789012."
    )


def _print_changes(left: str, right: str, changes: list[Change]) -> None:
    console = _console()
    if not changes:
        console.print(f"stacks {left} and {right} declare the same resources and settings")
        return
    table = Table(title=f"{right} compared with {left}: {len(changes)} differences")
    for column in ("resource", "setting", left, right):
        table.add_column(column, overflow="fold")
    for change in changes:
        if not change.setting:
            table.add_row(
                change.resource,
                "(only in one stack)",
                _present(change.before),
                _present(change.after),
            )
        else:
            table.add_row(
                change.resource, change.setting, _shown(change.before), _shown(change.after)
            )
    console.print(table)


def _present(value: Any) -> str:
    return "declared" if value else "-"


app = typer.Typer()
app.command()(command)

if __name__ == "__main__":
    app()
