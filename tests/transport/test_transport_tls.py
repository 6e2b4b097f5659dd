"""TLS through ssl.SSLObject: verification on by default, SNI and hostnames, verify=False,
large transfers intact, close_notify and truncation."""

from __future__ import annotations

import hashlib
import ssl

import anyio
import httpx
import pytest

from litestar_storages._http.transport import FastTransport

from ._transport_server import ScriptedServer, ServerConn, ok_response
from .conftest import Certificates, TransportFactory

pytestmark = pytest.mark.anyio


def tls_server(
    certificates: Certificates, response: bytes, *, which: str = "localhost"
) -> ScriptedServer:
    def script(conn: ServerConn) -> None:
        while conn.read_request() is not None:
            conn.send(response)

    return ScriptedServer(script, tls=certificates.server_context(which))


async def test_a_certificate_from_a_trusted_ca_is_accepted(
    certificates: Certificates, any_transport: TransportFactory
) -> None:
    with tls_server(certificates, ok_response(b"secure")) as server:
        transport = any_transport(verify=certificates.client_context())
        async with httpx.AsyncClient(transport=transport) as client:
            for _ in range(3):
                response = await client.get(server.url(hostname="localhost"))
                assert response.content == b"secure"
    assert server.accepted == 1


async def test_verification_is_on_by_default(certificates: Certificates) -> None:
    # The default trust store (certifi or SSL_CERT_FILE) does not know the test CA.
    with tls_server(certificates, ok_response()) as server:
        async with httpx.AsyncClient(transport=FastTransport()) as client:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.get(server.url(hostname="localhost"))


async def test_a_certificate_for_another_name_is_refused(
    certificates: Certificates, any_transport: TransportFactory
) -> None:
    # The certificate names DNS:localhost only; connecting by IP must fail verification.
    with tls_server(certificates, ok_response()) as server:
        transport = any_transport(verify=certificates.client_context())
        async with httpx.AsyncClient(transport=transport) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(server.url(hostname="127.0.0.1"))


async def test_an_expired_certificate_is_refused(certificates: Certificates) -> None:
    with tls_server(certificates, ok_response(), which="expired") as server:
        transport = FastTransport(verify=certificates.client_context())
        async with httpx.AsyncClient(transport=transport) as client:
            with pytest.raises(httpx.ConnectError, match="expired"):
                await client.get(server.url(hostname="localhost"))


async def test_verify_false_accepts_any_certificate(certificates: Certificates) -> None:
    with tls_server(certificates, ok_response(b"unverified"), which="expired") as server:
        async with httpx.AsyncClient(transport=FastTransport(verify=False)) as client:
            response = await client.get(server.url(hostname="127.0.0.1"))
    assert response.content == b"unverified"


async def test_sni_carries_the_hostname(certificates: Certificates) -> None:
    seen: list[str | None] = []
    context = certificates.server_context()

    def remember(
        _sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, _ctx: ssl.SSLContext
    ) -> None:
        seen.append(name)

    context.sni_callback = remember

    def script(conn: ServerConn) -> None:
        conn.read_request()
        conn.send(ok_response())

    with ScriptedServer(script, tls=context) as server:
        transport = FastTransport(verify=certificates.client_context())
        async with httpx.AsyncClient(transport=transport) as client:
            await client.get(server.url(hostname="localhost"))
    assert seen == ["localhost"]


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
async def test_a_large_body_over_tls_arrives_intact(
    certificates: Certificates, version: ssl.TLSVersion
) -> None:
    body = hashlib.sha256(b"tls").digest() * (16 * 1024 * 1024 // 32)
    context = certificates.server_context()
    context.minimum_version = context.maximum_version = version
    uploaded = []

    def script(conn: ServerConn) -> None:
        while (request := conn.read_request()) is not None:
            uploaded.append(hashlib.sha256(request.body).digest())
            conn.send(ok_response(body))

    with ScriptedServer(script, tls=context) as server:
        transport = FastTransport(verify=certificates.client_context(), timeout=30)
        async with httpx.AsyncClient(transport=transport, timeout=30) as client:
            response = await client.put(server.url(hostname="localhost"), content=body[::-1])
    assert hashlib.sha256(response.content).digest() == hashlib.sha256(body).digest()
    assert uploaded == [hashlib.sha256(body[::-1]).digest()]


async def test_a_close_delimited_body_ended_with_close_notify_is_complete(
    certificates: Certificates,
) -> None:
    def script(conn: ServerConn) -> None:
        conn.read_request()
        conn.send(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close")
        assert isinstance(conn.sock, ssl.SSLSocket)
        conn.sock = conn.sock.unwrap()  # sends close_notify

    with ScriptedServer(script, tls=certificates.server_context()) as server:
        transport = FastTransport(verify=certificates.client_context())
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.get(server.url(hostname="localhost"))
    assert response.content == b"until close"


async def test_a_close_delimited_body_cut_without_close_notify_is_an_error(
    certificates: Certificates,
) -> None:
    def script(conn: ServerConn) -> None:
        conn.read_request()
        conn.send(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nmaybe truncated")
        # Close the TCP connection under the TLS session: a ragged EOF.
        raw = conn.sock.detach()
        import socket

        socket.socket(fileno=raw).close()

    with ScriptedServer(script, tls=certificates.server_context()) as server:
        transport = FastTransport(verify=certificates.client_context())
        async with httpx.AsyncClient(transport=transport) as client:
            with pytest.raises(httpx.RemoteProtocolError, match="close_notify"):
                await client.get(server.url(hostname="localhost"))


async def test_a_stalled_handshake_hits_the_connect_timeout() -> None:
    def script(conn: ServerConn) -> None:
        conn.wait_closed()  # accept, then never answer the ClientHello

    with ScriptedServer(script) as server:
        async with httpx.AsyncClient(
            transport=FastTransport(), timeout=httpx.Timeout(5, connect=0.2)
        ) as client:
            with anyio.fail_after(5), pytest.raises(httpx.ConnectTimeout):
                await client.get(f"https://127.0.0.1:{server.port}/")


async def test_a_tls_connection_closed_while_idle_is_replaced_without_error(
    certificates: Certificates,
) -> None:
    def script(conn: ServerConn) -> None:
        conn.read_request()
        conn.send(ok_response(b"once"))
        conn.sock.close()  # no close_notify: the client notices an EOF on checkout

    with ScriptedServer(script, tls=certificates.server_context()) as server:
        transport = FastTransport(verify=certificates.client_context())
        async with httpx.AsyncClient(transport=transport) as client:
            for _ in range(3):
                assert (await client.get(server.url(hostname="localhost"))).content == b"once"
                await anyio.sleep(0.05)
    assert server.accepted == 3
