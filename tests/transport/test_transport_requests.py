"""Writing requests: framing, streaming without buffering, validation, 100-continue and
early answers from the server."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest

from litestar_storages._http.transport import FastTransport

from ._transport_server import Received, ScriptedServer, ServerConn, ok_response
from .conftest import Chunks, TransportFactory

pytestmark = pytest.mark.anyio


def echo_server(received: list[Received]) -> ScriptedServer:
    def script(conn: ServerConn) -> None:
        try:
            while (request := conn.read_request()) is not None:
                received.append(request)
                conn.send(ok_response(b"%d" % len(request.body)))
        except EOFError:
            pass  # the client gave up mid-body (on purpose, in some tests)

    return ScriptedServer(script)


async def test_a_bytes_body_is_sent_with_its_content_length(
    any_transport: TransportFactory,
) -> None:
    received: list[Received] = []
    with echo_server(received) as server:
        async with httpx.AsyncClient(transport=any_transport()) as client:
            response = await client.put(server.url("/key?x=1"), content=b"payload")
    assert response.content == b"7"
    request = received[0]
    assert (request.method, request.target, request.body) == (b"PUT", b"/key?x=1", b"payload")
    assert request.header(b"content-length") == b"7"


async def test_a_streamed_body_without_length_is_sent_chunked(
    any_transport: TransportFactory,
) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"first,"
        yield b""
        yield b"second"

    received: list[Received] = []
    with echo_server(received) as server:
        async with httpx.AsyncClient(transport=any_transport()) as client:
            await client.put(server.url(), content=body())
    assert received[0].header(b"transfer-encoding") == b"chunked"
    assert received[0].body == b"first,second"


async def test_a_streamed_body_reaches_the_server_before_the_iterator_ends() -> None:
    first_arrived = threading.Event()

    def script(conn: ServerConn) -> None:
        received = conn.read_head()
        assert received is not None
        size = int(conn.read_line(), 16)
        conn.read_exact(size + 2)
        first_arrived.set()
        conn.read_body(received)  # the rest
        conn.send(ok_response())

    async def body() -> AsyncIterator[bytes]:
        yield b"x" * 1000
        assert await anyio.to_thread.run_sync(first_arrived.wait, 5)
        yield b"y" * 1000

    with ScriptedServer(script) as server:
        async with httpx.AsyncClient(transport=FastTransport()) as client:
            assert (await client.put(server.url(), content=body())).status_code == 200


async def test_a_streamed_body_with_a_declared_length_is_sent_as_is() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"12345"
        yield b"67890"

    received: list[Received] = []
    with echo_server(received) as server:
        async with httpx.AsyncClient(transport=FastTransport()) as client:
            await client.put(server.url(), content=body(), headers={"Content-Length": "10"})
    assert received[0].body == b"1234567890"
    assert received[0].header(b"transfer-encoding") is None


@pytest.mark.parametrize(("declared", "message"), [("4", "longer"), ("11", "shorter")])
async def test_a_streamed_body_must_match_its_declared_length(declared: str, message: str) -> None:
    with echo_server([]) as server:
        async with FastTransport() as transport, httpx.AsyncClient(transport=transport) as client:
            with pytest.raises(httpx.LocalProtocolError, match=message):
                await client.put(
                    server.url(),
                    content=Chunks(b"12345", b"67890"),
                    headers={"Content-Length": declared},
                )
            assert transport.pool_stats().active == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Injected": "a\r\nEvil: 1"},
        {"X-Injected": "a\nb"},
        {"X-Injected": "a\rb"},
        {"X-Injected": "a\x00b"},
        {"Bad Name": "x"},
        {"Bad:Name": "x"},
    ],
)
async def test_cr_lf_and_nul_in_headers_are_refused(headers: dict[str, str]) -> None:
    with echo_server([]) as server:
        async with httpx.AsyncClient(transport=FastTransport()) as client:
            with pytest.raises(httpx.LocalProtocolError):
                await client.get(server.url(), headers=headers)
        assert server.accepted == 0


async def test_a_method_that_is_not_a_token_is_refused() -> None:
    async with FastTransport() as transport:
        request = httpx.Request("GET / HTTP/1.1\r\nX", "http://127.0.0.1:9/")
        with pytest.raises(httpx.LocalProtocolError, match="method"):
            await transport.handle_async_request(request)


# -- Expect: 100-continue --------------------------------------------------------------------------


async def test_expect_100_continue_sends_the_body_after_the_go_ahead() -> None:
    # (httpcore sends the body at once: only the fast transport is tested here.)
    def script(conn: ServerConn) -> None:
        request = conn.read_head()
        assert request is not None
        assert request.header(b"expect") == b"100-continue"
        assert conn.buffer == b""  # nothing of the body yet
        conn.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        conn.read_body(request)
        conn.send(ok_response(request.body))

    with ScriptedServer(script) as server:
        async with httpx.AsyncClient(transport=FastTransport(continue_timeout=5)) as client:
            response = await client.put(
                server.url(), content=b"b" * 5000, headers={"Expect": "100-continue"}
            )
    assert response.content == b"b" * 5000


async def test_an_early_final_status_means_the_body_is_never_sent() -> None:
    leaked = []
    answered = threading.Event()

    def script(conn: ServerConn) -> None:
        conn.read_head()
        conn.send(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\ndenied")
        conn.sock.settimeout(0.3)
        try:
            leaked.append(conn.sock.recv(65536))
        except TimeoutError:
            leaked.append(b"")
        except OSError as exc:
            leaked.append(repr(exc).encode())
        answered.set()

    with ScriptedServer(script) as server:
        async with FastTransport(continue_timeout=5) as transport:
            async with httpx.AsyncClient(transport=transport) as client:
                response = await client.put(
                    server.url(), content=b"secret" * 1000, headers={"Expect": "100-continue"}
                )
            assert (response.status_code, response.content) == (403, b"denied")
            # The server may not have read the body: the connection cannot be trusted.
            assert transport.pool_stats().idle == 0
        assert await anyio.to_thread.run_sync(answered.wait, 5)
    assert leaked == [b""]


async def test_a_server_ignoring_expect_gets_the_body_after_the_continue_timeout() -> None:
    received: list[Received] = []
    with echo_server(received) as server:
        async with httpx.AsyncClient(transport=FastTransport(continue_timeout=0.1)) as client:
            response = await client.put(
                server.url(), content=b"late", headers={"Expect": "100-continue"}
            )
    assert (response.content, received[0].body) == (b"4", b"late")


async def test_large_bodies_get_expect_added_above_the_threshold() -> None:
    received: list[Received] = []

    def script(conn: ServerConn) -> None:
        while (request := conn.read_head()) is not None:
            received.append(request)
            if request.header(b"expect"):
                conn.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            conn.read_body(request)
            conn.send(ok_response())

    with ScriptedServer(script) as server:
        transport = FastTransport(expect_continue_threshold=1000)
        async with httpx.AsyncClient(transport=transport) as client:
            await client.put(server.url(), content=b"s" * 999)
            await client.put(server.url(), content=b"l" * 1000)
    assert [request.header(b"expect") for request in received] == [None, b"100-continue"]


# -- early answers while uploading ----------------------------------------------------------------


def _big_body() -> Chunks:
    return Chunks(*[b"u" * 65536] * 800)  # 50 MiB: far more than socket buffers hold


async def test_an_early_error_answer_is_surfaced_when_the_server_stops_reading() -> None:
    def script(conn: ServerConn) -> None:
        conn.read_head()
        conn.send(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\n\r\nbig")
        conn.sock.settimeout(5)
        threading.Event().wait(1.0)  # keep the connection open, read nothing

    with ScriptedServer(script) as server:
        async with FastTransport() as transport, httpx.AsyncClient(transport=transport) as client:
            with anyio.fail_after(10):
                response = await client.put(server.url(), content=_big_body())
            assert (response.status_code, response.content) == (413, b"big")
            assert transport.pool_stats().idle == 0


async def test_an_early_error_answer_is_surfaced_when_the_server_closes() -> None:
    def script(conn: ServerConn) -> None:
        conn.read_head()
        conn.send(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\n\r\nbig")
        conn.sock.close()  # with unread data: the kernel answers our next writes with RST

    with ScriptedServer(script) as server:
        async with httpx.AsyncClient(transport=FastTransport()) as client:
            with anyio.fail_after(10):
                response = await client.put(server.url(), content=_big_body())
    assert (response.status_code, response.content) == (413, b"big")
