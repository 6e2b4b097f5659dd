"""MemoryStorage: everything in a dict in this process, with an optional size limit.

Run it: ``python memory_basics.py``
"""

from __future__ import annotations

import anyio

from litestar_storages import MemoryConfig, MemoryStorage, StorageQuotaExceededError


async def main() -> None:
    storage = MemoryStorage(MemoryConfig(max_size=1024))  # at most 1 KiB in total
    stored = await storage.put(
        "avatars/alice.png", b"\x89PNG" + bytes(100), metadata={"user": "alice"}
    )
    print(stored.key, stored.size, stored.etag)  # the ETag is the MD5 of the content

    # Ranged reads: bytes [0, 4).
    print(await storage.get("avatars/alice.png", start=0, end=4).read())  # b'\x89PNG'

    # The limit makes "disk full" paths testable: the write fails and changes nothing.
    try:
        await storage.put("avatars/bob.png", bytes(2000))
    except StorageQuotaExceededError as exc:
        print("refused:", exc.key)
    print([item.key async for item in storage.list()])  # ['avatars/alice.png']

    # url() names the object; nothing can fetch it.
    print(await storage.url("avatars/alice.png"))  # memory://avatars/alice.png


if __name__ == "__main__":
    anyio.run(main)
