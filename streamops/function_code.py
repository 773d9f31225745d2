"""The function's own modules (functions/stream_processor), imported as Lambda imports them.

Why: the function is deployed as its own code root, so its modules import each other by
top-level name (`import quarantine`, `from settings import ...`). Tools on the operator's
machine that run the handler or read its message format (the planner, redrive) import it
the same way: the folder goes on `sys.path` once, and the modules are shared with anything
else in the process that does the same (the function's unit tests).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

FUNCTION_DIR = Path(__file__).resolve().parents[1] / "functions" / "stream_processor"


def function_module(name: str) -> ModuleType:
    """`name` (e.g. "handler", "quarantine") from the function's folder."""
    if str(FUNCTION_DIR) not in sys.path:
        sys.path.insert(0, str(FUNCTION_DIR))
    return importlib.import_module(name)
