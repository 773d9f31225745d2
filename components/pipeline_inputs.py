"""StreamPipeline's inputs go through the stack file's checks (components/config/).

One validation path: a component input and a Pulumi.<stack>.yaml value are the same
document (components/pipeline_args.py is generated from components.config's keys), so both are
parsed by `parse_config`, with its defaults, limits and messages. Only the naming differs:
a stack file's problem names the full config key (`dynamodb-stream-processor:trigger.
batchSize ...`), a component's names the input path (`trigger.batchSize ...`), which is
what the consumer wrote in TypeScript, YAML or Python.
"""

from collections.abc import Mapping
from typing import Any

import pulumi

from components.config import PROJECT, SECTIONS, ConfigError, StackConfig, parse_config

STACK_KEY_PREFIX = f"{PROJECT}:"


class PipelineInputError(ConfigError):
    """Every problem in a StreamPipeline's inputs, one per line, each naming its input path.

    `stack_file_problems` keeps components.config's own wording (full config keys) for a program
    that read the inputs from its stack file (__main__.py).
    """

    def __init__(self, component: str, stack_file_problems: list[str]):
        self.stack_file_problems = stack_file_problems
        problems = [input_path_problem(problem) for problem in stack_file_problems]
        super().__init__(problems)
        self.args = (
            f"invalid inputs of StreamPipeline {component!r}:\n  - " + "\n  - ".join(problems),
        )

    def in_stack_file(self) -> ConfigError:
        """The same problems as a stack file's: each names `dynamodb-stream-processor:<key>`."""
        return ConfigError(self.stack_file_problems)


def input_path_problem(problem: str) -> str:
    """`dynamodb-stream-processor:trigger.batchSize must ...` -> `trigger.batchSize must ...`."""
    return problem.removeprefix(STACK_KEY_PREFIX)


def pipeline_config(component: str, args: Mapping[str, Any]) -> StackConfig:
    """Validate a StreamPipeline's inputs exactly as a stack file's sections are validated.

    The stack is the program's stack and the region its `aws:region` (as for the repo's own
    stacks), so names and region checks are the same wherever the component runs.
    """
    try:
        return parse_config(
            dict(args), pulumi.get_stack(), region=pulumi.Config("aws").get("region")
        )
    except ConfigError as error:
        raise PipelineInputError(component, error.problems) from None


INTEGER_KEYS = {
    section: {key.name for key in keys if key.kind is int}
    for section, (_required, keys) in SECTIONS.items()
}


def whole_numbers_as_integers(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs with each integer key's whole-number float as an int (256.0 -> 256).

    For values that crossed the wire (components/package.py): numbers travel as doubles.
    Anything else (10.5, a string) is left as it is for parse_config to report.
    """
    fixed = dict(inputs)
    for section, names in INTEGER_KEYS.items():
        values = fixed.get(section)
        if isinstance(values, dict):
            fixed[section] = {
                name: int(value)
                if name in names and isinstance(value, float) and value.is_integer()
                else value
                for name, value in values.items()
            }
    return fixed
