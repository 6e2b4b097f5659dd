"""ByteStream closes its source deterministically: exhaustion, error, break, cancel."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import anyio
import anyio.lowlevel
import pytest

from litestar_storages import ByteStream
from litestar_storages.progress import ProgressInfo, ProgressReporter


class _Source:
    """An async generator factory that records whether its cleanup ran."""

    def __init__(self, chunks: int = 5, fail_at: int | None = None) -> None:
        self.chunks = chunks
        self.fail_at = fail_at
        self.started = False
        self.closed = False

    async def run(self) -> AsyncGenerator[bytes, None]:
        self.started = True
        try:
            for index in range(self.chunks):
                if index == self.fail_at:
                    raise OSError("source failed")
                yield bytes([index]) * 4
                await anyio.lowlevel.checkpoint()
        finally:
            await anyio.lowlevel.checkpoint()  # cleanup that itself awaits, like response.aclose()
            self.closed = True

    def is_closed(self) -> bool:
        return self.closed


@pytest.mark.anyio
async def test_nothing_starts_until_the_first_chunk_is_awaited() -> None:
    source = _Source()
    stream = ByteStream(source.run())
    assert not source.started
    await stream.aclose()
    assert stream.closed


@pytest.mark.anyio
async def test_exhaustion_closes_the_source() -> None:
    source = _Source()
    chunks = [chunk async for chunk in ByteStream(source.run())]
    assert len(chunks) == 5
    assert source.closed


@pytest.mark.anyio
async def test_break_inside_async_with_closes_the_source_at_once() -> None:
    source = _Source()
    async with ByteStream(source.run()) as stream:
        async for _chunk in stream:
            break
        assert source.closed is False
    assert source.is_closed()
    assert stream.closed


@pytest.mark.anyio
async def test_a_failing_source_is_closed_and_the_error_propagates() -> None:
    source = _Source(fail_at=2)
    stream = ByteStream(source.run())
    with pytest.raises(OSError, match="source failed"):
        async for _chunk in stream:
            pass
    assert source.closed
    assert stream.closed


@pytest.mark.anyio
async def test_cancelled_reader_still_closes_the_source_with_a_shielded_close() -> None:
    cleanup: list[str] = []

    async def source() -> AsyncGenerator[bytes, None]:
        try:
            while True:
                yield b"chunk"
        finally:
            # Would raise Cancelled if the close were not shielded.
            await anyio.lowlevel.checkpoint()
            cleanup.append("closed")

    with anyio.move_on_after(0.05):
        async with ByteStream(source()) as stream:
            async for _chunk in stream:
                await anyio.sleep_forever()  # the consumer is cancelled between chunks
    assert cleanup == ["closed"]
    assert stream.closed


@pytest.mark.anyio
async def test_cancellation_inside_the_source_closes_the_stream() -> None:
    cleanup: list[str] = []

    async def source() -> AsyncGenerator[bytes, None]:
        try:
            yield b"first"
            await anyio.sleep_forever()  # e.g. waiting for the network
            yield b"never"
        finally:
            # Backends shield their own cleanup: it runs while the cancellation propagates.
            with anyio.CancelScope(shield=True):
                await anyio.lowlevel.checkpoint()
            cleanup.append("closed")

    stream = ByteStream(source())
    with anyio.move_on_after(0.05):
        async for _chunk in stream:
            pass
    assert cleanup == ["closed"]
    assert stream.closed


@pytest.mark.anyio
async def test_iterating_a_closed_stream_yields_nothing() -> None:
    stream = ByteStream(_Source().run())
    await stream.aclose()
    assert [chunk async for chunk in stream] == []


@pytest.mark.anyio
async def test_read_returns_everything_and_closes() -> None:
    source = _Source(chunks=3)
    stream = ByteStream(source.run())
    assert await stream.read() == b"\x00" * 4 + b"\x01" * 4 + b"\x02" * 4
    assert source.closed


@pytest.mark.anyio
async def test_progress_is_reported_per_chunk() -> None:
    seen: list[ProgressInfo] = []

    async def callback(info: ProgressInfo) -> None:
        seen.append(info)

    reporter = ProgressReporter(callback, key="k", operation="download", total_bytes=12)
    await ByteStream(_Source(chunks=3).run(), progress=reporter).read()
    assert [info.bytes_transferred for info in seen] == [4, 8, 12]
    assert seen[-1].percentage == 100.0
    assert all(info.operation == "download" for info in seen)


@pytest.mark.anyio
async def test_read_with_a_size_behaves_like_a_file() -> None:
    stream = ByteStream(_Source(chunks=2).run())  # chunks: 4 x 0x00, 4 x 0x01
    assert await stream.read(3) == b"\x00" * 3
    assert await stream.read(3) == b"\x00"  # the rest of the first chunk
    assert await stream.read(0) == b""
    assert await stream.read(100) == b"\x01" * 4
    assert await stream.read(1) == b""
    assert stream.closed


@pytest.mark.anyio
async def test_concurrent_progress_reports_never_go_backwards() -> None:
    seen: list[int] = []

    async def slow_callback(info: ProgressInfo) -> None:
        await anyio.sleep(0.001 * (info.bytes_transferred % 3))
        seen.append(info.bytes_transferred)

    reporter = ProgressReporter(slow_callback, key="k", operation="upload", total_bytes=40)
    async with anyio.create_task_group() as tg:
        for _ in range(8):
            tg.start_soon(reporter.advance, 5)
    assert seen == sorted(seen)
    assert seen[-1] == 40


class _WholeSource:
    """A source that can also hand over everything it has left at once (``read_all``)."""

    def __init__(self, *chunks: bytes, fail: bool = False) -> None:
        self.chunks = list(chunks)
        self.fail = fail
        self.read_all_calls = 0
        self.closed = False

    async def __anext__(self) -> bytes:
        if not self.chunks:
            raise StopAsyncIteration
        return self.chunks.pop(0)

    async def read_all(self) -> bytes:
        self.read_all_calls += 1
        if self.fail:
            raise OSError("source failed")
        rest, self.chunks = b"".join(self.chunks), []
        return rest

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.anyio
async def test_read_takes_the_rest_in_one_piece_from_a_source_that_offers_it() -> None:
    source = _WholeSource(b"ab", b"cd")
    stream = ByteStream(source)
    assert await stream.read() == b"abcd"
    assert source.read_all_calls == 1
    assert source.closed
    assert stream.closed


@pytest.mark.anyio
async def test_read_after_a_partial_read_keeps_what_was_buffered() -> None:
    source = _WholeSource(b"abc", b"de")
    stream = ByteStream(source)
    assert await stream.read(1) == b"a"
    assert await stream.read() == b"bcde"
    assert source.read_all_calls == 1


@pytest.mark.anyio
async def test_read_with_progress_goes_chunk_by_chunk() -> None:
    seen: list[int] = []

    async def callback(info: ProgressInfo) -> None:
        seen.append(info.bytes_transferred)

    source = _WholeSource(b"ab", b"cd")
    reporter = ProgressReporter(callback, key="k", operation="download", total_bytes=4)
    assert await ByteStream(source, progress=reporter).read() == b"abcd"
    assert (source.read_all_calls, seen) == (0, [2, 4])


@pytest.mark.anyio
async def test_a_failing_read_all_closes_the_stream() -> None:
    source = _WholeSource(b"ab", fail=True)
    stream = ByteStream(source)
    with pytest.raises(OSError, match="source failed"):
        await stream.read()
    assert source.closed
    assert stream.closed
