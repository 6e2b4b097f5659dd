"""Getting started on trio: the same storage, concurrent uploads in a nursery.

Needs trio: ``pip install "litestar-storages[trio]"``.

Run it: ``python getting_started_trio.py``
"""

from __future__ import annotations

from pathlib import Path

import trio

from litestar_storages import FileSystemConfig, FileSystemStorage, StorageFileNotFoundError


async def main() -> None:
    async with FileSystemStorage(FileSystemConfig(path=Path("./uploads"))) as storage:

        async def save(n: int) -> None:
            await storage.put(f"notes/{n}.txt", f"note {n}".encode(), content_type="text/plain")

        async with trio.open_nursery() as nursery:  # the three uploads run concurrently
            for n in range(3):
                nursery.start_soon(save, n)

        print(await storage.get_bytes("notes/1.txt"))  # b'note 1'
        print([item.key async for item in storage.list("notes/")])

        try:
            await storage.get_bytes("notes/missing.txt")
        except StorageFileNotFoundError as exc:
            print("not found:", exc.key)


if __name__ == "__main__":
    trio.run(main)
