"""``FastTransport``: an HTTP/1.1 ``httpx.AsyncBaseTransport`` on anyio, and its factory.

httpx stays the HTTP layer (``AsyncClient``, ``Request``, ``Response``, ``Auth`` flows, error
types); this replaces only the transport beneath it, whose pool and parser cost 5-15x
aiohttp's CPU per request (../shared/HTTP-TRANSPORT.md). It runs on asyncio and trio.

Plugging it in::

    transport = create_transport(verify=True, limits=limits, timeout=timeout)
    client = httpx.AsyncClient(transport=transport, cookies=NullCookieJar(), ...)
    # the library's own hot path skips the client layer, and the httpx.Request too:
    response = await transport.send_direct("GET", origin, target, headers, b"", timeouts)

Behaviour that differs from ``httpx.AsyncHTTPTransport``, on purpose or not yet:

* HTTP/1.1 only. ``create_transport(http2=True)`` returns the stock transport instead.
* Proxies: when ``trust_env`` and ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` apply to an
  origin (``NO_PROXY`` respected, read as httpx reads it), that origin's requests go through a
  stock ``httpx.AsyncHTTPTransport`` configured with the proxy. (An ``AsyncClient`` given an
  explicit transport ignores the environment itself, so this is where proxies are honoured.)
* Limits: ``max_connections`` bounds requests in flight (each holds one connection until its
  body is finished), ``max_keepalive_connections`` bounds idle connections in total, and
  ``keepalive_expiry`` is checked when a connection is taken from the pool (no reaper task).
* Timeouts: as httpx, each bounds one wait for progress; ``connect`` covers DNS, TCP and TLS.
  Requests that carry no ``timeout`` extension (built by hand rather than by a client) get
  the transport's own.
* A reused connection the server closed while idle is caught by a one-syscall probe before
  use; if the server closes it anyway before answering, the request is sent once more on a new
  connection when that is safe: an idempotent method (or nothing was written), and a body held
  in memory or not started.
* ``Expect: 100-continue`` in a request is honoured (the body waits up to ``continue_timeout``
  for the go-ahead and is not sent after an early final status); with
  ``expect_continue_threshold`` set, PUT/POST bodies at least that large get the header added
  on the wire.
* Not supported: ``sni_hostname``/``trace`` request extensions, the ``network_stream`` response
  extension, client certificates other than through an ``ssl.SSLContext`` passed as ``verify``,
  Unix sockets, ``local_address``, retries of failed connects (``retries=``).
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import AsyncIterable, Callable, Mapping
from http.cookiejar import Cookie, CookieJar
from typing import TYPE_CHECKING, Any, Literal

import httpx

from litestar_storages._http._body import RequestSource
from litestar_storages._http._connection import open_connection
from litestar_storages._http._direct import (
    Origin,
    build_request,
    parse_origin,
    sent_unchanged,
    wire_headers,
)
from litestar_storages._http._exchange import (
    Progress,
    RequestHead,
    Timeouts,
    build_request_head,
    exchange,
    head_from_parts,
    request_body,
)
from litestar_storages._http._pool_h1 import ConnectionPool, PoolStats
from litestar_storages._http._proxy_env import ProxyRules

if TYPE_CHECKING:
    from litestar_storages._http.pool import PoolOptions

__all__ = [
    "FastTransport",
    "NullCookieJar",
    "PoolStats",
    "create_transport",
    "fast_transport_factory",
]

DEFAULT_LIMITS = httpx.Limits(
    max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0
)
DEFAULT_TIMEOUT = httpx.Timeout(5.0)
# Methods a server must treat as idempotent (RFC 9110 §9.2.2): safe to send again after a
# connection failed before any response byte.
_IDEMPOTENT = frozenset({b"GET", b"HEAD", b"PUT", b"DELETE", b"OPTIONS", b"TRACE"})
_RETRYABLE = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)

Key = tuple[bytes, bytes, int]
_MAX_ORIGINS = 256


class NullCookieJar(CookieJar):
    """A cookie jar that stores nothing: pass it as ``AsyncClient(cookies=NullCookieJar())``.

    Object stores set no cookies, yet httpx's client extracts them from every response through
    ``http.cookiejar`` (35% of its own per-request cost). ``httpx.Cookies`` keeps a ``CookieJar``
    instance it is given, so this one turns both directions into no-ops.
    """

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def add_cookie_header(self, request: Any) -> None:
        return None

    def set_cookie(self, cookie: Cookie) -> None:
        return None


class FastTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with a keep-alive pool per origin, on anyio (asyncio and trio).

    Args:
        verify: ``True`` (the trust store httpx uses: ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when
            ``trust_env``, else certifi), ``False`` (no verification), or an ``SSLContext``.
        limits: Connection limits; see the module docstring for their exact meaning.
        timeout: Timeouts for requests that carry no ``timeout`` extension.
        trust_env: Read proxies (and ``SSL_CERT_FILE``/``SSL_CERT_DIR``) from the environment.
        expect_continue_threshold: Add ``Expect: 100-continue`` to PUT/POST requests whose
            ``Content-Length`` is at least this many bytes (``None``: only when the request
            carries the header itself).
        continue_timeout: How long to wait for ``100 Continue`` before sending the body anyway.
        direct: ``"fast"`` to use this transport for origins without a proxy, ``"httpx"`` to
            send everything through a stock ``httpx.AsyncHTTPTransport`` (kept selectable so
            the two can be compared, and as an escape hatch).
        clock: Monotonic clock for keep-alive expiry.
    """

    def __init__(
        self,
        *,
        verify: bool | ssl.SSLContext = True,
        limits: httpx.Limits = DEFAULT_LIMITS,
        timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
        trust_env: bool = True,
        expect_continue_threshold: int | None = None,
        continue_timeout: float = 1.0,
        direct: Literal["fast", "httpx"] = "fast",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._verify = verify
        self._limits = limits
        self._trust_env = trust_env
        self._timeouts: Timeouts = httpx.Timeout(timeout).as_dict()
        self._expect_threshold = expect_continue_threshold
        self._continue_timeout = continue_timeout
        self._ssl_context = verify if isinstance(verify, ssl.SSLContext) else None
        self._pool = ConnectionPool(
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            clock=clock,
        )
        rules = ProxyRules() if trust_env else None
        self._proxy_rules = rules if rules is not None and rules.active else None
        self._routes: dict[Key, httpx.AsyncBaseTransport | None] = {}
        self._origins: dict[str, Origin | None] = {}  # send_direct's origins, parsed once
        self._stock: dict[str | None, httpx.AsyncHTTPTransport] = {}
        self._all_stock = direct == "httpx"
        self._closed = False

    def __repr__(self) -> str:
        stats = self._pool.stats()
        return f"<FastTransport idle={stats.idle} active={stats.active}>"

    # -- public ---------------------------------------------------------------------------------

    def pool_stats(self) -> PoolStats:
        """Idle and active connection counts, requests in flight and waiting."""
        return self._pool.stats()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request; the response body streams, and must be read or closed.

        Raises:
            httpx.UnsupportedProtocol: a scheme other than http or https.
            httpx.PoolTimeout, httpx.ConnectTimeout, httpx.ConnectError, httpx.ReadTimeout,
                httpx.WriteTimeout, httpx.ReadError, httpx.WriteError,
                httpx.RemoteProtocolError, httpx.LocalProtocolError: as the stock transport.
        """
        if self._closed:
            raise RuntimeError("the transport is closed")
        url = request.url
        scheme = url.raw_scheme
        if scheme == b"https":
            port = url.port or 443
        elif scheme == b"http":
            port = url.port or 80
        else:
            raise httpx.UnsupportedProtocol(
                f"Request URL has an unsupported protocol '{url.scheme}://'.", request=request
            )
        key = (scheme, url.raw_host, port)
        if self._proxy_rules is not None or self._all_stock:
            route = self._route(key, url)
            if route is not None:
                return await route.handle_async_request(request)
        timeouts: Timeouts = request.extensions.get("timeout") or self._timeouts
        head = build_request_head(request)
        return await self._send(request, key, head, request_body(request), timeouts)

    async def send_direct(  # noqa: PLR0917 - the parts of one request, in their usual order
        self,
        method: str,
        origin: str,
        target: str,
        headers: Mapping[str, str],
        content: bytes | AsyncIterable[bytes],
        timeouts: Timeouts | None = None,
    ) -> httpx.Response:
        """Send a request given as its parts: the library's own hot path.

        The same bytes reach the wire as from ``handle_async_request(httpx.Request(method,
        origin + target, headers=headers, content=content))``, without building that request
        and parsing its URL for each attempt (see ``_direct``): the response's ``request`` is
        built only if something reads it. Requests this path cannot send as they are (a target
        httpx would rewrite, an origin with more than scheme, host and port, a proxied origin)
        are sent through exactly that ``httpx.Request``.

        Args:
            method: The method.
            origin: ``scheme://host[:port]``.
            target: The request target (path and query), percent-encoded.
            headers: The headers (``Host`` and the body's framing are added as httpx adds them).
            content: The body: ``bytes``, or a stream sent once.
            timeouts: httpx's ``timeout`` extension (``None``: the transport's own).

        Raises:
            Exception: As `handle_async_request`.
        """
        if self._closed:
            raise RuntimeError("the transport is closed")
        method = method.upper()
        extensions: dict[str, object] = {"timeout": timeouts} if timeouts is not None else {}
        parsed = self._origin(origin)
        if (
            parsed is None
            or self._proxy_rules is not None
            or self._all_stock
            or not sent_unchanged(origin, target)
        ):
            built = build_request(method, origin + target, headers, content, extensions)
            response = await self.handle_async_request(built)
            response.request = built  # httpx's own transport leaves that to the client
            return response
        raw = wire_headers(method, parsed.netloc, headers, content)
        head = head_from_parts(method, target.encode("ascii"), raw)

        def request() -> httpx.Request:
            return build_request(method, origin + target, raw, content, extensions)

        return await self._send(request, parsed.key, head, content, timeouts or self._timeouts)

    async def aclose(self) -> None:
        """Close every connection, including those of responses still being read."""
        self._closed = True
        self._pool.close()
        stock = list(self._stock.values())
        self._stock.clear()
        self._routes.clear()
        for transport in stock:
            await transport.aclose()

    # -- internals ------------------------------------------------------------------------------

    def _origin(self, origin: str) -> Origin | None:
        try:
            return self._origins[origin]
        except KeyError:
            pass
        if len(self._origins) >= _MAX_ORIGINS:
            self._origins.clear()  # a process talks to a handful of origins; never grow unbounded
        parsed = self._origins[origin] = parse_origin(origin)
        return parsed

    def _expect_continue(self, head: RequestHead) -> None:
        """Add ``Expect: 100-continue`` to a large PUT/POST (``expect_continue_threshold``)."""
        if (
            self._expect_threshold is not None
            and head.content_length >= self._expect_threshold
            and not head.expect_continue
            and head.method in (b"PUT", b"POST")
        ):
            head.data = head.data[:-2] + b"Expect: 100-continue\r\n\r\n"
            head.expect_continue = True

    async def _send(
        self,
        request: RequestSource,
        key: Key,
        head: RequestHead,
        content: bytes | AsyncIterable[bytes],
        timeouts: Timeouts,
    ) -> httpx.Response:
        self._expect_continue(head)
        pool = self._pool
        await pool.acquire(timeouts.get("pool"))
        try:
            if self._closed:
                raise RuntimeError("the transport is closed")  # while it waited for a slot
            conn = pool.checkout(key)
            retried = False
            while True:
                if conn is None:
                    conn = await open_connection(
                        key,
                        ssl_context=self._tls_context() if key[0] == b"https" else None,
                        connect_timeout=timeouts.get("connect"),
                    )
                    pool.opened(conn)
                progress = Progress()
                try:
                    return await exchange(
                        conn,
                        request,
                        head,
                        content,
                        timeouts=timeouts,
                        release=pool.release,
                        progress=progress,
                        continue_timeout=self._continue_timeout,
                        busy=pool.busy,
                    )
                except _RETRYABLE:
                    pool.discard(conn)
                    if retried or not _may_retry(conn.reused, head, progress):
                        raise
                    # The server closed a kept-alive connection just as we used it (RFC 9112
                    # §9.3.1 allows resending such a request): once, on a new connection.
                    retried = True
                    conn = None
                except BaseException:
                    pool.discard(conn)
                    raise
        except BaseException:
            pool.release_slot()
            raise

    def _tls_context(self) -> ssl.SSLContext:
        context = self._ssl_context
        if context is None:
            # httpx's own trust store logic (certifi, or SSL_CERT_FILE/SSL_CERT_DIR).
            context = httpx.create_ssl_context(verify=self._verify, trust_env=self._trust_env)
            context.set_alpn_protocols(["http/1.1"])
            self._ssl_context = context
        return context

    def _route(self, key: Key, url: httpx.URL) -> httpx.AsyncBaseTransport | None:
        """The stock transport for a proxied origin (or for all, with ``direct="httpx"``)."""
        try:
            return self._routes[key]
        except KeyError:
            pass
        proxy = self._proxy_rules.proxy_for(url) if self._proxy_rules is not None else None
        route: httpx.AsyncBaseTransport | None = None
        if proxy is not None or self._all_stock:
            route = self._stock.get(proxy)
            if route is None:
                route = self._stock[proxy] = httpx.AsyncHTTPTransport(
                    verify=self._ssl_context or self._verify,
                    limits=self._limits,
                    trust_env=self._trust_env,
                    proxy=httpx.Proxy(proxy) if proxy is not None else None,
                )
        self._routes[key] = route
        return route


def _may_retry(reused: bool, head: RequestHead, progress: Progress) -> bool:
    if not reused or progress.response_started or progress.body_pulled:
        return False
    return head.method in _IDEMPOTENT or not progress.head_sent


def _tls_setting(verify: bool | str | ssl.SSLContext) -> bool | ssl.SSLContext:
    """A CA bundle path becomes a context, as httpx's deprecated ``verify=<str>`` did."""
    if not isinstance(verify, str):
        return verify
    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)


