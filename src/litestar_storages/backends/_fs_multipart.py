"""Multipart uploads of ``FileSystemStorage``: parts staged under the root, assembled on complete.

Layout, under ``<root>/.litestar-storages/uploads/<upload_id>/``::

    upload.json             key, content type and metadata (written by start_multipart_upload)
    part-00001-<md5>        one file per uploaded part, named by number and MD5 (its ETag)

Everything the upload needs is on disk, so a ``MultipartUpload`` saved with ``to_dict`` can be
completed by another ``FileSystemStorage`` on the same root, after a restart. Parts are written
atomically (temp file, fsync, rename), may arrive in any order and concurrently; naming them by
their MD5 means two uploads of the same part number never clobber each other, and completion
uses exactly the part whose ETag the caller lists, as S3 does. Upload ids are 32 random hex
digits and are checked against that shape before they touch a path.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import secrets
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from litestar_storages._types import MultipartUpload, StoredFile
from litestar_storages.backends._fs_ops import Tree
from litestar_storages.backends._fs_paths import (
    BACKEND,
    DIR_FLAGS,
    FILE_READ_FLAGS,
    INTERNAL_DIR,
    DirPath,
    lstat_or_none,
    mapped,
    open_dirs,
    unlink_quietly,
    write_file_atomic,
)
from litestar_storages.backends._fs_write import COPY_BLOCK, TempFile
from litestar_storages.exceptions import (
    StorageError,
    StorageFileNotFoundError,
    StoragePreconditionFailedError,
)

__all__ = ["AssembleJob", "Staging"]

logger = logging.getLogger("litestar_storages")

_UPLOADS = "uploads"
_MANIFEST = "upload.json"
_HEX32 = re.compile(r"[0-9a-f]{32}\Z")


def _part_name(number: int, etag: str) -> str:
    return f"part-{number:05d}-{etag}"


@dataclass(frozen=True)
class Manifest:
    """What ``start_multipart_upload`` recorded for the upload."""

    key: str
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


def _no_such_upload(upload: MultipartUpload) -> StorageFileNotFoundError:
    return StorageFileNotFoundError(
        f"no such multipart upload: {upload.upload_id}",
        key=upload.key,
        backend=BACKEND,
        code="NoSuchUpload",
    )


class Staging:
    """The staging area of one root (blocking methods: call them in threads)."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree

    def start(self, key: str, content_type: str | None, metadata: Mapping[str, str] | None) -> str:
        """Create the staging directory and its manifest; return the new upload id."""
        upload_id = secrets.token_hex(16)
        body = json.dumps(
            {"key": key, "content_type": content_type, "metadata": dict(metadata or {})},
            sort_keys=True,
        ).encode("utf-8")
        with mapped(key, "starting a multipart upload"):
            dirs = open_dirs(
                self.tree.open_root(),
                [INTERNAL_DIR, _UPLOADS, upload_id],
                key=key,
                create=True,
                dir_mode=self.tree.dir_mode,
            )
            try:
                write_file_atomic(
                    dirs.fd, _MANIFEST, body, self.tree.permissions, fsync=self.tree.fsync
                )
                self.tree.sync_path(dirs)
            finally:
                dirs.close()
        return upload_id

    def open(self, upload: MultipartUpload) -> tuple[DirPath, Manifest]:
        """The staging directory of ``upload`` and its manifest.

        Raises:
            StorageFileNotFoundError: No such upload (code ``NoSuchUpload``), or it was
                started for another key.
        """
        if not _HEX32.match(upload.upload_id):
            raise _no_such_upload(upload)
        try:
            dirs = open_dirs(
                self.tree.open_root(),
                [INTERNAL_DIR, _UPLOADS, upload.upload_id],
                key=upload.key,
                create=False,
            )
        except StorageFileNotFoundError:
            raise _no_such_upload(upload) from None
        try:
            manifest = _read_manifest(dirs.fd)
        except BaseException:
            dirs.close()
            raise
        if manifest is None or manifest.key != upload.key:
            dirs.close()
            raise _no_such_upload(upload)
        return dirs, manifest

    def write_part(self, upload: MultipartUpload, number: int, data: bytes) -> str:
        """Store one part atomically; return its ETag (the MD5 of its bytes)."""
        with mapped(upload.key, f"uploading part {number}"):
            dirs, _ = self.open(upload)
            try:
                etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
                write_file_atomic(
                    dirs.fd,
                    _part_name(number, etag),
                    data,
                    self.tree.permissions,
                    fsync=self.tree.fsync,
                )
                return etag
            finally:
                dirs.close()

    def remove(self, upload_id: str) -> None:
        """Delete the staging directory of ``upload_id`` (missing is fine)."""
        if not _HEX32.match(upload_id):
            return  # cannot exist: never used as a path
        with mapped(None, "removing a multipart upload"):
            try:
                dirs = open_dirs(
                    self.tree.open_root(), [INTERNAL_DIR, _UPLOADS], key=INTERNAL_DIR, create=False
                )
            except StorageFileNotFoundError:
                return
            try:
                # A part being uploaded concurrently may land between the scan and the rmdir.
                for _ in range(8):
                    try:
                        fd = os.open(upload_id, DIR_FLAGS, dir_fd=dirs.fd)
                    except FileNotFoundError:
                        return
                    try:
                        with os.scandir(fd) as entries:
                            names = [entry.name for entry in entries]
                        for name in names:
                            unlink_quietly(fd, name)
                    finally:
                        os.close(fd)
                    try:
                        os.rmdir(upload_id, dir_fd=dirs.fd)
                    except FileNotFoundError:
                        return
                    except OSError as exc:
                        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                            continue
                        raise
                    self.tree.sync_dir(dirs.fd)
                    return
                raise StorageError(
                    f"multipart upload {upload_id} keeps receiving parts while being removed",
                    backend=BACKEND,
                )
            finally:
                dirs.close()


