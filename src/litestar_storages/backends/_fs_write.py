"""Atomic writes of ``FileSystemStorage`` (blocking; every method is one worker-thread hop).

``TempFile`` is a write in progress: a hidden temp file next to the target, fed chunk by chunk
from the async side, then fsynced and committed by ``rename`` (``link`` for create-only
writes) after its sidecar version is recorded. ``CopyJob`` feeds one from another file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
from collections.abc import Mapping, Sequence

from litestar_storages._chunks import CHUNK_SIZE
from litestar_storages._types import StoredFile
from litestar_storages.backends._fs_meta import Version, pick
from litestar_storages.backends._fs_ops import Tree, stored_file, truncated
from litestar_storages.backends._fs_paths import (
    BACKEND,
    O_CLOEXEC,
    O_NOFOLLOW,
    TEMP_FLAGS,
    DirPath,
    mapped,
    prune_empty,
    temp_name,
    unlink_quietly,
    write_all,
)
from litestar_storages.exceptions import StorageError, StorageFileExistsError

__all__ = ["COPY_BLOCK", "CopyJob", "TempFile"]

COPY_BLOCK = 64 * 1024 * 1024
"""Bytes copied per thread hop by ``copy`` and multipart assembly (keeps them cancellable)."""

# Filesystems where hard links are impossible (FAT, some FUSE and SMB mounts) answer linkat with
# one of these; create-only writes then fall back to an O_EXCL placeholder.
_NO_LINK_ERRNOS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK})
_NO_COPY_RANGE_ERRNOS = frozenset(
    {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF, errno.EPERM}
)


class TempFile:
    """An atomic write of one key: a hidden temp file in the target directory, then rename.

    Call ``write``/``copy_range`` any number of times (the first opens the file), then
    ``commit``; on any failure or cancellation call ``discard``, which removes the temp file
    and the directories this write created. Each method is meant for one thread hop.
    """

    def __init__(self, tree: Tree, key: str, segments: Sequence[str], *, overwrite: bool) -> None:
        self.tree = tree
        self.key = key
        self.segments = list(segments)
        self.overwrite = overwrite
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0
        self.committed = False
        self._dirs: DirPath | None = None
        self._fd: int | None = None
        self._name: str | None = None
        self._copy_range = hasattr(os, "copy_file_range")

    def open(self) -> None:
        """Create the directories and the temp file (idempotent)."""
        if self._fd is not None:
            return
        with mapped(self.key, "creating the file"):
            for _ in range(16):
                dirs = self.tree.parent(self.segments, self.key, create=True)
                try:
                    self.tree.check_target(
                        dirs, self.segments[-1], self.key, overwrite=self.overwrite
                    )
                    name = temp_name()
                    try:
                        fd = os.open(name, TEMP_FLAGS, self.tree.permissions, dir_fd=dirs.fd)
                    except FileNotFoundError:
                        # A concurrent delete pruned the (empty) directory we just walked.
                        dirs.close()
                        continue
                except BaseException:
                    self._dirs = dirs
                    raise
                self._dirs, self._fd, self._name = dirs, fd, name
                # Exactly the configured mode, whatever the process umask.
                os.fchmod(fd, self.tree.permissions)
                return
            raise StorageError(
                f"the directory of {self.key!r} keeps disappearing", key=self.key, backend=BACKEND
            )

    def write(self, chunk: bytes | None) -> None:
        """Append ``chunk`` (opening the file first if needed)."""
        self.open()
        if not chunk:
            return
        assert self._fd is not None  # set by open()
        with mapped(self.key, "writing"):
            write_all(self._fd, chunk)
        self.md5.update(chunk)
        self.size += len(chunk)

    def copy_range(self, src_fd: int, offset: int, count: int, *, source: str) -> None:
        """Append ``count`` bytes of ``src_fd`` from ``offset`` (in-kernel where possible)."""
        self.open()
        assert self._fd is not None  # set by open()
        with mapped(self.key, "copying"):
            done = 0
            while done < count:
                if self._copy_range:
                    try:
                        n = os.copy_file_range(src_fd, self._fd, count - done, offset + done)
                    except OSError as exc:
                        if exc.errno not in _NO_COPY_RANGE_ERRNOS:
                            raise
                        self._copy_range = False
                        continue
                else:
                    block = os.pread(src_fd, min(CHUNK_SIZE, count - done), offset + done)
                    write_all(self._fd, block)
                    n = len(block)
                if n == 0:
                    raise truncated(source)
                done += n
        self.size += count

    def commit(
        self, *, etag: str | None, content_type: str | None, metadata: Mapping[str, str] | None
    ) -> StoredFile:
        """Make the data durable, record its sidecar version, then rename it into place."""
        self.open()
        assert self._fd is not None  # set by open(), like _dirs and _name
        assert self._dirs is not None
        assert self._name is not None
        dirs, name, target = self._dirs, self._name, self.segments[-1]
        with mapped(self.key, "storing"):
            if self.tree.fsync:
                os.fsync(self._fd)
            st = os.fstat(self._fd)
            os.close(self._fd)
            self._fd = None
            version = Version.of(st, etag=etag, content_type=content_type, metadata=metadata)
            root = dirs.fds[0]
            with self.tree.meta.lock(root, [self.key]):
                existing = self.tree.check_target(dirs, target, self.key, overwrite=self.overwrite)
                old = pick(self.tree.meta.read(root, self.key), existing) if existing else None
                meta_dir = self.tree.meta.write(root, self.key, [version, *([old] if old else [])])
                try:
                    if self.overwrite:
                        os.rename(name, target, src_dir_fd=dirs.fd, dst_dir_fd=dirs.fd)
                    else:
                        self._link_exclusive(dirs, name, target)
                    self.committed = True
                    self.tree.sync_path(dirs)
                    self.tree.sync_path(meta_dir)
                finally:
                    meta_dir.close()
        self._dirs = None
        dirs.close()
        return stored_file(self.key, st, version)

    def _link_exclusive(self, dirs: DirPath, name: str, target: str) -> None:
        # link(2) fails with EEXIST if the target exists: create-only without a race, and the
        # file appears complete or not at all.
        try:
            os.link(name, target, src_dir_fd=dirs.fd, dst_dir_fd=dirs.fd, follow_symlinks=False)
        except FileExistsError:
            raise StorageFileExistsError(
                f"file exists: {self.key}", key=self.key, backend=BACKEND
            ) from None
        except OSError as exc:
            if exc.errno not in _NO_LINK_ERRNOS:
                raise
            # No hard links here: claim the name with O_EXCL, then rename over the (briefly
            # empty) placeholder. Still exactly one winner; readers may see an empty file.
            try:
                placeholder = os.open(
                    target,
                    os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    self.tree.permissions,
                    dir_fd=dirs.fd,
                )
            except FileExistsError:
                raise StorageFileExistsError(
                    f"file exists: {self.key}", key=self.key, backend=BACKEND
                ) from None
            os.close(placeholder)
            os.rename(name, target, src_dir_fd=dirs.fd, dst_dir_fd=dirs.fd)
            return
        unlink_quietly(dirs.fd, name)

    def discard(self) -> None:
        """Undo everything not yet committed (idempotent; never raises)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        dirs, self._dirs = self._dirs, None
        if dirs is None:
            return
        try:
            if not self.committed:
                if self._name is not None:
                    unlink_quietly(dirs.fd, self._name)
                if dirs.created is not None:
                    prune_empty(dirs, keep=dirs.created)
        finally:
            dirs.close()


