"""MemoryStorage specifics beyond the shared conformance suite."""

from __future__ import annotations

import hashlib

import anyio
import pytest

from litestar_storages import (
    MemoryConfig,
    MemoryStorage,
    StorageConfigurationError,
    StorageFileNotFoundError,
    StoragePreconditionFailedError,
    StorageQuotaExceededError,
)


@pytest.mark.anyio
async def test_max_size_counts_an_overwrite_as_a_replacement() -> None:
    storage = MemoryStorage(MemoryConfig(max_size=10))
    await storage.put("a", b"x" * 8)
    await storage.put("a", b"y" * 10)  # replaces 8 bytes: total 10, allowed
    assert await storage.get_bytes("a") == b"y" * 10


@pytest.mark.anyio
async def test_max_size_rejects_a_write_and_keeps_the_old_object() -> None:
    storage = MemoryStorage(MemoryConfig(max_size=10))
    await storage.put("a", b"x" * 6)
    with pytest.raises(StorageQuotaExceededError):
        await storage.put("b", b"y" * 5)
    assert not await storage.exists("b")
    await storage.delete("a")
    await storage.put("b", b"y" * 10)  # space was freed


@pytest.mark.anyio
async def test_max_size_applies_to_copies_and_multipart() -> None:
    storage = MemoryStorage(MemoryConfig(max_size=10))
    await storage.put("a", b"x" * 6)
    with pytest.raises(StorageQuotaExceededError):
        await storage.copy("a", "b")
    upload = await storage.start_multipart_upload("c")
    await storage.upload_part(upload, 1, b"z" * 5)
    with pytest.raises(StorageQuotaExceededError):
        await storage.complete_multipart_upload(upload)


def test_negative_max_size_is_a_configuration_error() -> None:
    with pytest.raises(StorageConfigurationError):
        MemoryConfig(max_size=-1)


@pytest.mark.anyio
async def test_metadata_is_copied_never_shared_by_reference() -> None:
    storage = MemoryStorage()
    metadata = {"owner": "alice"}
    stored = await storage.put("a", b"1", metadata=metadata)
    metadata["owner"] = "mallory"
    stored.metadata["owner"] = "eve"
    assert (await storage.info("a")).metadata == {"owner": "alice"}
    copy = await storage.copy("a", "b")
    copy.metadata["owner"] = "trent"
    assert (await storage.info("b")).metadata == {"owner": "alice"}


@pytest.mark.anyio
async def test_etag_is_the_unquoted_md5_of_the_content() -> None:
    storage = MemoryStorage()
    stored = await storage.put("a", b"hello")
    assert stored.etag == hashlib.md5(b"hello").hexdigest()


@pytest.mark.anyio
async def test_multipart_etag_has_the_s3_style_part_count_suffix() -> None:
    storage = MemoryStorage()
    upload = await storage.start_multipart_upload("k")
    e1 = await storage.upload_part(upload, 1, b"a")
    e2 = await storage.upload_part(upload, 2, b"b")
    stored = await storage.complete_multipart_upload(upload)
    expected = hashlib.md5(bytes.fromhex(e1) + bytes.fromhex(e2)).hexdigest()
    assert stored.etag == f"{expected}-2"


@pytest.mark.anyio
async def test_completing_with_a_wrong_etag_fails_and_keeps_the_upload() -> None:
    storage = MemoryStorage()
    upload = await storage.start_multipart_upload("k")
    await storage.upload_part(upload, 1, b"a")
    with pytest.raises(StoragePreconditionFailedError):
        await storage.complete_multipart_upload(upload, ["not-the-etag"])
    await storage.complete_multipart_upload(upload)
    assert await storage.get_bytes("k") == b"a"


@pytest.mark.anyio
async def test_a_completed_upload_cannot_be_completed_twice() -> None:
    storage = MemoryStorage()
    upload = await storage.start_multipart_upload("k")
    await storage.upload_part(upload, 1, b"a")
    await storage.complete_multipart_upload(upload)
    with pytest.raises(StorageFileNotFoundError):
        await storage.complete_multipart_upload(upload)


@pytest.mark.anyio
async def test_url_percent_encodes_the_key() -> None:
    assert await MemoryStorage().url("a dir/é#?.txt") == "memory://a%20dir/%C3%A9%23%3F.txt"


@pytest.mark.anyio
async def test_ranged_get() -> None:
    storage = MemoryStorage()
    await storage.put("k", b"0123456789")
    assert await storage.get("k", start=2, end=5).read() == b"234"
    assert await storage.get("k", start=7).read() == b"789"


@pytest.mark.anyio
async def test_every_operation_is_a_checkpoint() -> None:
    storage = MemoryStorage()
    await storage.put("k", b"v")
    # A cancelled scope makes the very first checkpoint raise: each call must reach one.
    for operation in (
        lambda: storage.exists("k"),
        lambda: storage.info("k"),
        lambda: storage.delete("nope"),
        lambda: storage.url("k"),
        lambda: storage.copy("k", "k2"),
        lambda: storage.put("k", b"v"),
    ):
        with anyio.CancelScope() as scope:
            scope.cancel()
            await operation()
            pytest.fail("operation completed inside a cancelled scope")


def test_repr_shows_size_not_contents() -> None:
    assert repr(MemoryStorage(MemoryConfig(max_size=5))) == "MemoryStorage(objects=0, max_size=5)"