def create_transport(
    *,
    verify: bool | str | ssl.SSLContext = True,
    limits: httpx.Limits = DEFAULT_LIMITS,
    timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
    http2: bool = False,
    trust_env: bool = True,
    proxy: str | None = None,
    stock: bool = False,
    expect_continue_threshold: int | None = None,
) -> httpx.AsyncBaseTransport:
    """The transport for the shared pool: `FastTransport`, or httpx's own when asked.

    Args:
        verify: TLS verification: ``True`` (httpx's trust store), ``False``, the path of a CA
            bundle (file or directory), or an ``SSLContext``.
        limits: Pool limits.
        timeout: Timeouts for requests built without a client (no ``timeout`` extension).
        http2: HTTP/2 needs httpx's stock transport (and the ``h2`` package).
        trust_env: Honour proxy and CA-bundle environment variables.
        proxy: One proxy for every request: httpx's stock transport, configured with it.
        stock: Route every request through ``httpx.AsyncHTTPTransport`` (proxies from the
            environment still apply, as they would in ``httpx.AsyncClient(trust_env=True)``).
        expect_continue_threshold: See `FastTransport`.
    """
    tls = _tls_setting(verify)
    if http2 or proxy is not None:
        return httpx.AsyncHTTPTransport(
            verify=tls,
            limits=limits,
            http2=http2,
            trust_env=trust_env,
            proxy=proxy,
            retries=0,
        )
    return FastTransport(
        verify=tls,
        limits=limits,
        timeout=timeout,
        trust_env=trust_env,
        expect_continue_threshold=expect_continue_threshold,
        direct="httpx" if stock else "fast",
    )


def fast_transport_factory(options: PoolOptions) -> httpx.AsyncBaseTransport:
    """A ``TransportFactory`` for ``_http.pool``: `create_transport` from ``PoolOptions``.

    Install it with ``pool.set_default_transport_factory(fast_transport_factory)`` or
    ``PoolOptions(transport_factory=fast_transport_factory)``; ``http2`` (when ``h2`` is
    installed) and an explicit ``proxy`` select httpx's own transport, as does ``stock=True``
    through `create_transport`. Like the pool's default factory, it ignores the environment.
    """
    import importlib.util

    return create_transport(
        verify=options.verify_ssl,
        limits=options.limits,
        timeout=options.timeout,
        http2=options.http2 and importlib.util.find_spec("h2") is not None,
        trust_env=False,
        proxy=options.proxy,
    )
