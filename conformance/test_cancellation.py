"""Cancellation and failing producers mid-operation: no partial object, old content intact, and
the storage keeps working.

Each test cancels deterministically: the producer cancels the enclosing scope itself after its
first chunk, then waits forever (as a stalled client upload would), so the cancellation always
lands mid-transfer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from conformance.capabilities import Capabilities
from conformance.support import keys, payload
from litestar_storages import BaseStorage

pytestmark = pytest.mark.anyio


class ProducerFailed(Exception):
    """Raised by a test producer half-way through its body."""


async def stalls_after_first_chunk(scope: anyio.CancelScope, chunk: bytes) -> AsyncIterator[bytes]:
    """Yield one chunk, cancel ``scope``, then wait forever (never yields a second chunk)."""
    yield chunk
    scope.cancel()
    await anyio.sleep_forever()
    yield b"never sent"  # pragma: no cover


def caused_by_producer_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is, or is a group containing, ``ProducerFailed``."""
    if isinstance(exc, ProducerFailed):
        return True
    return any(caused_by_producer_failure(inner) for inner in getattr(exc, "exceptions", ()))


async def fails_after(chunks: list[bytes]) -> AsyncIterator[bytes]:
    """Yield ``chunks``, then raise ``ProducerFailed``."""
    for chunk in chunks:
        yield chunk
    raise ProducerFailed("the producer broke mid-stream")


# --------------------------------------------------------------------------- put
async def test_cancelled_put_leaves_no_object(storage: BaseStorage) -> None:
    with anyio.CancelScope() as scope:
        await storage.put("partial.bin", stalls_after_first_chunk(scope, payload(100_000)))
    assert scope.cancelled_caught
    assert not await storage.exists("partial.bin")
    assert await keys(storage) == []


async def test_cancelled_put_keeps_the_previous_content(storage: BaseStorage) -> None:
    await storage.put("doc.bin", b"previous", metadata={"v": "1"})
    with anyio.CancelScope() as scope:
        await storage.put("doc.bin", stalls_after_first_chunk(scope, payload(100_000)))
    assert scope.cancelled_caught
    assert await storage.get_bytes("doc.bin") == b"previous"
    assert (await storage.info("doc.bin")).metadata == {"v": "1"}


async def test_storage_works_after_a_cancelled_put(storage: BaseStorage) -> None:
    with anyio.CancelScope() as scope:
        await storage.put("doc.bin", stalls_after_first_chunk(scope, payload(100_000)))
    await storage.put("doc.bin", b"complete")
    assert await storage.get_bytes("doc.bin") == b"complete"
    assert await keys(storage) == ["doc.bin"]


async def test_put_timing_out_with_move_on_after_leaves_no_object(storage: BaseStorage) -> None:
    async def slow_producer() -> AsyncIterator[bytes]:
        yield payload(10_000)
        await anyio.sleep_forever()
        yield b"never sent"  # pragma: no cover

    with anyio.move_on_after(0.05) as scope:
        await storage.put("slow.bin", slow_producer())
    assert scope.cancelled_caught
    assert await keys(storage) == []


async def test_failing_producer_propagates_its_exception(storage: BaseStorage) -> None:
    with pytest.raises(ProducerFailed):
        await storage.put("doc.bin", fails_after([payload(50_000)]))


async def test_failing_producer_keeps_the_previous_content(storage: BaseStorage) -> None:
    await storage.put("doc.bin", b"previous")
    with pytest.raises(ProducerFailed):
        await storage.put("doc.bin", fails_after([payload(50_000), payload(50_000, seed=1)]))
    assert await storage.get_bytes("doc.bin") == b"previous"
    assert await keys(storage) == ["doc.bin"]


# --------------------------------------------------------------------------- put_large
async def test_cancelled_put_large_leaves_no_object(
    storage: BaseStorage, caps: Capabilities
) -> None:
    part_size = caps.part_size()
    with anyio.CancelScope() as scope:
        await storage.put_large(
            "large.bin",
            stalls_after_first_chunk(scope, payload(part_size * 2)),
            part_size=part_size,
        )
    assert scope.cancelled_caught
    assert await keys(storage) == []
    await storage.put_large("large.bin", payload(part_size * 2), part_size=part_size)
    assert await keys(storage) == ["large.bin"]


async def test_put_large_with_failing_producer_propagates_its_exception(
    storage: BaseStorage, caps: Capabilities
) -> None:
    part_size = caps.part_size()
    # Unchanged: not wrapped in an ExceptionGroup, so callers need no ``except*``.
    with pytest.raises(ProducerFailed):
        await storage.put_large(
            "large.bin", fails_after([payload(part_size * 3)]), part_size=part_size
        )


async def test_put_large_with_failing_producer_keeps_the_previous_content(
    storage: BaseStorage, caps: Capabilities
) -> None:
    part_size = caps.part_size()
    await storage.put("large.bin", b"previous")
    failure: Exception | None = None
    try:
        await storage.put_large(
            "large.bin", fails_after([payload(part_size * 3)]), part_size=part_size
        )
    except Exception as exc:
        # How the failure is wrapped is test_put_large_with_failing_producer_propagates_...'s
        # concern; this test is about the previous content.
        failure = exc
    assert failure is not None, "put_large succeeded although its producer failed"
    assert caused_by_producer_failure(failure)
    assert await storage.get_bytes("large.bin") == b"previous"


# --------------------------------------------------------------------------- downloads
async def test_download_cancelled_while_awaiting_a_chunk_closes_its_stream(
    storage: BaseStorage,
) -> None:
    await storage.put("big.bin", payload(3 * 1024 * 1024))
    with anyio.CancelScope() as scope:
        stream = storage.get("big.bin")
        async for _ in stream:
            scope.cancel()  # lands in the stream's wait for the next chunk
    assert scope.cancelled_caught
    assert stream.closed


async def test_cancelled_download_inside_async_with_closes_its_stream(
    storage: BaseStorage,
) -> None:
    await storage.put("big.bin", payload(3 * 1024 * 1024))
    with anyio.CancelScope() as scope:
        async with storage.get("big.bin") as stream:
            await stream.__anext__()
            scope.cancel()
            await stream.__anext__()
    assert scope.cancelled_caught
    assert stream.closed


async def test_storage_works_after_a_cancelled_download(storage: BaseStorage) -> None:
    body = payload(3 * 1024 * 1024)
    await storage.put("big.bin", body)
    with anyio.CancelScope() as scope:
        async with storage.get("big.bin") as stream:
            await stream.__anext__()
            scope.cancel()
            await anyio.sleep_forever()
    await storage.put("big.bin", b"rewritten")
    assert await storage.get_bytes("big.bin") == b"rewritten"