class CopyJob:
    """``copy`` as thread hops: open both ends, copy ``COPY_BLOCK`` bytes per hop, commit.

    The destination keeps the source's ETag, content type and metadata (a file without a
    sidecar gives a copy without one).
    """

    def __init__(
        self,
        tree: Tree,
        source: str,
        src_segments: Sequence[str],
        destination: str,
        dst_segments: Sequence[str],
    ) -> None:
        self.tree = tree
        self.source = source
        self.src_segments = src_segments
        self.writer = TempFile(tree, destination, dst_segments, overwrite=True)
        self._fd: int | None = None
        self._size = 0
        self._offset = 0
        self._version: Version | None = None

    def step(self) -> StoredFile | None:
        """Do the next hop's worth of work; the copy once committed."""
        if self._fd is None:
            with mapped(self.source, "opening for copying"):
                self._fd, st, self._version = self.tree.open_file(
                    self.source, self.src_segments, with_version=True
                )
            self._size = st.st_size
        count = min(self._size - self._offset, COPY_BLOCK)
        self.writer.copy_range(self._fd, self._offset, count, source=self.source)
        self._offset += count
        if self._offset < self._size:
            return None
        version = self._version
        stored = self.writer.commit(
            etag=version.etag if version else None,
            content_type=version.content_type if version else None,
            metadata=version.metadata if version else None,
        )
        self.discard()
        return stored

    def discard(self) -> None:
        """Close the source and undo the uncommitted copy (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.writer.discard()
