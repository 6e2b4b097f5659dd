"""The first program: store a file, stream it back and list the storage.

Run it: ``python first_program.py``
"""

from __future__ import annotations

import anyio

from litestar_storages import FileSystemConfig, FileSystemStorage


async def main() -> None:
    async with FileSystemStorage(FileSystemConfig(path="./uploads")) as storage:
        await storage.put("hello.txt", b"Hello, World!", content_type="text/plain")
        async for chunk in storage.get("hello.txt"):
            print(chunk.decode())
        print([f.key async for f in storage.list()])


if __name__ == "__main__":
    anyio.run(main)  # or asyncio.run(main()), or trio.run(main)
