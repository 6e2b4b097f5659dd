"""A small threaded HTTP/1.1 server on 127.0.0.1 for faking credential endpoints.

The server runs in its own threads with blocking sockets, so it is independent of the event
loop under test (asyncio or trio), and the storages reach it over a real socket through the
library's own pool, exactly as they reach a metadata server. A fake is a subclass answering
:meth:`FakeEndpoint.handle`; it checks what the real endpoint checks and answers an error when
a check fails (recording it in ``refusals``). A handler may raise :class:`Hang` to hold the
request without ever answering (released when the server stops).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["FakeEndpoint", "Hang", "Reply", "Request"]


@dataclass
class Request:
    """A request as the fake received it (header names lower-cased)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        """The ``application/x-www-form-urlencoded`` body."""
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    def json(self) -> Any:
        """The JSON body."""
        return json.loads(self.body)


@dataclass
class Reply:
    """What the fake answers."""

    status: int = 200
    body: bytes | str | Mapping[str, Any] = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, Mapping):
            headers.setdefault("content-type", "application/json")
            return json.dumps(self.body).encode(), headers
        if isinstance(self.body, str):
            headers.setdefault("content-type", "text/plain")
            return self.body.encode(), headers
        return self.body, headers


class Hang(Exception):
    """Raised by a handler: hold the request and never answer."""


class FakeEndpoint:
    """An HTTP server on 127.0.0.1:<free port>; use as a context manager.

    Attributes:
        requests: Every request received, in order.
        refusals: Why requests were refused (a check of the real endpoint failed).
    """

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.refusals: list[str] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 10  # an idle keep-alive connection ends eventually

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                with fake._lock:
                    fake.requests.append(request)
                try:
                    reply = fake.handle(request)
                except Hang:
                    fake._released.wait(30)
                    self.close_connection = True
                    return
                content, headers = reply.encoded()
                self.send_response(reply.status)
                headers.setdefault("content-length", str(len(content)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(content)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: pytest output stays readable

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # ------------------------------------------------------------------ to override
    def handle(self, request: Request) -> Reply:
        """Answer ``request`` (subclasses check it as the real endpoint would)."""
        return Reply(404, {"error": "not_found"})

    def refuse(
        self, status: int, why: str, body: Mapping[str, Any] | str | bytes | None = None
    ) -> Reply:
        """Record a failed check and answer ``status``."""
        with self._lock:
            self.refusals.append(why)
        return Reply(status, body if body is not None else {"error": why})

    # ------------------------------------------------------------------ lifecycle
    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``."""
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self.host}"

    def paths(self, method: str | None = None) -> list[str]:
        """The paths requested (optionally only those of ``method``), in order."""
        return [r.path for r in self.requests if method is None or r.method == method]

    def __enter__(self) -> FakeEndpoint:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
