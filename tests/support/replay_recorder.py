"""The real handler with a test's routes, copied NEXT TO the function's modules into a task
root (``recorder_package``) so it runs inside the awslambdaric execution environment like
the function itself (stdlib only): what a replay test used to inject as a router.

Configured by the environment's variables (``recorder_variables``):
- ``RECORDER_SEEN_FILE``: every record the routes processed is appended to it as a JSON
  line ``[PK, sequence number, process id]``, for the test to read across the process
  boundary (and to prove the record was processed in another process);
- ``RECORDER_ROUTES``: ``seed`` (the function's own routes, then the recorder) or ``fix``
  (the recorder only: "the fix is deployed");
- ``RECORDER_BROKEN`` / ``RECORDER_POISON`` / ``RECORDER_CRASH``: a partition key whose
  records raise (a bug: reported as failed), are poison (quarantined by the handler), or
  end the process (a crash: the whole invocation fails);
- ``RECORDER_HANG_AT`` / ``RECORDER_HANG_MARKER``: at the n-th record seen, write this
  process's id to the marker file and sleep (a replay to be killed).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

HANDLER = "recorder.lambda_handler"


def recorder_package(into: Path) -> Path:
    """The function's package plus this module (``recorder.lambda_handler``)."""
    from streamops.lambda_local.mapping import wrapped_package

    return wrapped_package(into, Path(__file__), "recorder")


def recorder_variables(
    seen_file: Path,
    *,
    routes: str = "seed",
    broken: str | None = None,
    poison: str | None = None,
    crash: str | None = None,
    hang_at: int | None = None,
    hang_marker: Path | None = None,
) -> dict[str, str]:
    variables = {"RECORDER_SEEN_FILE": str(seen_file), "RECORDER_ROUTES": routes}
    for name, value in (
        ("RECORDER_BROKEN", broken),
        ("RECORDER_POISON", poison),
        ("RECORDER_CRASH", crash),
        ("RECORDER_HANG_AT", hang_at),
        ("RECORDER_HANG_MARKER", hang_marker),
    ):
        if value is not None:
            variables[name] = str(value)
    return variables


def seen_in(seen_file: Path) -> list[tuple[str, str, int]]:
    """What the routes processed, in order: (PK, sequence number, process id)."""
    if not seen_file.exists():
        return []
    return [tuple(json.loads(line)) for line in seen_file.read_text().splitlines()]  # type: ignore[misc]


def lambda_handler(event: Any, context: Any) -> Any:
    # The function's own modules, next to this one in the task root.
    import handler
    import records
    import routes

    seen_file = os.environ["RECORDER_SEEN_FILE"]
    broken = os.environ.get("RECORDER_BROKEN")
    poison = os.environ.get("RECORDER_POISON")
    crash = os.environ.get("RECORDER_CRASH")
    hang_at = int(os.environ.get("RECORDER_HANG_AT") or 0)
    built = routes.Router() if os.environ.get("RECORDER_ROUTES") == "fix" else routes.seed_router()

    def record(change: Any, inv: Any) -> None:
        if change.pk == broken:
            raise RuntimeError(f"downstream refused {change.pk}")
        if change.pk == poison:
            raise records.PoisonRecordError(f"{change.pk} cannot be processed")
        if change.pk == crash:
            os._exit(3)
        with open(seen_file, "a", encoding="utf-8") as seen:
            seen.write(json.dumps([change.pk, change.sequence_number, os.getpid()]) + "\n")
        if hang_at and len(Path(seen_file).read_text().splitlines()) == hang_at:
            Path(os.environ["RECORDER_HANG_MARKER"]).write_text(str(os.getpid()))
            time.sleep(600)

    built.add(routes.ANY, routes.ANY, record)
    return handler.process_event(event, context, router=built)
