"""How backends are allowed to differ, written down as data.

The conformance tests never ask "which backend is this?". Where providers genuinely differ (a
filesystem cannot hold both ``a`` and ``a/b``; S3 refuses parts under 5 MiB; S3's listing carries no
user metadata), the test reads a field here and asserts the behaviour that field promises. A new
backend states its differences once, in its registry entry (``conformance/backends.py``).

Every field is here because some backend needs it; anything the contract demands of every backend
(key validation, create-only writes, sorted listing, ...) is not a capability.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Capabilities"]


@dataclass(frozen=True)
class Capabilities:
    """What one backend can do, where backends legitimately differ.

    Attributes:
        min_part_size: Smallest multipart part (every part but the last) the backend accepts.
            The multipart and ``put_large`` tests size their parts with it (S3: 5 MiB).
        supports_empty_segments: Whether keys with an empty path segment, such as ``a//b`` or a
            trailing ``/`` (``dir/``), are stored as ordinary objects. When ``False`` (a
            filesystem has no empty file names) such keys must be refused with
            ``StorageInvalidKeyError`` and nothing stored.
        supports_key_and_subkeys: Whether a key and keys below it (``a`` and ``a/b``) can exist
            at the same time, as in every object store. When ``False`` (a filesystem: ``a``
            cannot be a file and a directory) the second write must fail with a
            ``StorageError`` and leave the first object intact.
        list_includes_metadata: Whether ``list()`` reports ``content_type`` and user
            ``metadata``. S3's ListObjectsV2 returns neither; the others do. ``info()`` always
            must.
        list_page_size: The largest page the backend fetches per listing request. The
            pagination tests store more objects than this, so that listing must cross a page
            boundary (S3, GCS: 1000; Azure: 5000).
        url_scheme: The scheme of the URLs ``url()`` returns (``memory``, ``file``, ``http`` for
            a local emulator).
        url_fetchable: Whether an HTTP GET of ``url()`` (no credentials) returns the object's
            bytes, as presigned/SAS URLs do.
        download_progress: Whether ``get(key, progress_callback=...)`` reports download
            progress.
        persistent: Whether a second storage opened on the same location (directory, bucket
            prefix) sees what the first one stored, with its content type and metadata.
        prefix_in_key_limit: Whether the storage's configured ``prefix`` counts toward the
            provider's 1024-byte object-name limit, so the longest usable key is shorter by the
            prefix and a longer one is refused with ``StorageInvalidKeyError`` before any I/O.
    """

    min_part_size: int = 1
    supports_empty_segments: bool = True
    supports_key_and_subkeys: bool = True
    list_includes_metadata: bool = True
    list_page_size: int = 1000
    url_scheme: str = "https"
    url_fetchable: bool = False
    download_progress: bool = True
    persistent: bool = True
    prefix_in_key_limit: bool = False

    def part_size(self, wanted: int = 64 * 1024) -> int:
        """A part size for tests: ``wanted`` (small, so tests are fast), or the backend minimum."""
        return max(self.min_part_size, wanted)
