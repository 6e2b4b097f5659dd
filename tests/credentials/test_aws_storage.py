"""S3Storage with the default chain on (fake) AWS compute: instance profile, container role,
web identity; the cache's windows, single flight, first success kept, region discovery."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from litestar_storages.backends.s3 import S3Config, S3Storage
from litestar_storages.backends.s3.credentials import default_chain
from litestar_storages.exceptions import StorageConfigurationError, StorageServerError

from ._aws import ACCOUNT, IRSA_SUBJECT, FakeAws
from ._support import Clock, assert_hidden, exception_text, log_text

pytestmark = pytest.mark.anyio

ROLE = f"arn:aws:iam::{ACCOUNT}:role/uploader"
CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/app-instance-role"
Opener = Callable[..., S3Storage]


@pytest.fixture
async def open_storage(
    aws: FakeAws, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Opener]:
    """Storages whose S3 is the fake (path-style); IMDS is the fake too."""
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", aws.origin)
    opened: list[S3Storage] = []

    def open_(**fields: Any) -> S3Storage:
        fields.setdefault("bucket", "bkt")
        fields.setdefault("endpoint_url", aws.origin)
        fields.setdefault("region", "us-east-1")
        transport = fields.pop("transport_factory", None)
        storage = S3Storage(S3Config(**fields), clock=clock, transport_factory=transport)
        opened.append(storage)
        return storage

    yield open_
    for storage in opened:
        await storage.close()


def test_the_default_chain_is_botocores_order() -> None:
    chain = default_chain(
        access_key_id=None, secret_access_key=None, session_token=None, profile=None, environ={}
    )
    assert chain.describe() == [
        "explicit",
        "environment",
        "assume-role",
        "web-identity",
        "shared-files",
        "credential-process",
        "container",
        "instance-metadata",
    ]


async def test_the_instance_profile_signs_requests(aws: FakeAws, open_storage: Opener) -> None:
    storage = open_storage()
    before = storage.credential_source  # nothing resolved before the first request
    assert await storage.get_bytes("k") == b"hello"
    assert (before, storage.credential_source) == (None, "instance-metadata")
    s3 = aws.requests[-1]
    assert s3.headers["x-amz-security-token"].startswith("FwoG")
    assert aws.refusals == []  # the fake checked the SigV4 signature and the token


async def test_concurrent_first_requests_fetch_credentials_once(
    aws: FakeAws, open_storage: Opener
) -> None:
    storage = open_storage()
    async with anyio.create_task_group() as tg:
        for n in range(20):
            tg.start_soon(storage.get_bytes, f"k{n}")
    assert aws.paths("GET").count(CREDENTIALS_PATH) == 1
    assert aws.paths("PUT") == ["/latest/api/token"]


async def test_advisory_window_tolerates_a_failure_and_mandatory_does_not(
    aws: FakeAws, open_storage: Opener, clock: Clock
) -> None:
    storage = open_storage()
    await storage.get_bytes("k")
    clock.now += timedelta(minutes=46)  # 14 minutes left
    aws.imds_mode = "fail"
    assert await storage.get_bytes("k") == b"hello"  # the old credentials still serve
    clock.now += timedelta(minutes=5)  # 9 minutes left
    with pytest.raises(StorageServerError):
        await storage.get_bytes("k")
    aws.imds_mode = "ok"
    assert await storage.get_bytes("k") == b"hello"


async def test_the_first_source_that_answers_is_kept_for_refreshes(
    aws: FakeAws, open_storage: Opener, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both the container endpoint and IMDS are there: the container comes first in the chain,
    # and its refresh goes back to it without walking the chain again.
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{aws.origin}/creds")
    storage = open_storage()
    await storage.get_bytes("k")
    clock.now += timedelta(minutes=55)
    await storage.get_bytes("k")
    assert storage.credential_source == "container"
    assert aws.paths() == ["/creds", "/bkt/k", "/creds", "/bkt/k"]


async def test_a_hanging_imds_does_not_hang_the_first_request(
    aws: FakeAws, open_storage: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws.imds_mode = "hang"
    monkeypatch.setenv("AWS_METADATA_SERVICE_TIMEOUT", "0.2")
    started = time.monotonic()
    with pytest.raises(StorageConfigurationError, match="no S3 credentials found"):
        await open_storage().get_bytes("k")
    assert time.monotonic() - started < 3


async def test_web_identity_credentials_sign_requests(
    aws: FakeAws, open_storage: Opener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws.roles[ROLE] = {IRSA_SUBJECT}
    token_file = tmp_path / "token"
    token_file.write_text(aws.web_identity_token())
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("AWS_ROLE_ARN", ROLE)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", aws.origin)
    storage = open_storage()
    assert await storage.get_bytes("k") == b"hello"
    assert storage.credential_source == "web-identity"
    assert aws.paths() == ["/", "/bkt/k"]  # STS, then S3: IMDS never asked
    assert aws.refusals == []


async def test_the_region_comes_from_imds_when_none_is_configured(
    aws: FakeAws, open_storage: Opener
) -> None:
    seen: list[str] = []

    def s3(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return httpx.Response(200, content=b"hello")

    storage = open_storage(
        endpoint_url=None,
        region=None,
        transport_factory=lambda _options: httpx.MockTransport(s3),
    )
    assert await storage.get_bytes("k") == b"hello"
    assert seen == ["bkt.s3.eu-west-1.amazonaws.com"]
    assert storage.endpoint.region == "eu-west-1"


async def test_no_secret_reaches_logs_reprs_or_errors(
    aws: FakeAws,
    open_storage: Opener,
    clock: Clock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    storage = open_storage()
    await storage.get_bytes("k")
    await storage.url("k")
    clock.now += timedelta(minutes=55)
    aws.imds_mode = "fail"
    with pytest.raises(StorageServerError) as caught:
        await storage.get_bytes("k")
    secrets = [
        *(issued.secret for issued in aws.keys.values()),
        *(issued.token for issued in aws.keys.values() if issued.token),
        *aws.imds_tokens,
    ]
    texts = [
        log_text(caplog.records),
        exception_text(caught.value),
        repr(storage),
        repr(storage.config),
        str(storage.credential_source),
    ]
    assert_hidden(secrets, *texts)
