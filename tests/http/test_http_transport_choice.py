"""Choosing the transport: ``http_transport`` in the configs, ``$LITESTAR_STORAGES_HTTP_TRANSPORT``
for the rest, validated before anything is sent. (The conformance suite runs every cloud backend
on both transports and checks which one carried the requests.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from litestar_storages import AzureConfig, GCSConfig, S3Config, StorageConfigurationError
from litestar_storages._http.pool import ClientHandle, PoolOptions
from litestar_storages._http.transport import FastTransport
from litestar_storages._http.transport_choice import (
    ENV_VAR,
    check_transport,
    transport_from_env,
)


def test_the_environment_names_the_default_transport() -> None:
    assert transport_from_env({}) == "fast"
    assert transport_from_env({ENV_VAR: ""}) == "fast"
    assert transport_from_env({ENV_VAR: " HTTPX "}) == "httpx"
    assert transport_from_env({ENV_VAR: "fast"}) == "fast"


def test_an_unknown_transport_in_the_environment_is_a_configuration_error() -> None:
    with pytest.raises(StorageConfigurationError, match=ENV_VAR) as caught:
        transport_from_env({ENV_VAR: "aiohttp"})
    assert "'aiohttp'" in str(caught.value)


@pytest.mark.parametrize("value", [None, "fast", "httpx"])
def test_known_transports_are_accepted(value: str | None) -> None:
    check_transport(value, backend="s3")


@pytest.mark.parametrize(
    "make",
    [
        lambda t: S3Config(bucket="b", http_transport=t),
        lambda t: GCSConfig(bucket="b", http_transport=t),
        lambda t: AzureConfig(container="box", http_transport=t),
    ],
    ids=["s3", "gcs", "azure"],
)
@pytest.mark.parametrize("bad", ["h2", "HTTPX", "", "stock"])
def test_every_cloud_config_refuses_an_unknown_transport(make: Any, bad: str) -> None:
    with pytest.raises(StorageConfigurationError, match="http_transport") as caught:
        make(bad)
    assert repr(bad) in str(caught.value)
    assert make("httpx").http_transport == "httpx"
    assert make(None).http_transport is None


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
