"""GCS on Google Cloud: the metadata server's token, and keyless URLs through signBlob."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from litestar_storages.backends.gcs import GCSConfig, GCSStorage
from litestar_storages.exceptions import (
    StorageConfigurationError,
    StoragePermissionError,
    StorageServerError,
    StorageTimeoutError,
)
from litestar_storages.signing.gcs import prepare_signed_url

from ._fake_server import FakeEndpoint, Reply, Request
from ._google import METADATA, READ_WRITE, FakeGoogle
from ._support import Clock, assert_hidden, exception_text, log_text
from .conftest import VM_ACCOUNT

Opener = Callable[..., GCSStorage]

pytestmark = pytest.mark.anyio


@pytest.fixture
async def open_storage(
    google: FakeGoogle, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Opener]:
    """Storages on the fake: JSON API, IAM and metadata server all at ``google``."""
    monkeypatch.setenv("GCE_METADATA_HOST", google.host)
    opened: list[GCSStorage] = []

    def open_(**fields: Any) -> GCSStorage:
        fields.setdefault("bucket", "bkt")
        fields.setdefault("api_root", google.origin)
        fields.setdefault("iam_endpoint", google.origin)
        fields.setdefault("metadata_timeout", 0.5)
        storage = GCSStorage(GCSConfig(**fields))
        storage.clock = clock
        opened.append(storage)
        return storage

    yield open_
    for storage in opened:
        await storage.close()


# ----------------------------------------------------------------------------- tokens


async def test_requests_carry_the_metadata_servers_token(
    google: FakeGoogle, open_storage: Opener
) -> None:
    storage = open_storage()
    stored = await storage.info("a.txt")
    assert stored.metadata == {"read-by": VM_ACCOUNT}
    token_requests = [r for r in google.requests if r.path == METADATA + "token"]
    assert len(token_requests) == 1
    assert token_requests[0].headers["metadata-flavor"] == "Google"
    assert google.refusals == []


async def test_the_source_names_the_account_once_the_server_was_asked(
    open_storage: Opener,
) -> None:
    storage = open_storage()
    assert storage.credential_source.kind == "metadata"
    assert storage.credential_source.principal is None  # nothing asked yet
    await storage.url("a")  # keyless signing asks for the e-mail
    assert storage.credential_source.principal == VM_ACCOUNT


async def test_concurrent_first_requests_fetch_one_token(
    google: FakeGoogle, open_storage: Opener
) -> None:
    storage = open_storage()

    async def read(n: int) -> None:
        await storage.info(f"k{n}")

    async with anyio.create_task_group() as tg:
        for n in range(20):
            tg.start_soon(read, n)
    assert google.paths().count(METADATA + "token") == 1
    assert google.paths("GET").count("/storage/v1/b/bkt/o/k0") == 1


async def test_the_token_is_refreshed_just_before_the_server_would_renew_it(
    google: FakeGoogle, open_storage: Opener, clock: Clock
) -> None:
    storage = open_storage()
    await storage.info("a")
    clock.now += timedelta(minutes=55)  # 5 minutes left: the cached token is still used
    await storage.info("a")
    assert google.paths().count(METADATA + "token") == 1
    clock.now += timedelta(minutes=1, seconds=30)  # 3.5 minutes left: advisory window
    await storage.info("a")
    assert google.paths().count(METADATA + "token") == 2


async def test_a_failed_refresh_in_the_advisory_window_keeps_the_old_token(
    google: FakeGoogle, open_storage: Opener, clock: Clock
) -> None:
    storage = open_storage()
    await storage.info("a")
    clock.now += timedelta(minutes=57)  # 3 minutes left
    google.metadata_mode = "fail"
    stored = await storage.info("a")  # served with the old, still valid token
    assert stored.metadata == {"read-by": VM_ACCOUNT}
    assert google.refusals == []


async def test_a_failed_refresh_in_the_mandatory_window_raises(
    google: FakeGoogle, open_storage: Opener, clock: Clock
) -> None:
    storage = open_storage()
    await storage.info("a")
    clock.now += timedelta(minutes=59)  # 1 minute left
    google.metadata_mode = "fail"
    with pytest.raises(StorageServerError):
        await storage.info("a")


async def test_a_hanging_metadata_server_is_bounded_by_its_timeout(
    google: FakeGoogle, open_storage: Opener
) -> None:
    google.metadata_mode = "hang"
    storage = open_storage(metadata_timeout=0.2)
    started = time.monotonic()
    with pytest.raises(StorageConfigurationError, match="did not answer within") as caught:
        await storage.info("a")
    assert time.monotonic() - started < 3
    assert isinstance(caught.value.__cause__, StorageTimeoutError)


async def test_a_hang_after_the_server_answered_before_is_a_timeout(
    google: FakeGoogle, open_storage: Opener, clock: Clock
) -> None:
    storage = open_storage(metadata_timeout=0.2)
    await storage.info("a")
    clock.now += timedelta(minutes=59)
    google.metadata_mode = "hang"
    with pytest.raises(StorageTimeoutError):
        await storage.info("a")


async def test_no_metadata_server_means_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # tests/conftest.py points GCE_METADATA_HOST at a closed local port.
    async with GCSStorage(GCSConfig(bucket="b", api_root="http://127.0.0.1:9")) as storage:
        with pytest.raises(StorageConfigurationError, match="not reachable"):
            await storage.info("a")


class NotMetadata(FakeEndpoint):
    """Something else on the metadata address: answers a token-shaped body, no flavor."""

    def handle(self, request: Request) -> Reply:
        return Reply(200, {"access_token": "stolen-or-fake", "expires_in": 3600})


async def test_an_answer_without_metadata_flavor_is_not_trusted(
    monkeypatch: pytest.MonkeyPatch, google: FakeGoogle
) -> None:
    with NotMetadata() as impostor:
        monkeypatch.setenv("GCE_METADATA_HOST", impostor.host)
        async with GCSStorage(GCSConfig(bucket="bkt", api_root=google.origin)) as storage:
            with pytest.raises(StorageConfigurationError, match="without Metadata-Flavor"):
                await storage.info("a")
    assert google.requests == []  # the impostor's "token" was never sent anywhere


async def test_a_refusal_by_the_metadata_server_is_a_permission_error(
    google: FakeGoogle, monkeypatch: pytest.MonkeyPatch, open_storage: Opener
) -> None:
    google.vm_account = "not an e-mail"  # as if no service account were attached
    with pytest.raises(StoragePermissionError):
        await open_storage().url("a")


# ----------------------------------------------------------------------------- keyless URLs
def _verify(url: str, google: FakeGoogle, account: str, clock: Clock, **extra: Any) -> None:
    """Recompute the string to sign from the URL's own parameters and check the signature
    with the account's public key (what GCS does with its copy of the key)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert query["X-Goog-Algorithm"] == ["GOOG4-RSA-SHA256"]
    assert query["X-Goog-Credential"][0].startswith(f"{account}/")
    prepared = prepare_signed_url(
        extra.get("method", "GET"),
        credential_id=account,
        bucket="bkt",
        blob=extra.get("blob", "a.txt"),
        now=clock(),
        expires_in=int(query["X-Goog-Expires"][0]),
        scheme="http",
        host=parts.netloc,
    )
    signature = bytes.fromhex(query["X-Goog-Signature"][0])
    google.keys[account].public_key().verify(
        signature, prepared.string_to_sign.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


async def test_url_is_signed_by_signblob_as_the_metadata_servers_account(
    google: FakeGoogle, open_storage: Opener, clock: Clock
) -> None:
    storage = open_storage()
    url = await storage.url("a.txt", expires_in=timedelta(minutes=5))
    _verify(url, google, VM_ACCOUNT, clock)
    sign = [r for r in google.requests if r.path.endswith(":signBlob")]
    assert sign[0].path == f"/v1/projects/-/serviceAccounts/{VM_ACCOUNT}:signBlob"
    assert storage.signing_source.principal == VM_ACCOUNT
    # The e-mail and the token are asked once; each URL is one signBlob call.
    await storage.url("a.txt")
    assert google.paths().count(METADATA + "email") == 1
    assert google.paths().count(METADATA + "token") == 1
    assert len([p for p in google.paths() if p.endswith(":signBlob")]) == 2


async def test_keyless_url_and_requests_share_one_token(
    google: FakeGoogle, open_storage: Opener
) -> None:
    storage = open_storage()
    await storage.info("a")
    await storage.url("a")
    assert google.paths().count(METADATA + "token") == 1


async def test_keyless_post_policy_is_signed_by_signblob(
    google: FakeGoogle, open_storage: Opener
) -> None:
    url, fields = await open_storage().signed_post_policy("up.txt")
    assert url == f"{google.origin}/bkt"
    assert fields["x-goog-credential"].startswith(f"{VM_ACCOUNT}/")
    google.keys[VM_ACCOUNT].public_key().verify(
        bytes.fromhex(fields["x-goog-signature"]),
        fields["policy"].encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


async def test_signblob_without_the_cloud_platform_scope_is_a_permission_error(
    google: FakeGoogle, open_storage: Opener
) -> None:
    google.metadata_scopes = frozenset({READ_WRITE})  # a VM without "full access to APIs"
    with pytest.raises(StoragePermissionError, match="signBlob") as caught:
        await open_storage().url("a")
    assert caught.value.status == 403
    assert google.refusals == [
        "token lacks the scope (https://www.googleapis.com/auth/cloud-platform)"
    ]


# ----------------------------------------------------------------------------- secrets
async def test_tokens_never_reach_logs_reprs_or_errors(
    google: FakeGoogle, open_storage: Opener, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    storage = open_storage()
    await storage.info("a")
    await storage.url("a")
    clock.now += timedelta(minutes=59)
    google.metadata_mode = "fail"
    with pytest.raises(StorageServerError) as caught:
        await storage.info("a")
    texts = [
        log_text(caplog.records),
        exception_text(caught.value),
        repr(storage),
        repr(storage.config),
        str(storage.credential_source),
        repr(storage.credential_source),
        str(storage.signing_source),
    ]
    assert google.tokens, "tokens were handed out"
    assert_hidden(list(google.tokens), *texts)
