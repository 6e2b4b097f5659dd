"""Reading responses off the wire: framing, interim responses, keep-alive and broken servers."""

from __future__ import annotations

import hashlib
import time

import anyio
import httpx
import pytest

from litestar_storages._http.transport import FastTransport

from ._transport_server import ScriptedServer, ServerConn, ok_response
from .conftest import TransportFactory

pytestmark = pytest.mark.anyio

CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\n"
    b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n"
)


def serve(response: bytes, **send: object) -> ScriptedServer:
    """A server answering every request on every connection with ``response``."""

    def script(conn: ServerConn) -> None:
        while conn.read_request() is not None:
            conn.send(response, **send)  # type: ignore[arg-type]

    return ScriptedServer(script)


async def test_a_get_through_async_client_returns_status_headers_and_body(
    any_transport: TransportFactory,
) -> None:
    with serve(CHUNKED) as server:
        async with httpx.AsyncClient(transport=any_transport()) as client:
            response = await client.get(server.url())
    assert response.status_code == 200
    assert response.content == b"hello, world"
    assert response.headers.get_list("x-dup") == ["1", "2"]
    assert response.http_version == "HTTP/1.1"
    assert response.reason_phrase == "OK"


async def test_a_chunked_response_split_at_every_byte_boundary_reads_the_same() -> None:
    splits = list(range(1, len(CHUNKED)))
    position = iter(splits)

    def script(conn: ServerConn) -> None:
        while conn.read_request() is not None:
            conn.send(CHUNKED, pieces=[next(position)], pause=0.002)

    with ScriptedServer(script) as server:
        async with FastTransport() as transport, httpx.AsyncClient(transport=transport) as client:
            for _ in splits:
                response = await client.get(server.url())
                assert response.content == b"hello, world"
    # Every response ended cleanly, so one connection carried them all.
    assert server.accepted == 1


async def test_a_response_dribbled_one_byte_at_a_time() -> None:
    response_bytes = ok_response(b"x" * 50, extra=b"A: b\r\n")
    with serve(response_bytes, pieces=len(response_bytes), pause=0.001) as server:
        async with httpx.AsyncClient(transport=FastTransport()) as client:
            response = await client.get(server.url())
    assert response.content == b"x" * 50


async def test_interim_responses_before_the_final_one_are_skipped(
    any_transport: TransportFactory,
) -> None:
    interim = b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
    with serve(interim + ok_response(b"done")) as server:
        async with httpx.AsyncClient(transport=any_transport()) as client:
            response = await client.get(server.url())
    assert (response.status_code, response.content) == (200, b"done")


async def test_a_protocol_switch_is_refused() -> None:
    with serve(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n") as server:
        async with httpx.AsyncClient(transport=FastTransport()) as client:
            with pytest.raises(httpx.RemoteProtocolError, match="101"):
                await client.get(server.url())


async def test_connection_close_in_the_response_is_honoured() -> None:
    with serve(ok_response(extra=b"Connection: close\r\n")) as server:
        async with FastTransport() as transport, httpx.AsyncClient(transport=transport) as client:
            await client.get(server.url())
            assert transport.pool_stats().idle == 0
            await client.get(server.url())
    assert server.accepted == 2


async def test_connection_close_in_the_request_is_honoured() -> None:
    with serve(ok_response()) as server:
        async with FastTransport() as transport, httpx.AsyncClient(transport=transport) as client:
            await client.get(server.url(), headers={"Connection": "close"})
            assert transport.pool_stats().idle == 0


async def test_an_http_1_0_response_is_read_until_close(any_transport: TransportFactory) -> None:
    def script(conn: ServerConn) -> None:
        conn.read_request()
        conn.send(b"HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of ", pause=0.01, pieces=[3])
        conn.send(b"it")
        conn.sock.close()

    with ScriptedServer(script) as server:
        async with httpx.AsyncClient(transport=any_transport()) as client:
            response = await client.get(server.url())
            assert response.http_version == "HTTP/1.0"
            assert response.content == b"all of it"
            await client.get(server.url())
    assert server.accepted == 2


@pytest.mark.parametrize(("method", "status"), [("HEAD", 200), ("GET", 204), ("GET", 304)])
async def test_responses_without_a_body_keep_the_connection(method: str, status: int) -> None:
    # Content-Length announces the size of what a GET would return, not bytes that follow.
    with serve(b"HTTP/1.1 %d X\r\nContent-Length: 1234\r\n\r\n" % status) as server:
        async with FastTransport() as transport, httpx.AsyncClient(transport=transport) as client:
            for _ in range(3):
                response = await client.request(method, server.url())
                assert (response.status_code, response.content) == (status, b"")
    assert server.accepted == 1


@pytest.mark.parametrize(
    "partial",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        b"HTTP/1.1 200 OK\r\nContent-Le",
    ],
)
async def test_a_server_closing_mid_response_raises_and_never_returns_short_data(
    partial: bytes, any_transport: TransportFactory
) -> None:
    def script(conn: ServerConn) -> None:
        conn.read_request()
        conn.send(partial)
        conn.sock.close()

    with ScriptedServer(script) as server:
        async with httpx.AsyncClient(transport=any_transport()) as client:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get(server.url())


