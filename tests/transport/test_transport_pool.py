"""The keep-alive pool: reuse, the stale-connection retry, limits, expiry, statistics, closing."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest

from litestar_storages._http.transport import FastTransport

from ._transport_server import ScriptedServer, ServerConn, ok_response
from .conftest import open_fds

pytestmark = pytest.mark.anyio


def keep_alive_server(body: bytes = b"ok", *, delay: float = 0.0) -> ScriptedServer:
    def script(conn: ServerConn) -> None:
        while conn.read_request() is not None:
            if delay:
                threading.Event().wait(delay)
            conn.send(ok_response(body))

    return ScriptedServer(script)


def drops_second_request() -> ScriptedServer:
    """The first connection answers once, then closes on the next request without answering:
    what a server closing an idle connection looks like when the close races our request."""

    def script(conn: ServerConn) -> None:
        conn.read_request()
        conn.send(ok_response(b"first"))
        if conn.index == 0:
            conn.read_head()
            conn.sock.close()
            return
        while conn.read_request() is not None:
            conn.send(ok_response(b"again"))

    return ScriptedServer(script)


async def test_sequential_requests_reuse_one_connection() -> None:
    with keep_alive_server() as server:
        async with FastTransport() as transport, httpx.AsyncClient(transport=transport) as client:
            for _ in range(5):
                await client.get(server.url())
            stats = transport.pool_stats()
    assert server.accepted == 1
    assert (stats.idle, stats.active, stats.requests, stats.waiting) == (1, 0, 0, 0)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD"])
async def test_an_idempotent_request_on_a_dropped_connection_is_retried_once(method: str) -> None:
    with drops_second_request() as server:
        async with httpx.AsyncClient(transport=FastTransport()) as client:
            await client.get(server.url())
            response = await client.request(method, server.url(), content=b"data")
    assert response.status_code == 200
    assert server.accepted == 2


async def test_a_post_on_a_dropped_connection_is_not_retried() -> None:
    with drops_second_request() as server:
        async with httpx.AsyncClient(transport=FastTransport()) as client:
            await client.get(server.url())
            # A clean EOF (RemoteProtocolError) or, if our body was still unread, a reset
            # (ReadError): either way the POST is not sent again.
            with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                await client.post(server.url(), content=b"not idempotent")
    assert server.accepted == 1


async def test_a_started_streamed_body_is_not_retried() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"once only"

    with drops_second_request() as server:
        async with httpx.AsyncClient(transport=FastTransport()) as client:
            await client.get(server.url())
            # The server closes with our body unread, so the kernel may answer with a reset
            # (ReadError) rather than a clean EOF (RemoteProtocolError): either way, no retry.
            with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                await client.put(server.url(), content=body())
    assert server.accepted == 1


async def test_a_fresh_connection_failing_is_not_retried() -> None:
    def script(conn: ServerConn) -> None:
        conn.read_head()
        conn.sock.close()

    with ScriptedServer(script) as server:
        async with httpx.AsyncClient(transport=FastTransport()) as client:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get(server.url())
    assert server.accepted == 1


async def test_max_connections_bounds_requests_in_flight() -> None:
    peak = 0
    with keep_alive_server(delay=0.1) as server:
        transport = FastTransport(limits=httpx.Limits(max_connections=2))
        async with transport, httpx.AsyncClient(transport=transport) as client:

            async def one() -> None:
                nonlocal peak
                await client.get(server.url())

            async def watch() -> None:
                nonlocal peak
                for _ in range(50):
                    stats = transport.pool_stats()
                    peak = max(peak, stats.waiting)
                    assert stats.requests <= 2
                    await anyio.sleep(0.01)

            async with anyio.create_task_group() as tg:
                tg.start_soon(watch)
                for _ in range(5):
                    tg.start_soon(one)
            stats = transport.pool_stats()
    assert server.accepted == 2
    assert peak >= 1
    assert (stats.requests, stats.waiting, stats.active) == (0, 0, 0)


async def test_the_pool_timeout_applies_to_waiting_for_a_slot() -> None:
    with keep_alive_server(delay=0.5) as server:
        transport = FastTransport(limits=httpx.Limits(max_connections=1))
        async with transport, httpx.AsyncClient(transport=transport) as client:
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.get, server.url())
                await anyio.sleep(0.1)
                with pytest.raises(httpx.PoolTimeout):
                    await client.get(server.url(), timeout=httpx.Timeout(5, pool=0.1))
            stats = transport.pool_stats()
    assert (stats.requests, stats.waiting) == (0, 0)


async def test_idle_connections_expire_by_the_injected_clock() -> None:
    now = [0.0]
    with keep_alive_server() as server:
        transport = FastTransport(limits=httpx.Limits(keepalive_expiry=10), clock=lambda: now[0])
        async with transport, httpx.AsyncClient(transport=transport) as client:
            await client.get(server.url())
            now[0] = 9.0
            await client.get(server.url())
            assert server.accepted == 1
            now[0] = 20.0
            await client.get(server.url())
            assert server.accepted == 2
            assert transport.pool_stats().idle == 1


async def test_idle_connections_are_capped() -> None:
    with keep_alive_server(delay=0.3) as server:
        transport = FastTransport(
            limits=httpx.Limits(max_connections=10, max_keepalive_connections=2)
        )
        async with transport, httpx.AsyncClient(transport=transport) as client:
            async with anyio.create_task_group() as tg:
                for _ in range(5):
                    tg.start_soon(client.get, server.url())
            stats = transport.pool_stats()
    assert server.accepted == 5
    assert (stats.idle, stats.active) == (2, 0)


async def test_an_idle_connection_to_another_origin_makes_room_for_a_new_one() -> None:
    with keep_alive_server(b"a") as first, keep_alive_server(b"b") as second:
        transport = FastTransport(limits=httpx.Limits(max_connections=1))
        async with transport, httpx.AsyncClient(transport=transport) as client:
            await client.get(first.url())
            await client.get(second.url())
            assert transport.pool_stats().idle == 1
            await client.get(first.url())
    assert first.accepted == 2


async def test_aclose_releases_every_descriptor() -> None:
    before = open_fds()
    with keep_alive_server() as server:
        transport = FastTransport()
        async with httpx.AsyncClient(transport=transport) as client:
            async with anyio.create_task_group() as tg:
                for _ in range(4):
                    tg.start_soon(client.get, server.url())
            assert transport.pool_stats().idle == 4
        await transport.aclose()
        assert transport.pool_stats().idle == 0
    assert open_fds() <= before


async def test_aclose_interrupts_a_response_still_streaming() -> None:
    def script(conn: ServerConn) -> None:
        conn.read_request()
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npart")
        conn.wait_closed()

    with ScriptedServer(script) as server:
        transport = FastTransport()
        response = await transport.handle_async_request(httpx.Request("GET", server.url()))
        assert isinstance(response.stream, httpx.AsyncByteStream)
        chunks = aiter(response.stream)
        assert await anext(chunks) == b"part"
        async with anyio.create_task_group() as tg:

            async def close_soon() -> None:
                await anyio.sleep(0.1)
                await transport.aclose()

            tg.start_soon(close_soon)
            with pytest.raises(httpx.ReadError), anyio.fail_after(5):
                await anext(chunks)
        stats = transport.pool_stats()
        assert (stats.idle, stats.active, stats.requests) == (0, 0, 0)


async def test_a_closed_transport_refuses_requests() -> None:
    transport = FastTransport()
    await transport.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await transport.handle_async_request(httpx.Request("GET", "http://127.0.0.1:9/"))


async def test_unsupported_schemes_are_refused() -> None:
    async with FastTransport() as transport:
        with pytest.raises(httpx.UnsupportedProtocol):
            await transport.handle_async_request(httpx.Request("GET", "ftp://example.com/"))


async def test_aclose_fails_requests_still_waiting_for_a_slot() -> None:
    with keep_alive_server(delay=1.0) as server:
        transport = FastTransport(limits=httpx.Limits(max_connections=1))
        outcomes: list[type[BaseException]] = []

        async def get() -> None:
            try:
                await transport.handle_async_request(httpx.Request("GET", server.url()))
            except (httpx.HTTPError, RuntimeError) as exc:
                outcomes.append(type(exc))

        async with anyio.create_task_group() as tg:
            tg.start_soon(get)
            await anyio.sleep(0.2)
            tg.start_soon(get)
            await anyio.sleep(0.2)
            assert transport.pool_stats().waiting == 1
            await transport.aclose()
        stats = transport.pool_stats()
    assert sorted(outcome.__name__ for outcome in outcomes) == ["ReadError", "RuntimeError"]
    assert (stats.active, stats.requests, stats.waiting) == (0, 0, 0)
