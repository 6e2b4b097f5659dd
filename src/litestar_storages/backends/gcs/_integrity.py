"""Checksums GCS reports and accepts: MD5 and CRC32C, both base64 of the big-endian digest.

GCS sends ``x-goog-hash: crc32c=<b64>,md5=<b64>`` with every download ("Hashes and ETags:
best practices"); objects made by ``compose`` or an XML multipart upload have only a CRC32C.

MD5 comes from ``hashlib`` (hundreds of MB/s). CRC32C (Castagnoli) is not in the standard
library: the pure-Python table below runs at a few MB/s (see ``bench/gcs_bench.py``), far too
slow to put on every download, so downloads check CRC32C only when the optional
``google-crc32c`` package (a C extension) is installed, and otherwise check MD5 where the object
has one. The pure-Python version is kept as the reference the fast path is tested against.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import struct
from collections.abc import Iterable
from functools import cache
from typing import Any

from litestar_storages.exceptions import StorageIntegrityError

__all__ = [
    "DownloadVerifier",
    "crc32c",
    "crc32c_b64",
    "fast_crc32c",
    "md5_b64",
    "parse_goog_hash",
]


def _table() -> tuple[int, ...]:
    poly = 0x82F63B78  # Castagnoli polynomial, reflected (RFC 3720, appendix B.4)
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _table()


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC32C of ``data``, continuing from ``crc`` (pure Python, slow: a reference).

    >>> hex(crc32c(b"123456789"))
    '0xe3069283'
    """
    table = _TABLE
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


@cache
def fast_crc32c() -> Any:
    """The ``google_crc32c`` module when it is installed with its C extension, else ``None``."""
    try:
        module = importlib.import_module("google_crc32c")
    except ImportError:
        return None
    # Its pure-Python fallback is as slow as ours: only the C implementation is worth using.
    return module if getattr(module, "implementation", "c") == "c" else None


def _b64_u32(value: int) -> str:
    return base64.b64encode(struct.pack(">I", value)).decode("ascii")


def crc32c_b64(data: bytes) -> str:
    """Base64 of the big-endian CRC32C of ``data``, as GCS writes it."""
    module = fast_crc32c()
    value = module.value(data) if module is not None else crc32c(data)
    return _b64_u32(int(value))


def md5_b64(data: bytes) -> str:
    """Base64 of the MD5 of ``data``, as GCS writes it (``md5Hash``)."""
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii")


def parse_goog_hash(values: Iterable[str]) -> dict[str, str]:
    """``{"crc32c": b64, "md5": b64}`` from one or more ``x-goog-hash`` header values.

    GCS may send the header once with comma-separated pairs or once per algorithm; each pair is
    ``name=value`` where the value is base64 (and may itself end in ``=``).
    """
    found: dict[str, str] = {}
    for value in values:
        for item in value.split(","):
            name, sep, digest = item.strip().partition("=")
            if sep and digest:
                found[name.strip().lower()] = digest.strip()
    return found


class DownloadVerifier:
    """Hashes a full download as it streams and compares with ``x-goog-hash`` at the end.

    MD5 is checked when the object has one; CRC32C when ``google-crc32c`` is installed. With
    neither (a composite object without the extension) only the length is checked, by the HTTP
    layer.

    Args:
        expected: The parsed ``x-goog-hash`` of the response.
        key: The key, for the error.
    """

    __slots__ = ("_crc", "_crc_module", "_expected", "_md5", "key")

    def __init__(self, expected: dict[str, str], *, key: str) -> None:
        self._expected = expected
        self.key = key
        self._md5 = hashlib.md5(usedforsecurity=False) if "md5" in expected else None
        module = fast_crc32c() if "crc32c" in expected else None
        self._crc_module = module
        self._crc = module.Checksum() if module is not None else None

    @property
    def active(self) -> bool:
        """Whether any digest is being checked."""
        return self._md5 is not None or self._crc is not None

    def update(self, chunk: bytes) -> None:
        """Hash the next chunk."""
        if self._md5 is not None:
            self._md5.update(chunk)
        if self._crc is not None:
            self._crc.update(chunk)

    def verify(self) -> None:
        """Compare the digests with the expected ones.

        Raises:
            StorageIntegrityError: A digest differs.
        """
        if self._md5 is not None:
            got = base64.b64encode(self._md5.digest()).decode("ascii")
            self._compare("md5", got)
        if self._crc is not None:
            got = base64.b64encode(self._crc.digest()).decode("ascii")
            self._compare("crc32c", got)

    def _compare(self, name: str, got: str) -> None:
        want = self._expected[name]
        if got != want:
            raise StorageIntegrityError(
                f"download of {self.key!r} is corrupted: {name} {got} != {want} (x-goog-hash)",
                key=self.key,
                backend="gcs",
                code=f"{name}_mismatch",
            )
