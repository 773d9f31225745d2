"""The Lambda Runtime API, served on 127.0.0.1 for one execution environment.

Why: the function runs under AWS's own runtime client (``python -m awslambdaric``), which
talks HTTP to ``$AWS_LAMBDA_RUNTIME_API`` with the documented protocol (Lambda developer
guide, "Using the Lambda runtime API for custom runtimes"):

- ``GET  /2018-06-01/runtime/invocation/next``: blocks until there is an event; the body is
  the event, the headers ``Lambda-Runtime-Aws-Request-Id``, ``Lambda-Runtime-Deadline-Ms``,
  ``Lambda-Runtime-Invoked-Function-Arn``, ``Lambda-Runtime-Trace-Id``;
- ``POST /2018-06-01/runtime/invocation/{id}/response``: the handler's result (202);
- ``POST /2018-06-01/runtime/invocation/{id}/error``: the handler raised (202), with
  ``Lambda-Runtime-Function-Error-Type``;
- ``POST /2018-06-01/runtime/init/error``: INIT failed (202), e.g. the module did not import.

One server per environment keeps the protocol's one-invocation-at-a-time rule simple: the
environment's owner ``submit``s an invocation, and ``outcomes`` receives what the runtime
posts back (a byte on ``wake_fd`` says that something arrived, for ``select``).
"""

from __future__ import annotations

import json
import os
import queue
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"
NEXT = f"{PREFIX}/invocation/next"
INIT_ERROR = f"{PREFIX}/init/error"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"

RESPONSE, ERROR, INIT_FAILED, NEXT_POLLED = "response", "error", "init-error", "next"


@dataclass(frozen=True)
class Invocation:
    request_id: str
    body: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str


@dataclass(frozen=True)
class Outcome:
    kind: str  # RESPONSE | ERROR | INIT_FAILED | NEXT_POLLED
    request_id: str | None
    body: bytes
    error_type: str | None = None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class RuntimeApi:
    """The Runtime API endpoint of one execution environment."""

    def __init__(self) -> None:
        self.invocations: queue.Queue[Invocation | None] = queue.Queue()
        self.outcomes: queue.Queue[Outcome] = queue.Queue()
        self._wake_read, self._wake_write = os.pipe()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        """``host:port``, the value of AWS_LAMBDA_RUNTIME_API."""
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    @property
    def wake_fd(self) -> int:
        return self._wake_read

    def submit(self, invocation: Invocation) -> None:
        self.invocations.put(invocation)

    def take_outcome(self) -> Outcome | None:
        """The next outcome posted, if any (consumes one wake byte)."""
        try:
            outcome = self.outcomes.get_nowait()
        except queue.Empty:
            return None
        os.read(self._wake_read, 1)
        return outcome

    def post(self, outcome: Outcome) -> None:
        self.outcomes.put(outcome)
        os.write(self._wake_write, b"!")

    def close(self) -> None:
        self.invocations.put(None)  # releases a runtime blocked on /next
        self._server.shutdown()
        self._server.server_close()
        os.close(self._wake_read)
        os.close(self._wake_write)


def _handler_class(api: RuntimeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # the runtime client keeps its connection open
        # A reply is written as headers then body; with Nagle's algorithm on, the body
        # waits for the client's delayed ACK of the headers (about 40 ms on Linux) once the
        # kept-alive connection leaves quick-ACK mode: two such waits per warm invocation
        # (the 202 to /response and the next event).
        disable_nagle_algorithm = True

        def handle(self) -> None:
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):
                return  # the runtime's process ended (its environment was closed)

        def log_message(self, format: str, *args: Any) -> None:
            return  # the runtime's requests are not the function's logs

        def do_GET(self) -> None:
            if self.path != NEXT:
                self._reply(HTTPStatus.NOT_FOUND, b'{"errorMessage":"unknown path"}')
                return
            api.post(Outcome(NEXT_POLLED, None, b""))
            invocation = api.invocations.get()
            if invocation is None:  # the environment is shut down
                self._reply(HTTPStatus.GONE, b"")
                return
            self._reply(
                HTTPStatus.OK,
                invocation.body,
                {
                    "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
                    "Lambda-Runtime-Trace-Id": invocation.trace_id,
                },
            )

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            error_type = self.headers.get(ERROR_TYPE_HEADER)
            if self.path == INIT_ERROR:
                api.post(Outcome(INIT_FAILED, None, body, error_type))
            else:
                parts = self.path.removeprefix(f"{PREFIX}/invocation/").split("/")
                if len(parts) != 2 or parts[1] not in (RESPONSE, ERROR):
                    self._reply(HTTPStatus.NOT_FOUND, b'{"errorMessage":"unknown path"}')
                    return
                api.post(Outcome(parts[1], parts[0], body, error_type))
            self._reply(HTTPStatus.ACCEPTED, b'{"status":"OK"}')

        def _reply(
            self, status: HTTPStatus, body: bytes, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            try:
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the runtime is gone (its environment ended)

    return Handler
