"""A custom backend on ``BaseStorage``: objects kept in a dict, complete enough to pass the
conformance suite (see ``custom_conformance.py``).

Replace each dict operation with a call to your service. ``BaseStorage`` supplies the rest:
``get_bytes``, ``move``, ``put_large`` (parts in parallel, bounded memory, abort on failure),
``async with`` and ``close``; ``_put_streamed`` turns every accepted kind of ``data`` into one
``_put_object`` call (small bodies) or a multipart upload (large ones), with progress.

Run it: ``python custom_backend.py``
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import anyio
import anyio.lowlevel

from litestar_storages import (
    BaseStorage,
    ByteStream,
    MultipartUpload,
    PartsArg,
    ProgressCallback,
    PutData,
    StorageFileExistsError,
    StorageFileNotFoundError,
    StoragePreconditionFailedError,
    StoredFile,
    validate_key,
    validate_prefix,
)

CHUNK = 64 * 1024


@dataclass
class Entry:
    data: bytes
    content_type: str | None
    metadata: dict[str, str]
    etag: str
    last_modified: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def stored_file(self, key: str) -> StoredFile:
        return StoredFile(
            key=key,
            size=len(self.data),
            content_type=self.content_type,
            etag=self.etag,
            last_modified=self.last_modified,
            metadata=dict(self.metadata),
        )


class Chunks:
    """What ``get`` streams from. A class rather than an ``async def`` generator: a stream
    abandoned after ``break`` then holds nothing that must be finalised later."""

    def __init__(self, storage: DictStorage, key: str) -> None:
        self._storage, self._key = storage, key
        self._data: bytes | None = None
        self._offset = 0

    async def __anext__(self) -> bytes:
        await anyio.lowlevel.checkpoint()
        if self._data is None:  # the object is looked up on the first read, not by get()
            self._data = self._storage.entry(self._key).data
        if self._offset >= len(self._data):
            raise StopAsyncIteration
        chunk = self._data[self._offset : self._offset + CHUNK]
        self._offset += len(chunk)
        return chunk

    async def aclose(self) -> None:
        self._data, self._offset = b"", 0  # release the buffer (a connection, in a real one)


class DictStorage(BaseStorage):
    backend_name = "dict"  # used in errors and logs
    min_part_size = 1  # smallest multipart part but the last (S3: 5 MiB)

    def __init__(self, *, part_size: int = 1024 * 1024) -> None:
        self.part_size = part_size
        self._objects: dict[str, Entry] = {}
        self._uploads: dict[str, dict[int, bytes]] = {}

    def entry(self, key: str) -> Entry:
        entry = self._objects.get(key)
        if entry is None:
            raise StorageFileNotFoundError(f"not found: {key}", key=key, backend="dict")
        return entry

    # ---------------------------------------------------------------- writes
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
        if not overwrite:  # fail before reading the caller's stream
            validate_key(key, backend="dict")
            if key in self._objects:
                raise StorageFileExistsError(f"exists: {key}", key=key, backend="dict")
        return await self._put_streamed(
            key,
            data,
            content_type=content_type,
            metadata=metadata,
            progress_callback=progress_callback,
            overwrite=overwrite,
            part_size=self.part_size,
        )

    async def _put_object(
        self,
        key: str,
        body: bytes,
        *,
        content_type: str | None,
        metadata: Mapping[str, str] | None,
        overwrite: bool,
    ) -> StoredFile:
        """One request storing a body that is in memory: your service's "put object"."""
        await anyio.lowlevel.checkpoint()
        etag = hashlib.md5(body, usedforsecurity=False).hexdigest()
        return self._store(key, Entry(body, content_type, dict(metadata or {}), etag), overwrite)

    def _store(self, key: str, entry: Entry, overwrite: bool) -> StoredFile:
        if not overwrite and key in self._objects:  # a conditional write on a real service
            raise StorageFileExistsError(f"exists: {key}", key=key, backend="dict")
        self._objects[key] = entry
        return entry.stored_file(key)

    async def copy(self, source: str, destination: str) -> StoredFile:
        validate_key(source, backend="dict")
        validate_key(destination, backend="dict")
        await anyio.lowlevel.checkpoint()
        original = self.entry(source)
        copied = Entry(original.data, original.content_type, dict(original.metadata), original.etag)
        return self._store(destination, copied, overwrite=True)

    async def delete(self, key: str) -> None:
        validate_key(key, backend="dict")
        await anyio.lowlevel.checkpoint()
        self._objects.pop(key, None)  # deleting a missing key is not an error

    # ---------------------------------------------------------------- reads
    def get(self, key: str) -> ByteStream:
        validate_key(key, backend="dict")  # invalid keys fail here; missing ones on first read
        return ByteStream(Chunks(self, key))

    async def exists(self, key: str) -> bool:
        validate_key(key, backend="dict")
        await anyio.lowlevel.checkpoint()
        return key in self._objects

    async def info(self, key: str) -> StoredFile:
        validate_key(key, backend="dict")
        await anyio.lowlevel.checkpoint()
        return self.entry(key).stored_file(key)

    async def list(
        self, prefix: str = "", *, limit: int | None = None
    ) -> AsyncIterator[StoredFile]:
        validate_prefix(prefix, backend="dict")
        await anyio.lowlevel.checkpoint()
        keys = sorted(k for k in self._objects if k.startswith(prefix))  # lexicographic order
        for key in keys if limit is None else keys[:limit]:
            if key in self._objects:  # deleted while we were listing
                yield self._objects[key].stored_file(key)

    async def url(self, key: str, *, expires_in: timedelta | None = None) -> str:
        validate_key(key, backend="dict")
        await anyio.lowlevel.checkpoint()
        return f"dict://{quote(key, safe='/')}"  # a presigned URL on a real service

    # ---------------------------------------------------------------- multipart
    async def start_multipart_upload(
        self,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        part_size: int = 5 * 1024 * 1024,
    ) -> MultipartUpload:
        validate_key(key, backend="dict")
        self._check_part_size(part_size, key)
        await anyio.lowlevel.checkpoint()
        upload_id = uuid.uuid4().hex
        self._uploads[upload_id] = {}
        return MultipartUpload(
            upload_id=upload_id,
            key=key,
            part_size=part_size,
            content_type=content_type,
            metadata=dict(metadata or {}),
        )

    def _parts(self, upload: MultipartUpload) -> dict[int, bytes]:
        parts = self._uploads.get(upload.upload_id)
        if parts is None:
            raise StorageFileNotFoundError(
                "no such upload", key=upload.key, backend="dict", code="NoSuchUpload"
            )
        return parts

    async def upload_part(
        self, upload: MultipartUpload, part_number: int, data: bytes | bytearray | memoryview
    ) -> str:
        self._check_part_number(upload, part_number)
        await anyio.lowlevel.checkpoint()
        body = bytes(data)
        self._parts(upload)[part_number] = body
        etag = hashlib.md5(body, usedforsecurity=False).hexdigest()
        upload.add_part(part_number, etag)
        return etag

    async def complete_multipart_upload(
        self, upload: MultipartUpload, parts: PartsArg = None, *, overwrite: bool = True
    ) -> StoredFile:
        await anyio.lowlevel.checkpoint()
        uploaded = self._parts(upload)
        chosen = self._resolve_parts(upload, parts)  # -> sorted [(number, etag), ...]
        bodies = []
        for number, etag in chosen:
            body = uploaded.get(number)
            if body is None or hashlib.md5(body, usedforsecurity=False).hexdigest() != etag:
                raise StoragePreconditionFailedError(
                    f"part {number} was not uploaded", key=upload.key, backend="dict"
                )
            bodies.append(body)
        if not bodies:
            raise StoragePreconditionFailedError("no parts", key=upload.key, backend="dict")
        data = b"".join(bodies)
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        entry = Entry(data, upload.content_type, dict(upload.metadata), etag)
        stored = self._store(upload.key, entry, overwrite)
        del self._uploads[upload.upload_id]
        return stored

    async def abort_multipart_upload(self, upload: MultipartUpload) -> None:
        await anyio.lowlevel.checkpoint()
        self._uploads.pop(upload.upload_id, None)  # aborting twice is not an error


async def main() -> None:
    async with DictStorage() as storage:
        await storage.put("a/b.txt", b"hello", content_type="text/plain")
        print(await storage.get_bytes("a/b.txt"))  # from BaseStorage
        await storage.move("a/b.txt", "c.txt")  # from BaseStorage: copy + delete
        print([item.key async for item in storage.list()])  # ['c.txt']


if __name__ == "__main__":
    anyio.run(main)
