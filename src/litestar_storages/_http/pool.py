"""The one shared connection pool: an ``httpx.AsyncClient`` per event loop and pool options.

Every storage in a process sends through the same client, so connections to the same endpoint
are reused across storages. A client cannot cross event loops (its connections and locks belong
to the loop that made them), so the pool keeps one client per running loop *and* per distinct
set of options (a storage with ``verify_ssl=False`` must not share TLS settings with one that
verifies). Clients are created lazily inside the running loop on first use, reference-counted by
the storages holding them, and closed when the last holder releases them. An application may
inject its own client instead; it is then used as is and never closed by the library.

There is no background task: nothing reaps idle connections except the transport itself on
checkout (httpcore's rule, which the custom transport keeps).

The transport is a seam: ``PoolOptions.transport_factory`` (per pool) or
:func:`set_default_transport_factory` (process-wide) supply any ``httpx.AsyncBaseTransport``;
the default is the library's own HTTP/1.1 transport (``_http.transport``), with httpx's
``AsyncHTTPTransport`` (:func:`stock_transport_factory`) for HTTP/2 and explicit proxies, and
for every request when ``PoolOptions.transport`` (a config's ``http_transport``) or
``$LITESTAR_STORAGES_HTTP_TRANSPORT`` says ``"httpx"`` (``_http.settings``).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.lowlevel
import httpx

from litestar_storages._http.settings import HttpSettings, HttpTransport, transport_from_env

__all__ = [
    "ClientHandle",
    "Lease",
    "PoolOptions",
    "TransportFactory",
    "default_transport_factory",
    "h2_available",
    "set_default_transport_factory",
    "shared_client_count",
    "stock_transport_factory",
]

logger = logging.getLogger("litestar_storages.http")

TransportFactory = Callable[["PoolOptions"], httpx.AsyncBaseTransport]
"""Builds the transport of a new shared client from the pool's options."""


