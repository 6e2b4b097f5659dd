"""Code written with anyio runs on asyncio and trio alike: mirror one storage into another,
four copies at a time, streaming each object without holding it in memory.

Run it: ``python anyio_portable.py`` (asyncio) or ``python anyio_portable.py trio``
"""

from __future__ import annotations

import sys

import anyio

from litestar_storages import FileSystemConfig, FileSystemStorage, MemoryStorage, Storage


async def mirror(source: Storage, target: Storage, prefix: str = "") -> int:
    """Copy every object under ``prefix``, with its content type and metadata."""
    limiter = anyio.CapacityLimiter(4)
    copied = 0

    async def copy_one(key: str) -> None:
        nonlocal copied
        async with limiter:
            info = await source.info(key)
            # A download stream is valid put() data: chunks flow straight through.
            await target.put(
                key, source.get(key), content_type=info.content_type, metadata=info.metadata
            )
            copied += 1

    async with anyio.create_task_group() as tg:
        async for item in source.list(prefix):
            tg.start_soon(copy_one, item.key)
    return copied


async def main() -> None:
    async with (
        FileSystemStorage(FileSystemConfig(path="./uploads")) as disk,
        MemoryStorage() as cache,
    ):
        for n in range(10):
            await disk.put(f"thumbs/{n}.png", bytes(1000 + n), content_type="image/png")
        with anyio.fail_after(30):  # a deadline on the whole job, on either event loop
            print(await mirror(disk, cache, "thumbs/"), "objects copied")
        print((await cache.info("thumbs/9.png")).content_type)  # image/png


if __name__ == "__main__":
    anyio.run(main, backend=sys.argv[1] if len(sys.argv) > 1 else "asyncio")
