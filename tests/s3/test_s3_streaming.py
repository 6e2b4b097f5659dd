"""GetObject streams: lazily sent, chunk by chunk, released on exhaustion, aclose, cancel and
when dropped after ``break`` (no trio warning about abandoned generators)."""

from __future__ import annotations

import gc
import warnings

import anyio
import httpx
import pytest
import respx

from ._s3_helpers import S3Storage

pytestmark = pytest.mark.anyio


class TrackedStream(httpx.AsyncByteStream):
    """A class-based response body (like the library's transport) that records its closing."""

    def __init__(self, chunks: int = 5, size: int = 1024) -> None:
        self.left = chunks
        self.size = size
        self.closed = False

    def __aiter__(self) -> TrackedStream:
        return self

    async def __anext__(self) -> bytes:
        await anyio.lowlevel.checkpoint()
        if self.left == 0 or self.closed:
            raise StopAsyncIteration
        self.left -= 1
        return b"x" * self.size

    async def aclose(self) -> None:
        self.closed = True


def serve(router: respx.Router, stream: TrackedStream) -> respx.Route:
    length = str(stream.left * stream.size)
    return router.get("/bucket/p/k").mock(
        return_value=httpx.Response(200, headers={"content-length": length}, stream=stream)
    )


async def test_nothing_is_sent_until_the_first_chunk(
    storage: S3Storage, router: respx.Router
) -> None:
    route = serve(router, TrackedStream())
    stream = storage.get("k")
    sent_before = route.call_count
    await stream.__anext__()
    await stream.aclose()
    assert (sent_before, route.call_count) == (0, 1)


async def test_the_body_arrives_in_chunks_and_is_released_at_the_end(
    storage: S3Storage, router: respx.Router
) -> None:
    body = TrackedStream(chunks=4)
    serve(router, body)
    chunks = [chunk async for chunk in storage.get("k")]
    assert [len(c) for c in chunks] == [1024] * 4
    assert body.closed


async def test_aclose_releases_the_connection(storage: S3Storage, router: respx.Router) -> None:
    body = TrackedStream()
    serve(router, body)
    stream = storage.get("k")
    await stream.__anext__()
    await stream.aclose()
    assert body.closed


async def test_break_inside_async_with_releases_the_connection(
    storage: S3Storage, router: respx.Router
) -> None:
    body = TrackedStream()
    serve(router, body)
    async with storage.get("k") as stream:
        async for _ in stream:
            break
    assert body.closed


async def test_a_dropped_stream_releases_its_connection_without_warnings(
    storage: S3Storage, router: respx.Router
) -> None:
    body = TrackedStream()
    serve(router, body)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async for _ in storage.get("k"):
            break
        gc.collect()
        await anyio.lowlevel.checkpoint()
    assert body.closed
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


async def test_a_cancelled_reader_releases_the_connection(
    storage: S3Storage, router: respx.Router
) -> None:
    body = TrackedStream(chunks=100)
    serve(router, body)
    with anyio.CancelScope() as scope:
        stream = storage.get("k")
        async for _ in stream:
            scope.cancel()
    assert scope.cancelled_caught
    assert stream.closed
    assert body.closed


async def test_download_progress_reports_the_total(
    storage: S3Storage, router: respx.Router
) -> None:
    serve(router, TrackedStream(chunks=2))
    seen: list[tuple[int, int | None]] = []
    stream = storage.get(
        "k", progress_callback=lambda info: seen.append((info.bytes_transferred, info.total_bytes))
    )
    await stream.read()
    assert seen[-1] == (2048, 2048)
