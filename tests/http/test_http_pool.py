"""The shared pool: one client per event loop and options, reference-counted, never crossing
loops; injected clients are never closed; the transport factory is the seam."""

from __future__ import annotations

import anyio
import httpx
import pytest

from litestar_storages._http import pool as pool_module
from litestar_storages._http.pool import (
    ClientHandle,
    PoolOptions,
    default_transport_factory,
    h2_available,
    set_default_transport_factory,
    shared_client_count,
    stock_transport_factory,
)

pytestmark = pytest.mark.anyio


def is_closed(client: httpx.AsyncClient) -> bool:
    return client.is_closed  # a call, so mypy does not narrow across awaits


def ok(_request: httpx.Request) -> httpx.Response:
    return httpx.Response(200)


async def test_storages_with_equal_options_share_one_client() -> None:
    first, second = ClientHandle(PoolOptions()), ClientHandle(PoolOptions())
    try:
        assert first.lease().client is second.lease().client
        assert shared_client_count() == 1
    finally:
        await first.release()
        await second.release()


async def test_different_options_get_different_clients() -> None:
    first = ClientHandle(PoolOptions(verify_ssl=True))
    second = ClientHandle(PoolOptions(verify_ssl=False))
    try:
        assert first.lease().client is not second.lease().client
    finally:
        await first.release()
        await second.release()


async def test_the_last_holder_closes_the_client() -> None:
    first, second = ClientHandle(PoolOptions()), ClientHandle(PoolOptions())
    client = first.lease().client
    second.lease()
    await first.release()
    assert not is_closed(client)
    await second.release()
    assert is_closed(client)
    assert shared_client_count() == 0


async def test_release_is_idempotent_and_a_new_lease_opens_a_new_client() -> None:
    handle = ClientHandle(PoolOptions())
    client = handle.lease().client
    await handle.release()
    await handle.release()
    try:
        assert handle.lease().client is not client
    finally:
        await handle.release()


async def test_repeated_leases_count_once() -> None:
    first, second = ClientHandle(PoolOptions()), ClientHandle(PoolOptions())
    client = first.lease().client
    first.lease()
    first.lease()
    second.lease()
    await second.release()
    assert not is_closed(client)
    await first.release()
    assert is_closed(client)


async def test_release_from_a_cancelled_task_still_closes() -> None:
    handle = ClientHandle(PoolOptions())
    client = handle.lease().client
    with anyio.CancelScope() as scope:
        scope.cancel()
        await handle.release()
    assert is_closed(client)


async def test_an_injected_client_is_used_and_never_closed() -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(ok)) as client:
        handle = ClientHandle(PoolOptions(), client=client)
        lease = handle.lease()
        assert lease.client is client
        assert lease.transport is None  # requests go through client.send
        await handle.release()
        assert not is_closed(client)
        assert handle.injected


async def test_the_transport_factory_builds_the_transport() -> None:
    seen: list[PoolOptions] = []

    def factory(options: PoolOptions) -> httpx.AsyncBaseTransport:
        seen.append(options)
        return httpx.MockTransport(ok)

    options = PoolOptions(max_connections=3, transport_factory=factory)
    handle = ClientHandle(options)
    try:
        lease = handle.lease()
        assert isinstance(lease.transport, httpx.MockTransport)
        assert seen == [options]
    finally:
        await handle.release()


async def test_the_process_wide_default_factory_can_be_replaced() -> None:
    set_default_transport_factory(lambda _options: httpx.MockTransport(ok))
    handle = ClientHandle(PoolOptions(max_connections=7))
    try:
        assert isinstance(handle.lease().transport, httpx.MockTransport)
    finally:
        set_default_transport_factory(None)
        await handle.release()
    assert pool_module._default_factory is default_transport_factory


async def test_the_client_never_follows_redirects_and_uses_the_timeouts() -> None:
    options = PoolOptions(
        connect_timeout=1.5, read_timeout=2.5, write_timeout=3.5, pool_timeout=4.5
    )
    handle = ClientHandle(options)
    try:
        lease = handle.lease()
        assert lease.client.follow_redirects is False
        assert lease.timeout == {"connect": 1.5, "read": 2.5, "write": 3.5, "pool": 4.5}
    finally:
        await handle.release()


def test_limits_follow_max_connections() -> None:
    limits = PoolOptions(max_connections=12).limits
    assert limits.max_connections == 12
    assert limits.max_keepalive_connections == 12


def test_http2_is_only_used_when_h2_is_installed() -> None:
    transport = stock_transport_factory(PoolOptions(http2=True))
    pool = transport._pool  # type: ignore[attr-defined]
    assert pool._http2 is h2_available()


def test_the_default_transport_is_the_librarys_own() -> None:
    transport = default_transport_factory(PoolOptions())
    try:
        from litestar_storages._http.transport import FastTransport
    except ImportError:
        assert isinstance(transport, httpx.AsyncHTTPTransport)
    else:
        assert isinstance(transport, FastTransport)


def test_invalid_pool_size_is_rejected() -> None:
    with pytest.raises(ValueError):
        PoolOptions(max_connections=0)


def test_clients_never_cross_event_loops() -> None:
    handle = ClientHandle(PoolOptions())
    clients: list[httpx.AsyncClient] = []

    async def use() -> None:
        clients.append(handle.lease().client)
        assert handle.lease().client is clients[-1]

    async def use_then_release() -> None:
        await use()
        await handle.release()

    anyio.run(use, backend="asyncio")
    anyio.run(use_then_release, backend="trio")
    assert clients[0] is not clients[1]
    assert is_closed(clients[1])
