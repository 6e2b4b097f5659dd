"""Server-side copy of objects over CopyObject's 5 GiB limit: UploadPartCopy per byte range.

S3 "Copying objects": objects larger than 5 GiB must be copied with the multipart API, each
part copied server-side from a range of the source (``x-amz-copy-source-range``). Parts are
copied concurrently inside a task group; on any failure the upload is aborted so no orphaned
parts remain; the first failure is raised as itself (``_concurrency.task_group``).
"""

from __future__ import annotations

import contextlib
import math
from typing import TYPE_CHECKING

import anyio

from litestar_storages._concurrency import task_group
from litestar_storages._types import MultipartUpload
from litestar_storages.backends.s3 import client

if TYPE_CHECKING:
    from litestar_storages.backends.s3.storage import S3Storage

__all__ = ["copy_in_parts", "copy_part_size", "part_ranges"]

_MIN_COPY_PART = 512 * 1024 * 1024
_MAX_PARTS = 10_000


def copy_part_size(size: int, minimum: int = _MIN_COPY_PART) -> int:
    """A part size that copies ``size`` bytes in at most 10,000 parts."""
    return max(minimum, math.ceil(size / _MAX_PARTS))


def part_ranges(size: int, part_size: int) -> list[tuple[int, int, int]]:
    """``(part_number, first_byte, last_byte)`` covering ``size`` bytes (inclusive ranges)."""
    count = max(1, math.ceil(size / part_size))
    return [(n + 1, n * part_size, min(size, (n + 1) * part_size) - 1) for n in range(count)]


async def copy_in_parts(
    storage: S3Storage,
    source: str,
    destination: str,
    head: client.ObjectHead,
    *,
    part_size: int | None = None,
) -> str | None:
    """Copy ``source`` to ``destination`` (full keys) part by part; returns the new ETag."""
    size = part_size or copy_part_size(head.size)
    upload_id = await storage._call(
        lambda s, ep: client.create_multipart_upload(
            s, ep, destination, content_type=head.content_type, metadata=head.metadata
        )
    )
    upload = MultipartUpload(upload_id=upload_id, key=destination, part_size=size)
    limiter = anyio.Semaphore(storage.multipart_concurrency)

    async def copy_one(number: int, first: int, last: int) -> None:
        async with limiter:
            result = await storage._call(
                lambda s, ep: client.upload_part_copy(
                    s,
                    ep,
                    destination,
                    source,
                    upload_id=upload_id,
                    part_number=number,
                    first_byte=first,
                    last_byte=last,
                    source_etag=head.etag,
                )
            )
        upload.add_part(number, result.etag or "")

    try:
        async with task_group() as tg:
            for number, first, last in part_ranges(head.size, size):
                tg.start_soon(copy_one, number, first, last)
        return await storage._call(
            lambda s, ep: client.complete_multipart_upload(
                s, ep, destination, upload_id, sorted(upload.parts)
            )
        )
    except BaseException:
        # Shielded, and its own failure ignored: the original failure matters more.
        with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
            await storage._call(
                lambda s, ep: client.abort_multipart_upload(s, ep, destination, upload_id)
            )
        raise
