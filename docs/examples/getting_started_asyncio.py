"""Getting started on asyncio: concurrent uploads with asyncio.gather, reads, errors.

Run it: ``python getting_started_asyncio.py``
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from litestar_storages import FileSystemConfig, FileSystemStorage, StorageFileNotFoundError


async def main() -> None:
    storage = FileSystemStorage(FileSystemConfig(path=Path("./uploads")))
    async with storage:  # closes the storage on exit
        # Every operation is a coroutine: three uploads run concurrently.
        await asyncio.gather(
            *(
                storage.put(f"notes/{n}.txt", f"note {n}".encode(), content_type="text/plain")
                for n in range(3)
            )
        )
        print(await storage.get_bytes("notes/1.txt"))  # b'note 1'

        info = await storage.info("notes/1.txt")  # metadata only, no body
        print(info.key, info.size, info.content_type)  # notes/1.txt 6 text/plain

        try:
            await storage.get_bytes("notes/missing.txt")
        except StorageFileNotFoundError as exc:  # also a FileNotFoundError
            print("not found:", exc.key)


if __name__ == "__main__":
    asyncio.run(main())
