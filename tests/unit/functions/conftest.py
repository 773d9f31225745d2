"""Fixtures for the stream processor's tests.

The function is deployed as its own code root (``functions/stream_processor`` zipped alone),
so its modules import each other as top-level modules. Its folder is put on ``sys.path``
here, for the tests under this folder only.
"""

from __future__ import annotations

import copy
import io
import json
import sys
from collections.abc import Callable
from typing import Any

import pytest
from function_helpers import FUNCTION_DIR, Run

if str(FUNCTION_DIR) not in sys.path:
    sys.path.insert(0, str(FUNCTION_DIR))


@pytest.fixture
def run_batch(caplog: pytest.LogCaptureFixture) -> Callable[..., Run]:
    """Invoke the handler on an event with an injected sender/settings and capture output."""
    import handler
    from settings import Settings

    def run(event: Any, *, level: str = "INFO", context: Any = None, **kwargs: Any) -> Run:
        kwargs.setdefault("settings", Settings(function_name="test-fn"))
        stream = io.StringIO()
        caplog.clear()
        with caplog.at_level(level, logger="stream_processor"):
            response = handler.process_event(
                copy.deepcopy(event), context, metrics_stream=stream, **kwargs
            )
        lines = stream.getvalue().splitlines()
        assert len(lines) == 1, f"expected exactly one EMF line, got {lines}"
        return Run(response, json.loads(lines[0]), [r.getMessage() for r in caplog.records])

    return run
