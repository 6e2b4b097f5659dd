"""Listing: List Blobs pages followed marker by marker, as ``StoredFile`` entries and folders.

Each page is fully read before its entries are yielded, so an async generator is fine here
(DESIGN.md: "list() may be an async generator").
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from litestar_storages._types import StoredFile, validate_prefix
from litestar_storages.backends.azure import client
from litestar_storages.backends.azure._wire import BlobLocation
from litestar_storages.exceptions import StorageConfigurationError

if TYPE_CHECKING:
    from litestar_storages._http.send import Sender

__all__ = ["iter_entries"]


async def iter_entries(
    sender: Callable[[], Sender],
    loc: BlobLocation,
    *,
    key_prefix: str,
    prefix: str,
    limit: int | None,
    delimiter: str | None,
    page_size: int,
) -> AsyncIterator[tuple[StoredFile | None, str | None]]:
    """``(blob, None)`` and ``(None, folder)`` pairs in the service's lexicographic order.

    Keys and folders come without ``key_prefix``. ``limit`` counts blobs and asks the last page
    for only what is still needed (``maxresults``); ``limit=0`` sends nothing.

    Raises:
        StorageConfigurationError: ``limit`` is negative.
        StorageInvalidKeyError: ``prefix`` has a control character.
    """
    validate_prefix(prefix, backend="azure")
    if limit is not None and limit < 0:
        raise StorageConfigurationError("limit must not be negative", backend="azure")
    if limit == 0:
        return
    strip = len(key_prefix)
    remaining = limit
    marker: str | None = None
    while True:
        page = await client.list_blobs(
            sender(),
            loc,
            prefix=f"{key_prefix}{prefix}",
            marker=marker,
            max_results=page_size if remaining is None else min(page_size, remaining),
            delimiter=delimiter,
        )
        for item in page.blobs:
            stored = StoredFile(
                key=item.name[strip:],
                size=item.size,
                content_type=item.content_type,
                etag=item.etag,
                last_modified=item.last_modified,
                metadata=dict(item.metadata),
            )
            yield stored, None
        for folder in page.prefixes:
            yield None, folder[strip:]
        if remaining is not None:
            remaining -= len(page.blobs)
            if remaining <= 0:
                return
        marker = page.next_marker
        if not marker:
            return
