"""Against Ceph radosgw, which verifies SigV4 header signatures and presigned URLs.

Started by ``make test`` (``scripts/emulators.sh up``); the variables are read when this module
is imported, before the suite's fixtures scrub ``LITESTAR_STORAGES_*`` from the environment.
Without them these tests are skipped with the reason, except under ``CI=true``, where that is
a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from litestar_storages.backends.s3 import S3Config, S3Storage
from litestar_storages.exceptions import StoragePermissionError

pytestmark = pytest.mark.anyio

_PREFIX = "LITESTAR_STORAGES_S3_RADOSGW_"
_ENV = {
    name: os.environ.get(_PREFIX + name, "")
    for name in ("ENDPOINT", "BUCKET", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY")
}
_MISSING = [_PREFIX + name for name, value in _ENV.items() if not value]
_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

TRICKY_KEYS = ["plain.txt", "dir/a b+c.txt", "ünïcode/ñ ü", "sym!$&'()*,;=@.bin", "x/%25/~tilde"]


def test_radosgw_tier_can_run() -> None:
    """Says loudly why the signature tier did not run; fails under CI=true."""
    if _MISSING:
        reason = (
            f"radosgw tier NOT RUN: set {', '.join(_MISSING)} (scripts/emulators.sh up, as root)"
        )
        if _CI:
            pytest.fail(reason)
        pytest.skip(reason)


needs_radosgw = pytest.mark.skipif(
    bool(_MISSING), reason="radosgw not configured (see test_radosgw_tier_can_run)"
)


def make(*, secret: str | None = None, clock: object = None) -> S3Storage:
    return S3Storage(
        S3Config(
            bucket=_ENV["BUCKET"],
            endpoint_url=_ENV["ENDPOINT"],
            access_key_id=_ENV["ACCESS_KEY_ID"],
            secret_access_key=secret or _ENV["SECRET_ACCESS_KEY"],
            prefix=f"radosgw-tests/{uuid.uuid4().hex}/",
            provider="ceph",
        ),
        clock=clock,  # type: ignore[arg-type]
    )


@pytest.fixture
async def storage() -> AsyncIterator[S3Storage]:
    opened = make()
    async with opened:
        yield opened
        async for stored in opened.list():
            await opened.delete(stored.key)


@needs_radosgw
async def test_a_wrong_secret_is_rejected() -> None:
    async with make(secret="not-the-secret") as storage:
        with pytest.raises(StoragePermissionError) as caught:
            await storage.put("k", b"x")
    assert caught.value.code == "SignatureDoesNotMatch"
    assert caught.value.status == 403


@needs_radosgw
async def test_an_unknown_access_key_is_rejected() -> None:
    storage = S3Storage(
        S3Config(
            bucket=_ENV["BUCKET"],
            endpoint_url=_ENV["ENDPOINT"],
            access_key_id="UNKNOWNKEY0000000000",
            secret_access_key="x",
        )
    )
    async with storage:
        with pytest.raises(StoragePermissionError) as caught:
            await storage.exists("k")
    assert caught.value.status == 403


@needs_radosgw
@pytest.mark.parametrize("key", TRICKY_KEYS)
async def test_presigned_get_of_a_tricky_key_is_accepted(storage: S3Storage, key: str) -> None:
    await storage.put(key, b"payload of " + key.encode())
    url = await storage.url(key, content_disposition='attachment; filename="x y.bin"')
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200, response.text
    assert response.content == b"payload of " + key.encode()
    assert response.headers["content-disposition"] == 'attachment; filename="x y.bin"'


@needs_radosgw
@pytest.mark.parametrize("key", TRICKY_KEYS)
async def test_presigned_put_of_a_tricky_key_is_accepted(storage: S3Storage, key: str) -> None:
    url = await storage.url(key, method="PUT", content_type="text/plain")
    async with httpx.AsyncClient() as client:
        response = await client.put(
            url, content=b"uploaded", headers={"content-type": "text/plain"}
        )
    assert response.status_code == 200, response.text
    info = await storage.info(key)
    assert (info.size, info.content_type) == (8, "text/plain")


@needs_radosgw
async def test_a_presigned_put_with_another_content_type_is_refused(storage: S3Storage) -> None:
    url = await storage.url("k", method="PUT", content_type="text/plain")
    async with httpx.AsyncClient() as client:
        response = await client.put(url, content=b"x", headers={"content-type": "image/png"})
    assert response.status_code == 403


@needs_radosgw
async def test_a_tampered_presigned_url_is_refused(storage: S3Storage) -> None:
    await storage.put("k", b"secret data")
    url = await storage.url("k")
    signature = url.rsplit("X-Amz-Signature=", 1)[1]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    tampered = [
        url.replace(signature, flipped),
        url.replace("/k?", "/k2?"),
        url.replace("X-Amz-Expires=3600", "X-Amz-Expires=3601"),
    ]
    async with httpx.AsyncClient() as client:
        for candidate in tampered:
            response = await client.get(candidate)
            assert response.status_code == 403, candidate.split("?")[0]
            assert b"secret data" not in response.content


@needs_radosgw
async def test_an_expired_presigned_url_is_refused(storage: S3Storage) -> None:
    await storage.put("k", b"secret data")
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    past = make(clock=lambda: an_hour_ago)
    past.config.prefix = storage.config.prefix
    url = await past.url("k", expires_in=60)
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 403
    assert b"secret data" not in response.content


@needs_radosgw
async def test_an_unsigned_request_for_a_private_object_is_refused(storage: S3Storage) -> None:
    await storage.put("k", b"secret data")
    url = (await storage.url("k")).split("?", 1)[0]
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 403


@needs_radosgw
async def test_a_presigned_post_form_upload_is_accepted(storage: S3Storage) -> None:
    form = await storage.presigned_post(
        "forms/${filename}", content_type="text/plain", max_size=1024, expires_in=300
    )
    async with httpx.AsyncClient() as client:
        response = await client.post(
            form["url"],
            data=form["fields"],
            files={"file": ("report 1.txt", b"posted by a browser", "text/plain")},
        )
    assert response.status_code in (200, 201, 204), response.text
    assert await storage.get_bytes("forms/report 1.txt") == b"posted by a browser"


@needs_radosgw
async def test_a_presigned_post_over_the_size_limit_is_refused(storage: S3Storage) -> None:
    form = await storage.presigned_post("forms/big", max_size=10, expires_in=300)
    async with httpx.AsyncClient() as client:
        response = await client.post(
            form["url"], data=form["fields"], files={"file": ("big", b"x" * 100)}
        )
    assert response.status_code in (400, 403)
    assert not await storage.exists("forms/big")


@needs_radosgw
async def test_unsigned_payload_uploads_are_accepted() -> None:
    # radosgw verifies the signature over "UNSIGNED-PAYLOAD" for single and multipart uploads.
    config = S3Config(
        bucket=_ENV["BUCKET"],
        endpoint_url=_ENV["ENDPOINT"],
        access_key_id=_ENV["ACCESS_KEY_ID"],
        secret_access_key=_ENV["SECRET_ACCESS_KEY"],
        prefix=f"radosgw-tests/{uuid.uuid4().hex}/",
        provider="ceph",
        unsigned_payload=True,
    )
    body = os.urandom(11 * 1024 * 1024)  # two parts of the default 8 MiB
    async with S3Storage(config) as storage:
        await storage.put("single", b"small body")
        await storage.put("multi", body)
        assert await storage.get_bytes("single") == b"small body"
        assert await storage.get_bytes("multi") == body
        await storage.delete("single")
        await storage.delete("multi")
