"""Keys to directory descriptors for ``FileSystemStorage``, confined to the root.

Every path below the root is reached by walking the key one segment at a time from an open
descriptor of the root, each directory opened with ``O_NOFOLLOW | O_DIRECTORY`` relative to its
parent (``openat``). A symlink anywhere below the root therefore stops the walk with a typed
error instead of being followed, and a symlink swapped in between two operations cannot
redirect a write outside the root: there is no check-then-use window on a path string.

Everything here blocks and runs in worker threads (``anyio.to_thread.run_sync``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator, Sequence

from litestar_storages._types import validate_key
from litestar_storages.exceptions import (
    StorageConfigurationError,
    StorageError,
    StorageFileNotFoundError,
    StorageInvalidKeyError,
    StoragePermissionError,
    StorageQuotaExceededError,
)

__all__ = [
    "BACKEND",
    "DIR_FLAGS",
    "FILE_READ_FLAGS",
    "HAVE_POSIX",
    "INTERNAL_DIR",
    "NAME_MAX",
    "O_CLOEXEC",
    "O_NOFOLLOW",
    "RESERVED_PREFIX",
    "TEMP_FLAGS",
    "DirPath",
    "collision",
    "fsync_dir",
    "fsync_path",
    "key_segments",
    "lstat_or_none",
    "mapped",
    "open_dirs",
    "open_root",
    "os_error",
    "prune_empty",
    "symlink_refused",
    "temp_name",
    "unlink_quietly",
    "write_all",
    "write_file_atomic",
]

BACKEND = "filesystem"

INTERNAL_DIR = ".litestar-storages"
"""Directory under the root holding sidecar metadata, multipart staging and lock files."""

RESERVED_PREFIX = ".litestar-storages"
"""No key segment may start with this: it names the internal directory and temp files."""

TEMP_PREFIX = ".litestar-storages-tmp-"

NAME_MAX = 255
"""Longest file name, in bytes, on ext4, XFS, btrfs, tmpfs, APFS and NTFS alike."""

# getattr: the module must import everywhere; FileSystemStorage refuses to start where these
# flags are missing (see HAVE_POSIX) instead of failing at import time.
O_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)
O_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
O_DIRECTORY: int = getattr(os, "O_DIRECTORY", 0)
HAVE_POSIX = bool(O_NOFOLLOW and O_DIRECTORY) and os.open in os.supports_dir_fd
DIR_FLAGS = os.O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
# O_NONBLOCK: opening a FIFO swapped in for a file must not hang the worker thread.
FILE_READ_FLAGS = os.O_RDONLY | O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | O_CLOEXEC
TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC

_ERRNO_CLASSES: dict[int, type[StorageError]] = {
    errno.ENOENT: StorageFileNotFoundError,
    errno.EACCES: StoragePermissionError,
    errno.EPERM: StoragePermissionError,
    errno.EROFS: StoragePermissionError,
    errno.ELOOP: StoragePermissionError,
    errno.ENOSPC: StorageQuotaExceededError,
    getattr(errno, "EDQUOT", errno.ENOSPC): StorageQuotaExceededError,
    errno.EFBIG: StorageQuotaExceededError,
    errno.ENAMETOOLONG: StorageInvalidKeyError,
}


def os_error(exc: OSError, *, key: str | None, action: str) -> StorageError:
    """The typed error for an ``OSError`` (raise it ``from exc`` so the cause stays visible)."""
    number = exc.errno or 0
    cls = _ERRNO_CLASSES.get(number, StorageError)
    return cls(
        f"{action} failed: {exc.strerror or exc}",
        key=key,
        backend=BACKEND,
        code=errno.errorcode.get(number),
    )


@contextlib.contextmanager
def mapped(key: str | None, action: str) -> Iterator[None]:
    """Turn a stray ``OSError`` into the typed error (our own errors pass through).

    ``StorageError`` is matched first: ``StorageFileNotFoundError`` and friends are ``OSError``
    subclasses too and must not be wrapped again.
    """
    try:
        yield
    except StorageError:
        raise
    except OSError as exc:
        raise os_error(exc, key=key, action=action) from exc


def symlink_refused(key: str) -> StoragePermissionError:
    """Error for a key whose path crosses a symlink below the root."""
    return StoragePermissionError(
        f"refusing {key!r}: its path goes through a symlink, and symlinks below the storage "
        "root are never followed",
        key=key,
        backend=BACKEND,
        code="ELOOP",
    )


def collision(key: str, where: str, *, is_dir: bool) -> StorageInvalidKeyError:
    """Error for a key that cannot be a file because of what already exists on disk."""
    if is_dir:
        message = (
            f"cannot store {key!r}: {where!r} is a directory holding other keys "
            f"(keys starting with {where + '/'!r}); on a filesystem a key cannot be both"
        )
    else:
        message = (
            f"cannot store {key!r}: {where!r} is a file, so nothing can be stored under "
            f"{where + '/'!r} on a filesystem"
        )
    return StorageInvalidKeyError(
        message, key=key, backend=BACKEND, code="EISDIR" if is_dir else "ENOTDIR"
    )


def key_segments(key: object) -> list[str]:
    """Validate ``key`` for the filesystem and return its path segments.

    On top of the rules every backend shares (``validate_key``): no empty segment (``a//b``,
    trailing ``/``), since such a key cannot name a file; no segment starting with
    ``.litestar-storages`` (reserved for the backend's own files); no segment longer than
    255 bytes (the file name limit of every common filesystem).

    Raises:
        StorageInvalidKeyError: The key breaks one of the rules (also a ``ValueError``).
    """
    key = validate_key(key, backend=BACKEND)
    segments = key.split("/")
    for segment in segments:
        problem = None
        if not segment:
            problem = "empty path segment ('a//b' or a trailing '/') cannot name a file"
        elif segment.startswith(RESERVED_PREFIX):
            problem = f"segments starting with {RESERVED_PREFIX!r} are reserved"
        else:
            try:
                encoded = os.fsencode(segment)
            except UnicodeEncodeError:
                problem = "cannot be encoded as a file name on this system"
            else:
                if len(encoded) > NAME_MAX:
                    problem = f"segment longer than {NAME_MAX} bytes"
        if problem is not None:
            raise StorageInvalidKeyError(
                f"invalid key {key!r} for the filesystem: {problem}", key=key, backend=BACKEND
            )
    return segments


def temp_name() -> str:
    """A fresh hidden temp file name (never listed: it carries the reserved prefix)."""
    return f"{TEMP_PREFIX}{secrets.token_hex(8)}"


def open_root(root: str, *, create: bool, dir_mode: int) -> int:
    """Open the storage root (following symlinks: the root itself is trusted configuration).

    Raises:
        StorageConfigurationError: The root is missing and ``create`` is false, or not a dir.
        StoragePermissionError: The root cannot be opened or created.
    """
    try:
        return os.open(root, os.O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    except FileNotFoundError:
        if not create:
            raise StorageConfigurationError(
                f"storage root {root!r} does not exist (create_dirs=False)", backend=BACKEND
            ) from None
    except NotADirectoryError:
        raise StorageConfigurationError(
            f"storage root {root!r} is not a directory", backend=BACKEND
        ) from None
    except OSError as exc:
        raise os_error(exc, key=None, action=f"opening storage root {root!r}") from exc
    try:
        os.makedirs(root, mode=dir_mode, exist_ok=True)
        return os.open(root, os.O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    except NotADirectoryError:
        raise StorageConfigurationError(
            f"storage root {root!r} cannot be created: a parent is not a directory",
            backend=BACKEND,
        ) from None
    except OSError as exc:
        raise os_error(exc, key=None, action=f"creating storage root {root!r}") from exc


class DirPath:
    """Open descriptors of the root and of each directory on the way to one directory.

    ``fds[i]`` is the parent of ``segments[i]``; ``fd`` is the deepest directory. ``created``
    is the index of the first segment this walk created (``len(segments)`` if none), so a
    failed write can remove exactly the directories it made.
    """

    __slots__ = ("created", "fds", "segments")

    def __init__(self, root_fd: int) -> None:
        self.fds = [root_fd]
        self.segments: list[str] = []
        self.created: int | None = None

    @property
    def fd(self) -> int:
        """Descriptor of the deepest directory."""
        return self.fds[-1]

    def close(self) -> None:
        """Close every descriptor (idempotent)."""
        while self.fds:
            os.close(self.fds.pop())


class _ParentGone(Exception):
    """A directory we hold was removed (pruned by a concurrent delete): walk again."""


def open_dirs(
    root_fd: int, segments: Sequence[str], *, key: str, create: bool, dir_mode: int = 0o755
) -> DirPath:
    """Walk (creating when ``create``) the directories ``segments`` below ``root_fd``.

    Takes ownership of ``root_fd``: it is closed with the returned ``DirPath`` or on error.

    Raises:
        StorageFileNotFoundError: A directory is missing (or is a file) and ``create`` is false.
        StoragePermissionError: A segment is a symlink, or access is denied.
        StorageInvalidKeyError: ``create`` and a segment is an existing file (key collision).
    """
    path = DirPath(root_fd)
    first_made: int | None = None
    try:
        # A concurrent delete prunes empty directories, possibly one we just opened or made:
        # creating inside it then fails with ENOENT, and the walk restarts from the root
        # (which is never pruned).
        for _ in range(16):
            try:
                _walk(path, segments, key=key, create=create, dir_mode=dir_mode)
            except _ParentGone:
                if path.created is not None:
                    first_made = min(path.created, first_made or path.created)
                while len(path.fds) > 1:
                    os.close(path.fds.pop())
                path.segments.clear()
                path.created = None
                continue
            if first_made is not None:
                # Directories made in an earlier attempt count as ours: a failed write may
                # remove them (only ever when empty).
                path.created = min(first_made, path.created or first_made)
            return path
        raise StorageError(
            f"the directories of {key!r} keep disappearing", key=key, backend=BACKEND
        )
    except BaseException:
        path.close()
        raise


def _walk(path: DirPath, segments: Sequence[str], *, key: str, create: bool, dir_mode: int) -> None:
    for index, segment in enumerate(segments):
        fd, made = _open_child_dir(
            path.fd, segment, key=key, where="/".join(segments[: index + 1]), create=create
        )
        path.fds.append(fd)
        path.segments.append(segment)
        if made:
            if path.created is None:
                path.created = index
            # Apply the mode exactly, whatever the umask: as with files, the configured
            # permissions are what the operator asked for.
            os.fchmod(fd, dir_mode)


def _open_child_dir(
    parent_fd: int, name: str, *, key: str, where: str, create: bool
) -> tuple[int, bool]:
    made = False
    # A concurrent delete may prune an empty directory between our mkdir and open: retry.
    for _ in range(16):
        try:
            return os.open(name, DIR_FLAGS, dir_fd=parent_fd), made
        except FileNotFoundError:
            if not create:
                raise StorageFileNotFoundError(
                    f"file not found: {key}", key=key, backend=BACKEND
                ) from None
        except OSError as exc:
            raise _classify_dir_error(
                parent_fd, name, exc, key=key, where=where, create=create
            ) from exc
        try:
            os.mkdir(name, 0o700, dir_fd=parent_fd)
            made = True
        except FileExistsError:
            made = False  # created concurrently, or a file: the next open tells which
        except FileNotFoundError:
            raise _ParentGone from None  # the parent itself was removed under us
        except OSError as exc:
            raise os_error(exc, key=key, action=f"creating directory {where!r}") from exc
    raise StorageError(
        f"directory {where!r} keeps disappearing while storing {key!r}", key=key, backend=BACKEND
    )


def _classify_dir_error(
    parent_fd: int, name: str, exc: OSError, *, key: str, where: str, create: bool
) -> StorageError:
    st = lstat_or_none(parent_fd, name)
    if st is not None and stat.S_ISLNK(st.st_mode):
        return symlink_refused(key)
    if st is not None and not stat.S_ISDIR(st.st_mode):
        if create:
            return collision(key, where, is_dir=False)
        return StorageFileNotFoundError(f"file not found: {key}", key=key, backend=BACKEND)
    return os_error(exc, key=key, action=f"opening directory {where!r}")


def lstat_or_none(dir_fd: int, name: str) -> os.stat_result | None:
    """``lstat`` of ``name`` in ``dir_fd``, or ``None`` when it does not exist."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        return None


def unlink_quietly(dir_fd: int, name: str) -> None:
    """Remove ``name`` if it exists; cleanup paths must not mask the original error."""
    with contextlib.suppress(OSError):
        os.unlink(name, dir_fd=dir_fd)


def fsync_dir(fd: int) -> None:
    """Make a rename or unlink in this directory durable."""
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some filesystems (and some network mounts) refuse fsync on directories.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise


def fsync_path(path: DirPath) -> None:
    """fsync the deepest directory, and the parent of every directory this walk created.

    A new file is only durable once its own directory entry and those of any directories
    created on the way are; existing parents need nothing.
    """
    fsync_dir(path.fd)
    if path.created is not None:
        for fd in path.fds[path.created : len(path.segments)]:
            fsync_dir(fd)


def prune_empty(path: DirPath, keep: int = 0) -> None:
    """Remove the directories of ``path`` deepest first while they are empty.

    Stops at the first directory that is not empty (or cannot be removed) and never removes
    the first ``keep`` segments or the root. Keeps the namespace object-store-like: once the
    last key under ``a/`` is gone, ``a`` can be stored as a key again.
    """
    for index in range(len(path.segments) - 1, keep - 1, -1):
        try:
            os.rmdir(path.segments[index], dir_fd=path.fds[index])
        except OSError:
            return


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """Write every byte of ``data`` (``os.write`` may write less than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_file_atomic(
    dir_fd: int,
    name: str,
    body: bytes,
    permissions: int,
    *,
    fsync: bool = True,
    sync_dir: bool = True,
) -> None:
    """Replace ``name`` in ``dir_fd`` with ``body``: temp file, fsync, rename, dir fsync.

    ``fsync=False`` skips both fsyncs (atomic, not durable); ``sync_dir=False`` leaves the
    directory fsync to the caller, to issue once after further renames.
    """
    tmp = temp_name()
    fd = os.open(tmp, TEMP_FLAGS, permissions, dir_fd=dir_fd)
    try:
        os.fchmod(fd, permissions)
        write_all(fd, body)
        if fsync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        unlink_quietly(dir_fd, tmp)
        raise
    os.close(fd)
    try:
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        unlink_quietly(dir_fd, tmp)
        raise
    if fsync and sync_dir:
        fsync_dir(dir_fd)
