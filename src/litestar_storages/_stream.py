"""``ByteStream``: what ``get()`` returns.

An async generator alone is not enough for downloads: a generator abandoned after ``break`` is
finalised "sometime later, somewhere else" (trio's notes on async generators), holding its HTTP
connection or file handle until then. ``ByteStream`` wraps the backend's generator and closes it
deterministically: on exhaustion, on error, on ``aclose()`` and on leaving ``async with``, with
the close shielded from cancellation so a cancelled reader still releases its connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from types import TracebackType
from typing import Protocol

import anyio

from litestar_storages.progress import ProgressReporter

__all__ = ["ByteStream", "ChunkSource"]


class ChunkSource(Protocol):
    """What ``ByteStream`` reads from: an async generator, or a class with the same two methods.

    A class (rather than an ``async def`` generator) lets a source that holds only a file
    descriptor or an in-memory buffer release it synchronously when a stream is abandoned
    without being closed; trio warns about abandoned async generators.
    """

    def __anext__(self) -> Awaitable[bytes]:
        """The next chunk; ``StopAsyncIteration`` at the end."""
        ...

    def aclose(self) -> Awaitable[object]:
        """Release what the source holds. Idempotent."""
        ...


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

    async def __aenter__(self) -> ByteStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
