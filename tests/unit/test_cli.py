"""The `streamops` console script: every command has --help, exits 0/1/2, and --json where
scripts need it (doctor and redrive list: tests/integration, they need the emulator)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from streamops.cli import SUBCOMMANDS, app
from streamops.declared import declared_resources, differences
from streamops.mock_aws import FakeAws
from streamops.program import ROOT, load_stack_config, run_program

runner = CliRunner()


def command_paths() -> list[list[str]]:
    """Every command and subcommand, as argv prefixes."""
    root = typer.main.get_command(app)
    paths = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        paths.append([name])
        paths += [[name, sub] for sub in getattr(command, "commands", {})]
    return paths


def test_every_subcommand_of_the_issue_is_mounted() -> None:
    assert sorted(SUBCOMMANDS) == [
        "bench",
        "doctor",
        "filter",
        "local",
        "plan",
        "redrive",
        "resources",
    ]
    assert sorted(" ".join(path) for path in command_paths()) == [
        "bench",
        "doctor",
        "filter",
        "filter test",
        "local",
        "plan",
        "redrive",
        "redrive archive",
        "redrive list",
        "redrive replay",
        "resources",
    ]


@pytest.mark.parametrize("path", [[], *command_paths()], ids=" ".join)
def test_every_command_has_help(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.stdout and "--help" in result.stdout
    assert f"streamops {' '.join(path)}".strip() in " ".join(result.stdout.split())


@pytest.mark.parametrize(
    "argv",
    [
        ["nope"],
        ["plan", "--stack", "dev"],
        ["plan", "--stack", "dev", "--writes", "fast"],
        ["resources", "--stack", "nope"],
        ["resources", "--diff", "nope"],
        ["doctor", "--stack", "nope"],
        ["redrive", "list", "--stack", "nope"],
        ["redrive", "archive"],
        ["redrive", "replay", "--drop-expired"],
        ["bench", "nope"],
        ["local", "--port", "-1"],
    ],
    ids=" ".join,
)
def test_bad_input_exits_2(argv: list[str]) -> None:
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""


def test_an_unknown_stack_is_named_not_blamed_on_the_pulumi_cli() -> None:
    for argv in (["doctor", "--stack", "nope"], ["redrive", "list", "--stack", "nope"]):
        result = runner.invoke(app, argv)
        assert "no stack 'nope'" in result.stderr and "pulumi CLI" not in result.stderr


def test_resources_lists_the_program_tree_with_the_settings_that_matter() -> None:
    result = runner.invoke(app, ["resources", "--stack", "dev", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    by_type: dict[str, list[dict]] = {}
    for resource in document["resources"]:
        by_type.setdefault(resource["type"], []).append(resource)
    (table,) = by_type["aws:dynamodb/table:Table"]
    assert table["physical_name"] == "demo-ecommerce-freetier"  # Pulumi.dev.yaml table.name
    assert table["parent"] == "pipeline-table"
    assert table["settings"]["billingMode"] == "PROVISIONED"
    assert table["settings"]["streamViewType"] == "NEW_AND_OLD_IMAGES"
    (mapping,) = by_type["aws:lambda/eventSourceMapping:EventSourceMapping"]
    assert mapping["settings"]["batchSize"] == 10
    # the ARN it wires: the table's stream, as AWS forms it from the table's name
    assert mapping["settings"]["eventSourceArn"].startswith(
        "arn:aws:dynamodb:us-east-1:123456789012:table/demo-ecommerce-freetier/stream/"
    )
    policy = next(r for r in by_type["aws:iam/rolePolicy:RolePolicy"])["settings"]["policy"]
    assert any(
        line.startswith("Allow dynamodb:DescribeStream")
        and mapping["settings"]["eventSourceArn"] in line
        for line in policy
    )
    components = [r for r in document["resources"] if r["type"].endswith(":StreamPipeline")]
    assert [c["parent"] for c in components] == [""]
    assert document["outputs"]["tableName"] == "demo-ecommerce-freetier"
    assert any("alarms.notify is none" in warning for warning in document["warnings"])


def test_resources_table_shows_every_resource() -> None:
    result = runner.invoke(app, ["resources"])
    assert result.exit_code == 0, result.output
    count = len(declared_resources("dev").resources)
    assert f"stack dev: {count} resources" in result.stdout
    assert "pipeline-trigger" in result.stdout and "placeholders" in result.stdout


def test_resources_diff_shows_what_prod_declares_differently() -> None:
    result = runner.invoke(app, ["resources", "--stack", "dev", "--diff", "prod", "--json"])
    assert result.exit_code == 0, result.output
    changes = {
        (change["resource"], change["setting"]): (change["before"], change["after"])
        for change in json.loads(result.stdout)["differences"]
    }
    table = "aws:dynamodb/table:Table pipeline-table"
    # Pulumi.dev.yaml vs Pulumi.prod.yaml
    assert changes[(table, "billingMode")] == ("PROVISIONED", "PAY_PER_REQUEST")
    assert changes[(table, "pointInTimeRecovery.enabled")] == (False, True)
    logs = "aws:cloudwatch/logGroup:LogGroup pipeline-function-logs"
    assert changes[(logs, "retentionInDays")] == (7, 365)
    # prod creates a customer-managed key dev does not have
    assert any(key[0].startswith("aws:kms/key:Key") and key[1] == "" for key in changes)


def test_a_stack_compared_with_itself_has_no_differences() -> None:
    dev = declared_resources("dev")
    assert differences(dev, dev) == []


def test_the_program_runner_keeps_program_warnings_off_the_console(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The emulator (and every tool running the program under mocks) printed "alarms.emails
    is empty" on every run, where nothing can be subscribed (seen failing first). Program
    warnings (today dev's "alarms.notify is none ...") are kept with the run, for whoever
    shows it (`streamops resources`)."""
    with caplog.at_level(logging.DEBUG):
        run = run_program(FakeAws(), load_stack_config("dev"), "dev")
    assert "alarms.notify is none" not in caplog.text
    assert any("alarms.notify is none" in message for level, message in run.diagnostics)
    assert {level for level, _ in run.diagnostics} <= {"info", "warning", "error"}


