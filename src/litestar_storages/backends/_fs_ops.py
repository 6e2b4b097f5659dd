"""The blocking half of ``FileSystemStorage``: every function here runs in a worker thread.

``Tree`` holds the root and does one whole operation per call (a thread hop does as many
syscalls as it can): reads, delete, move and the sorted listing walk. Writes are in
``_fs_write``.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import stat
from collections.abc import Generator, Iterator, Sequence
from datetime import datetime, timedelta, timezone

from litestar_storages._chunks import CHUNK_SIZE
from litestar_storages._types import MAX_KEY_BYTES, StoredFile, validate_key
from litestar_storages.backends._fs_meta import MetaStore, Version, pick
from litestar_storages.backends._fs_paths import (
    BACKEND,
    DIR_FLAGS,
    FILE_READ_FLAGS,
    RESERVED_PREFIX,
    DirPath,
    collision,
    fsync_dir,
    fsync_path,
    lstat_or_none,
    mapped,
    open_dirs,
    open_root,
    os_error,
    prune_empty,
    symlink_refused,
)
from litestar_storages.exceptions import (
    StorageError,
    StorageFileExistsError,
    StorageFileNotFoundError,
    StorageIntegrityError,
    StorageInvalidKeyError,
    StoragePermissionError,
)

__all__ = [
    "Tree",
    "dir_mode_for",
    "fallback_etag",
    "stored_file",
    "truncated",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def dir_mode_for(permissions: int) -> int:
    """Directory mode matching file ``permissions``: execute wherever read is granted."""
    return permissions | ((permissions & 0o444) >> 2)


def fallback_etag(st: os.stat_result) -> str:
    """ETag of a file without a sidecar (written by another program): mtime and size, hex."""
    return f"{st.st_mtime_ns:x}-{st.st_size:x}"


def stored_file(key: str, st: os.stat_result, version: Version | None) -> StoredFile:
    """The ``StoredFile`` for a data file and the sidecar version describing it."""
    return StoredFile(
        key=key,
        size=st.st_size,
        content_type=version.content_type if version else None,
        etag=(version.etag if version and version.etag else None) or fallback_etag(st),
        # Integer arithmetic: exact to the microsecond, and fine before 1970.
        last_modified=_EPOCH + timedelta(microseconds=st.st_mtime_ns // 1000),
        metadata=dict(version.metadata) if version else {},
    )


class _Retry:
    """Returned by a move attempt that lost a race with a directory prune: try again."""


_RETRY = _Retry()


def _not_found(key: str) -> StorageFileNotFoundError:
    return StorageFileNotFoundError(f"file not found: {key}", key=key, backend=BACKEND)


class Tree:
    """One storage root: whole operations, each meant to be one thread hop.

    Args:
        root: Absolute path of the root directory.
        create_root: Create the root when it is missing.
        permissions: Mode of every file created (directories: see ``dir_mode_for``).
        fsync: Make writes durable before they return (data, sidecar, directories).
    """

    def __init__(
        self, root: str, *, create_root: bool, permissions: int, fsync: bool = True
    ) -> None:
        self.root = root
        self.create_root = create_root
        self.permissions = permissions
        self.fsync = fsync
        self.dir_mode = dir_mode_for(permissions)
        self.meta = MetaStore(permissions=permissions, dir_mode=self.dir_mode, fsync=fsync)

    def sync_dir(self, fd: int) -> None:
        """Make renames and unlinks in a directory durable (unless fsync is off)."""
        if self.fsync:
            fsync_dir(fd)

    def sync_path(self, path: DirPath) -> None:
        """``sync_dir`` plus the parents of the directories ``path`` created."""
        if self.fsync:
            fsync_path(path)

    def open_root(self) -> int:
        """A fresh descriptor of the root (one per operation: nothing shared to close early)."""
        return open_root(self.root, create=self.create_root, dir_mode=self.dir_mode)

    def parent(self, segments: Sequence[str], key: str, *, create: bool) -> DirPath:
        """The directory that holds ``key``'s file."""
        return open_dirs(
            self.open_root(), segments[:-1], key=key, create=create, dir_mode=self.dir_mode
        )

    # ------------------------------------------------------------------ reads
    def regular(self, dir_fd: int, name: str, key: str) -> os.stat_result:
        """``lstat`` of the key's file, which must be a regular file."""
        st = lstat_or_none(dir_fd, name)
        if st is not None and stat.S_ISLNK(st.st_mode):
            raise symlink_refused(key)
        if st is None or not stat.S_ISREG(st.st_mode):
            # A directory (or a socket, a FIFO) is not an object: the key does not exist.
            raise _not_found(key)
        return st

    def info(self, key: str, segments: Sequence[str]) -> StoredFile:
        """Metadata of ``key``."""
        with mapped(key, "reading metadata"):
            dirs = self.parent(segments, key, create=False)
            try:
                st = self.regular(dirs.fd, segments[-1], key)
                return stored_file(key, st, pick(self.meta.read(dirs.fds[0], key), st))
            finally:
                dirs.close()

    def exists(self, key: str, segments: Sequence[str]) -> bool:
        """Whether ``key`` is a regular file (a symlink raises: it is refused, not absent)."""
        with mapped(key, "checking existence"):
            try:
                dirs = self.parent(segments, key, create=False)
            except StorageFileNotFoundError:
                return False
            try:
                st = lstat_or_none(dirs.fd, segments[-1])
            finally:
                dirs.close()
            if st is not None and stat.S_ISLNK(st.st_mode):
                raise symlink_refused(key)
            return st is not None and stat.S_ISREG(st.st_mode)

    def open_file(
        self, key: str, segments: Sequence[str], *, with_version: bool
    ) -> tuple[int, os.stat_result, Version | None]:
        """Open ``key`` read-only: its descriptor, ``fstat`` and (if asked) sidecar version."""
        dirs = self.parent(segments, key, create=False)
        try:
            try:
                fd = os.open(segments[-1], FILE_READ_FLAGS, dir_fd=dirs.fd)
            except FileNotFoundError:
                raise _not_found(key) from None
            except OSError:
                self.regular(dirs.fd, segments[-1], key)  # a symlink, or not a file
                raise
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode):
                    raise _not_found(key)  # a directory opens read-only, but is no object
                version = pick(self.meta.read(dirs.fds[0], key), st) if with_version else None
            except BaseException:
                os.close(fd)
                raise
        finally:
            dirs.close()
        return fd, st, version

    def open_read(
        self, key: str, segments: Sequence[str], start: int | None, end: int | None
    ) -> tuple[int, int, int, bytes]:
        """Open ``key`` for reading the range ``[start:end]`` (slice semantics).

        Returns ``(fd, position after the first chunk, bytes left after it, first chunk)``:
        the first chunk is read in the same hop as the open.
        """
        with mapped(key, "opening for reading"):
            fd, st, _ = self.open_file(key, segments, with_version=False)
            try:
                span = range(st.st_size)[slice(start, end)]
                wanted = min(CHUNK_SIZE, len(span))
                first = os.pread(fd, wanted, span.start) if wanted else b""
                if len(first) < wanted:
                    raise truncated(key)
            except BaseException:
                os.close(fd)
                raise
            return fd, span.start + len(first), len(span) - len(first), first

    # ------------------------------------------------------------------ writes
    def check_absent(self, key: str, segments: Sequence[str]) -> None:
        """Fail early for a create-only write (the real check is the ``link`` at commit)."""
        with mapped(key, "checking existence"):
            try:
                dirs = self.parent(segments, key, create=False)
            except StorageFileNotFoundError:
                return
            try:
                st = lstat_or_none(dirs.fd, segments[-1])
            finally:
                dirs.close()
            if st is not None and stat.S_ISREG(st.st_mode):
                raise StorageFileExistsError(f"file exists: {key}", key=key, backend=BACKEND)

    def check_target(
        self, dirs: DirPath, name: str, key: str, *, overwrite: bool
    ) -> os.stat_result | None:
        """What is at the target now: ``None``, or the regular file to be replaced."""
        st = lstat_or_none(dirs.fd, name)
        if st is None:
            return None
        if stat.S_ISLNK(st.st_mode):
            raise symlink_refused(key)
        if stat.S_ISDIR(st.st_mode):
            try:
                # An empty directory holds no keys: object-store-like, the key is free.
                os.rmdir(name, dir_fd=dirs.fd)
            except OSError:
                raise collision(key, key, is_dir=True) from None
            return None
        if not stat.S_ISREG(st.st_mode):
            raise StoragePermissionError(
                f"refusing to replace {key!r}: it is not a regular file", key=key, backend=BACKEND
            )
        if not overwrite:
            raise StorageFileExistsError(f"file exists: {key}", key=key, backend=BACKEND)
        return st

    def delete(self, key: str, segments: Sequence[str]) -> None:
        """Remove ``key`` and its sidecar; nothing there is not an error."""
        with mapped(key, "deleting"):
            try:
                dirs = self.parent(segments, key, create=False)
            except StorageFileNotFoundError:
                return
            try:
                st = lstat_or_none(dirs.fd, segments[-1])
                if st is not None and stat.S_ISLNK(st.st_mode):
                    raise symlink_refused(key)
                if st is None or not stat.S_ISREG(st.st_mode):
                    return
                with self.meta.lock(dirs.fds[0], [key]):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(segments[-1], dir_fd=dirs.fd)
                    self.sync_dir(dirs.fd)
                    # Data first: a crash in between leaves an orphan sidecar that matches no
                    # file, never a file whose metadata was deleted.
                    self.meta.remove(dirs.fds[0], key)
                prune_empty(dirs)
            finally:
                dirs.close()

    def move(
        self,
        source: str,
        src_segments: Sequence[str],
        destination: str,
        dst_segments: Sequence[str],
    ) -> StoredFile | None:
        """Rename ``source`` onto ``destination`` with its sidecar.

        Returns ``None`` when the two are on different filesystems (a mount point inside the
        root): the caller then copies and deletes.
        """
        with mapped(source, "moving"):
            for _ in range(16):
                moved = self._move_once(source, src_segments, destination, dst_segments)
                if not isinstance(moved, _Retry):
                    return moved
            raise StorageError(
                f"the destination directory of {destination!r} keeps disappearing",
                key=destination,
                backend=BACKEND,
            )

    def _move_once(
        self,
        source: str,
        src_segments: Sequence[str],
        destination: str,
        dst_segments: Sequence[str],
    ) -> StoredFile | _Retry | None:
        src = self.parent(src_segments, source, create=False)
        try:
            dst = self.parent(dst_segments, destination, create=True)
        except BaseException:
            src.close()
            raise
        root = src.fds[0]
        moved = False
        try:
            with self.meta.lock(root, [source, destination]):
                st = self.regular(src.fd, src_segments[-1], source)
                existing = self.check_target(dst, dst_segments[-1], destination, overwrite=True)
                version = pick(self.meta.read(root, source), st)
                old = pick(self.meta.read(root, destination), existing) if existing else None
                # rename keeps size, mtime and inode, so the source's version still matches
                # the file under its new name; written first as for a put, so that until the
                # rename readers of the destination still see its old data with its metadata.
                versions = [v for v in (version, old) if v is not None]
                meta_dir = self.meta.write(root, destination, versions) if versions else None
                try:
                    try:
                        os.rename(
                            src_segments[-1],
                            dst_segments[-1],
                            src_dir_fd=src.fd,
                            dst_dir_fd=dst.fd,
                        )
                    except FileNotFoundError:
                        if lstat_or_none(src.fd, src_segments[-1]) is None:
                            raise _not_found(source) from None
                        return _RETRY  # a concurrent delete pruned the destination directory
                    except OSError as exc:
                        if exc.errno == errno.EXDEV:
                            return None
                        raise
                    moved = True
                    self.sync_path(dst)
                    if src.segments != dst.segments:
                        self.sync_dir(src.fd)
                    if meta_dir is not None:
                        self.sync_path(meta_dir)
                finally:
                    if meta_dir is not None:
                        meta_dir.close()
                self.meta.remove(root, source)
                if version is None:
                    # The source had no metadata: what the destination had is stale now.
                    self.meta.remove(root, destination)
            prune_empty(src)
            return stored_file(destination, st, version)
        finally:
            if not moved and dst.created is not None:
                prune_empty(dst, keep=dst.created)
            src.close()
            dst.close()

    # ------------------------------------------------------------------ listing
    def walk(self, prefix: str) -> Generator[tuple[str, os.stat_result], None, None]:
        """Regular files whose key starts with ``prefix``, in key order, lazily.

        Only the directories that can hold matching keys are opened. Within a directory,
        entries are sorted by ``name`` for files and ``name + "/"`` for directories, which is
        exactly the order of the full keys (``a-b`` < ``a/b`` < ``a0``), so the walk yields
        keys in global lexicographic order while holding one directory listing per level.
        """
        dir_part, separator, name_prefix = prefix.rpartition("/")
        segments = dir_part.split("/") if separator else []
        if any(s in ("", ".", "..") or s.startswith(RESERVED_PREFIX) for s in segments):
            return  # no key can live there
        with mapped(None, "listing"):
            try:
                dirs = open_dirs(self.open_root(), segments, key=prefix, create=False)
            except (StorageFileNotFoundError, StoragePermissionError):
                return  # missing, a file, or a symlink: nothing listable under it
        try:
            yield from self._walk_dir(dirs.fd, f"{dir_part}/" if dir_part else "", name_prefix)
        finally:
            dirs.close()

    def _walk_dir(
        self, fd: int, base: str, name_prefix: str
    ) -> Iterator[tuple[str, os.stat_result]]:
        for name, is_dir in _sorted_entries(fd, name_prefix):
            if is_dir:
                try:
                    child = os.open(name, DIR_FLAGS, dir_fd=fd)
                except (FileNotFoundError, NotADirectoryError):
                    continue  # removed (or replaced by a file) since the directory was read
                except OSError as exc:
                    if exc.errno in (errno.ELOOP, errno.EMLINK):
                        continue  # replaced by a symlink: never followed
                    raise os_error(exc, key=None, action="listing") from exc
                try:
                    yield from self._walk_dir(child, f"{base}{name}/", "")
                finally:
                    os.close(child)
            else:
                st = lstat_or_none(fd, name)
                key = base + name
                if st is not None and stat.S_ISREG(st.st_mode) and _fits(key):
                    yield key, st

    def describe(self, items: Sequence[tuple[str, os.stat_result]]) -> list[StoredFile]:
        """``StoredFile`` for each listed file, with its sidecar (one root open per batch)."""
        if not items:
            return []
        with mapped(None, "listing"):
            root = self.open_root()
            try:
                found = self.meta.read_many(root, [key for key, _ in items])
            finally:
                os.close(root)
        return [
            stored_file(key, st, pick(versions, st))
            for (key, st), versions in zip(items, found, strict=True)
        ]

    def take(self, walker: Iterator[tuple[str, os.stat_result]], count: int) -> list[StoredFile]:
        """The next ``count`` objects of a ``walk`` (one thread hop per batch)."""
        with mapped(None, "listing"):
            items = list(itertools.islice(walker, count))
        return self.describe(items)


def _fits(key: str) -> bool:
    return len(key.encode("utf-8")) <= MAX_KEY_BYTES


def _sorted_entries(fd: int, name_prefix: str) -> list[tuple[str, bool]]:
    """``(name, is_dir)`` of the listable entries of a directory, in key order."""
    entries: list[tuple[str, str, bool]] = []
    try:
        scanner = os.scandir(fd)
    except (FileNotFoundError, NotADirectoryError):
        return []
    with scanner:
        for entry in scanner:
            name = entry.name
            if not name.startswith(name_prefix) or name.startswith(RESERVED_PREFIX):
                continue
            try:
                validate_key(name)  # undecodable names, control characters: not keys
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = not is_dir and entry.is_file(follow_symlinks=False)
            except (StorageInvalidKeyError, OSError):
                continue
            if is_dir:
                entries.append((f"{name}/", name, True))
            elif is_file:
                entries.append((name, name, False))
    entries.sort()
    return [(name, is_dir) for _, name, is_dir in entries]


def truncated(key: str) -> StorageIntegrityError:
    """Error for a file that shrank while it was being read or copied."""
    return StorageIntegrityError(
        f"{key!r} shrank while it was being read (modified in place by another program?)",
        key=key,
        backend=BACKEND,
    )
