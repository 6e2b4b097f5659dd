"""The value types of the contract (StoredFile, MultipartUpload) and the one key validator."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from litestar_storages.exceptions import StorageInvalidKeyError

__all__ = [
    "DEFAULT_PART_SIZE",
    "MAX_KEY_BYTES",
    "PUT_LARGE_PART_SIZE",
    "MultipartUpload",
    "StoredFile",
    "UploadResult",
    "prefixed_key",
    "validate_key",
    "validate_prefix",
]

DEFAULT_PART_SIZE = 5 * 1024 * 1024
"""Default part size of ``start_multipart_upload`` (S3's minimum for every part but the last)."""

PUT_LARGE_PART_SIZE = 10 * 1024 * 1024
"""Default part size of ``put_large``."""

MAX_KEY_BYTES = 1024
"""The longest key, in UTF-8 bytes, that every provider accepts (S3 and GCS: 1024)."""


@dataclass(frozen=True)
class StoredFile:
    """What the storage knows about one stored object.

    Attributes:
        key: The key, relative to the storage's prefix.
        size: Size in bytes.
        content_type: MIME type, when one was stored.
        etag: The provider's entity tag without surrounding quotes.
        last_modified: Time of the last write, timezone-aware UTC.
        metadata: User metadata (string keys and values).
    """

    key: str
    size: int
    content_type: str | None = None
    etag: str | None = None
    last_modified: datetime | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UploadResult:
    """A stored file together with a URL for it (litestar-storages 0.2.3's upload result).

    Attributes:
        file: What was stored.
        url: A URL for the file, when one was generated.
    """

    file: StoredFile
    url: str | None = None


@dataclass
class MultipartUpload:
    """The state of one multipart upload, serialisable so it can be resumed after a restart.

    Attributes:
        upload_id: The provider's upload id.
        key: The destination key.
        parts: ``(part_number, etag)`` pairs of the parts uploaded so far.
        part_size: The intended size of every part but the last.
        total_parts: The number of parts, when known in advance.
        content_type: Content type to apply on completion (backends that set it then).
        metadata: User metadata to apply on completion (backends that set it then).
    """

    upload_id: str
    key: str
    parts: list[tuple[int, str]] = field(default_factory=list)
    part_size: int = DEFAULT_PART_SIZE
    total_parts: int | None = None
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    def add_part(self, part_number: int, etag: str) -> None:
        """Record an uploaded part, replacing an earlier upload of the same part number."""
        self.parts = [(n, e) for n, e in self.parts if n != part_number]
        self.parts.append((part_number, etag))

    @property
    def completed_parts(self) -> int:
        """How many distinct parts have been uploaded."""
        return len({n for n, _ in self.parts})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible snapshot of this upload (see :meth:`from_dict`)."""
        return {
            "upload_id": self.upload_id,
            "key": self.key,
            "parts": [[n, e] for n, e in self.parts],
            "part_size": self.part_size,
            "total_parts": self.total_parts,
            "content_type": self.content_type,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MultipartUpload:
        """Rebuild an upload saved with :meth:`to_dict`."""
        return cls(
            upload_id=str(data["upload_id"]),
            key=str(data["key"]),
            parts=[(int(n), str(e)) for n, e in data.get("parts", [])],
            part_size=int(data.get("part_size", DEFAULT_PART_SIZE)),
            total_parts=data.get("total_parts"),
            content_type=data.get("content_type"),
            metadata=dict(data.get("metadata") or {}),
        )


def validate_key(key: object, *, backend: str | None = None) -> str:
    """Check a key against the rules every backend shares and return it unchanged.

    A key must be a non-empty string of at most 1024 UTF-8 bytes, contain no NUL or other control
    characters, not start with ``/`` and have no ``.`` or ``..`` path segment. Object stores
    accept more, but a key that only some backends accept would make code non-portable, and
    ``..`` would let a filesystem key escape its root.

    Raises:
        StorageInvalidKeyError: The key breaks one of the rules (also a ``ValueError``).
    """
    if type(key) is str and key and key.isascii() and key.isprintable():
        # Fast path for the common case (every key goes through here, on every call): printable
        # ASCII has no control characters and one byte per character.
        wrapped = f"/{key}/"
        if (
            key[0] != "/"
            and len(key) <= MAX_KEY_BYTES
            and "/./" not in wrapped
            and "/../" not in wrapped
        ):
            return key
    if not isinstance(key, str):
        raise StorageInvalidKeyError(
            f"key must be a str, not {type(key).__name__}", backend=backend
        )
    if not key:
        raise StorageInvalidKeyError("key must not be empty", key=key, backend=backend)
    reason = _key_problem(key)
    if reason is not None:
        # The key may itself be the problem (control characters), so show it escaped.
        raise StorageInvalidKeyError(f"invalid key {key!r}: {reason}", key=key, backend=backend)
    return key


def prefixed_key(prefix: str, key: str, *, backend: str) -> str:
    """Validate ``key`` and return the provider's object name ``prefix + key``.

    S3 ("Object key naming"), GCS ("Object naming requirements") and Azure ("Naming and
    referencing containers, blobs") all cap the whole object name, the storage's prefix included,
    at 1024 (UTF-8 bytes for S3 and GCS; characters for Azure, which bytes bound from above).

    Raises:
        StorageInvalidKeyError: The key is invalid, or too long once prefixed.
    """
    validate_key(key, backend=backend)
    full = prefix + key
    if prefix and len(full) > MAX_KEY_BYTES // 4:  # cheap exit: 256 chars never exceed 1024 B
        size = len(full.encode("utf-8"))
        if size > MAX_KEY_BYTES:
            raise StorageInvalidKeyError(
                f"key {key!r} is too long: with the prefix {prefix!r} it has {size} UTF-8 bytes, "
                f"{backend} allows {MAX_KEY_BYTES}",
                key=key,
                backend=backend,
            )
    return full


def validate_prefix(prefix: object, *, backend: str | None = None) -> str:
    """Check a listing prefix: like a key, but it may be empty or end inside a segment."""
    if not isinstance(prefix, str):
        raise StorageInvalidKeyError(
            f"prefix must be a str, not {type(prefix).__name__}", backend=backend
        )
    if prefix and _has_control(prefix):
        raise StorageInvalidKeyError(
            f"invalid prefix {prefix!r}: contains a control character", backend=backend
        )
    return prefix


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def _key_problem(key: str) -> str | None:
    if _has_control(key):
        return "contains a NUL or control character"
    if key.startswith("/"):
        return "must be relative (no leading '/')"
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return f"longer than {MAX_KEY_BYTES} UTF-8 bytes"
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (lone surrogate)"
    if any(segment in (".", "..") for segment in key.split("/")):
        return "'.' and '..' segments are not allowed"
    return None