async def test_a_reset_mid_body_raises_a_read_error(any_transport: TransportFactory) -> None:
    def script(conn: ServerConn) -> None:
        conn.read_request()
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
        time.sleep(0.05)
        conn.reset()

    with ScriptedServer(script) as server:
        async with httpx.AsyncClient(transport=any_transport()) as client:
            with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
                await client.get(server.url())


async def test_a_streamed_body_cut_short_raises_after_the_bytes_that_came() -> None:
    def script(conn: ServerConn) -> None:
        conn.read_request()
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        time.sleep(0.05)
        conn.sock.close()

    with ScriptedServer(script) as server:
        async with FastTransport() as transport, httpx.AsyncClient(transport=transport) as client:
            received = []

            async def read_all() -> None:
                async with client.stream("GET", server.url()) as response:
                    async for chunk in response.aiter_raw():
                        received.append(chunk)

            with pytest.raises(httpx.RemoteProtocolError, match="received 3 bytes, expected 10"):
                await read_all()
            assert received == [b"abc"]
            assert transport.pool_stats().active == 0


async def test_bytes_after_a_complete_body_make_the_connection_unusable() -> None:
    with serve(ok_response(b"body") + b"garbage") as server:
        async with FastTransport() as transport, httpx.AsyncClient(transport=transport) as client:
            assert (await client.get(server.url())).content == b"body"
            assert transport.pool_stats().idle == 0
            assert (await client.get(server.url())).content == b"body"
    assert server.accepted == 2


async def test_an_oversized_head_is_rejected() -> None:
    with serve(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n") as server:
        async with httpx.AsyncClient(transport=FastTransport()) as client:
            with pytest.raises(httpx.RemoteProtocolError, match="larger than"):
                await client.get(server.url())


async def test_slow_headers_hit_the_read_timeout(any_transport: TransportFactory) -> None:
    def script(conn: ServerConn) -> None:
        conn.read_request()
        conn.send(b"HTTP/1.1 200 OK\r\n")
        conn.wait_closed()

    with ScriptedServer(script) as server:
        async with httpx.AsyncClient(transport=any_transport(), timeout=0.2) as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.get(server.url())


async def test_the_read_timeout_bounds_each_wait_not_the_whole_body() -> None:
    # 4 pieces 0.4 s apart: 1.2 s in total, but never 1 s without progress.
    body = b"y" * 60

    def script(conn: ServerConn) -> None:
        conn.read_request()
        conn.send(ok_response(body), pieces=4, pause=0.4)

    with ScriptedServer(script) as server:
        async with httpx.AsyncClient(transport=FastTransport(), timeout=1.0) as client:
            assert (await client.get(server.url())).content == body


async def test_a_body_closed_before_its_end_closes_the_connection() -> None:
    with serve(ok_response(b"z" * 1_000_000)) as server:
        async with FastTransport() as transport, httpx.AsyncClient(transport=transport) as client:
            response = await transport.handle_async_request(httpx.Request("GET", server.url()))
            assert isinstance(response.stream, httpx.AsyncByteStream)
            await anext(aiter(response.stream))
            await response.aclose()
            stats = transport.pool_stats()
            assert (stats.idle, stats.active, stats.requests) == (0, 0, 0)
            assert (await client.get(server.url())).content == b"z" * 1_000_000
    assert server.accepted == 2


async def test_large_bodies_are_read_in_large_pieces_and_intact() -> None:
    body = hashlib.sha256(b"seed").digest() * (8 * 1024 * 1024 // 32)

    def script(conn: ServerConn) -> None:
        conn.read_request()
        conn.send(ok_response(body))

    with ScriptedServer(script) as server:
        async with FastTransport() as transport:
            response = await transport.handle_async_request(httpx.Request("GET", server.url()))
            assert isinstance(response.stream, httpx.AsyncByteStream)
            sizes = []
            digest = hashlib.sha256()
            async for chunk in response.stream:
                sizes.append(len(chunk))
                digest.update(chunk)
    assert digest.digest() == hashlib.sha256(body).digest()
    assert sum(sizes) == len(body)
    assert max(sizes) > 64 * 1024


async def test_a_server_that_closes_after_each_response_costs_no_error() -> None:
    # The server closes kept-alive connections right after answering (without saying so);
    # the probe on checkout notices and a new connection is used.
    def script(conn: ServerConn) -> None:
        conn.read_request()
        conn.send(ok_response(b"once"))
        conn.sock.close()

    with ScriptedServer(script) as server:
        async with httpx.AsyncClient(transport=FastTransport()) as client:
            for _ in range(3):
                assert (await client.get(server.url())).content == b"once"
                await anyio.sleep(0.05)  # let the FIN arrive
    assert server.accepted == 3
