"""Large uploads: streamed put, put_large with progress, and the explicit block API.

    AZURE_STORAGE_CONNECTION_STRING="UseDevelopmentStorage=true" \
    AZURE_STORAGE_CONTAINER=my-container python azure_large_uploads.py
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import anyio

from litestar_storages import AzureConfig, AzureStorage, ProgressInfo

MIB = 1024 * 1024


async def generate(total: int) -> AsyncIterator[bytes]:
    """A producer of unknown length, e.g. a request body or another storage's download."""
    for start in range(0, total, MIB):
        yield bytes([start // MIB % 256]) * min(MIB, total - start)


def show(info: ProgressInfo) -> None:
    # A generator's length is unknown, so there is no percentage: report bytes and rate.
    rate = info.bytes_per_second / MIB
    print(f"  {info.key}: {info.bytes_transferred // MIB} MiB, {rate:.0f} MiB/s")


async def main() -> None:
    config = AzureConfig(
        container=os.environ.get("AZURE_STORAGE_CONTAINER", "my-container"),
        prefix="examples/large",
        max_concurrency=4,  # blocks in flight at once: memory stays near 4 x part size
    )
    async with AzureStorage(config) as storage:
        # put() of a stream: one Put Blob up to 8 MiB, parallel Put Block + Put Block List above.
        stored = await storage.put("stream.bin", generate(20 * MIB), content_type="video/mp4")
        print("streamed put:", stored.size, "bytes")

        # put_large(): always blocks, with progress.
        stored = await storage.put_large(
            "large.bin", generate(12 * MIB), part_size=4 * MIB, progress_callback=show
        )
        print("put_large:", stored.size, "bytes")

        # The explicit API: parts in any order and in parallel, committed in part order.
        upload = await storage.start_multipart_upload("parts.bin", content_type="text/plain")
        async with anyio.create_task_group() as tg:
            for number, text in ((2, b"world\n"), (1, b"hello "), (3, b"!\n")):
                tg.start_soon(storage.upload_part, upload, number, text)
        stored = await storage.complete_multipart_upload(upload)
        print("completed:", await storage.get_bytes("parts.bin"))

        # Abort: the blob did not exist, so its uncommitted blocks are discarded.
        upload = await storage.start_multipart_upload("abandoned.bin")
        await storage.upload_part(upload, 1, b"never committed")
        await storage.abort_multipart_upload(upload)
        print("abandoned.bin exists:", await storage.exists("abandoned.bin"))

        for key in ("stream.bin", "large.bin", "parts.bin"):
            await storage.delete(key)


if __name__ == "__main__":
    anyio.run(main)
