"""Cancellation at every checkpoint of a request leaves the pool consistent and leaks nothing.

Every wait the transport makes goes through ``anyio.wait_readable``/``wait_writable``; the tests
wrap those so that the k-th wait cancels the request's scope, for k = 1, 2, ... until a request
completes untouched. After each cancelled request the pool must hold no active connection and no
request slot, what is idle must be usable, and closing the transport must give back every file
descriptor it opened.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import pytest

from litestar_storages._http.transport import FastTransport

from ._transport_server import ScriptedServer, ServerConn, ok_response
from .conftest import Certificates, open_fds

pytestmark = pytest.mark.anyio

BODY = b"b" * 200_000


class CancelAtWait:
    """Cancel ``scope`` at the k-th socket wait (or checkpoint) of the task that armed it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.k = 0
        self.count = 0
        self.task = -1
        self.checkpoints = 0  # plain checkpoints (not socket waits) seen in the armed task
        self.scope: anyio.CancelScope | None = None
        for name in ("wait_readable", "wait_writable"):
            original = getattr(anyio, name)
            monkeypatch.setattr(anyio, name, self._wrap(original))
        checkpoint = anyio.lowlevel.checkpoint

        async def counted_checkpoint() -> None:
            if anyio.get_current_task().id == self.task:
                self.checkpoints += 1
            self._count()
            await checkpoint()

        monkeypatch.setattr(anyio.lowlevel, "checkpoint", counted_checkpoint)

    def _count(self) -> None:
        if anyio.get_current_task().id != self.task:
            return
        self.count += 1
        if self.count == self.k and self.scope is not None:
            self.scope.cancel()

    def _wrap(self, original: Callable[[Any], Awaitable[None]]) -> Callable[[Any], Awaitable[None]]:
        async def wait(obj: Any) -> None:
            self._count()
            await original(obj)

        return wait

    def arm(self, k: int, scope: anyio.CancelScope) -> None:
        self.k, self.count, self.scope = k, 0, scope
        self.task = anyio.get_current_task().id


@pytest.fixture
def cancel_at(monkeypatch: pytest.MonkeyPatch) -> CancelAtWait:
    return CancelAtWait(monkeypatch)


def dribbling_server(*, tls: Any = None) -> ScriptedServer:
    """Answers in pieces with pauses, so the client waits in every stage of the response."""

    def script(conn: ServerConn) -> None:
        while (request := conn.read_head()) is not None:
            try:
                conn.read_body(request)
            except EOFError:
                return
            conn.send(ok_response(BODY), pieces=[10, 30, 200, 50_000, 120_000], pause=0.002)

    return ScriptedServer(script, tls=tls)


def assert_consistent(transport: FastTransport, in_flight: int = 0) -> None:
    """No connection or slot held beyond those of ``in_flight`` requests still running."""
    stats = transport.pool_stats()
    assert (stats.active, stats.requests, stats.waiting) == (in_flight, in_flight, 0), stats


async def cancel_everywhere(
    cancel_at: CancelAtWait,
    transport: FastTransport,
    request: Callable[[httpx.AsyncClient], Awaitable[None]],
    in_flight: int = 0,
) -> int:
    """Cancel the request at its 1st, 2nd, ... wait; return how many waits it had."""
    # Not ``async with``: leaving the client would close the transport (the caller does).
    client = httpx.AsyncClient(transport=transport)
    for k in range(1, 500):
        with anyio.CancelScope() as scope:
            cancel_at.arm(k, scope)
            await request(client)
        assert_consistent(transport, in_flight)
        if not scope.cancel_called:
            # Done without being cancelled: every wait has been a cancellation point.
            # The pool still works afterwards.
            cancel_at.arm(0, scope)
            await request(client)
            assert_consistent(transport, in_flight)
            return k - 1
    raise AssertionError("the request never completed")


async def test_cancelling_a_get_at_every_wait_leaks_nothing(cancel_at: CancelAtWait) -> None:
    before = open_fds()
    with dribbling_server() as server:
        transport = FastTransport()

        async def get(client: httpx.AsyncClient) -> None:
            response = await client.get(server.url())
            assert response.content == BODY

        waits = await cancel_everywhere(cancel_at, transport, get)
        await transport.aclose()
    assert waits >= 3  # connect, head, body (at least)
    assert open_fds() <= before


