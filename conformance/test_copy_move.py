"""Copy (an independent object, metadata included) and move (the source is gone)."""

from __future__ import annotations

import pytest

from conformance.support import keys, payload
from litestar_storages import BaseStorage, StoredFile

pytestmark = pytest.mark.anyio

METADATA = {"author": "alice"}


async def test_copy_creates_destination_with_the_same_bytes(storage: BaseStorage) -> None:
    body = payload(5000)
    await storage.put("src.bin", body)
    await storage.copy("src.bin", "dst.bin")
    assert await storage.get_bytes("dst.bin") == body


async def test_copy_keeps_the_source(storage: BaseStorage) -> None:
    await storage.put("src.bin", b"data")
    await storage.copy("src.bin", "dst.bin")
    assert await storage.get_bytes("src.bin") == b"data"
    assert await keys(storage) == ["dst.bin", "src.bin"]


async def test_copy_returns_the_destination_stored_file(storage: BaseStorage) -> None:
    await storage.put("src.bin", b"data")
    copied = await storage.copy("src.bin", "dir/dst.bin")
    assert isinstance(copied, StoredFile)
    assert copied.key == "dir/dst.bin"
    assert copied.size == 4


async def test_copy_carries_content_type_and_metadata(storage: BaseStorage) -> None:
    await storage.put("src.txt", b"data", content_type="text/plain", metadata=METADATA)
    await storage.copy("src.txt", "dst.txt")
    info = await storage.info("dst.txt")
    assert info.content_type == "text/plain"
    assert info.metadata == METADATA


async def test_copy_is_independent_of_later_writes_to_the_source(storage: BaseStorage) -> None:
    await storage.put("src.txt", b"original", metadata={"v": "1"})
    await storage.copy("src.txt", "dst.txt")
    await storage.put("src.txt", b"changed", metadata={"v": "2"})
    assert await storage.get_bytes("dst.txt") == b"original"
    assert (await storage.info("dst.txt")).metadata == {"v": "1"}


async def test_copy_survives_deletion_of_the_source(storage: BaseStorage) -> None:
    await storage.put("src.txt", b"original")
    await storage.copy("src.txt", "dst.txt")
    await storage.delete("src.txt")
    assert await storage.get_bytes("dst.txt") == b"original"


async def test_writes_to_the_copy_leave_the_source_alone(storage: BaseStorage) -> None:
    await storage.put("src.txt", b"original")
    await storage.copy("src.txt", "dst.txt")
    await storage.put("dst.txt", b"changed")
    assert await storage.get_bytes("src.txt") == b"original"


async def test_copy_overwrites_an_existing_destination(storage: BaseStorage) -> None:
    await storage.put("src.txt", b"new", content_type="text/plain", metadata={"v": "new"})
    await storage.put("dst.txt", b"old content", metadata={"v": "old"})
    await storage.copy("src.txt", "dst.txt")
    assert await storage.get_bytes("dst.txt") == b"new"
    assert (await storage.info("dst.txt")).metadata == {"v": "new"}


async def test_copy_into_a_new_nested_directory(storage: BaseStorage) -> None:
    await storage.put("src.txt", b"x")
    await storage.copy("src.txt", "deep/er/dst.txt")
    assert await keys(storage) == ["deep/er/dst.txt", "src.txt"]


async def test_move_puts_the_bytes_at_the_destination(storage: BaseStorage) -> None:
    body = payload(5000)
    await storage.put("old.bin", body)
    await storage.move("old.bin", "new.bin")
    assert await storage.get_bytes("new.bin") == body


async def test_move_removes_the_source(storage: BaseStorage) -> None:
    await storage.put("old.bin", b"x")
    await storage.move("old.bin", "new.bin")
    assert not await storage.exists("old.bin")
    assert await keys(storage) == ["new.bin"]


async def test_move_returns_the_destination_stored_file(storage: BaseStorage) -> None:
    await storage.put("old.bin", b"xyz")
    moved = await storage.move("old.bin", "new.bin")
    assert moved.key == "new.bin"
    assert moved.size == 3


async def test_move_carries_content_type_and_metadata(storage: BaseStorage) -> None:
    await storage.put("old.txt", b"x", content_type="text/plain", metadata=METADATA)
    await storage.move("old.txt", "new.txt")
    info = await storage.info("new.txt")
    assert info.content_type == "text/plain"
    assert info.metadata == METADATA


async def test_move_onto_itself_keeps_the_file(storage: BaseStorage) -> None:
    await storage.put("same.txt", b"keep me", metadata=METADATA)
    moved = await storage.move("same.txt", "same.txt")
    assert moved.key == "same.txt"
    assert await storage.get_bytes("same.txt") == b"keep me"
    assert (await storage.info("same.txt")).metadata == METADATA


async def test_move_overwrites_an_existing_destination(storage: BaseStorage) -> None:
    await storage.put("old.txt", b"new")
    await storage.put("new.txt", b"to be replaced")
    await storage.move("old.txt", "new.txt")
    assert await storage.get_bytes("new.txt") == b"new"
    assert await keys(storage) == ["new.txt"]