@dataclass(frozen=True)
class PoolOptions:
    """Limits, timeouts and TLS settings of a shared client.

    Storages whose options compare equal share one client per event loop.

    Attributes:
        max_connections: Most connections open at once (S3Config ``max_pool_connections``).
        max_keepalive_connections: Most idle connections kept; ``None``: ``max_connections``.
        keepalive_expiry: Seconds an idle connection is kept for reuse.
        connect_timeout: Seconds to establish a connection (DNS, TCP and TLS).
        read_timeout: Seconds to wait for each read from the server.
        write_timeout: Seconds to wait for each write to the server.
        pool_timeout: Seconds to wait for a free connection from the pool.
        verify_ssl: Verify TLS certificates (``True``), skip verification (``False``), or the
            path of a CA bundle.
        http2: Negotiate HTTP/2 when the ``h2`` package is installed (ignored otherwise).
        proxy: An HTTP(S) proxy URL for every request, or ``None``.
        transport: ``"fast"`` (the library's transport), ``"httpx"`` (httpx's stock one), or
            ``None``: ``$LITESTAR_STORAGES_HTTP_TRANSPORT``, else ``"fast"``.
        transport_factory: Builds the transport (overrides ``transport``); ``None`` uses the
            choice above.
    """

    max_connections: int = 10
    max_keepalive_connections: int | None = None
    keepalive_expiry: float = 20.0
    connect_timeout: float | None = 10.0
    read_timeout: float | None = 60.0
    write_timeout: float | None = 60.0
    pool_timeout: float | None = 60.0
    verify_ssl: bool | str = True
    http2: bool = False
    proxy: str | None = None
    transport: HttpTransport | None = None
    transport_factory: TransportFactory | None = field(default=None, compare=True)

    def __post_init__(self) -> None:
        if self.max_connections < 1:
            raise ValueError("max_connections must be at least 1")

    @classmethod
    def from_settings(
        cls, settings: HttpSettings, *, transport_factory: TransportFactory | None = None
    ) -> PoolOptions:
        """The pool options of a cloud config (``S3Config``, ``GCSConfig``, ``AzureConfig``).

        ``read_timeout`` also bounds each write and the wait for a free connection.
        """
        return cls(
            max_connections=settings.max_pool_connections,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            write_timeout=settings.read_timeout,
            pool_timeout=settings.read_timeout,
            verify_ssl=settings.verify_ssl,
            http2=settings.http2,
            proxy=settings.proxy_url,
            transport=settings.http_transport,
            transport_factory=transport_factory,
        )

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeouts as an ``httpx.Timeout``."""
        return httpx.Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.write_timeout,
            pool=self.pool_timeout,
        )

    @property
    def limits(self) -> httpx.Limits:
        """The connection limits as ``httpx.Limits``."""
        keepalive = self.max_keepalive_connections
        return httpx.Limits(
            max_connections=self.max_connections,
            max_keepalive_connections=self.max_connections if keepalive is None else keepalive,
            keepalive_expiry=self.keepalive_expiry,
        )


def h2_available() -> bool:
    """Whether the optional ``h2`` package (HTTP/2 for httpx) is importable."""
    return importlib.util.find_spec("h2") is not None


def stock_transport_factory(options: PoolOptions) -> httpx.AsyncBaseTransport:
    """httpx's own ``AsyncHTTPTransport`` configured from ``options`` (HTTP/2 capable).

    Redirects are handled above the transport (and never followed: a redirect must not carry
    signed credentials to another host); ``retries=0`` because the send loop retries, re-signing
    each attempt.
    """
    http2 = options.http2 and h2_available()
    if options.http2 and not http2:
        logger.info("HTTP/2 requested but the 'h2' package is not installed; using HTTP/1.1")
    return httpx.AsyncHTTPTransport(
        verify=options.verify_ssl,
        http1=True,
        http2=http2,
        limits=options.limits,
        proxy=options.proxy,
        trust_env=False,
        retries=0,
    )


def default_transport_factory(options: PoolOptions) -> httpx.AsyncBaseTransport:
    """The library's own HTTP/1.1 transport (``_http.transport``), else httpx's.

    The own transport costs a fraction of httpcore's CPU per request and streams without
    nested async generators (../shared/HTTP-TRANSPORT.md); it hands HTTP/2 and explicit proxies
    to httpx's transport itself.
    """
    try:
        from litestar_storages._http.transport import fast_transport_factory
    except ImportError:  # the transport module is optional for this seam
        return stock_transport_factory(options)
    return fast_transport_factory(options)


_default_factory: TransportFactory = default_transport_factory


def set_default_transport_factory(factory: TransportFactory | None) -> None:
    """Replace the ``"fast"`` transport of clients the pool creates from now on (``None``: back
    to the library's own).

    A process-wide seam for tests and experiments; clients already created keep theirs until
    they are closed. Users choose between the two shipped transports with the configs'
    ``http_transport`` or ``$LITESTAR_STORAGES_HTTP_TRANSPORT`` instead.
    """
    global _default_factory  # noqa: PLW0603 - one process-wide default, set at start-up
    _default_factory = default_transport_factory if factory is None else factory


@dataclass(frozen=True)
class Lease:
    """What a holder sends through.

    Attributes:
        client: The shared (or injected) client.
        transport: The transport when the pool built the client itself, so the hot path may
            call it directly (``FastTransport.send_direct``, else ``handle_async_request``),
            skipping httpx's cookie jar and event hooks, which object stores do not need;
            ``None`` for injected clients, which must go through ``client.send`` so the
            application's mocks, hooks and proxies apply.
        timeout: The request ``timeout`` extension matching the client's settings.
    """

    client: httpx.AsyncClient
    transport: httpx.AsyncBaseTransport | None
    timeout: dict[str, float | None]


@dataclass
class _Shared:
    client: httpx.AsyncClient
    transport: httpx.AsyncBaseTransport
    lease: Lease
    holders: int = 0


# native loop object (asyncio loop / TrioToken) -> options -> shared client. Weak keys: when a
# loop is gone, its clients go with it instead of accumulating over a test session.
_registry: weakref.WeakKeyDictionary[Any, dict[PoolOptions, _Shared]] = weakref.WeakKeyDictionary()


def _current_loop() -> Any:
    token = anyio.lowlevel.current_token()
    # anyio >= 4.11 wraps the native token; older versions return it directly.
    return getattr(token, "native_token", token)


def shared_client_count() -> int:
    """How many shared clients exist for the running event loop (for tests and diagnostics)."""
    return len(_registry.get(_current_loop(), {}))


def _factory(options: PoolOptions) -> TransportFactory:
    if options.transport_factory is not None:
        return options.transport_factory
    # Read when a client is built, not at import: the variable may be set after start-up.
    choice = options.transport or transport_from_env(os.environ)
    return stock_transport_factory if choice == "httpx" else _default_factory


def _create_shared(options: PoolOptions) -> _Shared:
    transport = _factory(options)(options)
    client = httpx.AsyncClient(
        transport=transport,
        timeout=options.timeout,
        follow_redirects=False,
        trust_env=False,
    )
    lease = Lease(client=client, transport=transport, timeout=options.timeout.as_dict())
    return _Shared(client=client, transport=transport, lease=lease)


class ClientHandle:
    """One storage's hold on the shared pool.

    ``lease()`` returns the client for the running loop, creating and registering it on first
    use; ``release()`` gives back every hold this handle took, closing clients that no one else
    holds.

    Args:
        options: The pool options (storages with equal options share a client).
        client: An application-provided client to use instead; never closed here.
    """

    __slots__ = ("_injected", "_loops", "options")

    def __init__(self, options: PoolOptions, *, client: httpx.AsyncClient | None = None) -> None:
        self.options = options
        self._injected = (
            None
            if client is None
            else Lease(client=client, transport=None, timeout=client.timeout.as_dict())
        )
        # Loops on which this handle holds a reference (weak: a dead loop needs no release).
        self._loops: weakref.WeakKeyDictionary[Any, _Shared] = weakref.WeakKeyDictionary()

    @property
    def injected(self) -> bool:
        """Whether the application supplied the client."""
        return self._injected is not None

    def lease(self) -> Lease:
        """The client to use in the running event loop (no await: safe against races)."""
        if self._injected is not None:
            return self._injected
        loop = _current_loop()
        held = self._loops.get(loop)
        if held is not None:
            return held.lease
        per_loop = _registry.setdefault(loop, {})
        shared = per_loop.get(self.options)
        if shared is None:
            shared = per_loop[self.options] = _create_shared(self.options)
        shared.holders += 1
        self._loops[loop] = shared
        return shared.lease

    async def release(self) -> None:
        """Give back this handle's holds; close clients nobody holds any more. Idempotent."""
        if self._injected is not None:
            return
        try:
            current = _current_loop()
        except Exception:  # called outside a running loop: nothing can be awaited
            current = None
        to_close: list[_Shared] = []
        for loop, shared in list(self._loops.items()):
            del self._loops[loop]
            shared.holders -= 1
            if shared.holders > 0:
                continue
            per_loop = _registry.get(loop)
            if per_loop is not None and per_loop.get(self.options) is shared:
                del per_loop[self.options]
            if loop is current:
                to_close.append(shared)
            # A client of another (finished) loop cannot be closed from here; its sockets are
            # released when it is garbage-collected with that loop.
        # Shielded: a storage closed from a cancelled task must still return its connections.
        with anyio.CancelScope(shield=True):
            for shared in to_close:
                await shared.client.aclose()
