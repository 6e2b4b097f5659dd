"""``ByteStream``: what ``get()`` returns.

An async generator alone is not enough for downloads: a generator abandoned after ``break`` is
finalised "sometime later, somewhere else" (trio's notes on async generators), holding its HTTP
connection or file handle until then. ``ByteStream`` wraps the backend's generator and closes it
deterministically: on exhaustion, on error, on ``aclose()`` and on leaving ``async with``, with
the close shielded from cancellation so a cancelled reader still releases its connection.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Protocol

import anyio

from litestar_storages.exceptions import StorageError
from litestar_storages.progress import ProgressReporter

__all__ = ["ByteStream", "ChunkSource", "ResponseDownload", "WholeBody"]


class ChunkSource(Protocol):
    """What ``ByteStream`` reads from: an async generator, or a class with the same two methods.

    A class (rather than an ``async def`` generator) lets a source that holds only a file
    descriptor or an in-memory buffer release it synchronously when a stream is abandoned
    without being closed; trio warns about abandoned async generators.

    A source may also offer ``async def read_all(self) -> bytes``: everything it has left in
    one piece, with the checks of iterating it, having released what it holds by the time it
    returns or raises. ``ByteStream.read()`` (and so ``get_bytes``) uses it when no progress
    is reported: for a small object, the layers of a stream cost as much CPU as the rest.
    """

    def __anext__(self) -> Awaitable[bytes]:
        """The next chunk; ``StopAsyncIteration`` at the end."""
        ...

    def aclose(self) -> Awaitable[object]:
        """Release what the source holds. Idempotent."""
        ...


class WholeBody(Protocol):
    """A response body that can be read to its end in one piece (``_http.send.ResponseBody``)."""

    async def read_all(self) -> bytes:
        """The rest of the body; the connection is released when this returns or raises."""
        ...


class ResponseDownload(abc.ABC):
    """``read_all`` for a download over one response that is checked once it is complete.

    A subclass keeps the open body in ``_body`` and sets ``_done`` once finished, opens the
    response in ``_open`` and checks a whole body in ``_check``.
    """

    __slots__ = ("_body", "_done")
    _body: WholeBody | None
    _done: bool

    @abc.abstractmethod
    async def _open(self) -> WholeBody | None:
        """Send the request: the body to read, or ``None`` when there is nothing to read."""

    @abc.abstractmethod
    def _check(self, data: bytes) -> None:
        """Check the rest of the body (all of it, unless chunks were taken before)."""

    def _read_failed(self, error: StorageError) -> None:  # noqa: B027 - optional hook
        """Adjust an error raised while reading the body (a truncated body, a read timeout)."""

    async def read_all(self) -> bytes:
        """The rest of the object in one piece (``get_bytes``), checked as when streamed; the
        response is released when this returns or raises."""
        self._done = True
        body, self._body = self._body, None
        if body is None:
            body = await self._open()
            if body is None:
                return b""
        try:
            data = await body.read_all()
        except StorageError as exc:
            self._read_failed(exc)
            raise
        self._check(data)
        return data


class ByteStream(AsyncIterator[bytes]):
    """A stream of an object's bytes: async iterator, async context manager, ``aclose()``.

    Nothing is requested until the first chunk is awaited, so ``storage.get(key)`` itself never
    does I/O and never raises for a missing key: the first ``__anext__`` does.

    Example:
        >>> async with storage.get("video.mp4") as stream:
        ...     async for chunk in stream:
        ...         if done(chunk):
        ...             break  # the connection is released here, not at garbage collection
    """

    __slots__ = ("_buffer", "_closed", "_progress", "_source")

    def __init__(
        self,
        source: ChunkSource,
        *,
        progress: ProgressReporter | None = None,
    ) -> None:
        self._source = source
        self._progress = progress if progress is not None and progress.enabled else None
        self._closed = False
        self._buffer = b""  # what read(size) took from a chunk but did not return

    def __aiter__(self) -> ByteStream:
        return self

    async def __anext__(self) -> bytes:
        if self._buffer:
            chunk, self._buffer = self._buffer, b""
            return chunk
        if self._closed:
            raise StopAsyncIteration
        try:
            chunk = await self._source.__anext__()
        except BaseException:
            # Exhausted, failed or cancelled: release what the source holds before propagating.
            await self.aclose()
            raise
        if self._progress is not None:
            await self._progress.advance(len(chunk))
        return chunk

    async def aclose(self) -> None:
        """Stop the download and release its connection or file handle. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with anyio.CancelScope(shield=True):
            await self._source.aclose()

    @property
    def closed(self) -> bool:
        """Whether the stream has been closed (exhausted, failed or closed by the caller)."""
        return self._closed

    async def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (everything that is left if negative), like a file.

        ``b""`` means the end. Reading everything closes the stream. This also makes a stream
        usable as ``put()`` data: ``await other.put(key, storage.get(key))``.
        """
        if size < 0:
            read_all = getattr(self._source, "read_all", None)
            if read_all is not None and self._progress is None and not self._closed:
                return await self._read_all(read_all)
            buffer = bytearray(self._buffer)
            self._buffer = b""
            async with self:
                async for chunk in self:
                    buffer += chunk
            return bytes(buffer)
        if size == 0:
            return b""
        try:
            chunk = await self.__anext__()
        except StopAsyncIteration:
            return b""
        if len(chunk) > size:
            chunk, self._buffer = chunk[:size], chunk[size:]
        return chunk

    async def _read_all(self, read_all: Callable[[], Awaitable[bytes]]) -> bytes:
        head, self._buffer = self._buffer, b""
        try:
            data = await read_all()
        except BaseException:
            await self.aclose()
            raise
        # The source has let go of its connection or file: closing it cannot wait.
        self._closed = True
        await self._source.aclose()
        return head + data if head else data

    async def __aenter__(self) -> ByteStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
