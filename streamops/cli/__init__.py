"""`streamops`: the operator CLI (one console script, `uv run streamops --help`).

One module per subcommand, each exposing either `command` (one typer command function) or
`app` (a typer app with subcommands); mounting one is one line in SUBCOMMANDS. Logic lives
in the subsystem packages (streamops/demo, doctor, redrive, planner, ...), never here.
Exit codes everywhere: 0 ok, 1 a check or replay failed, 2 bad input.
"""

from __future__ import annotations

from types import ModuleType

import typer

from streamops.cli import bench, doctor, filter, local, plan, redrive, resources

app = typer.Typer(
    name="streamops",
    help="Operate the DynamoDB Streams -> Lambda pipeline: run it locally, see what a stack "
    "declares, check a deployment, recover failures, plan costs, benchmark the handler.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

SUBCOMMANDS: dict[str, ModuleType] = {
    "local": local,
    "resources": resources,
    "doctor": doctor,
    "redrive": redrive,
    "plan": plan,
    "bench": bench,
    "filter": filter,
}


def mount(parent: typer.Typer, name: str, module: ModuleType) -> None:
    """A module with `command` becomes `streamops NAME`; one with only `app`, a group
    `streamops NAME SUB`."""
    command = getattr(module, "command", None)
    if command is not None:
        parent.command(name)(command)
    else:
        parent.add_typer(module.app, name=name)


for _name, _module in SUBCOMMANDS.items():
    mount(app, _name, _module)


def main() -> None:
    app(prog_name="streamops")
