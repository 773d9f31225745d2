"""Writing the recovered records to a JSON lines file, all or nothing.

Why atomic: the archive is what an operator keeps when the stream is about to forget the
records (and what `--drop-expired` relies on before deleting messages). A run interrupted
while writing must not leave a truncated file that looks complete, nor damage an archive
written earlier under the same name. So the lines go to a temporary file in the same
directory (same filesystem), which is flushed to disk and then renamed over the target
with `os.replace`, an atomic rename on POSIX and Windows. On any error the temporary file
is removed and the target is untouched.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def write_jsonl(path: Path, entries: Iterable[dict[str, Any]]) -> int:
    """Write one JSON object per line to `path` atomically; returns the number of lines."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"archive directory {directory} does not exist")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    count = 0
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            for entry in entries:
                file.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
                count += 1
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count
