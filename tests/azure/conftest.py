"""Fixtures of the Azure unit tests: a respx router behind an injected client, and storages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import respx

from litestar_storages.backends.azure import AzureConfig, AzureStorage
from litestar_storages.retry import RetryConfig

from ._azure_helpers import CONNECTION_STRING, CONTAINER, FrozenClock


@pytest.fixture
async def router() -> AsyncIterator[respx.MockRouter]:
    """A respx router; every request must match a route."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
async def http_client(router: respx.MockRouter) -> AsyncIterator[httpx.AsyncClient]:
    """The application-owned client the storages send through (respx answers it)."""
    # verify=False only spares building a TLS context per test: respx answers every request.
    async with httpx.AsyncClient(verify=False) as client:
        yield client


StorageFactory = Callable[..., AzureStorage]


@pytest.fixture
def make_storage(http_client: httpx.AsyncClient) -> StorageFactory:
    """Build an ``AzureStorage`` on the made-up account, with a frozen clock and fast retries."""

    def make(**overrides: Any) -> AzureStorage:
        retry = overrides.pop(
            "retry_config", RetryConfig(max_attempts=3, base_delay=0, jitter=False)
        )
        settings: dict[str, Any] = {"container": CONTAINER, "connection_string": CONNECTION_STRING}
        settings.update(overrides)
        return AzureStorage(
            AzureConfig(**settings),
            retry_config=retry,
            http_client=http_client,
            clock=FrozenClock(),
        )

    return make


@pytest.fixture
def storage(make_storage: StorageFactory) -> AzureStorage:
    """A storage with SharedKey credentials and no prefix."""
    return make_storage()
