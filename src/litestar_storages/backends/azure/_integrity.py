"""Integrity checks: ``Content-MD5`` on uploads and on full downloads.

The Blob service verifies a transactional ``Content-MD5`` sent with Put Blob and Put Block and
answers 400 ``Md5Mismatch`` when the bytes it received differ ("Put Blob", "Put Block": request
headers). On a full Get Blob it returns the blob's stored ``Content-MD5`` when it has one ("Get
Blob", response headers): blobs written by Put Blob always have one (the service computes it
from version 2012-02-12); blobs committed with Put Block List have one only if the client set
``x-ms-blob-content-md5``.

``x-ms-content-crc64`` is not used: CRC-64 is not in the standard library, and a pure-Python
table runs at a few MB/s (like CRC32C in ``backends/gcs/_integrity.py``), far too slow for every
block, while MD5 from ``hashlib`` runs at hundreds of MB/s.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from litestar_storages.exceptions import StorageIntegrityError

__all__ = ["DownloadVerifier", "md5_b64"]


def md5_b64(data: bytes | bytearray | memoryview) -> str:
    """Base64 of the MD5 digest: the value of a ``Content-MD5`` header (RFC 1864)."""
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii")


class DownloadVerifier:
    """Checks a downloaded body against the length and ``Content-MD5`` the service announced.

    Args:
        key: The key, for error messages.
        expected_md5: The response's ``Content-MD5`` (base64), or ``None`` to skip the digest.
        expected_size: The number of bytes announced, or ``None``.
    """

    __slots__ = ("_digest", "_expected", "_key", "expected_size", "received")

    def __init__(self, key: str, *, expected_md5: str | None, expected_size: int | None) -> None:
        self._key = key
        self._expected = _decode(expected_md5)
        self._digest = hashlib.md5(usedforsecurity=False) if self._expected else None
        self.expected_size = expected_size
        self.received = 0

    @property
    def checks_digest(self) -> bool:
        """Whether an MD5 is being verified."""
        return self._digest is not None

    def update(self, chunk: bytes) -> None:
        """Account for one chunk of the body."""
        self.received += len(chunk)
        if self._digest is not None:
            self._digest.update(chunk)

    def finish(self) -> None:
        """Compare what arrived with what was announced.

        Raises:
            StorageIntegrityError: The body was short, or its MD5 differs.
        """
        if self.expected_size is not None and self.received != self.expected_size:
            raise StorageIntegrityError(
                f"download of {self._key!r}: received {self.received} of "
                f"{self.expected_size} bytes",
                key=self._key,
                backend="azure",
            )
        if self._digest is not None and self._digest.digest() != self._expected:
            raise StorageIntegrityError(
                f"download of {self._key!r}: Content-MD5 mismatch (the body is corrupted)",
                key=self._key,
                backend="azure",
                code="Md5Mismatch",
            )


def _decode(value: str | None) -> bytes | None:
    if not value:
        return None
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None  # not a digest we can check; the length check still applies
    return digest if len(digest) == 16 else None
