"""``FastTransport.send_direct``: a request given as parts puts on the wire exactly what the same
request built as an ``httpx.Request`` would, and its response still knows its request."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import pytest

from litestar_storages._http._direct import (
    build_request,
    parse_origin,
    sent_unchanged,
    wire_headers,
)
from litestar_storages._http.pool import ClientHandle, PoolOptions
from litestar_storages._http.request import HttpRequest
from litestar_storages._http.send import Sender
from litestar_storages._http.transport import FastTransport
from litestar_storages.backends.s3 import S3Config, S3Storage
from litestar_storages.exceptions import (
    StorageFileNotFoundError,
    StorageIntegrityError,
    StorageServerError,
)
from litestar_storages.retry import RetryConfig

from ._transport_server import Received, ScriptedServer, ServerConn
from .conftest import Chunks

pytestmark = pytest.mark.anyio

SIGNED = {
    "user-agent": "litestar-storages/test",
    "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
    "x-amz-date": "20260102T030405Z",
    "authorization": "AWS4-HMAC-SHA256 Credential=AKID/20260102/us-east-1/s3/aws4_request, x",
}


# ---------------------------------------------------------------------- pure parts
@pytest.mark.parametrize(
    ("method", "headers", "content"),
    [
        ("GET", SIGNED, b""),
        ("HEAD", {}, b""),
        ("PUT", SIGNED, b"payload"),
        ("PUT", SIGNED, b""),
        ("POST", {"content-type": "application/xml"}, b""),
        ("PATCH", {}, b""),
        ("DELETE", SIGNED, b""),
        ("PUT", {**SIGNED, "content-length": "7"}, b"payload"),
        ("PUT", {**SIGNED, "host": "other.test"}, b"x"),
        ("PUT", {"content-length": "3"}, Chunks(b"abc")),
        ("PUT", {"transfer-encoding": "chunked"}, Chunks(b"abc")),
        ("POST", SIGNED, Chunks(b"abc")),
    ],
)
def test_wire_headers_are_those_of_httpx_request(
    method: str, headers: dict[str, str], content: bytes | Chunks
) -> None:
    origin = parse_origin("http://127.0.0.1:9000")
    assert origin is not None
    expected = httpx.Request(method, "http://127.0.0.1:9000/b/k", headers=headers, content=content)
    assert wire_headers(method, origin.netloc, headers, content) == expected.headers.raw


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:9000",
        "http://localhost",
        "http://store.test:80",
        "https://store.test:443",
        "https://store.test:8443",
        "HTTPS://Store.Test",
        "http://[::1]:9000",
        "https://bücher.example",
    ],
)
def test_an_origin_is_parsed_as_httpx_parses_it(origin: str) -> None:
    parsed = parse_origin(origin)
    assert parsed is not None
    url = httpx.URL(origin + "/k")
    default = 443 if url.scheme == "https" else 80
    assert parsed.key == (url.raw_scheme, url.raw_host, url.port or default)
    assert parsed.netloc == httpx.Request("GET", url).headers["host"].encode()


@pytest.mark.parametrize(
    "origin",
    ["http://store.test/", "http://store.test/base", "http://user@store.test", "ftp://store.test"],
)
def test_an_origin_with_more_than_scheme_host_and_port_is_not_taken_apart(origin: str) -> None:
    assert parse_origin(origin) is None


def _targets() -> list[str]:
    printable = [chr(c) for c in range(0x20, 0x7F)]
    samples = [f"/b/k{c}x" for c in printable] + [f"/b/k?q={c}x" for c in printable]
    samples += [f"/b/{c}" for c in ("é", "\t", "%", "%2", "%zz", "%2F")]
    samples += ["/b/./k", "/b/../k", "/b/.", "/b/..", "/b/.k", "/b/..k", "/b/k?x=/./", ""]
    return samples


@pytest.mark.parametrize("target", _targets())
def test_a_target_is_taken_as_is_only_when_httpx_would_send_it_as_is(target: str) -> None:
    origin = "http://store.test"
    if sent_unchanged(origin, target):
        assert httpx.URL(origin + target).raw_path == target.encode("ascii")


@pytest.mark.parametrize(
    "target",
    [
        "/bucket/a/b/c.txt",
        "/bucket/a%20b/%E2%82%AC",
        "/bucket?list-type=2&prefix=a%2Fb&max-keys=1000",
        "/bucket/k?partNumber=1&uploadId=abc-DEF_1.2~3",
        "/storage/v1/b/bucket/o/a%2Fb?alt=media",
        "/container/blob?comp=block&blockid=MDAwMDE%3D",
        "/bucket/.hidden/..config",
    ],
)
def test_the_targets_of_object_stores_are_taken_as_is(target: str) -> None:
    assert sent_unchanged("https://store.test", target)


def test_the_request_built_for_a_stream_keeps_the_stream_and_its_framing() -> None:
    body = Chunks(b"abc")
    request = build_request("PUT", "http://store.test/k", {}, body, {})
    assert request.headers["transfer-encoding"] == "chunked"
    assert isinstance(request.stream, httpx.AsyncByteStream)


# ---------------------------------------------------------------------- on the wire
def recording_server(received: list[Received], *, status: bytes = b"200 OK") -> ScriptedServer:
    def script(conn: ServerConn) -> None:
        while (request := conn.read_request()) is not None:
            received.append(request)
            conn.send(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\n\r\nok")

    return ScriptedServer(script)


CASES = [
    ("GET", "/b/k", SIGNED, b""),
    ("HEAD", "/b/k", {}, b""),
    ("PUT", "/b/k?partNumber=2&uploadId=u", SIGNED, b"payload"),
    ("POST", "/b/k?uploads=", {"content-type": "application/xml"}, b""),
    ("DELETE", "/b/a%20b/%E2%82%AC", SIGNED, b""),
    ("put", "/b/k", {"content-length": "3"}, (b"a", b"bc")),  # a tuple: streamed in chunks
    ("PUT", "/b/k", {}, (b"abc",)),
    # Targets httpx rewrites: these take the ordinary path, with the same result.
    ("GET", "/b/./k", {}, b""),
    ("GET", "/b/k#fragment", {}, b""),
    ("GET", "/b/k{x}", {}, b""),
]


@pytest.mark.parametrize(("method", "target", "headers", "content"), CASES)
async def test_send_direct_puts_the_bytes_httpx_request_would_on_the_wire(
    method: str, target: str, headers: dict[str, str], content: bytes | tuple[bytes, ...]
) -> None:
    def body() -> bytes | Chunks:
        return content if isinstance(content, bytes) else Chunks(*content)

    received: list[Received] = []
    with recording_server(received) as server:
        origin = server.url("").rstrip("/")
        async with FastTransport() as transport:
            direct = await transport.send_direct(method, origin, target, headers, body())
            await direct.aread()
            request = httpx.Request(method, origin + target, headers=headers, content=body())
            ordinary = await transport.handle_async_request(request)
            await ordinary.aread()
    assert direct.status_code == ordinary.status_code == 200
    direct_sent, ordinary_sent = received
    assert direct_sent.raw_head == ordinary_sent.raw_head
    assert direct_sent.body == ordinary_sent.body


async def test_a_direct_response_builds_its_request_when_asked() -> None:
    received: list[Received] = []
    with recording_server(received, status=b"404 Not Found") as server:
        origin = server.url("").rstrip("/")
        async with FastTransport() as transport:
            response = await transport.send_direct(
                "PUT", origin, "/b/k?x=1", SIGNED, b"abc", {"read": 3.0}
            )
            await response.aread()
    request = response.request
    assert (request.method, str(request.url)) == ("PUT", f"{origin}/b/k?x=1")
    assert request.headers.raw[0] == (b"Host", f"127.0.0.1:{server.port}".encode())
    assert request.headers["authorization"] == SIGNED["authorization"]
    assert request.content == b"abc"
    assert request.extensions["timeout"] == {"read": 3.0}
    with pytest.raises(httpx.HTTPStatusError) as info:
        response.raise_for_status()
    assert info.value.request is request


async def test_send_direct_to_a_transport_routing_through_httpx_uses_an_ordinary_request() -> None:
    received: list[Received] = []
    with recording_server(received) as server:
        origin = server.url("").rstrip("/")
        async with FastTransport(direct="httpx") as transport:
            response = await transport.send_direct("GET", origin, "/b/k", SIGNED, b"")
            await response.aread()
    assert type(response) is httpx.Response
    assert response.request.url == httpx.URL(origin + "/b/k")
    assert received[0].header(b"authorization") == SIGNED["authorization"].encode()


async def test_send_direct_checks_headers_like_the_ordinary_path() -> None:
    async with FastTransport() as transport:
        with pytest.raises(httpx.LocalProtocolError):
            await transport.send_direct(
                "GET", "http://127.0.0.1:9", "/k", {"x-evil": "a\r\nb: c"}, b""
            )
        with pytest.raises(httpx.LocalProtocolError):
            await transport.send_direct("GET", "http://127.0.0.1:9", "/k", {"bad name": "v"}, b"")


def test_a_non_ascii_header_value_fails_as_in_httpx() -> None:
    with pytest.raises(UnicodeEncodeError):
        httpx.Request("GET", "http://store.test/", headers={"x-amz-meta-a": "é"})
    with pytest.raises(UnicodeEncodeError):
        wire_headers("GET", b"store.test", {"x-amz-meta-a": "é"}, b"")


# ---------------------------------------------------------------------- from the send loop


class _RecordingFastTransport(FastTransport):
    def __init__(self) -> None:
        super().__init__()
        self.direct = 0
        self.ordinary = 0

    async def send_direct(self, *args: Any, **kwargs: Any) -> httpx.Response:
        self.direct += 1
        return await super().send_direct(*args, **kwargs)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.ordinary += 1
        return await super().handle_async_request(request)


async def test_the_library_pool_hands_fast_transport_the_parts_of_each_attempt() -> None:
    transport = _RecordingFastTransport()

    def answer(conn: ServerConn) -> None:
        while conn.read_request() is not None:
            conn.send(b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n")

    with ScriptedServer(answer) as server:
        sender = Sender(
            ClientHandle(PoolOptions(transport_factory=lambda _o: transport)),
            backend="test",
            retry=RetryConfig(max_attempts=2, base_delay=0, jitter=False),
        )
        try:
            with pytest.raises(StorageServerError):
                await sender.send(HttpRequest("GET", server.url("").rstrip("/"), "/b/k"))
        finally:
            await sender.handle.release()
    assert (transport.direct, transport.ordinary) == (2, 0)
    assert sum(len(conn.requests) for conn in server.conns) == 2


def object_server(answer: bytes, *, pieces: int | None = None) -> ScriptedServer:
    def script(conn: ServerConn) -> None:
        if conn.read_request() is not None:
            conn.send(answer, pieces=pieces)

    return ScriptedServer(script)


def s3_storage(server: ScriptedServer) -> S3Storage:
    return S3Storage(
        S3Config(
            bucket="bucket",
            endpoint_url=server.url("").rstrip("/"),
            addressing_style="path",
            region="us-east-1",
            provider="generic",
            access_key_id="AKID",
            secret_access_key="secret",
        ),
        retry_config=RetryConfig(max_attempts=1),
    )


@pytest.mark.parametrize("pieces", [None, 7])
async def test_get_bytes_over_the_transport_verifies_the_whole_body(pieces: int | None) -> None:
    body = bytes(range(256)) * 40
    digest = base64.b64encode(hashlib.sha256(body).digest())
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nx-amz-checksum-sha256: %s\r\n\r\n"
    with object_server(head % (len(body), digest) + body, pieces=pieces) as server:
        async with s3_storage(server) as storage:
            assert await storage.get_bytes("k") == body


async def test_get_bytes_over_the_transport_refuses_a_body_that_does_not_match() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nx-amz-checksum-sha256: AAAA\r\n\r\n"
    with object_server(head + b"data") as server:
        async with s3_storage(server) as storage:
            with pytest.raises(StorageIntegrityError, match="SHA-256"):
                await storage.get_bytes("k")


async def test_get_bytes_over_the_transport_refuses_a_short_body() -> None:
    with object_server(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcd") as server:
        async with s3_storage(server) as storage:
            with pytest.raises(StorageIntegrityError, match="4 of 10 bytes") as caught:
                await storage.get_bytes("k")
    assert caught.value.key == "k"


async def test_get_bytes_over_the_transport_names_a_missing_key() -> None:
    answer = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    with object_server(answer) as server:
        async with s3_storage(server) as storage:
            with pytest.raises(StorageFileNotFoundError) as caught:
                await storage.get_bytes("dir/k")
    assert caught.value.key == "dir/k"
