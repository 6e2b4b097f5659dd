"""The ``Storage`` protocol and ``BaseStorage``, the behaviour written once for every backend.

Backends implement the primitive operations; ``BaseStorage`` supplies ``get_bytes``, ``move``,
the ``put_large`` orchestration on top of the multipart calls (parallel parts, bounded memory,
progress, abort on failure) and the streamed ``put`` used by the cloud backends (one request for
small bodies, multipart above one part).
"""

from __future__ import annotations

import builtins
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar, runtime_checkable

import anyio

from litestar_storages._chunks import (
    CHUNK_SIZE,
    PutData,
    aiter_chunks,
    aiter_parts,
    check_data,
    data_length,
    is_bytes_like,
)
from litestar_storages._concurrency import task_group
from litestar_storages._types import (
    DEFAULT_PART_SIZE,
    PUT_LARGE_PART_SIZE,
    MultipartUpload,
    StoredFile,
    validate_key,
)
from litestar_storages.exceptions import (
    StorageConfigurationError,
    StorageError,
    StorageUnsupportedOperationError,
)
from litestar_storages.progress import ProgressCallback, ProgressReporter

if TYPE_CHECKING:
    from litestar_storages._stream import ByteStream

__all__ = ["MAX_PART_NUMBER", "BaseStorage", "PartsArg", "Storage"]

logger = logging.getLogger("litestar_storages")

MAX_PART_NUMBER = 10_000
"""Highest part number S3 accepts; applied everywhere so code stays portable."""

PartsArg = Sequence[str] | Sequence[tuple[int, str]] | None
"""What ``complete_multipart_upload`` accepts as ``parts``: ETags in part order, or pairs."""

_S = TypeVar("_S", bound="BaseStorage")


@runtime_checkable
class Storage(Protocol):
    """The operations every storage backend offers.

    ``get`` and ``list`` are plain methods returning async iterators, so both
    ``async for chunk in storage.get(key)`` and an ``async def ... yield`` implementation in a
    custom backend satisfy it.
    """

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
        """Store ``data`` under ``key``; ``overwrite=False`` makes the write create-only."""
        ...

    def get(self, key: str) -> AsyncIterator[bytes]:
        """Stream the object's bytes."""
        ...

    async def get_bytes(self, key: str) -> bytes:
        """Return the whole object."""
        ...

    async def delete(self, key: str) -> None:
        """Delete the object; deleting a missing key succeeds."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether the object exists."""
        ...

    def list(self, prefix: str = "", *, limit: int | None = None) -> AsyncIterator[StoredFile]:
        """Objects whose key starts with ``prefix``, in lexicographic key order."""
        ...

    async def url(self, key: str, *, expires_in: timedelta | None = None) -> str:
        """A URL for the object (presigned on cloud backends)."""
        ...

    async def copy(self, source: str, destination: str) -> StoredFile:
        """Copy an object, server-side where the provider can."""
        ...

    async def move(self, source: str, destination: str) -> StoredFile:
        """Move an object."""
        ...

    async def info(self, key: str) -> StoredFile:
        """The object's metadata, without its body."""
        ...

    async def close(self) -> None:
        """Release connections and other resources."""
        ...


