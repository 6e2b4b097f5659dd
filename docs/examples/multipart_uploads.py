"""Multipart uploads: parts in any order and in parallel, resume after a restart, abort,
and put_large for streams of unknown length.

Runs on the local filesystem, where parts are staged under ``.litestar-storages/uploads/``;
the same calls work on S3, GCS and Azure (whose parts must be at least 5 MiB on S3).

Run it: ``python multipart_uploads.py``
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anyio

from litestar_storages import FileSystemConfig, FileSystemStorage, MultipartUpload

MIB = 1024 * 1024


async def chunks(total: int, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    """A stream of unknown length, e.g. a request body being received."""
    for start in range(0, total, size):
        yield bytes([start // size % 256]) * min(size, total - start)


async def main() -> None:
    async with FileSystemStorage(FileSystemConfig(path="./uploads")) as storage:
        # 1. The explicit API: start, upload parts concurrently (any order), complete.
        upload = await storage.start_multipart_upload(
            "videos/intro.mp4", content_type="video/mp4", part_size=MIB
        )
        parts = {1: b"a" * MIB, 2: b"b" * MIB, 3: b"c" * 1000}  # only the last may be short
        async with anyio.create_task_group() as tg:
            for number in (3, 1, 2):
                tg.start_soon(storage.upload_part, upload, number, parts[number])
        stored = await storage.complete_multipart_upload(upload)  # parts recorded on `upload`
        print(stored.key, stored.size, stored.etag)  # ETag "<md5 of the part md5s>-3"

        # 2. Resume after a restart: the upload state is plain JSON.
        upload = await storage.start_multipart_upload("backups/db.dump", part_size=MIB)
        etag1 = await storage.upload_part(upload, 1, b"x" * MIB)
        saved = json.dumps(upload.to_dict())  # e.g. in a database row

        resumed = MultipartUpload.from_dict(json.loads(saved))  # ... in another process
        etag2 = await storage.upload_part(resumed, 2, b"y" * 10)
        stored = await storage.complete_multipart_upload(resumed, [etag1, etag2])  # ETags in order
        print(stored.key, stored.size)

        # 3. Abort: the uploaded parts are removed and nothing is stored.
        upload = await storage.start_multipart_upload("tmp/abandoned.bin")
        await storage.upload_part(upload, 1, b"never completed")
        await storage.abort_multipart_upload(upload)
        print(await storage.exists("tmp/abandoned.bin"))  # False

        # 4. put_large: cut a stream into parts and upload them for you; on any failure
        # the upload is aborted, so no orphaned parts remain.
        stored = await storage.put_large("logs/big.log", chunks(3 * MIB), part_size=MIB)
        print(stored.key, stored.size)


if __name__ == "__main__":
    anyio.run(main)
