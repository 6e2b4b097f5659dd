"""Helpers of the Litestar integration tests.

Litestar's test clients run the app in a portal thread on the chosen event loop. Its
``AsyncTestClient`` cannot be entered from a test that itself runs on trio (the portal calls
``trio.from_thread`` from a thread that already runs trio), so HTTP tests through the test client
are plain functions using ``TestClient(app, backend=anyio_backend)`` and reach the storage on the
app's loop with :func:`on_app_loop`. What a test client cannot do (bodies arriving in chunks, a
client that disconnects half-way, one that stops reading, concurrent requests) is driven at the
ASGI level by :func:`asgi_request`, in the test's own loop, on asyncio and trio.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, cast

import anyio
from litestar import Litestar
from litestar.testing import TestClient

from litestar_storages import Storage

T = TypeVar("T")

BOUNDARY = "litestar-storages-test-boundary"


def client_on(app: Litestar, backend: str, **kwargs: Any) -> TestClient[Litestar]:
    """Litestar's ``TestClient`` running ``app`` on ``backend`` (``"asyncio"`` or ``"trio"``)."""
    return TestClient(app, backend=cast("Literal['asyncio', 'trio']", backend), **kwargs)


def on_app_loop(
    client: TestClient[Litestar], fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any
) -> T:
    """Run ``await fn(*args, **kwargs)`` on the event loop the app runs on."""
    return client.blocking_portal.call(functools.partial(fn, *args, **kwargs))


async def stored_keys(storage: Storage) -> list[str]:
    """Every key in ``storage``."""
    return [item.key async for item in storage.list()]


class aiter_bytes(AsyncIterator[bytes]):
    """An async iterator over ``chunks`` (a class, so an unfinished one needs no finalising)."""

    def __init__(self, *chunks: bytes) -> None:
        self._chunks = list(chunks)
        self.consumed = 0

    async def __anext__(self) -> bytes:
        if self.consumed == len(self._chunks):
            raise StopAsyncIteration
        self.consumed += 1
        return self._chunks[self.consumed - 1]


def multipart_body(
    parts: Sequence[tuple[str, str | None, str | None, bytes]], *, boundary: str = BOUNDARY
) -> bytes:
    """Encode ``(name, filename, content_type, body)`` parts exactly as given (no escaping)."""
    out = bytearray()
    for name, filename, content_type, body in parts:
        out += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"Content-Disposition: {disposition}\r\n".encode()
        if content_type is not None:
            out += f"Content-Type: {content_type}\r\n".encode()
        out += b"\r\n" + body + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def split(data: bytes, size: int) -> list[bytes]:
    """``data`` cut into chunks of ``size`` bytes."""
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


@dataclass
class Exchange:
    """One request sent to the app and what came back."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    received_chunks: int = 0  # how many request chunks the app had read, at the end
    error: Exception | None = None  # what the app raised (a server would log and drop it)


async def asgi_request(
    app: Litestar,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    chunks: Sequence[bytes] = (b"",),
    disconnect_after_body: bool = False,
    fail_on_body_message: int | None = None,
    exchange: Exchange | None = None,
) -> Exchange:
    """Send a request whose body arrives in ``chunks``.

    Args:
        disconnect_after_body: After the last chunk, report ``http.disconnect`` instead of
            completing the body (``more_body`` stays true): a client gone mid-upload.
        fail_on_body_message: Make ``send`` raise ``OSError`` on that response body message
            (1-based): a client that stops reading a download.
        exchange: Record into this object (to watch ``received_chunks`` while the app runs).
    """
    exchange = exchange if exchange is not None else Exchange()
    pending = list(chunks)
    done = anyio.Event()
    body_messages = 0

    async def receive() -> dict[str, Any]:
        if pending:
            chunk = pending.pop(0)
            exchange.received_chunks += 1
            more = bool(pending) or disconnect_after_body
            return {"type": "http.request", "body": chunk, "more_body": more}
        if not disconnect_after_body:
            await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal body_messages
        if message["type"] == "http.response.start":
            exchange.status = message["status"]
            exchange.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            body_messages += 1
            if fail_on_body_message == body_messages:
                raise OSError("client stopped reading")
            exchange.body += message.get("body", b"")
            if not message.get("more_body", False):
                done.set()

    all_headers = {"host": "test", **(headers or {})}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in all_headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("test", 80),
        "state": {},
    }
    try:
        await app(scope, receive, send)  # type: ignore[arg-type]
    except Exception as exc:
        exchange.error = exc
    finally:
        done.set()
    return exchange