async def test_cancelling_an_upload_at_every_wait_leaks_nothing(cancel_at: CancelAtWait) -> None:
    before = open_fds()
    with dribbling_server() as server:
        transport = FastTransport()

        async def put(client: httpx.AsyncClient) -> None:
            # 4 MiB: larger than the socket buffers, so writes wait too.
            response = await client.put(server.url(), content=b"u" * (4 * 1024 * 1024))
            assert response.content == BODY

        waits = await cancel_everywhere(cancel_at, transport, put)
        await transport.aclose()
    assert waits >= 4
    assert open_fds() <= before


async def test_cancelling_a_tls_request_at_every_wait_leaks_nothing(
    cancel_at: CancelAtWait, certificates: Certificates
) -> None:
    before = open_fds()
    with dribbling_server(tls=certificates.server_context()) as server:
        transport = FastTransport(verify=certificates.client_context())

        async def get(client: httpx.AsyncClient) -> None:
            response = await client.get(server.url(hostname="localhost"))
            assert response.content == BODY

        waits = await cancel_everywhere(cancel_at, transport, get)
        await transport.aclose()
    assert waits >= 4  # connect, handshake, head, body
    assert open_fds() <= before


async def test_cancelling_a_get_among_others_in_flight_leaks_nothing(
    cancel_at: CancelAtWait,
) -> None:
    # With another request in flight the transport yields once before waiting for a head:
    # one more place a cancellation can land.
    before = open_fds()
    release = threading.Event()

    def script(conn: ServerConn) -> None:
        while (request := conn.read_head()) is not None:
            if request.target == b"/slow":
                release.wait(10)
            conn.send(ok_response(BODY), pieces=[10, 30, 200, 50_000, 120_000], pause=0.002)

    with ScriptedServer(script) as server:
        transport = FastTransport()

        async def get(client: httpx.AsyncClient) -> None:
            response = await client.get(server.url())
            assert response.content == BODY

        async def slow() -> None:
            response = await transport.handle_async_request(
                httpx.Request("GET", server.url("/slow"))
            )
            assert await response.aread() == BODY

        async with anyio.create_task_group() as tg:
            tg.start_soon(slow)
            await anyio.sleep(0.1)
            waits = await cancel_everywhere(cancel_at, transport, get, in_flight=1)
            release.set()
        await transport.aclose()
    assert waits >= 4
    assert cancel_at.checkpoints > 0
    assert open_fds() <= before


async def test_cancelling_a_request_waiting_for_a_slot_gives_the_slot_back() -> None:
    release = threading.Event()

    def script(conn: ServerConn) -> None:
        while conn.read_request() is not None:
            release.wait(5)
            conn.send(ok_response())

    with ScriptedServer(script) as server:
        transport = FastTransport(limits=httpx.Limits(max_connections=1))
        async with transport, httpx.AsyncClient(transport=transport) as client:
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.get, server.url())
                await anyio.sleep(0.05)
                with anyio.move_on_after(0.1):
                    await client.get(server.url())
                assert transport.pool_stats().waiting == 0
                release.set()
            assert_consistent(transport)
            assert (await client.get(server.url())).status_code == 200


async def test_a_slot_handed_to_a_cancelled_waiter_passes_to_the_next() -> None:
    release = threading.Event()

    def script(conn: ServerConn) -> None:
        while conn.read_request() is not None:
            release.wait(5)
            conn.send(ok_response())

    with ScriptedServer(script) as server:
        transport = FastTransport(limits=httpx.Limits(max_connections=1))
        async with transport, httpx.AsyncClient(transport=transport) as client:
            results: list[int] = []

            async def get() -> None:
                results.append((await client.get(server.url())).status_code)

            async with anyio.create_task_group() as tg:
                tg.start_soon(get)
                await anyio.sleep(0.05)
                with anyio.CancelScope() as doomed:
                    tg.start_soon(get)  # waits for the slot
                    await anyio.sleep(0.05)
                    release.set()  # the first finishes and hands its slot over...
                    doomed.cancel()  # ...to a waiter cancelled in the same instant
                tg.start_soon(get)
            assert_consistent(transport)
    assert results.count(200) >= 2


async def test_a_response_body_abandoned_by_a_cancelled_reader_is_not_pooled() -> None:
    def script(conn: ServerConn) -> None:
        while conn.read_request() is not None:
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
            threading.Event().wait(1.0)
            conn.send(b"-of-it")

    with ScriptedServer(script) as server:
        async with FastTransport() as transport, httpx.AsyncClient(transport=transport) as client:
            with anyio.move_on_after(0.1):
                await client.get(server.url())
            assert_consistent(transport)
            assert transport.pool_stats().idle == 0
