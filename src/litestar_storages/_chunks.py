"""Turning whatever a caller passes to ``put`` into bounded chunks, written once for all backends.

Accepted: ``bytes``, ``bytearray``, ``memoryview``, async iterables of bytes (generators,
``ByteStream`` from another storage), sync iterables of bytes, and file-like objects with a sync
or async ``read(n)`` (an ``open()``ed file, ``io.BytesIO``, an upload's ``file``). Anything else
is a ``TypeError`` before any I/O. Blocking reads of real files run in a worker thread.
"""

from __future__ import annotations

import contextlib
import inspect
import io
from collections.abc import AsyncGenerator, AsyncIterable, Iterable
from typing import Any, Protocol, TypeAlias, cast, runtime_checkable

import anyio.lowlevel
import anyio.to_thread

__all__ = [
    "CHUNK_SIZE",
    "PutData",
    "aiter_chunks",
    "aiter_parts",
    "check_data",
    "data_length",
    "is_bytes_like",
]

CHUNK_SIZE = 1024 * 1024
"""Largest chunk handed on from a source (the filestore seed's default chunk size)."""


@runtime_checkable
class _Readable(Protocol):
    def read(self, size: int = -1, /) -> Any: ...


PutData: TypeAlias = (
    "bytes | bytearray | memoryview | AsyncIterable[bytes] | Iterable[bytes] | _Readable"
)
"""Everything ``put`` accepts as ``data``."""


def is_bytes_like(data: object) -> bool:
    """Whether ``data`` is an in-memory buffer (bytes, bytearray or memoryview)."""
    return isinstance(data, (bytes, bytearray, memoryview))


def check_data(data: object) -> None:
    """Raise ``TypeError`` unless ``data`` is something ``put`` accepts."""
    if is_bytes_like(data):
        return
    if isinstance(data, str):
        raise TypeError("put() takes bytes, not str: encode the text first, e.g. text.encode()")
    if hasattr(data, "read") and callable(data.read):
        return
    if isinstance(data, (AsyncIterable, Iterable)):
        return
    raise TypeError(
        "put() data must be bytes, bytearray, memoryview, an (async) iterator of bytes or a "
        f"file-like object with read(), not {type(data).__name__}"
    )


def data_length(data: object) -> int | None:
    """The number of bytes ``data`` will yield, when it can be known without reading it."""
    if isinstance(data, memoryview):
        return data.nbytes
    if isinstance(data, (bytes, bytearray)):
        return len(data)
    if isinstance(data, io.BytesIO):
        return len(data.getbuffer()) - data.tell()
    seekable = getattr(data, "seekable", None)
    if callable(seekable) and not inspect.iscoroutinefunction(seekable):
        try:
            if seekable():
                here = data.tell()  # type: ignore[attr-defined]
                end = data.seek(0, io.SEEK_END)  # type: ignore[attr-defined]
                data.seek(here)  # type: ignore[attr-defined]
                return int(end) - int(here)
        except (OSError, ValueError, AttributeError):
            return None
    return None


def _as_bytes(chunk: object) -> bytes:
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, (bytearray, memoryview)):
        return bytes(chunk)
    raise TypeError(f"data yielded {type(chunk).__name__}, expected bytes")


async def aiter_chunks(data: PutData, chunk_size: int = CHUNK_SIZE) -> AsyncGenerator[bytes, None]:
    """Yield ``data`` as non-empty chunks of at most ``chunk_size`` bytes."""
    check_data(data)
    if is_bytes_like(data):
        view = _byte_view(data)
        for start in range(0, view.nbytes, chunk_size):
            yield bytes(view[start : start + chunk_size])
        return
    if isinstance(data, _Readable) or hasattr(data, "read"):
        async for chunk in _read_file(data, chunk_size):
            yield chunk
        return
    if isinstance(data, AsyncIterable):
        # put() owns the iterator it was given: close it even when the upload stops early, so
        # the producer's cleanup runs now rather than at garbage collection.
        try:
            async for item in data:
                for piece in _split(_as_bytes(item), chunk_size):
                    yield piece
        finally:
            aclose = getattr(data, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()
        return
    try:
        for item in cast("Iterable[bytes]", data):
            for piece in _split(_as_bytes(item), chunk_size):
                yield piece
            # A sync generator may be computing for a while: let other tasks run between chunks.
            await anyio.lowlevel.checkpoint()
    finally:
        close = getattr(data, "close", None)
        if close is not None and not hasattr(data, "read"):
            close()


def _byte_view(data: Any) -> memoryview:
    """A view indexed by byte, whatever the buffer's item format (``array('I')`` etc.)."""
    view = memoryview(data)
    if view.format == "B" and view.ndim == 1:
        return view
    if view.c_contiguous:
        return view.cast("B")
    return memoryview(view.tobytes())


def _split(chunk: bytes, chunk_size: int) -> Iterable[bytes]:
    if len(chunk) <= chunk_size:
        if chunk:
            yield chunk
        return
    for start in range(0, len(chunk), chunk_size):
        yield chunk[start : start + chunk_size]


async def _read_file(file: Any, chunk_size: int) -> AsyncGenerator[bytes, None]:
    read = file.read
    if inspect.iscoroutinefunction(read):
        while chunk := await read(chunk_size):
            for piece in _split(_as_bytes(chunk), chunk_size):
                yield piece
        return
    # In-memory buffers never block; anything else (a disk file, a spooled upload) may.
    blocking = not isinstance(file, io.BytesIO)
    while True:
        if blocking:
            chunk = await anyio.to_thread.run_sync(read, chunk_size)
        else:
            chunk = read(chunk_size)
            await anyio.lowlevel.checkpoint()
        if inspect.isawaitable(chunk):  # read() returning an awaitable without being async def
            chunk = await chunk
        if not chunk:
            return
        for piece in _split(_as_bytes(chunk), chunk_size):
            yield piece


async def aiter_parts(
    chunks: AsyncGenerator[bytes, None], part_size: int
) -> AsyncGenerator[bytes, None]:
    """Regroup chunks into parts of exactly ``part_size`` bytes (the last may be shorter).

    Memory stays bounded by one part plus one chunk. Yields nothing for empty input. Each
    byte is copied once, by the join that makes its part: the chunks (immutable ``bytes``) are
    held as views until then, rather than appended to a buffer and copied out of it again
    (a second pass over every uploaded byte: 0.17 vs 0.10 CPU s per GiB in 8 MiB parts).
    """
    if part_size <= 0:
        raise ValueError("part_size must be positive")
    pieces: list[memoryview] = []
    size = 0
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            view = memoryview(chunk)
            while len(view) >= part_size - size:
                need = part_size - size
                pieces.append(view[:need])
                view = view[need:]
                part = b"".join(pieces)
                pieces.clear()
                size = 0
                yield part
            if view:
                pieces.append(view)
                size += len(view)
    if pieces:
        yield b"".join(pieces)
