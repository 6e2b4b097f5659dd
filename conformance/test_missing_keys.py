"""Missing keys: a typed not-found error (also a ``FileNotFoundError``) naming the key.

``delete`` is the exception: deleting a missing key succeeds on every backend.
"""

from __future__ import annotations

import pytest

from conformance.support import keys
from litestar_storages import BaseStorage, StorageFileNotFoundError

pytestmark = pytest.mark.anyio


async def test_get_of_missing_key_raises_not_found_on_first_iteration(
    storage: BaseStorage,
) -> None:
    stream = storage.get("missing.txt")  # no I/O yet, so nothing to raise
    with pytest.raises(StorageFileNotFoundError):
        await stream.__anext__()


async def test_get_of_missing_key_closes_the_stream(storage: BaseStorage) -> None:
    stream = storage.get("missing.txt")
    with pytest.raises(StorageFileNotFoundError):
        await stream.__anext__()
    assert stream.closed


async def test_get_bytes_of_missing_key_raises_not_found(storage: BaseStorage) -> None:
    with pytest.raises(StorageFileNotFoundError):
        await storage.get_bytes("missing.txt")


async def test_info_of_missing_key_raises_not_found(storage: BaseStorage) -> None:
    with pytest.raises(StorageFileNotFoundError):
        await storage.info("missing.txt")


async def test_copy_of_missing_source_raises_not_found(storage: BaseStorage) -> None:
    with pytest.raises(StorageFileNotFoundError):
        await storage.copy("missing.txt", "copy.txt")


async def test_copy_of_missing_source_creates_no_destination(storage: BaseStorage) -> None:
    with pytest.raises(StorageFileNotFoundError):
        await storage.copy("missing.txt", "copy.txt")
    assert await keys(storage) == []


async def test_move_of_missing_source_raises_not_found(storage: BaseStorage) -> None:
    with pytest.raises(StorageFileNotFoundError):
        await storage.move("missing.txt", "moved.txt")
    assert await keys(storage) == []


async def test_not_found_error_is_a_file_not_found_error(storage: BaseStorage) -> None:
    with pytest.raises(FileNotFoundError):
        await storage.info("missing.txt")


async def test_not_found_error_names_the_key_as_given(storage: BaseStorage) -> None:
    with pytest.raises(StorageFileNotFoundError) as caught:
        await storage.get_bytes("dir/missing.txt")
    assert caught.value.key == "dir/missing.txt"


async def test_get_of_key_deleted_after_get_was_called_raises_not_found(
    storage: BaseStorage,
) -> None:
    await storage.put("a.txt", b"x")
    stream = storage.get("a.txt")
    await storage.delete("a.txt")
    with pytest.raises(StorageFileNotFoundError):
        await stream.__anext__()


async def test_delete_of_missing_key_succeeds(storage: BaseStorage) -> None:
    await storage.delete("missing.txt")
    assert not await storage.exists("missing.txt")


async def test_delete_twice_succeeds(storage: BaseStorage) -> None:
    await storage.put("a.txt", b"x")
    await storage.delete("a.txt")
    await storage.delete("a.txt")
    assert await keys(storage) == []


async def test_exists_of_missing_key_is_false(storage: BaseStorage) -> None:
    assert await storage.exists("missing.txt") is False
