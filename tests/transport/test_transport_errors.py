"""Connecting and timing out: httpx's own exception types, so the shared error mapping holds."""

from __future__ import annotations

import socket
import time
from typing import Any

import anyio
import httpx
import pytest

from litestar_storages._http.transport import FastTransport

from ._transport_server import ScriptedServer, ServerConn, ok_response
from .conftest import TransportFactory

pytestmark = pytest.mark.anyio


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_refused_connection_is_a_connect_error(any_transport: TransportFactory) -> None:
    async with httpx.AsyncClient(transport=any_transport()) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{closed_port()}/")


async def test_an_unresolvable_host_is_a_connect_error(any_transport: TransportFactory) -> None:
    async with httpx.AsyncClient(transport=any_transport()) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("http://does-not-exist.invalid/")


async def test_a_server_that_stops_reading_hits_the_write_timeout() -> None:
    # (Fast transport only: on trio, httpcore leaves the request body's generator to the
    # garbage collector when a write fails, which pytest reports.)
    def stalled(conn: ServerConn) -> None:
        conn.read_head()
        time.sleep(1)  # reads nothing more: the socket buffers fill up

    with ScriptedServer(stalled) as server:
        client = httpx.AsyncClient(transport=FastTransport(), timeout=httpx.Timeout(5, write=0.2))
        async with client:
            with pytest.raises(httpx.WriteTimeout), anyio.fail_after(10):
                await client.put(server.url(), content=b"w" * (64 * 1024 * 1024))


async def test_localhost_connects_whichever_address_family_listens() -> None:
    # "localhost" may resolve to ::1 first; the server listens on 127.0.0.1 only.
    def script(conn: ServerConn) -> None:
        conn.read_request()
        conn.send(ok_response(b"found"))

    with ScriptedServer(script) as server:
        async with httpx.AsyncClient(transport=FastTransport()) as client:
            response = await client.get(server.url(hostname="localhost"))
    assert response.content == b"found"


async def test_happy_eyeballs_moves_on_from_an_address_that_does_not_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def script(conn: ServerConn) -> None:
        conn.read_request()
        conn.send(ok_response(b"second address"))

    with ScriptedServer(script) as server:
        dead = closed_port()

        async def resolve(host: str, port: int, **_: Any) -> list[Any]:
            tcp = socket.SOCK_STREAM
            return [
                (socket.AF_INET, tcp, 6, "", ("127.0.0.1", dead)),
                (socket.AF_INET, tcp, 6, "", ("127.0.0.1", server.port)),
            ]

        monkeypatch.setattr(anyio, "getaddrinfo", resolve)
        async with httpx.AsyncClient(transport=FastTransport()) as client:
            response = await client.get(f"http://example.test:{server.port}/")
    assert response.content == b"second address"