class BaseStorage(ABC):
    """Base class of the bundled backends; custom backends may use it too.

    Subclasses implement ``put``, ``get``, ``delete``, ``exists``, ``list``, ``url``, ``copy``,
    ``info`` and the four multipart primitives; everything else is built here on top of them.
    """

    backend_name: ClassVar[str] = "custom"
    """Short name used in errors and logs."""

    min_part_size: ClassVar[int] = 1
    """Smallest part the backend accepts for every part but the last."""

    multipart_concurrency: int = 4
    """Parts uploaded at once by ``put_large`` and streamed ``put``."""

    # ------------------------------------------------------------------ primitives
    @abstractmethod
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
        """Store ``data`` under ``key``.

        Args:
            key: Where to store it.
            data: bytes-like, a sync or async iterator of bytes, or a file-like object.
            content_type: MIME type to record.
            metadata: User metadata to record (string keys and values).
            progress_callback: Called (sync or async) as bytes are sent.
            overwrite: ``False`` makes the write create-only.

        Raises:
            StorageFileExistsError: ``overwrite=False`` and the key exists.
            StorageInvalidKeyError: The key is invalid.
            TypeError: ``data`` is of an unsupported type (before any I/O).
        """

    @abstractmethod
    def get(self, key: str) -> ByteStream:
        """Stream the object's bytes (nothing is requested until the first chunk is awaited).

        Raises:
            StorageFileNotFoundError: On the first chunk, when the key does not exist.
        """

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Delete the object. Deleting a missing key succeeds."""

    @abstractmethod
    async def exists(self, key: str) -> bool:
        """Whether the object exists. Failures other than "not there" raise."""

    @abstractmethod
    def list(self, prefix: str = "", *, limit: int | None = None) -> AsyncIterator[StoredFile]:
        """Objects whose key starts with ``prefix``, in lexicographic order, page by page."""

    @abstractmethod
    async def url(self, key: str, *, expires_in: timedelta | None = None) -> str:
        """A URL for the object."""

    @abstractmethod
    async def copy(self, source: str, destination: str) -> StoredFile:
        """Copy ``source`` to ``destination``, overwriting it.

        Raises:
            StorageFileNotFoundError: ``source`` does not exist.
        """

    @abstractmethod
    async def info(self, key: str) -> StoredFile:
        """The object's metadata.

        Raises:
            StorageFileNotFoundError: The key does not exist.
        """

    async def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release resources. Idempotent."""

    # ------------------------------------------------------------------ multipart primitives
    async def start_multipart_upload(
        self,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> MultipartUpload:
        """Begin a multipart upload; parts may then be uploaded concurrently in any order."""
        raise StorageUnsupportedOperationError(
            "multipart uploads are not supported", key=key, backend=self.backend_name
        )

    async def upload_part(
        self, upload: MultipartUpload, part_number: int, data: bytes | bytearray | memoryview
    ) -> str:
        """Upload one part (1-based ``part_number``) and return its ETag."""
        raise StorageUnsupportedOperationError(
            "multipart uploads are not supported", key=upload.key, backend=self.backend_name
        )

    async def complete_multipart_upload(
        self, upload: MultipartUpload, parts: PartsArg = None, *, overwrite: bool = True
    ) -> StoredFile:
        """Assemble the uploaded parts into the final object.

        ``parts`` may be omitted (the parts recorded on ``upload`` are used), a list of ETags
        in part order (as returned by ``upload_part`` for parts 1, 2, ...), or
        ``(part_number, etag)`` pairs.
        """
        raise StorageUnsupportedOperationError(
            "multipart uploads are not supported", key=upload.key, backend=self.backend_name
        )

    async def abort_multipart_upload(self, upload: MultipartUpload) -> None:
        """Abandon the upload and remove every part uploaded so far."""
        raise StorageUnsupportedOperationError(
            "multipart uploads are not supported", key=upload.key, backend=self.backend_name
        )

    # ------------------------------------------------------------------ written once
    async def get_bytes(self, key: str) -> bytes:
        """Return the whole object.

        Raises:
            StorageFileNotFoundError: The key does not exist.
        """
        return await self.get(key).read()

    async def move(self, source: str, destination: str) -> StoredFile:
        """Move ``source`` to ``destination`` (copy, then delete the source).

        Moving a key onto itself leaves the object in place.

        Raises:
            StorageFileNotFoundError: ``source`` does not exist.
        """
        validate_key(source, backend=self.backend_name)
        validate_key(destination, backend=self.backend_name)
        if source == destination:
            return await self.info(source)
        stored = await self.copy(source, destination)
        await self.delete(source)
        return stored

    async def put_large(
        self,
        key: str,
        data: PutData,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        part_size: int = PUT_LARGE_PART_SIZE,
        progress_callback: ProgressCallback | None = None,
    ) -> StoredFile:
        """Upload through the multipart API: parts in parallel, memory bounded by
        ``part_size`` x ``multipart_concurrency``; on any failure the upload is aborted so no
        orphaned parts remain.
        """
        validate_key(key, backend=self.backend_name)
        check_data(data)
        self._check_part_size(part_size, key)
        reporter = ProgressReporter(
            progress_callback, key=key, operation="upload", total_bytes=data_length(data)
        )
        await reporter.start()
        parts = aiter_parts(aiter_chunks(data, min(CHUNK_SIZE, part_size)), part_size)
        async with contextlib.aclosing(parts):
            return await self._multipart_from_parts(
                key,
                parts,
                first=[],
                content_type=content_type,
                metadata=metadata,
                part_size=part_size,
                reporter=reporter,
                overwrite=True,
            )

    async def __aenter__(self: _S) -> _S:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------ helpers for backends
    def _check_part_size(self, part_size: int, key: str) -> None:
        if part_size < self.min_part_size:
            raise StorageConfigurationError(
                f"part_size {part_size} is below this backend's minimum of {self.min_part_size}",
                key=key,
                backend=self.backend_name,
            )

    def _check_part_number(self, upload: MultipartUpload, part_number: int) -> None:
        if not 1 <= part_number <= MAX_PART_NUMBER:
            raise StorageConfigurationError(
                f"part_number must be between 1 and {MAX_PART_NUMBER}, not {part_number}",
                key=upload.key,
                backend=self.backend_name,
            )

    @staticmethod
    def _resolve_parts(upload: MultipartUpload, parts: PartsArg) -> builtins.list[tuple[int, str]]:
        """Normalise ``complete_multipart_upload``'s ``parts`` to sorted (number, etag) pairs."""
        if parts is None:
            chosen = dict(upload.parts)
        else:
            chosen = {}
            for index, item in enumerate(parts, start=1):
                if isinstance(item, str):
                    chosen[index] = item
                else:
                    number, etag = item
                    chosen[int(number)] = str(etag)
        return sorted(chosen.items())

    async def _put_object(
        self,
        key: str,
        body: bytes,
        *,
        content_type: str | None,
        metadata: Mapping[str, str] | None,
        overwrite: bool,
    ) -> StoredFile:
        """Store a body that is already in memory in one request (cloud backends override)."""
        raise StorageUnsupportedOperationError(
            "single-request put is not implemented", key=key, backend=self.backend_name
        )

    async def _put_streamed(
        self,
        key: str,
        data: PutData,
        *,
        content_type: str | None,
        metadata: Mapping[str, str] | None,
        progress_callback: ProgressCallback | None,
        overwrite: bool,
        part_size: int,
    ) -> StoredFile:
        """The cloud backends' ``put``: one request up to ``part_size``, multipart above.

        In-memory bodies of known size go straight to ``_put_object``; streams are read one
        part ahead to decide, so memory stays bounded by the parts in flight.
        """
        validate_key(key, backend=self.backend_name)
        check_data(data)
        reporter = ProgressReporter(
            progress_callback, key=key, operation="upload", total_bytes=data_length(data)
        )
        await reporter.start()
        if is_bytes_like(data) and data_length(data) is not None:
            body = data if isinstance(data, bytes) else bytes(data)  # type: ignore[arg-type]
            if len(body) <= part_size:
                stored = await self._put_object(
                    key, body, content_type=content_type, metadata=metadata, overwrite=overwrite
                )
                await reporter.advance(len(body))
                return stored
        parts = aiter_parts(aiter_chunks(data, min(CHUNK_SIZE, part_size)), part_size)
        async with contextlib.aclosing(parts):
            first = await anext(parts, b"")
            second = await anext(parts, None)
            if second is None:
                stored = await self._put_object(
                    key, first, content_type=content_type, metadata=metadata, overwrite=overwrite
                )
                await reporter.advance(len(first))
                return stored
            return await self._multipart_from_parts(
                key,
                parts,
                first=[first, second],
                content_type=content_type,
                metadata=metadata,
                part_size=part_size,
                reporter=reporter,
                overwrite=overwrite,
            )

    async def _multipart_from_parts(
        self,
        key: str,
        parts: AsyncIterator[bytes],
        *,
        first: builtins.list[bytes],
        content_type: str | None,
        metadata: Mapping[str, str] | None,
        part_size: int,
        reporter: ProgressReporter,
        overwrite: bool,
    ) -> StoredFile:
        upload = await self.start_multipart_upload(
            key, content_type=content_type, metadata=metadata, part_size=part_size
        )
        try:
            await self._upload_all_parts(upload, parts, first, reporter)
            return await self.complete_multipart_upload(upload, overwrite=overwrite)
        except BaseException:
            await self._abort_quietly(upload)
            raise

    async def _upload_all_parts(
        self,
        upload: MultipartUpload,
        parts: AsyncIterator[bytes],
        first: builtins.list[bytes],
        reporter: ProgressReporter,
    ) -> None:
        # A slot is taken *before* the next part is read, so at most `multipart_concurrency`
        # parts are in memory (plus the one being assembled by aiter_parts).
        limiter = anyio.Semaphore(max(1, self.multipart_concurrency))
        pending = list(first)

        async def upload_one(number: int, body: bytes) -> None:
            try:
                etag = await self.upload_part(upload, number, body)
                upload.add_part(number, etag)
                await reporter.advance(len(body))
            finally:
                limiter.release()

        number = 0
        async with task_group() as tg:
            while True:
                await limiter.acquire()
                if pending:
                    body: bytes | None = pending.pop(0)
                else:
                    body = await anext(parts, None)
                if body is None:
                    limiter.release()
                    break
                number += 1
                tg.start_soon(upload_one, number, body)
        if number == 0:
            # Every provider needs at least one part; an empty object is one empty part.
            upload.add_part(1, await self.upload_part(upload, 1, b""))
        upload.total_parts = max(number, 1)

    async def _abort_quietly(self, upload: MultipartUpload) -> None:
        with anyio.CancelScope(shield=True):
            try:
                await self.abort_multipart_upload(upload)
            except StorageError as exc:
                # The original failure matters more; the provider's lifecycle rules or a later
                # abort can still remove the parts.
                logger.warning(
                    "could not abort multipart upload for %r on %s: %s",
                    upload.key,
                    self.backend_name,
                    exc,
                )

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
