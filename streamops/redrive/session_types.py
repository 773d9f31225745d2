"""What a redrive run is given (``Options``, the ``Site`` it works on) and what it did
(``Result``, also what the tests check), apart from the run itself (``session``) so that
its report (``report``) can read them without importing the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from streamops.doctor.checks import DeployedStack
from streamops.redrive.failure_queue import DEFAULT_WAIT_SECONDS
from streamops.redrive.inventory import Inventory
from streamops.redrive.replay import Outcome, ReplayTarget

EXIT_OK, EXIT_LEFT, EXIT_UNREADABLE = 0, 1, 2


@dataclass
class Options:
    replay: bool = False
    archive: Path | None = None
    drop_expired: bool = False
    max_messages: int | None = None
    queue_url: str | None = None  # read this queue instead of the stack's failure queue
    yes: bool = False  # replay into a real stack without asking
    wait_seconds: int = DEFAULT_WAIT_SECONDS
    # How long received messages stay hidden; None: from the function's timeout.
    visibility_seconds: int | None = None
    # The command that replays, for the "next:" line of a list or archive run.
    replay_command: str = "uv run streamops redrive replay"


@dataclass
class Site:
    """Where a run works: the deployed stack and how its records are replayed."""

    title: str
    stack: DeployedStack
    target: ReplayTarget
    confirm: bool  # ask before replaying (a real stack)


@dataclass
class Result:
    """What a run did (also what the tests check)."""

    inventory: Inventory | None = None
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    archived: int = 0
    problems: list[str] = field(default_factory=list)
    replayed: bool = False  # a replay ran (it may have been declined)
    exit_code: int = EXIT_OK
