"""The chunk source behind ``GCSStorage.get``: one ``objects.get?alt=media``, read lazily.

A class rather than an ``async def`` generator: a stream dropped without ``aclose()`` then
holds nothing that needs finalising later ("sometime later, somewhere else", trio's notes on
async generators), and trio has no abandoned generator to warn about.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel

from litestar_storages._stream import ResponseDownload
from litestar_storages.backends.gcs._integrity import DownloadVerifier, parse_goog_hash
from litestar_storages.backends.gcs._wire import header_values
from litestar_storages.progress import ProgressReporter

if TYPE_CHECKING:
    from litestar_storages._http.send import ResponseBody
    from litestar_storages.backends.gcs.client import GCSClient

__all__ = ["Download"]


class Download(ResponseDownload):
    """Sends the request on the first ``__anext__``, then hands out the body's chunks.

    Args:
        client: Returns the client that sends the request (called on the first read, so
            ``get()`` itself neither resolves credentials nor imports the HTTP layer).
        key: The object.
        byte_range: A ``Range`` value, ``None`` for the whole object, ``""`` for nothing.
        reporter: Learns the total size from ``Content-Length``.
        verify: Check ``x-goog-hash`` (full downloads of objects stored without encoding).
    """

    __slots__ = ("_client", "_key", "_range", "_reporter", "_verifier", "_verify")

    def __init__(
        self,
        client: Callable[[], GCSClient],
        key: str,
        byte_range: str | None,
        reporter: ProgressReporter,
        *,
        verify: bool,
    ) -> None:
        self._client = client
        self._key = key
        self._range = byte_range
        self._reporter = reporter
        self._verify = verify
        self._body: ResponseBody | None = None
        self._verifier: DownloadVerifier | None = None
        self._done = False

    async def _open(self) -> ResponseBody | None:
        client = self._client()
        if self._range == "":
            # An empty range: nothing to read, but a missing key must still raise.
            await client.objects_get(self._key)
            return None
        response, body = await client.objects_get_media(self._key, byte_range=self._range)
        if response.status_code == 416:  # the range starts past the end: nothing, as slicing
            await body.aclose()
            return None
        self._reporter.total_bytes = body.expected
        # "Hashes and ETags": the hashes cover the whole stored object, so only full downloads
        # of objects served as stored (no decompressive transcoding) can be checked.
        stored_encoding = response.headers.get("x-goog-stored-content-encoding", "identity")
        if (
            self._verify
            and self._range is None
            and stored_encoding == "identity"
            and "content-encoding" not in response.headers
        ):
            expected = parse_goog_hash(header_values(response.headers, "x-goog-hash"))
            self._verifier = DownloadVerifier(expected, key=self._key)
        return body

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        if self._body is None:
            self._body = await self._open()
            if self._body is None:
                self._done = True
                raise StopAsyncIteration
        else:
            await anyio.lowlevel.checkpoint_if_cancelled()
        try:
            chunk = await self._body.__anext__()
        except StopAsyncIteration:
            self._done = True
            if self._verifier is not None:
                self._verifier.verify()
            raise
        if self._verifier is not None:
            self._verifier.update(chunk)
        return chunk

    def _check(self, data: bytes) -> None:
        if self._verifier is not None:
            self._verifier.update(data)
            self._verifier.verify()

    async def aclose(self) -> None:
        """Release the connection. Idempotent; shielded from cancellation."""
        self._done = True
        if self._body is not None:
            with anyio.CancelScope(shield=True):
                await self._body.aclose()
