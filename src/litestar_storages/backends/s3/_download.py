"""The chunk source behind ``S3Storage.get``: GetObject, streamed, verified, released.

A class rather than an ``async def`` generator (``_stream.ChunkSource``): trio warns about async
generators abandoned unfinished, and a stream dropped after ``break`` without ``aclose()`` must
still give its connection back. Dropping it releases the connection synchronously where the
transport allows (``ResponseBody.close_nowait``), in the thread that opened it only.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from typing import TYPE_CHECKING

from litestar_storages._stream import ResponseDownload
from litestar_storages.backends.s3 import client
from litestar_storages.exceptions import (
    StorageConfigurationError,
    StorageError,
    StorageIntegrityError,
)

if TYPE_CHECKING:
    from litestar_storages._http.send import ResponseBody
    from litestar_storages.backends.s3.storage import S3Storage
    from litestar_storages.progress import ProgressReporter

__all__ = ["Download", "range_header"]


def range_header(start: int | None, end: int | None) -> tuple[str | None, bool]:
    """The ``Range`` header for [start, end) and whether the range is empty.

    RFC 9110 section 14.1.2: ``bytes=first-last`` is inclusive; ``bytes=-n`` is the last n bytes.

    Raises:
        StorageConfigurationError: A negative ``end``, or a negative ``start`` with an ``end``.
    """
    if start is None and end is None:
        return None, False
    if start is not None and start < 0:
        if end is not None:
            raise StorageConfigurationError("a negative start cannot have an end", backend="s3")
        return f"bytes={start}", False
    first = start or 0
    if end is not None:
        if end < 0:
            raise StorageConfigurationError("end must not be negative", backend="s3")
        if end <= first:
            return None, True
        return f"bytes={first}-{end - 1}", False
    return (f"bytes={first}-", False) if first else (None, False)


class Download(ResponseDownload):
    """GetObject as a chunk source: the request is sent on the first ``__anext__``.

    Args:
        storage: The storage (for its sender, endpoint and key naming).
        key: The key as the caller gave it.
        full: The key with the storage prefix.
        byte_range: The ``Range`` header, or ``None`` for the whole object.
        empty: The range is empty: only check that the key exists.
        reporter: Download progress (its total is set from ``Content-Length``).
    """

    __slots__ = (
        "_empty",
        "_expected_sha",
        "_full",
        "_hasher",
        "_key",
        "_range",
        "_reporter",
        "_storage",
        "_thread",
    )

    def __init__(
        self,
        storage: S3Storage,
        key: str,
        *,
        full: str,
        byte_range: str | None,
        empty: bool,
        reporter: ProgressReporter,
    ) -> None:
        self._storage = storage
        self._key = key
        self._full = full
        self._range = byte_range
        self._empty = empty
        self._reporter = reporter
        self._body: ResponseBody | None = None
        self._done = False
        self._hasher: hashlib._Hash | None = None
        self._expected_sha: str | None = None
        self._thread = threading.get_ident()

    async def _open(self) -> ResponseBody | None:
        if self._empty:
            await self._storage.info(self._key)  # still "not found" for a missing key
            return None
        whole = self._range is None
        body = await self._storage._call(
            lambda s, ep: client.get_object(
                s,
                ep,
                self._full,
                byte_range=self._range,
                checksum_mode=ep.traits.checksum_sha256 and whole,
            )
        )
        if body.response.status_code == 416:  # the range starts past the end: nothing
            await body.aclose()
            return None
        self._reporter.total_bytes = body.expected
        expected = body.response.headers.get("x-amz-checksum-sha256")
        # Composite (multipart) checksums are "<base64>-N" and cover parts, not the body.
        if whole and expected and "-" not in expected:
            self._hasher = hashlib.sha256()
            self._expected_sha = expected
        return body

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        body = self._body
        if body is None:
            body = self._body = await self._open()
            if body is None:
                self._done = True
                raise StopAsyncIteration
        try:
            chunk = await body.__anext__()
        except StopAsyncIteration:
            self._done = True
            self._verify()
            raise
        except StorageError as exc:
            self._read_failed(exc)
            raise
        if self._hasher is not None:
            self._hasher.update(chunk)
        return chunk

    def _read_failed(self, error: StorageError) -> None:
        # A truncated body or a read timeout: name the key as the caller gave it.
        self._storage._as_given(error)

    def _check(self, data: bytes) -> None:
        if self._hasher is not None:
            self._hasher.update(data)
            self._verify()

    def _verify(self) -> None:
        if self._hasher is None:
            return
        got = base64.b64encode(self._hasher.digest()).decode("ascii")
        if got != self._expected_sha:
            raise StorageIntegrityError(
                f"GetObject {self._key!r}: SHA-256 {got} does not match the server's "
                f"x-amz-checksum-sha256 {self._expected_sha}",
                key=self._key,
                backend="s3",
            )

    async def aclose(self) -> None:
        """Release the connection. Idempotent."""
        self._done = True
        body, self._body = self._body, None
        if body is not None:
            await body.aclose()

    def __del__(self) -> None:
        # Dropped without aclose() (``async for ... break`` outside ``async with``): give the
        # connection back now rather than leaking a pool slot. Only in the opening thread: a
        # garbage collection in a worker thread must not touch the event loop's pool.
        body = self._body
        if body is not None and threading.get_ident() == self._thread:
            self._body = None
            body.close_nowait()
