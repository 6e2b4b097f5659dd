"""Put, get, delete, exists, overwrite and create-only writes."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest

from conformance.support import async_chunks, keys, payload, read_all
from litestar_storages import (
    BaseStorage,
    Storage,
    StorageError,
    StorageFileExistsError,
    StoredFile,
)

pytestmark = pytest.mark.anyio


async def test_storage_satisfies_the_storage_protocol(storage: BaseStorage) -> None:
    assert isinstance(storage, Storage)


async def test_new_storage_is_empty(storage: BaseStorage) -> None:
    assert await keys(storage) == []


async def test_put_then_get_bytes_returns_the_same_bytes(storage: BaseStorage) -> None:
    body = payload(3000)
    await storage.put("doc.bin", body)
    assert await storage.get_bytes("doc.bin") == body


async def test_put_returns_stored_file_with_key_and_size(storage: BaseStorage) -> None:
    stored = await storage.put("reports/q1.csv", b"a,b\n1,2\n")
    assert isinstance(stored, StoredFile)
    assert stored.key == "reports/q1.csv"
    assert stored.size == 8


async def test_streamed_get_yields_the_stored_bytes(storage: BaseStorage) -> None:
    body = payload(2_500_000)
    await storage.put("big.bin", body)
    assert await read_all(storage.get("big.bin")) == body


async def test_exists_is_true_after_put_and_false_before(storage: BaseStorage) -> None:
    assert not await storage.exists("a.txt")
    await storage.put("a.txt", b"x")
    assert await storage.exists("a.txt")


async def test_delete_removes_the_object(storage: BaseStorage) -> None:
    await storage.put("a.txt", b"x")
    await storage.delete("a.txt")
    assert not await storage.exists("a.txt")
    assert await keys(storage) == []


async def test_delete_leaves_other_objects_alone(storage: BaseStorage) -> None:
    await storage.put("dir/a.txt", b"a")
    await storage.put("dir/b.txt", b"b")
    await storage.delete("dir/a.txt")
    assert await keys(storage) == ["dir/b.txt"]
    assert await storage.get_bytes("dir/b.txt") == b"b"


async def test_put_overwrites_existing_content(storage: BaseStorage) -> None:
    await storage.put("a.txt", b"first version, longer")
    await storage.put("a.txt", b"second")
    assert await storage.get_bytes("a.txt") == b"second"
    assert (await storage.info("a.txt")).size == 6


async def test_zero_byte_put_stores_an_empty_object(storage: BaseStorage) -> None:
    stored = await storage.put("empty", b"")
    assert stored.size == 0
    assert await storage.exists("empty")
    assert (await storage.info("empty")).size == 0


async def test_get_bytes_of_an_empty_object_is_empty(storage: BaseStorage) -> None:
    await storage.put("empty", b"")
    assert await storage.get_bytes("empty") == b""


async def test_streamed_get_of_an_empty_object_yields_no_bytes(storage: BaseStorage) -> None:
    await storage.put("empty", b"")
    assert await read_all(storage.get("empty")) == b""


async def test_empty_async_stream_stores_an_empty_object(storage: BaseStorage) -> None:
    await storage.put("empty", async_chunks(b"", 10))
    assert await storage.get_bytes("empty") == b""


async def test_concurrent_puts_of_different_keys_all_land(storage: BaseStorage) -> None:
    bodies = {f"k{i:02d}": payload(100 + i, seed=i) for i in range(20)}
    async with anyio.create_task_group() as tg:
        for key, body in bodies.items():
            tg.start_soon(storage.put, key, body)
    assert await keys(storage) == sorted(bodies)
    for key, body in bodies.items():
        assert await storage.get_bytes(key) == body


# --------------------------------------------------------------------------- create-only
async def test_create_only_put_stores_a_new_key(storage: BaseStorage) -> None:
    await storage.put("new.txt", b"v1", overwrite=False)
    assert await storage.get_bytes("new.txt") == b"v1"


async def test_create_only_put_on_existing_key_raises_file_exists(storage: BaseStorage) -> None:
    await storage.put("a.txt", b"original")
    with pytest.raises(StorageFileExistsError) as caught:
        await storage.put("a.txt", b"replacement", overwrite=False)
    assert isinstance(caught.value, FileExistsError)
    assert caught.value.key == "a.txt"


async def test_create_only_put_on_existing_key_keeps_old_content(storage: BaseStorage) -> None:
    await storage.put("a.txt", b"original", content_type="text/plain", metadata={"v": "1"})
    with pytest.raises(StorageFileExistsError):
        await storage.put("a.txt", b"replacement", metadata={"v": "2"}, overwrite=False)
    assert await storage.get_bytes("a.txt") == b"original"
    assert (await storage.info("a.txt")).metadata == {"v": "1"}


async def test_create_only_put_of_a_stream_on_existing_key_keeps_old_content(
    storage: BaseStorage,
) -> None:
    await storage.put("a.bin", b"original")
    body = payload(300_000)
    with pytest.raises(StorageFileExistsError):
        await storage.put("a.bin", async_chunks(body, 50_000), overwrite=False)
    assert await storage.get_bytes("a.bin") == b"original"


async def test_concurrent_create_only_puts_have_exactly_one_winner(storage: BaseStorage) -> None:
    contenders = 8
    winners: list[bytes] = []
    losers: list[StorageError] = []

    async def contend(index: int) -> None:
        body = f"writer {index} ".encode() * 5000
        try:
            await storage.put("lock", async_chunks(body, 7000), overwrite=False)
        except StorageFileExistsError as exc:
            losers.append(exc)
        else:
            winners.append(body)

    async with anyio.create_task_group() as tg:
        for index in range(contenders):
            tg.start_soon(contend, index)
    assert len(winners) == 1
    assert len(losers) == contenders - 1
    assert await storage.get_bytes("lock") == winners[0]


# --------------------------------------------------------------------------- lifecycle
@pytest.mark.usefixtures("storage")  # empties the location afterwards (cloud backends)
async def test_storage_is_an_async_context_manager_returning_itself(
    open_again: Callable[[], BaseStorage],
) -> None:
    store = open_again()
    async with store as entered:
        assert entered is store
        await entered.put("a.txt", b"x")
        assert await entered.get_bytes("a.txt") == b"x"


@pytest.mark.usefixtures("storage")
async def test_close_is_idempotent(open_again: Callable[[], BaseStorage]) -> None:
    store = open_again()
    await store.close()
    await store.close()
