"""GCSStorage against fake-gcs-server (``scripts/emulators.sh up``): the docs examples, the
filestore seed's create-only GCS usage, signed URLs fetched with plain HTTP, and the upload
paths the conformance suite does not stress (resumable sessions, compose trees).

Needs ``LITESTAR_STORAGES_GCS_ENDPOINT`` and ``LITESTAR_STORAGES_GCS_BUCKET`` (read at import:
the unit-test fixtures scrub the environment); skipped without them, failed under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from litestar_storages import GCSConfig, GCSStorage, StorageFileExistsError

ENDPOINT = os.environ.get("LITESTAR_STORAGES_GCS_ENDPOINT", "")
BUCKET = os.environ.get("LITESTAR_STORAGES_GCS_BUCKET", "")
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
KIB = 1024

pytestmark = pytest.mark.skipif(
    not (ENDPOINT and BUCKET) and not CI,
    reason="GCS emulator tests NOT RUN: set LITESTAR_STORAGES_GCS_ENDPOINT and "
    "LITESTAR_STORAGES_GCS_BUCKET (scripts/emulators.sh up; make test does it)",
)


@pytest.fixture(autouse=True)
def _emulator_configured() -> None:
    if not (ENDPOINT and BUCKET):
        pytest.fail("CI=true but the GCS emulator variables are not set", pytrace=False)


@pytest.fixture
def key_info(service_account: dict[str, str]) -> dict[str, str]:
    return service_account


@pytest.fixture
async def storage(key_info: dict[str, str]) -> AsyncIterator[GCSStorage]:
    config = GCSConfig(
        bucket=BUCKET,
        api_root=ENDPOINT,
        anonymous=True,
        service_account_info=key_info,
        prefix=f"gcs-tests/{uuid.uuid4().hex}",
        upload_chunk_size=256 * KIB,
    )
    async with GCSStorage(config) as store:
        yield store
        for key in [item.key async for item in store.list()]:
            await store.delete(key)


# ----------------------------------------------------------------------------- docs and seeds
@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("gcs_*.py")))
def test_docs_example_runs(example: str, tmp_path: Path, key_info: dict[str, str]) -> None:
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(key_info))
    env = {
        **os.environ,
        "STORAGE_EMULATOR_HOST": ENDPOINT,
        "GCS_BUCKET": BUCKET,
        "GOOGLE_APPLICATION_CREDENTIALS": str(key_file),
    }
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / example)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.anyio
async def test_filestore_seed_gcs_config_with_create_only_writes() -> None:
    # 004_f42d634ffb614e22.txt, "Google Cloud Storage": the seed's own values, mapped onto
    # GCSConfig: destination="uploads/assets" -> prefix, GCP_BUCKET_NAME="my-gcs-bucket" ->
    # bucket, GCP_PROJECT="my-project-id" -> project, endpoint_url (emulators) -> api_root, and
    # "overwrite: False uses if_generation_match=0" -> put(..., overwrite=False).
    async with httpx.AsyncClient() as http:
        created = await http.post(
            f"{ENDPOINT}/storage/v1/b",
            params={"project": "my-project-id"},
            json={"name": "my-gcs-bucket"},
        )
    assert created.status_code in (200, 409)  # 409: an earlier run made it
    config = GCSConfig(
        bucket="my-gcs-bucket",
        project="my-project-id",
        prefix="uploads/assets",
        api_root=ENDPOINT,
        anonymous=True,  # the seed's application-default credentials: none for an emulator
    )
    key = f"logo-{uuid.uuid4().hex}.png"
    async with GCSStorage(config) as storage:
        stored = await storage.put(key, b"first", overwrite=False)
        assert stored.key == key
        with pytest.raises(StorageFileExistsError):
            await storage.put(key, b"second", overwrite=False)
        assert await storage.get_bytes(key) == b"first"
        listed = [item.key async for item in storage.list()]
        assert key in listed
        await storage.delete(key)


# ----------------------------------------------------------------------------- signed URLs
@pytest.mark.anyio
async def test_signed_put_then_get_with_a_plain_client(storage: GCSStorage) -> None:
    async with httpx.AsyncClient() as http:
        put_url = await storage.url("dir/a b#c.txt", method="PUT")
        assert (await http.put(put_url, content=b"via signed PUT")).status_code == 200
        response = await http.get(await storage.url("dir/a b#c.txt"))
    assert response.status_code == 200
    assert response.content == b"via signed PUT"


@pytest.mark.anyio
async def test_post_policy_form_upload(storage: GCSStorage) -> None:
    action, fields = await storage.signed_post_policy("form.txt")
    async with httpx.AsyncClient() as http:
        response = await http.post(action, data=fields, files={"file": ("f", b"form body")})
    assert response.status_code in (200, 201, 204)
    assert await storage.get_bytes("form.txt") == b"form body"


# ----------------------------------------------------------------------------- uploads
async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.anyio
async def test_streamed_put_over_several_resumable_chunks(storage: GCSStorage) -> None:
    data = os.urandom(900 * KIB)  # four chunks of 256 KiB, the last one short
    reports: list[int] = []
    stored = await storage.put(
        "stream.bin",
        _pieces(data, 100 * KIB),
        content_type="application/x-test",
        metadata={"k": "v"},
        progress_callback=lambda info: reports.append(info.bytes_transferred),
    )
    assert stored.size == len(data)
    assert reports[-1] == len(data)
    info = await storage.info("stream.bin")
    assert (info.content_type, info.metadata) == ("application/x-test", {"k": "v"})
    assert await storage.get_bytes("stream.bin") == data


@pytest.mark.anyio
async def test_streamed_put_of_exactly_whole_chunks(storage: GCSStorage) -> None:
    data = os.urandom(512 * KIB)
    await storage.put("even.bin", _pieces(data, 64 * KIB))
    assert await storage.get_bytes("even.bin") == data


@pytest.mark.anyio
async def test_multipart_past_32_parts_composes_a_tree_and_leaves_no_parts(
    storage: GCSStorage,
) -> None:
    upload = await storage.start_multipart_upload("tree.bin", content_type="text/plain")
    bodies = [f"part {n};".encode() for n in range(1, 41)]
    for number, body in enumerate(bodies, 1):
        await storage.upload_part(upload, number, body)
    stored = await storage.complete_multipart_upload(upload)
    assert stored.content_type == "text/plain"
    assert await storage.get_bytes("tree.bin") == b"".join(bodies)
    # list() hides the parts' namespace, so look at the bucket itself.
    page = await storage._api().objects_list(".litestar-storages-multipart/")
    assert page.items == []


@pytest.mark.anyio
async def test_directory_listing_with_prefixes(storage: GCSStorage) -> None:
    for key in ("a.txt", "d/1.txt", "d/2.txt", "e/x/y.txt"):
        await storage.put(key, b"x")
    entries = [
        entry if isinstance(entry, str) else entry.key
        async for entry in storage.list_with_prefixes()
    ]
    assert entries == ["a.txt", "d/", "e/"]


@pytest.mark.anyio
async def test_range_reads(storage: GCSStorage) -> None:
    await storage.put("r.bin", bytes(range(100)))
    assert await storage.get("r.bin", start=10, end=20).read() == bytes(range(10, 20))
    assert await storage.get("r.bin", start=95).read() == bytes(range(95, 100))
    assert await storage.get("r.bin", start=200).read() == b""
