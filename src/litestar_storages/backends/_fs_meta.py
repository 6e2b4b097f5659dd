"""Sidecar metadata of ``FileSystemStorage``: content type, user metadata and ETag per key.

Where: ``<root>/.litestar-storages/meta/<h[:2]>/<h[2:]>.json`` with ``h = sha256(key)``. A
hashed flat tree rather than a mirror of the data tree, because a mirror cannot hold both the
sidecar of ``a`` and the directory for ``a.json/b`` style keys, would need the same empty
directory pruning as the data tree, and could be served next to the data by a web server.
Sidecars were preferred to extended attributes because xattrs are missing or size-limited on
tmpfs, many network filesystems, macOS copies and most backup tools.

What: a JSON document naming the key and a short list of *versions*. Each version records the
identity of the data file it describes (size, ``st_mtime_ns``, inode) next to its ETag, content
type and metadata. A reader uses the version whose identity matches the file it is looking at
and ignores the rest, so a sidecar can never attach metadata to a different version of the data:

* a writer stores ``[new, current]`` *before* it renames the new data into place: readers in
  between, and the data left by a crash in between, still match ``current``;
* a file replaced by another program (or a crash after the rename but before a sidecar update)
  matches nothing and is reported without metadata, with a fallback ETag.

The inode makes the match exact on a live filesystem; size and mtime alone are accepted when no
inode matches, so metadata survives a backup restored with ``cp -a`` or ``rsync -a``.

Writers of one key are serialised by a lock stripe (a thread lock plus ``flock`` on a lock file,
so several processes sharing a root agree too), which keeps create-only races from leaving the
winner's data with the loser's sidecar.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from litestar_storages.backends._fs_paths import (
    DIR_FLAGS,
    FILE_READ_FLAGS,
    INTERNAL_DIR,
    O_CLOEXEC,
    O_NOFOLLOW,
    DirPath,
    open_dirs,
    unlink_quietly,
    write_file_atomic,
)
from litestar_storages.exceptions import StorageFileNotFoundError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: FileSystemStorage refuses to start there
    fcntl = None  # type: ignore[assignment]

__all__ = ["MetaStore", "Version", "pick"]

_FORMAT = 1
_META = "meta"
_LOCKS = "locks"
_STRIPES = 256
_THREAD_LOCKS = [threading.Lock() for _ in range(_STRIPES)]
_MAX_SIDECAR = 16 * 1024 * 1024  # a sidecar bigger than this is not ours: ignore it


@dataclass(frozen=True)
class Version:
    """What the storage knows about one version of a key's data file."""

    size: int
    mtime_ns: int
    ino: int
    etag: str | None = None
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        st: os.stat_result,
        *,
        etag: str | None,
        content_type: str | None,
        metadata: Mapping[str, str] | None,
    ) -> Version:
        """The version describing the file ``st`` was taken of."""
        return cls(
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
            ino=st.st_ino,
            etag=etag,
            content_type=content_type,
            metadata=dict(metadata or {}),
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible form."""
        return {
            "size": self.size,
            "mtime_ns": self.mtime_ns,
            "ino": self.ino,
            "etag": self.etag,
            "content_type": self.content_type,
            "metadata": self.metadata,
        }

    @classmethod
    def from_json(cls, obj: Any) -> Version | None:
        """Parse one version; ``None`` if it is malformed."""
        if not isinstance(obj, dict):
            return None
        size, mtime_ns, ino = obj.get("size"), obj.get("mtime_ns"), obj.get("ino")
        etag, content_type = obj.get("etag"), obj.get("content_type")
        metadata = obj.get("metadata") or {}
        if not (isinstance(size, int) and isinstance(mtime_ns, int) and isinstance(ino, int)):
            return None
        if not (etag is None or isinstance(etag, str)):
            return None
        if not (content_type is None or isinstance(content_type, str)):
            return None
        if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
        ):
            return None
        return cls(size, mtime_ns, ino, etag, content_type, dict(metadata))


def pick(versions: Iterable[Version], st: os.stat_result) -> Version | None:
    """The version describing the file ``st`` was taken of, if any."""
    loose = None
    for version in versions:
        if version.size == st.st_size and version.mtime_ns == st.st_mtime_ns:
            if version.ino == st.st_ino:
                return version
            loose = loose or version
    return loose


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class MetaStore:
    """Reads and writes sidecars below one root (all methods block: call them in threads).

    Args:
        permissions: Mode of sidecar and lock files (the storage's file permissions).
        dir_mode: Mode of the directories created for them.
    """

    def __init__(self, *, permissions: int, dir_mode: int, fsync: bool = True) -> None:
        self.permissions = permissions
        self.dir_mode = dir_mode
        self.fsync = fsync

    def read(self, root_fd: int, key: str) -> list[Version]:
        """The versions recorded for ``key`` (empty when none, or the sidecar is unreadable)."""
        digest = _digest(key)
        try:
            dirs = open_dirs(
                os.dup(root_fd), [INTERNAL_DIR, _META, digest[:2]], key=key, create=False
            )
        except StorageFileNotFoundError:
            return []
        try:
            return _read_in(dirs.fd, digest, key)
        finally:
            dirs.close()

    def read_many(self, root_fd: int, keys: Sequence[str]) -> list[list[Version]]:
        """``read`` for many keys, opening each fan-out directory once (for listings)."""
        try:
            meta = open_dirs(os.dup(root_fd), [INTERNAL_DIR, _META], key=INTERNAL_DIR, create=False)
        except StorageFileNotFoundError:
            return [[] for _ in keys]
        fans: dict[str, int | None] = {}
        try:
            found = []
            for key in keys:
                digest = _digest(key)
                if digest[:2] not in fans:
                    try:
                        fans[digest[:2]] = os.open(digest[:2], DIR_FLAGS, dir_fd=meta.fd)
                    except (FileNotFoundError, NotADirectoryError):
                        fans[digest[:2]] = None
                fan = fans[digest[:2]]
                found.append([] if fan is None else _read_in(fan, digest, key))
            return found
        finally:
            for fd in fans.values():
                if fd is not None:
                    os.close(fd)
            meta.close()

    def write(self, root_fd: int, key: str, versions: Iterable[Version]) -> DirPath:
        """Atomically replace the sidecar of ``key`` (temp file, fsync, rename).

        Returns the open sidecar directory, whose fsync the caller issues (``fsync_dir``) after
        renaming the data into place, then closes: one journal commit covers both renames.
        """
        digest = _digest(key)
        body = json.dumps(
            {
                "format": _FORMAT,
                "key": key,
                "versions": [v.to_json() for v in versions],
            },
            sort_keys=True,
        ).encode("utf-8")
        dirs = open_dirs(
            os.dup(root_fd),
            [INTERNAL_DIR, _META, digest[:2]],
            key=key,
            create=True,
            dir_mode=self.dir_mode,
        )
        try:
            write_file_atomic(
                dirs.fd,
                f"{digest[2:]}.json",
                body,
                self.permissions,
                fsync=self.fsync,
                sync_dir=False,
            )
        except BaseException:
            dirs.close()
            raise
        return dirs

    def remove(self, root_fd: int, key: str) -> None:
        """Delete the sidecar of ``key`` if there is one."""
        digest = _digest(key)
        try:
            dirs = open_dirs(
                os.dup(root_fd), [INTERNAL_DIR, _META, digest[:2]], key=key, create=False
            )
        except StorageFileNotFoundError:
            return
        try:
            unlink_quietly(dirs.fd, f"{digest[2:]}.json")
        finally:
            dirs.close()

    @contextlib.contextmanager
    def lock(self, root_fd: int, keys: Iterable[str]) -> Iterator[None]:
        """Hold the write locks of ``keys`` (always taken in stripe order: no deadlock)."""
        stripes = sorted({int(_digest(k)[:2], 16) for k in keys})
        with contextlib.ExitStack() as stack:
            dirs = open_dirs(
                os.dup(root_fd),
                [INTERNAL_DIR, _LOCKS],
                key=INTERNAL_DIR,
                create=True,
                dir_mode=self.dir_mode,
            )
            stack.callback(dirs.close)
            for stripe in stripes:
                stack.enter_context(_THREAD_LOCKS[stripe])
                fd = os.open(
                    f"{stripe:02x}",
                    os.O_RDWR | os.O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                    self.permissions,
                    dir_fd=dirs.fd,
                )
                stack.callback(os.close, fd)
                try:
                    if fcntl is not None:
                        fcntl.flock(fd, fcntl.LOCK_EX)
                except OSError as exc:
                    # Some network and FUSE filesystems have no flock: the thread lock still
                    # serialises this process, and sidecar versions keep readers correct.
                    if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                        raise
            yield


def _read_in(dir_fd: int, digest: str, key: str) -> list[Version]:
    try:
        fd = os.open(f"{digest[2:]}.json", FILE_READ_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return []
    try:
        raw = _read_small(fd)
    finally:
        os.close(fd)
    return [] if raw is None else _decode(raw, key)


def _read_small(fd: int) -> bytes | None:
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_SIDECAR:
        return None
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(raw: bytes, key: str) -> list[Version]:
    try:
        doc = json.loads(raw)
    except ValueError:
        return []  # a torn or foreign file: treat as no metadata rather than failing reads
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT or doc.get("key") != key:
        return []
    versions = doc.get("versions")
    if not isinstance(versions, list):
        return []
    return [v for v in map(Version.from_json, versions) if v is not None]
