"""Proxies from the environment (read as httpx reads them), the factory, the cookie jar."""

from __future__ import annotations

import importlib.util

import httpx
import pytest

from litestar_storages._http._proxy_env import ProxyRules
from litestar_storages._http.pool import PoolOptions
from litestar_storages._http.transport import (
    FastTransport,
    NullCookieJar,
    create_transport,
    fast_transport_factory,
)

from ._transport_server import Received, ScriptedServer, ServerConn, ok_response
from .conftest import Certificates

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def httpx_proxy_for(url: str) -> str | None:
    """What a stock ``httpx.AsyncClient(trust_env=True)`` would use (through its internals)."""
    from httpx._utils import URLPattern, get_environment_proxies

    mounts = sorted((URLPattern(key), value) for key, value in get_environment_proxies().items())
    for pattern, value in mounts:
        if pattern.matches(httpx.URL(url)):
            return value
    return None


ENVIRONMENTS = [
    {},
    {"HTTP_PROXY": "http://proxy:3128"},
    {"HTTPS_PROXY": "proxy:8080", "NO_PROXY": "internal.example,10.0.0.1"},
    {"ALL_PROXY": "http://all:1", "HTTPS_PROXY": "http://secure:2", "NO_PROXY": ".example.com"},
    {"ALL_PROXY": "http://all:1", "NO_PROXY": "*"},
    {"HTTP_PROXY": "http://p:1", "NO_PROXY": "localhost,::1,https://only-https.test"},
    {"https_proxy": "http://lower:1", "no_proxy": "s3.amazonaws.com"},
]
URLS = [
    "http://example.com/",
    "https://www.example.com/x",
    "https://example.com/",
    "http://internal.example/",
    "https://sub.internal.example/",
    "http://10.0.0.1:9000/",
    "http://localhost:9000/",
    "http://[::1]:9000/",
    "https://only-https.test/",
    "http://only-https.test/",
    "https://bucket.s3.amazonaws.com/key",
    "https://s3.amazonaws.com/bucket/key",
]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_proxy_selection_matches_httpx(environ: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        environ.setenv(name, value)
    rules = ProxyRules()
    for url in URLS:
        assert rules.proxy_for(httpx.URL(url)) == httpx_proxy_for(url), url


@pytest.mark.anyio
async def test_a_proxied_origin_goes_through_httpx_to_the_proxy(
    environ: pytest.MonkeyPatch,
) -> None:
    seen: list[Received] = []

    def proxy(conn: ServerConn) -> None:
        while (request := conn.read_request()) is not None:
            seen.append(request)
            conn.send(ok_response(b"via proxy"))

    with ScriptedServer(proxy) as server:
        environ.setenv("HTTP_PROXY", server.url())
        async with FastTransport() as transport, httpx.AsyncClient(transport=transport) as client:
            response = await client.get("http://origin.invalid/path")
            assert transport.pool_stats().idle == 0  # our pool was not used
    assert response.content == b"via proxy"
    assert seen[0].target == b"http://origin.invalid/path"  # absolute form: a proxy request


@pytest.mark.anyio
async def test_no_proxy_origins_connect_directly(environ: pytest.MonkeyPatch) -> None:
    def origin(conn: ServerConn) -> None:
        while (request := conn.read_request()) is not None:
            conn.send(ok_response(request.target))

    with ScriptedServer(origin) as server:
        environ.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        environ.setenv("NO_PROXY", "127.0.0.1")
        async with FastTransport() as transport, httpx.AsyncClient(transport=transport) as client:
            response = await client.get(server.url("/direct"))
            assert transport.pool_stats().idle == 1
    assert response.content == b"/direct"


@pytest.mark.anyio
async def test_trust_env_false_ignores_proxy_variables(environ: pytest.MonkeyPatch) -> None:
    def origin(conn: ServerConn) -> None:
        while conn.read_request() is not None:
            conn.send(ok_response(b"direct"))

    with ScriptedServer(origin) as server:
        environ.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        async with httpx.AsyncClient(transport=FastTransport(trust_env=False)) as client:
            assert (await client.get(server.url())).content == b"direct"


def test_the_factory_builds_the_fast_transport() -> None:
    assert isinstance(create_transport(), FastTransport)


def test_the_factory_gives_http2_and_explicit_proxies_to_httpx() -> None:
    assert isinstance(create_transport(proxy="http://proxy:3128"), httpx.AsyncHTTPTransport)
    if importlib.util.find_spec("h2") is not None:
        assert isinstance(create_transport(http2=True), httpx.AsyncHTTPTransport)


def test_the_factory_reads_a_ca_bundle_path(certificates: Certificates) -> None:
    transport = create_transport(verify=str(certificates.ca))
    assert isinstance(transport, FastTransport)


def test_the_pool_factory_follows_pool_options(certificates: Certificates) -> None:
    assert isinstance(fast_transport_factory(PoolOptions()), FastTransport)
    assert isinstance(
        fast_transport_factory(PoolOptions(verify_ssl=str(certificates.ca))), FastTransport
    )
    proxied = fast_transport_factory(PoolOptions(proxy="http://proxy:3128"))
    assert isinstance(proxied, httpx.AsyncHTTPTransport)


@pytest.mark.anyio
async def test_stock_mode_sends_everything_through_httpx() -> None:
    def origin(conn: ServerConn) -> None:
        while conn.read_request() is not None:
            conn.send(ok_response(b"stock"))

    with ScriptedServer(origin) as server:
        transport = create_transport(stock=True)
        assert isinstance(transport, FastTransport)
        async with transport, httpx.AsyncClient(transport=transport) as client:
            assert (await client.get(server.url())).content == b"stock"
            assert transport.pool_stats().idle == 0


@pytest.mark.anyio
async def test_the_null_cookie_jar_keeps_and_sends_nothing() -> None:
    received: list[Received] = []

    def origin(conn: ServerConn) -> None:
        while (request := conn.read_request()) is not None:
            received.append(request)
            conn.send(ok_response(extra=b"Set-Cookie: session=1; Path=/\r\n"))

    with ScriptedServer(origin) as server:
        jar = NullCookieJar()
        async with httpx.AsyncClient(transport=FastTransport(), cookies=jar) as client:
            assert client.cookies.jar is jar
            await client.get(server.url())
            await client.get(server.url())
            assert len(client.cookies) == 0
    assert [request.header(b"cookie") for request in received] == [None, None]
