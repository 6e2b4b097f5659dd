"""The chunk source behind ``AzureStorage.get``: one Get Blob, checked as it streams.

A class rather than an async generator: a stream dropped without ``aclose()`` (``async for``
with ``break`` outside ``async with``) then leaves nothing that trio has to finalise later, with
a warning, in another task; its response is released when the object is collected.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio

from litestar_storages._stream import ResponseDownload
from litestar_storages.backends.azure import client
from litestar_storages.backends.azure._integrity import DownloadVerifier
from litestar_storages.backends.azure._wire import BlobLocation, head_of
from litestar_storages.exceptions import StorageError
from litestar_storages.progress import ProgressReporter

if TYPE_CHECKING:
    from litestar_storages._http.send import ResponseBody, Sender

__all__ = ["BlobDownload"]


class BlobDownload(ResponseDownload):
    """Streams ``name`` (or its byte range [start, end)) and verifies it at the end.

    Nothing is sent before the first ``__anext__``. A whole-blob answer is checked against the
    blob's ``Content-MD5`` when the service returns one ("Get Blob": response headers); every
    answer against its ``Content-Length``. A range that starts past the end yields nothing (the
    service answers 416 ``InvalidRange``); an empty range still reports a missing key.

    Args:
        sender: Returns the storage's sender (created on first use).
        loc: The container.
        name: The blob name (prefix included).
        key: The key, for errors.
        start: First byte, or ``None``.
        end: One past the last byte, or ``None``.
        reporter: Told the total size once the answer arrives.
        check_exists: Called for an empty range: raises when the key does not exist.
    """

    __slots__ = (
        "_check_exists",
        "_end",
        "_key",
        "_loc",
        "_name",
        "_reporter",
        "_sender",
        "_start",
        "_verifier",
    )

    def __init__(
        self,
        sender: Callable[[], Sender],
        loc: BlobLocation,
        name: str,
        *,
        key: str,
        start: int | None,
        end: int | None,
        reporter: ProgressReporter,
        check_exists: Callable[[], Awaitable[object]],
    ) -> None:
        self._sender = sender
        self._loc = loc
        self._name = name
        self._key = key
        self._start = start
        self._end = end
        self._reporter = reporter
        self._check_exists = check_exists
        self._body: ResponseBody | None = None
        self._verifier: DownloadVerifier | None = None
        self._done = False

    async def _open(self) -> ResponseBody | None:
        start, end = self._start, self._end
        if end is not None and end <= (start or 0):
            await self._check_exists()
            return None
        ranged = start is not None or end is not None
        try:
            body = await client.get_blob(
                self._sender(), self._loc, self._name, key=self._key, start=start, end=end
            )
        except StorageError as exc:
            if ranged and exc.status == 416:  # InvalidRange: the range starts past the end
                return None
            raise
        self._verifier = DownloadVerifier(
            self._key,
            # Only a whole-blob answer carries the blob's own MD5 ("Get Blob": headers).
            expected_md5=None if ranged else head_of(body.response).get("content-md5"),
            expected_size=body.expected,
        )
        self._reporter.total_bytes = body.expected
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
        assert self._verifier is not None
        try:
            chunk = await body.__anext__()
        except StopAsyncIteration:
            self._done = True
            self._verifier.finish()  # a short or corrupted body raises here
            raise
        self._verifier.update(chunk)
        return chunk

    def _check(self, data: bytes) -> None:
        assert self._verifier is not None
        self._verifier.update(data)
        self._verifier.finish()  # a short or corrupted body raises here

    async def aclose(self) -> None:
        """Release the response. Idempotent; shielded so a cancelled reader still releases it."""
        self._done = True
        body, self._body = self._body, None
        if body is not None:
            with anyio.CancelScope(shield=True):
                await body.aclose()
