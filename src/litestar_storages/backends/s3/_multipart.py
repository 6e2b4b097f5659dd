"""S3 multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
AbortMultipartUpload and ListParts behind ``S3Storage``'s multipart methods.

Part sizes are checked before any request where they can be (S3 "Multipart upload limits":
5 MiB minimum for every part but the last, at most 10,000 parts): the part size at start, a
short part when the total is known, and every recorded size before completing. Sizes are
remembered per upload id in the storage (``MultipartUpload`` stays a plain serialisable value);
``resume`` rebuilds them from ListParts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from litestar_storages._types import MultipartUpload, StoredFile
from litestar_storages.backends.s3 import client
from litestar_storages.exceptions import (
    StorageConfigurationError,
    StorageError,
    StoragePreconditionFailedError,
)

if TYPE_CHECKING:
    from litestar_storages._http.send import Sender
    from litestar_storages._protocol import PartsArg
    from litestar_storages.backends._s3_xml import ListedPart, PartsPage
    from litestar_storages.backends.s3.config import S3Endpoint
    from litestar_storages.backends.s3.storage import S3Storage

__all__ = ["abort", "complete", "list_parts", "resume", "start", "upload_part"]


async def start(
    storage: S3Storage,
    key: str,
    *,
    content_type: str | None,
    metadata: Mapping[str, str] | None,
    part_size: int,
) -> MultipartUpload:
    """CreateMultipartUpload, with the final object's content type and metadata."""
    full = storage._full(key)
    storage._check_part_size(part_size, key)
    upload_id = await storage._call(
        lambda s, ep: client.create_multipart_upload(
            s, ep, full, content_type=content_type, metadata=metadata
        )
    )
    storage._part_sizes[upload_id] = {}
    return MultipartUpload(
        upload_id=upload_id,
        key=key,
        part_size=part_size,
        content_type=content_type,
        metadata=dict(metadata or {}),
    )


async def upload_part(
    storage: S3Storage,
    upload: MultipartUpload,
    part_number: int,
    data: bytes | bytearray | memoryview,
) -> str:
    """UploadPart; returns the part's ETag (and records it on ``upload``)."""
    from litestar_storages.backends.s3.storage import payload_digests

    storage._check_part_number(upload, part_number)
    full = storage._full(upload.key)
    body = data if isinstance(data, bytes) else bytes(data)
    total = upload.total_parts
    minimum = storage.min_part_size
    if total is not None and part_number < total and len(body) < minimum:
        raise StorageConfigurationError(
            f"part {part_number} of {total} is {len(body)} bytes; every part but the last "
            f"must be at least {minimum} bytes",
            key=upload.key,
            backend="s3",
        )
    sha_hex, _, _ = await payload_digests(body, unsigned=storage.config.unsigned_payload)
    result = await storage._call(
        lambda s, ep: client.upload_part(
            s,
            ep,
            full,
            body,
            upload_id=upload.upload_id,
            part_number=part_number,
            payload_sha256=sha_hex,
        )
    )
    if not result.etag:
        raise StorageError("UploadPart returned no ETag", key=upload.key, backend="s3")
    upload.add_part(part_number, result.etag)
    storage._part_sizes.setdefault(upload.upload_id, {})[part_number] = len(body)
    return result.etag


async def complete(
    storage: S3Storage, upload: MultipartUpload, parts: PartsArg, *, overwrite: bool
) -> StoredFile:
    """CompleteMultipartUpload, then HeadObject for the final size and ETag (radosgw answers
    with an empty ETag)."""
    full = storage._full(upload.key)
    chosen = storage._resolve_parts(upload, parts)
    if not chosen:
        raise StoragePreconditionFailedError(
            "a multipart upload needs at least one part", key=upload.key, backend="s3"
        )
    sizes = storage._part_sizes.get(upload.upload_id, {})
    for number, _ in chosen[:-1]:
        size = sizes.get(number)
        if size is not None and size < storage.min_part_size:
            raise StorageConfigurationError(
                f"part {number} is {size} bytes; every part but the last must be at least "
                f"{storage.min_part_size} bytes",
                key=upload.key,
                backend="s3",
            )
    ep = await storage._ready()
    conditional = not overwrite and await storage._refuse_existing(
        upload.key, bool(ep.traits.conditional_complete)
    )
    try:
        await storage._call(
            lambda s, ep: client.complete_multipart_upload(
                s, ep, full, upload.upload_id, chosen, if_none_match=conditional
            )
        )
    except StoragePreconditionFailedError as exc:
        if not conditional:
            raise
        raise storage._exists_error(upload.key, exc) from exc.__cause__
    storage._part_sizes.pop(upload.upload_id, None)
    return await storage.info(upload.key)


async def abort(storage: S3Storage, upload: MultipartUpload) -> None:
    """AbortMultipartUpload (a missing upload is not an error)."""
    full = storage._full(upload.key)
    await storage._call(lambda s, ep: client.abort_multipart_upload(s, ep, full, upload.upload_id))
    storage._part_sizes.pop(upload.upload_id, None)


async def list_parts(storage: S3Storage, upload: MultipartUpload) -> list[ListedPart]:
    """Every page of ListParts."""
    full = storage._full(upload.key)
    parts: list[ListedPart] = []
    marker: int | None = None
    while True:

        async def page_of(s: Sender, ep: S3Endpoint, m: int | None = marker) -> PartsPage:
            return await client.list_parts(s, ep, full, upload.upload_id, part_number_marker=m)

        page = await storage._call(page_of)
        parts.extend(page.parts)
        if not page.is_truncated or page.next_part_number_marker is None:
            return parts
        marker = page.next_part_number_marker


async def resume(storage: S3Storage, upload: MultipartUpload) -> MultipartUpload:
    """Refresh ``upload.parts`` (and the recorded sizes) from ListParts."""
    parts = await list_parts(storage, upload)
    upload.parts = [(p.part_number, p.etag) for p in parts]
    storage._part_sizes[upload.upload_id] = {p.part_number: p.size for p in parts}
    return upload