def test_the_console_script_runs_in_a_fresh_process() -> None:
    """`uv run streamops --help` as a user types it (the console script of pyproject)."""
    uv = [sys.executable, "-m", "uv"]
    if subprocess.run([*uv, "--version"], capture_output=True, check=False).returncode != 0:
        uv = ["uv"]
    result = subprocess.run(
        [*uv, "run", "--frozen", "--no-sync", "streamops", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for name in SUBCOMMANDS:
        assert name in result.stdout


def test_make_targets_are_aliases_of_the_console_script() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in ("local", "resources", "doctor", "redrive", "plan", "bench"):
        recipe = makefile.split(f"\n{target}: install")[1].split("\n")[1:]
        assert recipe[0].startswith(f"\t$(RUN) streamops {target} "), target
        assert not recipe[1].startswith("\t"), f"{target}: one line"


def test_a_module_with_only_an_app_mounts_as_a_group(tmp_path: Path) -> None:
    """How another engineer's `streamops/cli/<name>.py` with `app = typer.Typer()` mounts."""
    from types import ModuleType

    from streamops.cli import mount

    module = ModuleType("streamops.cli.example")
    module.app = typer.Typer()  # type: ignore[attr-defined]

    @module.app.command()  # type: ignore[attr-defined]
    def test() -> None:
        print("tested")

    parent = typer.Typer()

    @parent.callback()
    def root() -> None:
        """(a group)"""

    mount(parent, "example", module)
    result = runner.invoke(parent, ["example", "test"])
    assert result.exit_code == 0 and result.stdout == "tested\n"
