"""Testing application code with MemoryStorage: no mocks, no disk, on asyncio and trio.

Run it: ``pytest memory_pytest.py``
"""

from __future__ import annotations

import pytest

from litestar_storages import MemoryStorage, Storage, StoredFile


async def save_avatar(storage: Storage, user: str, image: bytes) -> StoredFile:
    """The code under test: written against the Storage protocol, so any backend fits."""
    return await storage.put(
        f"avatars/{user}.png", image, content_type="image/png", metadata={"user": user}
    )


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every ``@pytest.mark.anyio`` test on both event loops (anyio's pytest plugin)."""
    return str(request.param)


@pytest.fixture
def storage() -> MemoryStorage:
    """A fresh, empty storage for each test."""
    return MemoryStorage()


@pytest.mark.anyio
async def test_save_avatar_stores_the_image(storage: MemoryStorage) -> None:
    stored = await save_avatar(storage, "alice", b"\x89PNG...")
    assert stored.key == "avatars/alice.png"
    assert await storage.get_bytes("avatars/alice.png") == b"\x89PNG..."
    assert (await storage.info("avatars/alice.png")).metadata == {"user": "alice"}


@pytest.mark.anyio
async def test_save_avatar_replaces_the_previous_image(storage: MemoryStorage) -> None:
    await save_avatar(storage, "alice", b"old")
    await save_avatar(storage, "alice", b"new")
    assert [item.key async for item in storage.list("avatars/")] == ["avatars/alice.png"]
    assert await storage.get_bytes("avatars/alice.png") == b"new"
