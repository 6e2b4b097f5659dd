"""The byte source behind ``FileSystemStorage.get``: a file read in chunks from worker threads.

It is a class (a ``ChunkSource``) rather than an ``async def`` generator on purpose.
``ByteStream`` closes its source deterministically inside ``async with``, but the seeds' plain
``async for chunk in storage.get(key): ... break`` drops the stream unclosed; a native async
generator abandoned that way is finalised "sometime later, somewhere else" and trio warns about
it. This object holds a plain file descriptor instead, which ``__del__`` can close at once:
closing a descriptor opened read-only does no I/O, so it is safe in a finaliser and needs no
event loop.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

import anyio.to_thread

from litestar_storages._chunks import CHUNK_SIZE
from litestar_storages.backends._fs_ops import Tree, truncated
from litestar_storages.progress import ProgressReporter

__all__ = ["FileChunks"]

_T = TypeVar("_T")


async def _run(func: Callable[[], _T]) -> _T:
    return await anyio.to_thread.run_sync(func)


class FileChunks:
    """Chunks of ``key`` in the range ``[start:end]``; opened on the first ``__anext__``.

    A ``ChunkSource`` for ``ByteStream``. Each chunk is one thread hop (the open and the first
    chunk share one).
    """

    __slots__ = (
        "_done",
        "_fd",
        "_key",
        "_opened",
        "_position",
        "_range",
        "_remaining",
        "_reporter",
        "_segments",
        "_tree",
    )

    def __init__(
        self,
        tree: Tree,
        key: str,
        segments: Sequence[str],
        *,
        start: int | None,
        end: int | None,
        reporter: ProgressReporter,
    ) -> None:
        self._tree = tree
        self._key = key
        self._segments = segments
        self._range = (start, end)
        self._reporter = reporter
        self._fd: int | None = None
        self._opened = False
        self._done = False
        self._position = 0
        self._remaining = 0

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        try:
            if not self._opened:
                self._opened = True
                fd, self._position, self._remaining, first = await _run(
                    functools.partial(self._tree.open_read, self._key, self._segments, *self._range)
                )
                self._fd = fd
                self._reporter.total_bytes = len(first) + self._remaining
                if first:
                    return first
            if self._remaining <= 0 or self._fd is None:
                raise StopAsyncIteration
            chunk = await _run(
                functools.partial(
                    os.pread, self._fd, min(CHUNK_SIZE, self._remaining), self._position
                )
            )
            if not chunk:
                raise truncated(self._key)
            self._position += len(chunk)
            self._remaining -= len(chunk)
            return chunk
        except BaseException:
            self._close()
            raise

    async def aclose(self) -> None:
        """Close the file now (idempotent)."""
        self._close()

    def _close(self) -> None:
        self._done = True
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __del__(self) -> None:
        # A stream dropped without aclose(): release the descriptor now (no I/O, no loop).
        self._close()
