"""``MemoryStorage``: the executable specification of the contract, and the testing backend.

Everything lives in a dict in this process. Every async method is a checkpoint, so code tested
against it sees the same cancellation points as against a real backend.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import itertools
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import anyio.lowlevel

from litestar_storages._chunks import CHUNK_SIZE, PutData, aiter_chunks, check_data, data_length
from litestar_storages._protocol import BaseStorage, PartsArg
from litestar_storages._stream import ByteStream
from litestar_storages._types import (
    DEFAULT_PART_SIZE,
    MultipartUpload,
    StoredFile,
    validate_key,
    validate_prefix,
)
from litestar_storages.exceptions import (
    StorageConfigurationError,
    StorageFileExistsError,
    StorageFileNotFoundError,
    StoragePreconditionFailedError,
    StorageQuotaExceededError,
)
from litestar_storages.progress import ProgressCallback, ProgressReporter

__all__ = ["MemoryConfig", "MemoryStorage"]


@dataclass(frozen=True)
class MemoryConfig:
    """Configuration of :class:`MemoryStorage`.

    Attributes:
        max_size: Total bytes the storage may hold (``None``: unlimited). A write that would
            exceed it raises ``StorageQuotaExceededError`` and changes nothing.
    """

    max_size: int | None = None

    def __post_init__(self) -> None:
        if self.max_size is not None and self.max_size < 0:
            raise StorageConfigurationError("max_size must not be negative", backend="memory")


@dataclass
class _Entry:
    data: bytes
    content_type: str | None
    metadata: dict[str, str]
    etag: str
    last_modified: datetime

    def stored_file(self, key: str) -> StoredFile:
        return StoredFile(
            key=key,
            size=len(self.data),
            content_type=self.content_type,
            etag=self.etag,
            last_modified=self.last_modified,
            metadata=dict(self.metadata),
        )


@dataclass
class _PendingUpload:
    key: str
    content_type: str | None
    metadata: dict[str, str]
    parts: dict[int, tuple[bytes, str]] = field(default_factory=dict)


class _Chunks:
    """The chunk source behind ``get``: a view of the object as it was at the first read.

    A class rather than an async generator, so a stream dropped without ``aclose()`` holds
    nothing that needs finalising (trio warns about abandoned async generators).
    """

    __slots__ = ("_key", "_offset", "_range", "_reporter", "_storage", "_view")

    def __init__(
        self, storage: MemoryStorage, key: str, byte_range: slice, reporter: ProgressReporter
    ) -> None:
        self._storage = storage
        self._key = key
        self._range = byte_range
        self._reporter = reporter
        self._view: memoryview | None = None
        self._offset = 0

    async def __anext__(self) -> bytes:
        await anyio.lowlevel.checkpoint()
        if self._view is None:
            entry = self._storage._objects.get(self._key)
            if entry is None:
                raise self._storage._missing(self._key)
            self._view = memoryview(entry.data)[self._range]
            self._reporter.total_bytes = self._view.nbytes
        if self._offset >= self._view.nbytes:
            raise StopAsyncIteration
        chunk = bytes(self._view[self._offset : self._offset + CHUNK_SIZE])
        self._offset += len(chunk)
        return chunk

    async def aclose(self) -> None:
        self._offset = self._view.nbytes if self._view is not None else 0
        self._view = memoryview(b"")


class MemoryStorage(BaseStorage):
    """Objects kept in a dict in this process: for tests and development.

    Differences from the contract: nothing survives the process; ``url()`` returns a
    ``memory://`` URL that only identifies the object; multipart parts have no minimum size.
    """

    backend_name = "memory"

    def __init__(self, config: MemoryConfig | None = None) -> None:
        self.config = config or MemoryConfig()
        self._objects: dict[str, _Entry] = {}
        self._uploads: dict[str, _PendingUpload] = {}
        self._upload_ids = itertools.count(1)
        self._size = 0

    def __repr__(self) -> str:
        return f"MemoryStorage(objects={len(self._objects)}, max_size={self.config.max_size})"

    # ------------------------------------------------------------------ helpers
    def _missing(self, key: str) -> StorageFileNotFoundError:
        return StorageFileNotFoundError(f"file not found: {key}", key=key, backend="memory")

    def _reserve(self, key: str, new_size: int) -> None:
        """Check the size limit for replacing ``key`` with ``new_size`` bytes."""
        limit = self.config.max_size
        if limit is None:
            return
        old = self._objects.get(key)
        projected = self._size - (len(old.data) if old else 0) + new_size
        if projected > limit:
            raise StorageQuotaExceededError(
                f"storing {new_size} bytes would exceed max_size={limit}",
                key=key,
                backend="memory",
            )

    def _store(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str | None,
        metadata: Mapping[str, str] | None,
        etag: str,
        overwrite: bool,
    ) -> StoredFile:
        # No await between the checks and the write: create-only is race-free on one loop.
        if not overwrite and key in self._objects:
            raise StorageFileExistsError(f"file exists: {key}", key=key, backend="memory")
        self._reserve(key, len(data))
        old = self._objects.get(key)
        self._size += len(data) - (len(old.data) if old else 0)
        entry = _Entry(
            data=data,
            content_type=content_type,
            metadata=dict(metadata or {}),
            etag=etag,
            last_modified=datetime.now(timezone.utc),
        )
        self._objects[key] = entry
        return entry.stored_file(key)

    # ------------------------------------------------------------------ contract
    async def put(
        self,
        key: str,
        data: PutData,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        progress_callback: ProgressCallback | None = None,
        overwrite: bool = True,
    ) -> StoredFile:
        """Store ``data`` under ``key`` (see :meth:`BaseStorage.put`)."""
        validate_key(key, backend="memory")
        check_data(data)
        await anyio.lowlevel.checkpoint()
        reporter = ProgressReporter(
            progress_callback, key=key, operation="upload", total_bytes=data_length(data)
        )
        await reporter.start()
        if not overwrite and key in self._objects:
            raise StorageFileExistsError(f"file exists: {key}", key=key, backend="memory")
        buffer = bytearray()
        limit = self.config.max_size
        async with contextlib.aclosing(aiter_chunks(data)) as chunks:
            async for chunk in chunks:
                buffer += chunk
                if limit is not None:
                    self._reserve(key, len(buffer))  # fail early, before buffering past the limit
                await reporter.advance(len(chunk))
        body = bytes(buffer)
        return self._store(
            key,
            body,
            content_type=content_type,
            metadata=metadata,
            etag=hashlib.md5(body, usedforsecurity=False).hexdigest(),
            overwrite=overwrite,
        )

    def get(
        self,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> ByteStream:
        """Stream the object; ``start``/``end`` select the byte range [start, end)."""
        validate_key(key, backend="memory")
        reporter = ProgressReporter(progress_callback, key=key, operation="download")
        return ByteStream(_Chunks(self, key, slice(start, end), reporter), progress=reporter)

    async def delete(self, key: str) -> None:
        """Delete ``key``; a missing key is not an error."""
        validate_key(key, backend="memory")
        await anyio.lowlevel.checkpoint()
        entry = self._objects.pop(key, None)
        if entry is not None:
            self._size -= len(entry.data)

    async def exists(self, key: str) -> bool:
        """Whether ``key`` exists."""
        validate_key(key, backend="memory")
        await anyio.lowlevel.checkpoint()
        return key in self._objects

    async def list(
        self, prefix: str = "", *, limit: int | None = None
    ) -> AsyncIterator[StoredFile]:
        """Objects under ``prefix`` in key order; ``limit=0`` yields nothing."""
        validate_prefix(prefix, backend="memory")
        if limit is not None and limit < 0:
            raise StorageConfigurationError("limit must not be negative", backend="memory")
        await anyio.lowlevel.checkpoint()
        keys = sorted(k for k in self._objects if k.startswith(prefix))
        for key in keys[:limit] if limit is not None else keys:
            entry = self._objects.get(key)
            if entry is not None:  # deleted while we were iterating
                yield entry.stored_file(key)
            await anyio.lowlevel.checkpoint()

    async def url(self, key: str, *, expires_in: timedelta | None = None) -> str:
        """A ``memory://`` URL naming the object (it cannot be fetched)."""
        validate_key(key, backend="memory")
        await anyio.lowlevel.checkpoint()
        return f"memory://{quote(key, safe='/')}"

    async def copy(self, source: str, destination: str) -> StoredFile:
        """Copy ``source`` to ``destination``, metadata included."""
        validate_key(source, backend="memory")
        validate_key(destination, backend="memory")
        await anyio.lowlevel.checkpoint()
        entry = self._objects.get(source)
        if entry is None:
            raise self._missing(source)
        return self._store(
            destination,
            entry.data,
            content_type=entry.content_type,
            metadata=entry.metadata,
            etag=entry.etag,
            overwrite=True,
        )

    async def info(self, key: str) -> StoredFile:
        """The object's metadata."""
        validate_key(key, backend="memory")
        await anyio.lowlevel.checkpoint()
        entry = self._objects.get(key)
        if entry is None:
            raise self._missing(key)
        return entry.stored_file(key)

    async def close(self) -> None:
        """Nothing to release; the objects stay until the storage is garbage-collected."""
        await anyio.lowlevel.checkpoint()

    # ------------------------------------------------------------------ multipart
    async def start_multipart_upload(
        self,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> MultipartUpload:
        """Begin a multipart upload."""
        validate_key(key, backend="memory")
        self._check_part_size(part_size, key)
        await anyio.lowlevel.checkpoint()
        upload_id = f"memory-upload-{next(self._upload_ids)}"
        self._uploads[upload_id] = _PendingUpload(
            key=key, content_type=content_type, metadata=dict(metadata or {})
        )
        return MultipartUpload(
            upload_id=upload_id,
            key=key,
            part_size=part_size,
            content_type=content_type,
            metadata=dict(metadata or {}),
        )

    def _pending(self, upload: MultipartUpload) -> _PendingUpload:
        pending = self._uploads.get(upload.upload_id)
        if pending is None or pending.key != upload.key:
            raise StorageFileNotFoundError(
                f"no such multipart upload: {upload.upload_id}",
                key=upload.key,
                backend="memory",
                code="NoSuchUpload",
            )
        return pending

    async def upload_part(
        self, upload: MultipartUpload, part_number: int, data: bytes | bytearray | memoryview
    ) -> str:
        """Upload one part and return its ETag (the part's MD5)."""
        self._check_part_number(upload, part_number)
        await anyio.lowlevel.checkpoint()
        pending = self._pending(upload)
        body = bytes(data)
        etag = hashlib.md5(body, usedforsecurity=False).hexdigest()
        pending.parts[part_number] = (body, etag)
        upload.add_part(part_number, etag)
        return etag

    async def complete_multipart_upload(
        self, upload: MultipartUpload, parts: PartsArg = None, *, overwrite: bool = True
    ) -> StoredFile:
        """Assemble the parts; the ETag is S3-style: MD5 of the part digests, ``-N``."""
        await anyio.lowlevel.checkpoint()
        pending = self._pending(upload)
        chosen = self._resolve_parts(upload, parts)
        if not chosen:
            raise StoragePreconditionFailedError(
                "a multipart upload needs at least one part", key=upload.key, backend="memory"
            )
        bodies: builtins.list[bytes] = []
        digests = hashlib.md5(usedforsecurity=False)
        for number, etag in chosen:
            stored = pending.parts.get(number)
            if stored is None or stored[1] != etag.strip('"'):
                raise StoragePreconditionFailedError(
                    f"part {number} was not uploaded with ETag {etag!r}",
                    key=upload.key,
                    backend="memory",
                    code="InvalidPart",
                )
            bodies.append(stored[0])
            digests.update(bytes.fromhex(stored[1]))
        result = self._store(
            upload.key,
            b"".join(bodies),
            content_type=pending.content_type,
            metadata=pending.metadata,
            etag=f"{digests.hexdigest()}-{len(chosen)}",
            overwrite=overwrite,
        )
        del self._uploads[upload.upload_id]
        return result

    async def abort_multipart_upload(self, upload: MultipartUpload) -> None:
        """Discard the upload and its parts; aborting twice is not an error."""
        await anyio.lowlevel.checkpoint()
        self._uploads.pop(upload.upload_id, None)
