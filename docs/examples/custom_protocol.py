"""Implementing the ``Storage`` protocol directly: no base class, just the methods.

``ReadOnlyStorage`` wraps any storage and refuses writes: hand it to code that must only read.

Run it: ``python custom_protocol.py``
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import timedelta

import anyio

from litestar_storages import (
    MemoryStorage,
    ProgressCallback,
    Storage,
    StoragePermissionError,
    StoredFile,
)


class ReadOnlyStorage:
    """Reads go to the wrapped storage; writes raise ``StoragePermissionError``."""

    def __init__(self, inner: Storage) -> None:
        self._inner = inner

    def _refuse(self, key: str) -> StoragePermissionError:
        return StoragePermissionError("this storage is read-only", key=key, backend="read-only")

    async def put(
        self,
        key: str,
        data: object,  # anything: nothing is written
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        progress_callback: ProgressCallback | None = None,
        overwrite: bool = True,
    ) -> StoredFile:
        raise self._refuse(key)

    async def delete(self, key: str) -> None:
        raise self._refuse(key)

    async def copy(self, source: str, destination: str) -> StoredFile:
        raise self._refuse(destination)

    async def move(self, source: str, destination: str) -> StoredFile:
        raise self._refuse(source)

    def get(self, key: str) -> AsyncIterator[bytes]:
        return self._inner.get(key)

    async def get_bytes(self, key: str) -> bytes:
        return await self._inner.get_bytes(key)

    async def exists(self, key: str) -> bool:
        return await self._inner.exists(key)

    def list(self, prefix: str = "", *, limit: int | None = None) -> AsyncIterator[StoredFile]:
        return self._inner.list(prefix, limit=limit)

    async def url(self, key: str, *, expires_in: timedelta | None = None) -> str:
        return await self._inner.url(key, expires_in=expires_in)

    async def info(self, key: str) -> StoredFile:
        return await self._inner.info(key)

    async def close(self) -> None:
        pass  # the wrapped storage belongs to whoever created it


async def total_size(storage: Storage, prefix: str) -> int:
    """Code written against the protocol accepts any implementation."""
    return sum([item.size async for item in storage.list(prefix)])


async def main() -> None:
    inner = MemoryStorage()
    await inner.put("reports/q1.csv", b"region,total\n")
    reports = ReadOnlyStorage(inner)

    print(isinstance(reports, Storage))  # True: the protocol is @runtime_checkable
    print(await total_size(reports, "reports/"))  # 13
    try:
        await reports.delete("reports/q1.csv")
    except StoragePermissionError as exc:  # also a PermissionError
        print("refused:", exc.key)


if __name__ == "__main__":
    anyio.run(main)
