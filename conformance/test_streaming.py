"""Streaming downloads: ``get()`` is an async iterator and an async context manager whose early
exit releases the download at once (not at garbage collection), on both event loops.
"""

from __future__ import annotations

import gc
import warnings

import anyio.lowlevel
import pytest

from conformance.backends import BackendSpec
from conformance.support import STOCK_TRANSPORT_GENERATORS, payload, read_all
from litestar_storages import BaseStorage, ByteStream

pytestmark = pytest.mark.anyio

BODY = payload(3 * 1024 * 1024 + 17)  # several chunks on every backend


async def test_get_returns_a_byte_stream(storage: BaseStorage) -> None:
    await storage.put("a.bin", b"x")
    stream = storage.get("a.bin")
    assert isinstance(stream, ByteStream)
    await stream.aclose()


async def test_get_streams_in_more_than_one_chunk(storage: BaseStorage) -> None:
    await storage.put("big.bin", BODY)
    chunks = [chunk async for chunk in storage.get("big.bin")]
    assert len(chunks) > 1
    assert b"".join(chunks) == BODY


async def test_exhausted_stream_is_closed(storage: BaseStorage) -> None:
    await storage.put("big.bin", BODY)
    stream = storage.get("big.bin")
    assert await read_all(stream) == BODY
    assert stream.closed


async def test_leaving_async_with_early_closes_the_stream(storage: BaseStorage) -> None:
    await storage.put("big.bin", BODY)
    async with storage.get("big.bin") as stream:
        async for chunk in stream:
            assert chunk == BODY[: len(chunk)]
            break
        assert not stream.closed
    assert stream.closed


async def test_closed_stream_yields_nothing_more(storage: BaseStorage) -> None:
    await storage.put("big.bin", BODY)
    async with storage.get("big.bin") as stream:
        async for _ in stream:
            break
    assert [chunk async for chunk in stream] == []


async def test_aclose_after_break_closes_the_stream(storage: BaseStorage) -> None:
    await storage.put("big.bin", BODY)
    stream = storage.get("big.bin")
    async for _ in stream:
        break
    await stream.aclose()
    await stream.aclose()  # idempotent
    assert stream.closed


# The warning an abandoned stream may cause is test_plain_async_for_with_break_emits_no_...'s
# concern; this test is about what the storage does afterwards.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
async def test_plain_async_for_with_break_leaves_the_storage_usable(storage: BaseStorage) -> None:
    await storage.put("big.bin", BODY)
    async for _ in storage.get("big.bin"):
        break
    await storage.put("big.bin", b"overwritten")
    assert await storage.get_bytes("big.bin") == b"overwritten"
    await storage.delete("big.bin")
    assert not await storage.exists("big.bin")


async def test_plain_async_for_with_break_emits_no_resource_warning(
    storage: BaseStorage, backend: BackendSpec
) -> None:
    # The seeds' `async for chunk in storage.get(key)` with an early exit: the stream is
    # dropped unclosed. It must clean up without "garbage collected before it had been
    # exhausted" warnings (trio warns about abandoned async generators it owns).
    await storage.put("big.bin", BODY)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async for _ in storage.get("big.bin"):
            break
        gc.collect()
        await anyio.lowlevel.checkpoint()
    found = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    if backend.http_transport == "httpx":
        # httpx's stock transport nests async generators of httpcore that closing the
        # response leaves open (support.STOCK_TRANSPORT_GENERATORS); ours must leave none.
        found = [m for m in found if not m.startswith(STOCK_TRANSPORT_GENERATORS)]
    assert found == []


async def test_many_abandoned_streams_leave_the_storage_usable(storage: BaseStorage) -> None:
    await storage.put("big.bin", BODY)
    for _ in range(50):
        async with storage.get("big.bin") as stream:
            async for _ in stream:
                break
    assert await storage.get_bytes("big.bin") == BODY


async def test_two_streams_of_one_object_are_independent(storage: BaseStorage) -> None:
    await storage.put("big.bin", BODY)
    async with storage.get("big.bin") as first, storage.get("big.bin") as second:
        head = await first.__anext__()
        assert await read_all(second) == BODY
        assert head + await read_all(first) == BODY


async def test_stream_started_before_an_overwrite_yields_one_whole_version(
    storage: BaseStorage,
) -> None:
    replacement = payload(len(BODY), seed=7)
    await storage.put("big.bin", BODY)
    async with storage.get("big.bin") as stream:
        head = await stream.__anext__()
        await storage.put("big.bin", replacement)
        assert head + await read_all(stream) in (BODY, replacement)
