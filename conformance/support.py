"""Small helpers shared by the conformance tests. Public API of ``litestar_storages`` only."""

from __future__ import annotations

import random
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import TYPE_CHECKING, Protocol, TypeVar

import anyio
import anyio.lowlevel

if TYPE_CHECKING:
    from litestar_storages import BaseStorage, ByteStream, ProgressCallback, ProgressInfo

__all__ = [
    "STOCK_TRANSPORT_GENERATORS",
    "DownloadWithProgress",
    "ProgressLog",
    "async_chunks",
    "collect",
    "keys",
    "payload",
    "put_many",
    "read_all",
    "sync_chunks",
]

T = TypeVar("T")

STOCK_TRANSPORT_GENERATORS = ("Async generator 'httpcore.", "Async generator 'httpx._transports.")
"""How trio's ``ResourceWarning`` about an abandoned async generator begins when the generator is
one of httpx's stock transport (httpcore's, or httpx's own around it): closing a response does
not close them, so a download abandoned mid-body on that transport leaves them to the garbage
collector (the connection itself is closed). Our code and our transport leave none behind; the
``-httpx`` entries tolerate exactly these."""


def payload(size: int, seed: int = 0) -> bytes:
    """``size`` deterministic pseudo-random bytes (different seeds give different bodies)."""
    return random.Random(seed).randbytes(size)


async def collect(items: AsyncIterable[T]) -> list[T]:
    """Consume an async iterable to the end."""
    return [item async for item in items]


async def keys(storage: BaseStorage, prefix: str = "", *, limit: int | None = None) -> list[str]:
    """The keys ``storage.list(prefix, limit=limit)`` yields, in the order it yields them."""
    return [item.key async for item in storage.list(prefix, limit=limit)]


async def read_all(stream: AsyncIterable[bytes]) -> bytes:
    """Join every chunk of a download, checking each one is ``bytes``."""
    buffer = bytearray()
    async for chunk in stream:
        assert type(chunk) is bytes, f"chunks must be bytes, got {type(chunk).__name__}"
        buffer += chunk
    return bytes(buffer)


async def async_chunks(data: bytes, chunk_size: int) -> AsyncIterator[bytes]:
    """An async generator yielding ``data`` in ``chunk_size`` pieces, a checkpoint between."""
    for start in range(0, len(data), chunk_size):
        await anyio.lowlevel.checkpoint()
        yield data[start : start + chunk_size]


def sync_chunks(data: bytes, chunk_size: int) -> Iterable[bytes]:
    """A sync generator yielding ``data`` in ``chunk_size`` pieces."""
    for start in range(0, len(data), chunk_size):
        yield data[start : start + chunk_size]


async def put_many(
    storage: BaseStorage, bodies: dict[str, bytes], *, concurrency: int = 32
) -> None:
    """Store many small objects concurrently (bounded, so remote backends are not flooded)."""
    limiter = anyio.CapacityLimiter(concurrency)

    async def put_one(key: str, body: bytes) -> None:
        async with limiter:
            await storage.put(key, body)

    async with anyio.create_task_group() as tg:
        for key, body in bodies.items():
            tg.start_soon(put_one, key, body)


class ProgressLog:
    """Records progress reports; ``sync`` and ``async_`` are the two callback kinds."""

    def __init__(self) -> None:
        self.reports: list[ProgressInfo] = []

    def sync(self, info: ProgressInfo) -> None:
        """A plain-function callback."""
        self.reports.append(info)

    async def async_(self, info: ProgressInfo) -> None:
        """A coroutine callback: the report only lands if the library awaits it."""
        await anyio.lowlevel.checkpoint()
        self.reports.append(info)

    def callback(self, kind: str) -> ProgressCallback:
        """The ``"sync"`` or ``"async"`` callback."""
        return self.sync if kind == "sync" else self.async_

    @property
    def transferred(self) -> list[int]:
        """``bytes_transferred`` of every report, in order."""
        return [info.bytes_transferred for info in self.reports]


class DownloadWithProgress(Protocol):
    """Backends with ``Capabilities.download_progress`` accept a callback on ``get``."""

    def get(self, key: str, *, progress_callback: ProgressCallback | None = None) -> ByteStream:
        """Stream the object, reporting progress."""
        ...
