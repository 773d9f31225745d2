"""The terminal sink of `make local`: invocations on different shards end at the same time
(they run concurrently), and each one's lines must still read as one block."""

from __future__ import annotations

import threading
import time

from streamops.lambda_local.logs import LogLine, PrintSink


class SlowStream:
    """A terminal that yields to other threads on every write, as a busy one does."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, text: str) -> int:
        self.written.append(text)
        time.sleep(0.001)
        return len(text)

    def flush(self) -> None:
        pass


def test_concurrent_invocations_lines_are_not_interleaved() -> None:
    stream = SlowStream()
    sink = PrintSink(stream, raw=True)  # type: ignore[arg-type]
    blocks = {name: [LogLine(0, f"{name} {index}") for index in range(20)] for name in "ab"}
    threads = [threading.Thread(target=sink.write, args=(lines,)) for lines in blocks.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    owners = [text.split()[0] for text in stream.written]
    assert sorted(owners) == ["a"] * 20 + ["b"] * 20
    assert owners in (["a"] * 20 + ["b"] * 20, ["b"] * 20 + ["a"] * 20), "lines interleaved"