def _read_manifest(dir_fd: int) -> Manifest | None:
    try:
        fd = os.open(_MANIFEST, FILE_READ_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    try:
        raw = b"".join(iter(lambda: os.read(fd, 1 << 16), b""))
    finally:
        os.close(fd)
    try:
        doc = json.loads(raw)
        metadata = doc.get("metadata") or {}
        content_type = doc.get("content_type")
        if not (
            isinstance(doc["key"], str)
            and (content_type is None or isinstance(content_type, str))
            and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
        ):
            return None
        return Manifest(doc["key"], content_type, dict(metadata))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


class AssembleJob:
    """``complete_multipart_upload`` as a series of thread hops.

    Each ``step`` copies up to ``COPY_BLOCK`` bytes of parts (in part order) into one temp file
    next to the target, so a long assembly stays cancellable between hops; the last step
    commits it atomically, then removes the staging directory. ``discard`` undoes a failed or
    cancelled job and leaves the upload intact, so it can be retried or aborted.
    """

    def __init__(
        self,
        staging: Staging,
        upload: MultipartUpload,
        segments: Sequence[str],
        parts: Sequence[tuple[int, str]],
        *,
        overwrite: bool,
    ) -> None:
        self.staging = staging
        self.upload = upload
        self.parts = list(parts)
        self.writer = TempFile(staging.tree, upload.key, segments, overwrite=overwrite)
        self._dirs: DirPath | None = None
        self._manifest: Manifest | None = None
        self._etag = ""
        self._index = 0
        self._offset = 0
        self._part_fd: int | None = None
        self._part_size = 0

    def _prepare(self) -> None:
        self._dirs, self._manifest = self.staging.open(self.upload)
        if not self.parts:
            raise StoragePreconditionFailedError(
                "a multipart upload needs at least one part", key=self.upload.key, backend=BACKEND
            )
        digests = hashlib.md5(usedforsecurity=False)
        for number, etag in self.parts:
            clean = etag.strip('"')
            st = lstat_or_none(self._dirs.fd, _part_name(number, clean))
            if not _HEX32.match(clean) or st is None or not stat.S_ISREG(st.st_mode):
                raise StoragePreconditionFailedError(
                    f"part {number} was not uploaded with ETag {etag!r}",
                    key=self.upload.key,
                    backend=BACKEND,
                    code="InvalidPart",
                )
            digests.update(bytes.fromhex(clean))
        self._etag = f"{digests.hexdigest()}-{len(self.parts)}"
        self.writer.open()

    def step(self) -> StoredFile | None:
        """Do the next hop's worth of work; the finished object once committed."""
        with mapped(self.upload.key, "completing a multipart upload"):
            if self._dirs is None:
                self._prepare()
            assert self._dirs is not None  # set by _prepare()
            assert self._manifest is not None
            budget = COPY_BLOCK
            while budget > 0 and self._index < len(self.parts):
                if self._part_fd is None:
                    number, etag = self.parts[self._index]
                    name = _part_name(number, etag.strip('"'))
                    self._part_fd = os.open(name, FILE_READ_FLAGS, dir_fd=self._dirs.fd)
                    self._part_size = os.fstat(self._part_fd).st_size
                    self._offset = 0
                count = min(budget, self._part_size - self._offset)
                self.writer.copy_range(self._part_fd, self._offset, count, source=self.upload.key)
                self._offset += count
                budget -= count
                if self._offset >= self._part_size:
                    os.close(self._part_fd)
                    self._part_fd = None
                    self._index += 1
            if self._index < len(self.parts):
                return None
            stored = self.writer.commit(
                etag=self._etag,
                content_type=self._manifest.content_type,
                metadata=self._manifest.metadata,
            )
        self._close()
        try:
            self.staging.remove(self.upload.upload_id)
        except StorageError as exc:
            # The object is stored; leftover parts only cost space and abort can retry.
            logger.warning(
                "multipart upload %s for %r completed but its parts could not be removed: %s",
                self.upload.upload_id,
                self.upload.key,
                exc,
            )
        return stored

    def _close(self) -> None:
        if self._part_fd is not None:
            os.close(self._part_fd)
            self._part_fd = None
        if self._dirs is not None:
            self._dirs.close()

    def discard(self) -> None:
        """Remove the partial object; the staged parts stay for a retry or an abort."""
        try:
            self._close()
        finally:
            self.writer.discard()
