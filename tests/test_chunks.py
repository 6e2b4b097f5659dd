"""Normalising put() data into bounded chunks and exact-size parts."""

from __future__ import annotations

import io
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litestar_storages._chunks import aiter_chunks, aiter_parts, check_data, data_length


async def _collect(iterator: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in iterator]


async def _agen(*chunks: bytes) -> AsyncGenerator[bytes, None]:
    for chunk in chunks:
        yield chunk


def _gen(*chunks: bytes) -> Iterator[bytes]:
    yield from chunks


class _AsyncFile:
    def __init__(self, data: bytes) -> None:
        self._buffer = io.BytesIO(data)

    async def read(self, size: int = -1) -> bytes:
        return self._buffer.read(size)


@pytest.mark.parametrize(
    "make",
    [
        lambda: b"abcdefghij",
        lambda: bytearray(b"abcdefghij"),
        lambda: memoryview(b"abcdefghij"),
        lambda: io.BytesIO(b"abcdefghij"),
        lambda: _gen(b"abc", b"", b"defghij"),
        lambda: _agen(b"abcdefg", b"hij"),
        lambda: _AsyncFile(b"abcdefghij"),
        lambda: [b"abcdefghij"],
    ],
    ids=["bytes", "bytearray", "memoryview", "BytesIO", "gen", "agen", "async-file", "list"],
)
@pytest.mark.anyio
async def test_every_accepted_type_yields_the_same_bytes_in_bounded_chunks(make: object) -> None:
    chunks = await _collect(aiter_chunks(make(), chunk_size=4))  # type: ignore[operator]
    assert b"".join(chunks) == b"abcdefghij"
    assert all(0 < len(chunk) <= 4 for chunk in chunks)


@pytest.mark.anyio
async def test_a_real_file_is_read_in_a_worker_thread(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 10_000)
    with path.open("rb") as handle:
        chunks = await _collect(aiter_chunks(handle, chunk_size=4096))
    assert [len(c) for c in chunks] == [4096, 4096, 1808]


@pytest.mark.parametrize(
    ("bad", "message"),
    [("text", "not str"), (12, "int"), (None, "NoneType"), (3.5, "float")],
)
def test_unsupported_data_is_a_type_error_before_any_io(bad: object, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        check_data(bad)


@pytest.mark.anyio
async def test_an_iterator_yielding_non_bytes_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="yielded str"):
        await _collect(aiter_chunks(_gen(b"ok", "text")))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"abc", 3),
        (bytearray(5), 5),
        (memoryview(b"abcd")[1:], 3),
        (memoryview(bytes(8)).cast("I"), 8),
        ([b"a"], None),
    ],
)
def test_data_length_known_without_reading(data: object, expected: int | None) -> None:
    assert data_length(data) == expected


def test_data_length_of_a_partly_read_seekable_file() -> None:
    buffer = io.BytesIO(b"0123456789")
    buffer.read(4)
    assert data_length(buffer) == 6
    assert buffer.tell() == 4


@pytest.mark.parametrize(
    ("chunks", "part_size", "expected"),
    [
        ([b"abc", b"defg", b"h"], 3, [b"abc", b"def", b"gh"]),
        ([b"abcdefgh"], 3, [b"abc", b"def", b"gh"]),
        ([b"ab"], 3, [b"ab"]),
        ([], 3, []),
        ([b"abc", b"def"], 3, [b"abc", b"def"]),
    ],
)
@pytest.mark.anyio
async def test_parts_have_exact_size_except_the_last(
    chunks: list[bytes], part_size: int, expected: list[bytes]
) -> None:
    assert await _collect(aiter_parts(_agen(*chunks), part_size)) == expected


@settings(max_examples=150, deadline=None)
@given(
    chunks=st.lists(st.binary(max_size=40), max_size=12),
    part_size=st.integers(min_value=1, max_value=33),
)
def test_parts_regroup_any_chunking_exactly(chunks: list[bytes], part_size: int) -> None:
    parts = anyio.run(_collect, aiter_parts(_agen(*chunks), part_size))
    assert b"".join(parts) == b"".join(chunks)
    assert all(type(part) is bytes for part in parts)
    assert all(len(part) == part_size for part in parts[:-1])
    assert not parts or 0 < len(parts[-1]) <= part_size
