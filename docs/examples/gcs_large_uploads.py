"""Large objects in bounded memory: a streamed put (resumable upload), put_large, and the
explicit multipart API with parts uploaded concurrently.

    STORAGE_EMULATOR_HOST=http://127.0.0.1:4443 GCS_BUCKET=my-bucket python gcs_large_uploads.py
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import anyio

from litestar_storages import GCSConfig, GCSStorage, ProgressInfo

MIB = 1024 * 1024


async def generate(total: int, piece: int = MIB) -> AsyncIterator[bytes]:
    """Stand-in for a file or network stream: never held in memory at once."""
    for start in range(0, total, piece):
        yield bytes([start // piece % 256]) * min(piece, total - start)


def show(info: ProgressInfo) -> None:
    # A generator's length is unknown, so there is no percentage: report bytes and speed.
    sent, rate = info.bytes_transferred / MIB, info.bytes_per_second / MIB
    print(f"  {info.key}: {sent:5.1f} MiB sent, {rate:.0f} MiB/s")


async def main() -> None:
    config = GCSConfig(
        bucket=os.environ.get("GCS_BUCKET", "my-bucket"),
        prefix="examples/large",
        upload_chunk_size=8 * MIB,  # bigger streams become resumable uploads in 8 MiB chunks
    )
    async with GCSStorage(config) as storage:
        print("multipart strategy:", storage.multipart_strategy)

        # A stream longer than one chunk: a resumable upload that survives dropped connections.
        stored = await storage.put("video.bin", generate(20 * MIB), content_type="video/mp4")
        print("streamed put:", stored.size, "bytes")

        # put_large: parts uploaded in parallel through the multipart API, with progress.
        backup = await storage.put_large(
            "backup.tar", generate(24 * MIB), part_size=8 * MIB, progress_callback=show
        )
        print("put_large:", backup.size, "bytes")

        # The explicit multipart API: parts in any order, concurrently.
        upload = await storage.start_multipart_upload("dataset.bin", part_size=5 * MIB)
        parts = [bytes([n]) * 5 * MIB for n in range(3)]
        async with anyio.create_task_group() as tg:
            for number, body in enumerate(parts, 1):
                tg.start_soon(storage.upload_part, upload, number, body)
        stored = await storage.complete_multipart_upload(upload)
        print("multipart:", stored.size, "bytes from", len(parts), "parts")

        for key in ("video.bin", "backup.tar", "dataset.bin"):
            await storage.delete(key)


if __name__ == "__main__":
    anyio.run(main)
