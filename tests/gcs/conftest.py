"""Fixtures of the GCS unit tests: a respx router behind an injected client, keys, a clock."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from litestar_storages.backends.gcs import GCSConfig, GCSStorage
from litestar_storages.retry import RetryConfig

from ._gcs_helpers import FrozenClock, Opener


@pytest.fixture(scope="session")
def rsa_pem() -> str:
    """A freshly generated 2048-bit RSA key (PEM), for service-account tests."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def service_account(rsa_pem: str) -> dict[str, str]:
    """The parsed JSON key file of a made-up service account."""
    return {
        "type": "service_account",
        "project_id": "demo-project",
        "private_key_id": "kid-1",
        "private_key": rsa_pem,
        "client_email": "robot@demo-project.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
    }


@pytest.fixture
def key_file(tmp_path: Path, service_account: dict[str, str]) -> Path:
    """``service_account`` written to a file."""
    path = tmp_path / "key.json"
    path.write_text(json.dumps(service_account))
    return path


@pytest.fixture
async def router() -> AsyncIterator[respx.MockRouter]:
    """A respx router; every request must match a route."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
def open_storage(router: respx.MockRouter) -> Opener:
    """Build a storage sending through ``router`` (a fixed token unless told otherwise)."""
    clients: list[httpx.AsyncClient] = []

    def open_(*, retry: RetryConfig | None = None, **fields: Any) -> GCSStorage:
        fields.setdefault("bucket", "bkt")
        if not {"token", "service_account_info", "service_file", "anonymous"} & set(fields):
            fields["token"] = "tok"
        client = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
        clients.append(client)
        storage = GCSStorage(
            GCSConfig(**fields),
            retry_config=retry or RetryConfig(max_attempts=3, base_delay=0, jitter=False),
            http_client=client,
        )
        storage.clock = FrozenClock()
        return storage

    return open_
