"""The HTTP settings the cloud configs share: validated once for all three, turned into pool
options in one place, and the transport chosen by ``http_transport`` or
``$LITESTAR_STORAGES_HTTP_TRANSPORT``. (The conformance suite runs every cloud backend on both
transports and checks which one carried the requests.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from litestar_storages import AzureConfig, GCSConfig, S3Config, StorageConfigurationError
from litestar_storages._http.pool import ClientHandle, PoolOptions
from litestar_storages._http.settings import ENV_VAR, transport_from_env
from litestar_storages._http.transport import FastTransport

CONFIGS: dict[str, Any] = {
    "s3": lambda **kw: S3Config(bucket="b", **kw),
    "gcs": lambda **kw: GCSConfig(bucket="b", **kw),
    "azure": lambda **kw: AzureConfig(container="box", **kw),
}


def test_the_environment_names_the_default_transport() -> None:
    assert transport_from_env({}) == "fast"
    assert transport_from_env({ENV_VAR: ""}) == "fast"
    assert transport_from_env({ENV_VAR: " HTTPX "}) == "httpx"
    assert transport_from_env({ENV_VAR: "fast"}) == "fast"


def test_an_unknown_transport_in_the_environment_is_a_configuration_error() -> None:
    with pytest.raises(StorageConfigurationError, match=ENV_VAR) as caught:
        transport_from_env({ENV_VAR: "aiohttp"})
    assert "'aiohttp'" in str(caught.value)


@pytest.mark.parametrize("backend", CONFIGS)
@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [
        ("http_transport", "h2", "http_transport must be 'fast' or 'httpx'"),
        ("http_transport", "HTTPX", "http_transport must be 'fast' or 'httpx'"),
        ("http_transport", "", "http_transport must be 'fast' or 'httpx'"),
        ("max_pool_connections", 0, "max_pool_connections must be at least 1"),
        ("connect_timeout", 0, "connect_timeout must be positive"),
        ("read_timeout", -1.0, "read_timeout must be positive"),
        ("read_timeout", float("nan"), "read_timeout must be positive"),
        ("proxy_url", "socks5://proxy:1080", "proxy_url must be an http:// or https:// URL"),
    ],
)
def test_every_cloud_config_refuses_bad_http_settings(
    backend: str, field: str, bad: object, message: str
) -> None:
    with pytest.raises(StorageConfigurationError, match=message) as caught:
        CONFIGS[backend](**{field: bad})
    assert caught.value.backend == backend


@pytest.mark.parametrize("backend", CONFIGS)
def test_a_proxy_password_stays_out_of_the_config_repr(backend: str) -> None:
    config = CONFIGS[backend](proxy_url="http://user:s3cr3t@proxy.internal:3128")
    assert "s3cr3t" not in repr(config)


@pytest.mark.parametrize("backend", CONFIGS)
def test_every_cloud_config_maps_to_pool_options_the_same_way(backend: str) -> None:
    config = CONFIGS[backend](
        max_pool_connections=3,
        verify_ssl="/etc/ca.pem",
        connect_timeout=1.5,
        read_timeout=7.0,
        http2=True,
        proxy_url="http://proxy:3128",
        http_transport="httpx",
    )
    options = PoolOptions.from_settings(config)
    assert options == PoolOptions(
        max_connections=3,
        verify_ssl="/etc/ca.pem",
        connect_timeout=1.5,
        read_timeout=7.0,
        write_timeout=7.0,
        pool_timeout=7.0,
        http2=True,
        proxy="http://proxy:3128",
        transport="httpx",
    )
    defaults = PoolOptions.from_settings(CONFIGS[backend]())
    assert defaults.transport is None  # the environment decides, else "fast"
    assert (defaults.max_connections, defaults.connect_timeout, defaults.read_timeout) == (
        10,
        10.0,
        60.0,
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("configured", "env", "expected"),
    [
        (None, None, FastTransport),
        (None, "httpx", httpx.AsyncHTTPTransport),
        (None, "fast", FastTransport),
        ("httpx", None, httpx.AsyncHTTPTransport),
        ("httpx", "fast", httpx.AsyncHTTPTransport),  # the config wins
        ("fast", "httpx", FastTransport),
    ],
)
async def test_the_pool_builds_the_chosen_transport(
    monkeypatch: pytest.MonkeyPatch, configured: Any, env: str | None, expected: type
) -> None:
    if env is not None:
        monkeypatch.setenv(ENV_VAR, env)
    handle = ClientHandle(PoolOptions(max_connections=5, transport=configured))
    try:
        assert isinstance(handle.lease().transport, expected)
    finally:
        await handle.release()


@pytest.mark.anyio
async def test_a_bad_environment_value_fails_the_first_lease(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_VAR, "curl")
    handle = ClientHandle(PoolOptions(max_connections=6))
    with pytest.raises(StorageConfigurationError, match=ENV_VAR):
        handle.lease()
    await handle.release()


@pytest.mark.anyio
async def test_transports_do_not_share_clients() -> None:
    fast, stock = ClientHandle(PoolOptions()), ClientHandle(PoolOptions(transport="httpx"))
    try:
        assert fast.lease().client is not stock.lease().client
    finally:
        await fast.release()
        await stock.release()
