"""``FileSystemStorage``: objects as files below one root directory, on asyncio and trio.

Every blocking call runs in a worker thread (``anyio.to_thread.run_sync``), each hop doing a
whole step (a small ``put`` is one hop: walk, create, write, fsync, sidecar, rename, directory
fsync). The blocking half lives in ``_fs_paths`` (confinement), ``_fs_meta`` (sidecars),
``_fs_ops`` (reads, delete, move, listing), ``_fs_write`` (atomic writes, copies),
``_fs_stream`` (downloads) and ``_fs_multipart`` (staged parts).

Design choices, and why:

* **Confinement.** Keys are validated by the shared ``validate_key`` plus filesystem rules (see
  :class:`FileSystemStorage`). Paths are never built as strings and opened: each operation
  opens the root, then walks the key one segment at a time with ``openat(O_NOFOLLOW |
  O_DIRECTORY)`` and opens the final file with ``O_NOFOLLOW``. The root itself may be a symlink
  (it is configuration); **below it no symlink is ever followed**, whether it points inside or
  outside the root: a key whose path goes through one raises ``StoragePermissionError`` (code
  ``ELOOP``) and ``list`` skips them. Walking descriptors rather than checking
  ``realpath`` first leaves no window in which a symlink swapped in by another process could
  redirect a write outside the root.
* **Atomic writes.** Data goes to a hidden temp file (``.litestar-storages-tmp-*``) in the
  target directory, is fsynced, then renamed over the target (``link`` for ``overwrite=False``,
  which fails if the target exists: create-only with exactly one winner, never
  check-then-write), and the directory is fsynced. A failing or cancelled producer leaves the
  old file untouched and no temp file (cleanup is shielded from cancellation).
* **Metadata** (content type, user metadata, ETag) lives in sidecar files under
  ``<root>/.litestar-storages/meta/``, keyed by a hash of the key, invisible to ``list``. Each
  sidecar names the data file version (size, mtime, inode) it describes and is written before
  the data is renamed into place, so a crash or a concurrent reader never sees metadata of a
  different version; files written by other programs simply have none. Sidecars rather than
  xattrs because xattrs are missing or size-limited on tmpfs, many network filesystems and
  backup tools. If a web server serves the root, deny ``/.litestar-storages/``.
* **ETag**: the MD5 of the content, computed while writing and kept in the sidecar (multipart
  objects: S3-style ``md5(part digests)-N``; copies and moves keep the source's). Files without
  a sidecar get ``f"{mtime_ns:x}-{size:x}"``: cheap, and it changes whenever the file does.
* **Permissions**: files get exactly ``permissions``, directories the same with execute added
  wherever read is granted (``0o644`` → ``0o755``, ``0o640`` → ``0o750``), regardless of the
  umask; a root created by ``create_dirs`` follows the umask like ``mkdir -p``.
* **Durability**: before a write returns, the data file, its sidecar, their directories and
  the parents of any directory created on the way are fsynced (``fsync=False`` opts out).
  Writers of one key are serialised by a lock stripe (thread lock + ``flock``), so processes
  sharing a root agree too.
* **Platform**: POSIX only (``openat`` and friends); elsewhere the constructor raises
  ``StorageConfigurationError``.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import anyio
import anyio.lowlevel
import anyio.to_thread

from litestar_storages._chunks import CHUNK_SIZE, PutData, aiter_chunks, check_data, data_length
from litestar_storages._protocol import BaseStorage, PartsArg
from litestar_storages._stream import ByteStream
from litestar_storages._types import (
    DEFAULT_PART_SIZE,
    PUT_LARGE_PART_SIZE,
    MultipartUpload,
    StoredFile,
    validate_prefix,
)
from litestar_storages.backends._fs_multipart import AssembleJob, Staging
from litestar_storages.backends._fs_ops import Tree
from litestar_storages.backends._fs_paths import BACKEND, HAVE_POSIX, key_segments
from litestar_storages.backends._fs_stream import FileChunks
from litestar_storages.backends._fs_write import CopyJob, TempFile
from litestar_storages.exceptions import StorageConfigurationError
from litestar_storages.progress import ProgressCallback, ProgressReporter

__all__ = ["FileSystemConfig", "FileSystemStorage"]

_T = TypeVar("_T")

_LIST_FIRST_BATCH = 64  # small first batch: the first item arrives quickly
_LIST_BATCH = 1000


@dataclass(frozen=True, init=False)
class FileSystemConfig:
    """Configuration of :class:`FileSystemStorage`.

    Attributes:
        path: The root directory (``str`` or ``Path``; stored as an absolute ``Path``, so a
            later ``chdir`` does not move the storage).
        base_url: Public URL prefix for ``url()`` (e.g. ``"https://cdn.example.com/media"``);
            without it ``url()`` returns a ``file://`` URL.
        create_dirs: Create the root (with its parents) on first use when it is missing. With
            ``False`` a missing root raises ``StorageConfigurationError`` on first use.
            Directories *inside* the root are part of keys and are always created as needed.
        permissions: Mode of created files (directories: execute added where read is set).
        fsync: Make every write durable before it returns: the data file, its sidecar and
            their directories are fsynced (the default). ``False`` keeps writes atomic and
            metadata correct, but a power loss may lose recent writes; small writes get several
            times faster (useful for tests and caches). An addition to 0.2.3's fields.
    """

    path: Path
    base_url: str | None
    create_dirs: bool
    permissions: int
    fsync: bool

    def __init__(
        self,
        path: str | os.PathLike[str],
        base_url: str | None = None,
        create_dirs: bool = True,
        permissions: int = 0o644,
        *,
        fsync: bool = True,
    ) -> None:
        if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
            raise StorageConfigurationError("path must be a non-empty str or Path", backend=BACKEND)
        if base_url is not None and not isinstance(base_url, str):
            raise StorageConfigurationError("base_url must be a str or None", backend=BACKEND)
        if isinstance(permissions, bool) or not isinstance(permissions, int):
            raise StorageConfigurationError("permissions must be an int", backend=BACKEND)
        if not 0 <= permissions <= 0o7777:
            raise StorageConfigurationError(
                f"permissions must be a file mode between 0 and 0o7777, not {permissions:#o}",
                backend=BACKEND,
            )
        object.__setattr__(self, "path", Path(os.path.abspath(os.fspath(path))))
        object.__setattr__(self, "base_url", base_url)
        object.__setattr__(self, "create_dirs", bool(create_dirs))
        object.__setattr__(self, "permissions", permissions)
        object.__setattr__(self, "fsync", bool(fsync))


def _check_platform() -> None:
    # Confinement rests on openat/linkat/renameat with O_NOFOLLOW: POSIX only.
    needed = (os.open, os.mkdir, os.rmdir, os.unlink, os.rename, os.link, os.stat)
    if (
        not HAVE_POSIX
        or not all(f in os.supports_dir_fd for f in needed)
        or os.scandir not in os.supports_fd
    ):
        raise StorageConfigurationError(
            "FileSystemStorage needs a POSIX system (openat, O_NOFOLLOW)", backend=BACKEND
        )


def _check_attributes(content_type: object, metadata: object) -> dict[str, str]:
    if content_type is not None and not isinstance(content_type, str):
        raise TypeError(f"content_type must be a str or None, not {type(content_type).__name__}")
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise TypeError("metadata must be a mapping of str to str")
    return dict(metadata)


class FileSystemStorage(BaseStorage):
    """Objects stored as files below a root directory (see the module docstring for design).

    Differences from the contract (and from object stores):

    * Keys must also be valid paths: no empty segment (``a//b``, trailing ``/``), no segment
      over 255 bytes, no segment starting with ``.litestar-storages`` (reserved). A key cannot
      be both a file and a "directory" of other keys: storing ``a`` while ``a/b`` exists (or
      the reverse) raises ``StorageInvalidKeyError`` (code ``EISDIR`` / ``ENOTDIR``).
      Case-insensitive filesystems (macOS, Windows shares) fold keys that differ only in case.
    * Symlinks below the root are never followed: ``StoragePermissionError`` (code ``ELOOP``).
    * ``url()`` returns ``base_url`` + the percent-encoded key, else a ``file://`` URL;
      ``expires_in`` is ignored (nothing to sign).
    * ``move`` is a ``rename``: atomic and O(1); ``last_modified`` and the ETag are kept.
    * ``put_large`` streams sequentially into one temp file (parallel parts buy nothing on a
      local disk); its ETag is the plain MD5 of the content, not the ``-N`` multipart form.
    * Deleting (or moving away) the last key of a directory removes the empty directories
      above it, up to the root, so ``a`` can be stored again after ``a/b`` is deleted.
    * Files dropped into the root by other programs are listed and readable; they have no
      content type or metadata and a fallback ETag. Staging files of a process killed mid-write
      (hidden ``.litestar-storages-tmp-*``) stay on disk until removed by hand.
    * Listing holds the entry names of the directories being walked in memory (one listing
      per level: sorting needs them), so a single directory of millions of files costs memory.
    * Multipart uploads never completed nor aborted keep their parts under
      ``.litestar-storages/uploads/`` (S3 keeps them too, until a lifecycle rule runs).
    * ``list`` and ``get`` of files written in place by other programs see them as they are;
      a file shrinking while it is read raises ``StorageIntegrityError``.

    Args:
        config: Where and how to store files.

    Raises:
        StorageConfigurationError: Not a POSIX system.
    """

    backend_name = "filesystem"

    def __init__(self, config: FileSystemConfig) -> None:
        if not isinstance(config, FileSystemConfig):
            raise StorageConfigurationError(
                "FileSystemStorage needs a FileSystemConfig", backend=BACKEND
            )
        _check_platform()
        self.config = config
        self._tree = Tree(
            str(config.path),
            create_root=config.create_dirs,
            permissions=config.permissions,
            fsync=config.fsync,
        )
        self._staging = Staging(self._tree)

    def __repr__(self) -> str:
        return f"FileSystemStorage(path={str(self.config.path)!r})"

    async def _run(self, func: functools.partial[_T]) -> _T:
        return await anyio.to_thread.run_sync(func)

    # ------------------------------------------------------------------ writes
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
        """Store ``data`` under ``key`` atomically (see :meth:`BaseStorage.put`).

        Raises:
            StorageFileExistsError: ``overwrite=False`` and the key exists.
            StorageInvalidKeyError: Invalid key, or it collides with a directory.
            StoragePermissionError: The path crosses a symlink, or access is denied.
            TypeError: Unsupported ``data``, ``content_type`` or ``metadata`` (before any I/O).
        """
        segments = key_segments(key)
        check_data(data)
        attributes = _check_attributes(content_type, metadata)
        reporter = ProgressReporter(
            progress_callback, key=key, operation="upload", total_bytes=data_length(data)
        )
        await reporter.start()
        if not overwrite:
            # Fail before consuming the caller's stream; the link at commit is the real check.
            await self._run(functools.partial(self._tree.check_absent, key, segments))
        return await self._write(
            key,
            segments,
            aiter_chunks(data),
            reporter,
            content_type=content_type,
            metadata=attributes,
            overwrite=overwrite,
        )

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
        """Stream ``data`` into one temp file: memory stays bounded by one chunk (1 MiB).

        ``part_size`` is validated for portability but only bounds the chunk size here.
        """
        segments = key_segments(key)
        check_data(data)
        self._check_part_size(part_size, key)
        attributes = _check_attributes(content_type, metadata)
        reporter = ProgressReporter(
            progress_callback, key=key, operation="upload", total_bytes=data_length(data)
        )
        await reporter.start()
        return await self._write(
            key,
            segments,
            aiter_chunks(data, min(CHUNK_SIZE, part_size)),
            reporter,
            content_type=content_type,
            metadata=attributes,
            overwrite=True,
        )

    async def _write(
        self,
        key: str,
        segments: list[str],
        chunks: AsyncGenerator[bytes, None],
        reporter: ProgressReporter,
        *,
        content_type: str | None,
        metadata: dict[str, str],
        overwrite: bool,
    ) -> StoredFile:
        writer = TempFile(self._tree, key, segments, overwrite=overwrite)

        def finish(last: bytes) -> StoredFile:
            writer.write(last)
            return writer.commit(
                etag=writer.md5.hexdigest(), content_type=content_type, metadata=metadata
            )

        try:
            async with contextlib.aclosing(chunks):
                # Chunks are gathered up to CHUNK_SIZE per thread hop (producers often yield
                # lines of a few bytes), and a block is written only once the next chunk has
                # arrived, so the last block shares its hop with the commit: a body of up to
                # one chunk costs a single hop. Memory: at most one block plus one chunk.
                pending: list[bytes] = []
                size = 0
                async for chunk in chunks:
                    if size >= CHUNK_SIZE:
                        await self._run(functools.partial(writer.write, b"".join(pending)))
                        pending, size = [], 0
                    pending.append(chunk)
                    size += len(chunk)
                    await reporter.advance(len(chunk))
                return await self._run(functools.partial(finish, b"".join(pending)))
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._run(functools.partial(writer.discard))
            raise

    async def copy(self, source: str, destination: str) -> StoredFile:
        """Copy ``source`` to ``destination`` (overwriting it) with its metadata and ETag.

        Uses ``copy_file_range`` where available (reflinks on btrfs/XFS), in hops of 64 MiB.

        Raises:
            StorageFileNotFoundError: ``source`` does not exist.
        """
        src_segments = key_segments(source)
        dst_segments = key_segments(destination)
        job = CopyJob(self._tree, source, src_segments, destination, dst_segments)
        try:
            while (stored := await self._run(functools.partial(job.step))) is None:
                pass
            return stored
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._run(functools.partial(job.discard))
            raise

    async def move(self, source: str, destination: str) -> StoredFile:
        """Rename ``source`` to ``destination`` (overwriting it), sidecar included.

        Moving a key onto itself leaves it in place. Across a mount point inside the root,
        falls back to copy and delete.

        Raises:
            StorageFileNotFoundError: ``source`` does not exist.
        """
        src_segments = key_segments(source)
        dst_segments = key_segments(destination)
        if source == destination:
            return await self.info(source)
        moved = await self._run(
            functools.partial(self._tree.move, source, src_segments, destination, dst_segments)
        )
        if moved is not None:
            return moved
        stored = await self.copy(source, destination)
        await self.delete(source)
        return stored

    async def delete(self, key: str) -> None:
        """Delete ``key``; a missing key (or a directory) is not an error."""
        segments = key_segments(key)
        await self._run(functools.partial(self._tree.delete, key, segments))

    # ------------------------------------------------------------------ reads
    def get(
        self,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> ByteStream:
        """Stream the file; ``start``/``end`` select the byte range ``[start, end)``.

        The file is opened on the first chunk, so a missing key raises
        ``StorageFileNotFoundError`` then; an invalid key raises here.
        """
        segments = key_segments(key)
        reporter = ProgressReporter(progress_callback, key=key, operation="download")
        source = FileChunks(self._tree, key, segments, start=start, end=end, reporter=reporter)
        return ByteStream(source, progress=reporter)

    async def exists(self, key: str) -> bool:
        """Whether ``key`` exists (a directory does not count as a key).

        Raises:
            StoragePermissionError: The path crosses a symlink, or access is denied.
        """
        segments = key_segments(key)
        return await self._run(functools.partial(self._tree.exists, key, segments))

    async def info(self, key: str) -> StoredFile:
        """The file's size, times, ETag, content type and metadata.

        Raises:
            StorageFileNotFoundError: The key does not exist.
        """
        segments = key_segments(key)
        return await self._run(functools.partial(self._tree.info, key, segments))

    async def list(
        self, prefix: str = "", *, limit: int | None = None
    ) -> AsyncGenerator[StoredFile, None]:
        """Files whose key starts with ``prefix``, in lexicographic key order.

        ``prefix`` matches as on object stores (``"mi"`` matches ``"mid/x"`` and ``"mix"``);
        only directories that can hold matches are walked, lazily, in batches of up to 1000
        per thread hop. ``limit=0`` yields nothing. Files created or removed during the
        listing may or may not appear; they never make it fail.
        """
        validate_prefix(prefix, backend=BACKEND)
        if limit is not None and limit < 0:
            raise StorageConfigurationError("limit must not be negative", backend=BACKEND)
        if limit == 0:
            await anyio.lowlevel.checkpoint()
            return
        walker = self._tree.walk(prefix)
        remaining = limit
        batch_size = _LIST_FIRST_BATCH
        try:
            while True:
                wanted = batch_size if remaining is None else min(batch_size, remaining)
                batch = await self._run(functools.partial(self._tree.take, walker, wanted))
                for item in batch:
                    yield item
                if remaining is not None:
                    remaining -= len(batch)
                    if remaining <= 0:
                        return
                if len(batch) < wanted:
                    return
                batch_size = _LIST_BATCH
        finally:
            # Closes the directory descriptors the walk holds (no I/O; safe in a finaliser).
            walker.close()

    async def url(self, key: str, *, expires_in: timedelta | None = None) -> str:
        """``base_url`` + the key percent-encoded (``/`` kept), else a ``file://`` URL.

        ``expires_in`` is accepted for portability and ignored: these URLs are not signed.
        """
        segments = key_segments(key)
        await anyio.lowlevel.checkpoint()
        if self.config.base_url is not None:
            return f"{self.config.base_url.rstrip('/')}/{quote(key, safe='/')}"
        return self.config.path.joinpath(*segments).as_uri()

    async def close(self) -> None:
        """Nothing to release: every operation opens and closes its own descriptors."""
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
        """Begin a multipart upload staged under ``.litestar-storages/uploads/``.

        The returned upload survives a restart: ``MultipartUpload.from_dict(upload.to_dict())``
        works with any ``FileSystemStorage`` on the same root.
        """
        key_segments(key)
        self._check_part_size(part_size, key)
        attributes = _check_attributes(content_type, metadata)
        upload_id = await self._run(
            functools.partial(self._staging.start, key, content_type, attributes)
        )
        return MultipartUpload(
            upload_id=upload_id,
            key=key,
            part_size=part_size,
            content_type=content_type,
            metadata=dict(attributes),
        )

    async def upload_part(
        self, upload: MultipartUpload, part_number: int, data: bytes | bytearray | memoryview
    ) -> str:
        """Store one part atomically and return its ETag (the part's MD5).

        Raises:
            StorageFileNotFoundError: No such upload (code ``NoSuchUpload``).
        """
        key_segments(upload.key)
        self._check_part_number(upload, part_number)
        body = bytes(data)
        etag = await self._run(
            functools.partial(self._staging.write_part, upload, part_number, body)
        )
        upload.add_part(part_number, etag)
        return etag

    async def complete_multipart_upload(
        self, upload: MultipartUpload, parts: PartsArg = None, *, overwrite: bool = True
    ) -> StoredFile:
        """Assemble the parts in part order into the final file, atomically.

        The ETag is S3-style: MD5 of the part digests, ``-N``. On failure (including
        ``StorageFileExistsError`` with ``overwrite=False``) the upload stays open.

        Raises:
            StorageFileNotFoundError: No such upload (code ``NoSuchUpload``).
            StoragePreconditionFailedError: No parts, or a part/ETag that was not uploaded.
        """
        segments = key_segments(upload.key)
        chosen = self._resolve_parts(upload, parts)
        job = AssembleJob(self._staging, upload, segments, chosen, overwrite=overwrite)
        try:
            while (stored := await self._run(functools.partial(job.step))) is None:
                pass
            return stored
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._run(functools.partial(job.discard))
            raise

    async def abort_multipart_upload(self, upload: MultipartUpload) -> None:
        """Remove the upload's staged parts; aborting twice is not an error."""
        await self._run(functools.partial(self._staging.remove, upload.upload_id))
