"""What ``put`` and ``put_large`` accept as ``data``, and what they refuse before any I/O."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import anyio.lowlevel
import pytest

from conformance.capabilities import Capabilities
from conformance.support import async_chunks, keys, payload, sync_chunks
from litestar_storages import BaseStorage

pytestmark = pytest.mark.anyio

BODY = payload(1_500_000 + 3)  # crosses 1 MiB, a common internal chunk size


class AsyncReader:
    """A file-like object whose ``read`` is a coroutine (like an upload's async file)."""

    def __init__(self, data: bytes) -> None:
        self._file = io.BytesIO(data)

    async def read(self, size: int = -1) -> bytes:
        await anyio.lowlevel.checkpoint()
        return self._file.read(size)


@pytest.fixture
def real_file(tmp_path: Path) -> Iterator[io.BufferedReader]:
    path = tmp_path / "upload.bin"
    path.write_bytes(BODY)
    with open(path, "rb") as file:
        yield file


DATA_KINDS: dict[str, Callable[[bytes], object]] = {
    "bytes": bytes,
    "bytearray": bytearray,
    "memoryview": memoryview,
    "memoryview-slice": lambda body: memoryview(b"skip" + body)[4:],
    "sync-iterator": lambda body: iter(sync_chunks(body, 100_000)),
    "sync-list": lambda body: list(sync_chunks(body, 100_000)),
    "async-generator": lambda body: async_chunks(body, 100_000),
    "bytesio": io.BytesIO,
    "async-read": AsyncReader,
}


@pytest.fixture(params=list(DATA_KINDS))
def data_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_put_accepts_every_data_kind(storage: BaseStorage, data_kind: str) -> None:
    data = DATA_KINDS[data_kind](BODY)
    stored = await storage.put("data.bin", cast("Any", data))
    assert stored.size == len(BODY)
    assert await storage.get_bytes("data.bin") == BODY


async def test_put_large_accepts_every_data_kind(
    storage: BaseStorage, caps: Capabilities, data_kind: str
) -> None:
    data = DATA_KINDS[data_kind](BODY)
    await storage.put_large("data.bin", cast("Any", data), part_size=caps.part_size(256 * 1024))
    assert await storage.get_bytes("data.bin") == BODY


async def test_put_accepts_a_real_file_opened_in_binary_mode(
    storage: BaseStorage, real_file: io.BufferedReader
) -> None:
    await storage.put("data.bin", real_file)
    assert await storage.get_bytes("data.bin") == BODY


async def test_put_large_accepts_a_real_file_opened_in_binary_mode(
    storage: BaseStorage, caps: Capabilities, real_file: io.BufferedReader
) -> None:
    await storage.put_large("data.bin", real_file, part_size=caps.part_size(256 * 1024))
    assert await storage.get_bytes("data.bin") == BODY


async def test_put_reads_a_file_from_its_current_position(storage: BaseStorage) -> None:
    file = io.BytesIO(b"header:body")
    file.seek(7)
    await storage.put("data.bin", file)
    assert await storage.get_bytes("data.bin") == b"body"


async def test_put_accepts_a_byte_stream_from_another_get(storage: BaseStorage) -> None:
    await storage.put("source.bin", BODY)
    await storage.put("copy.bin", storage.get("source.bin"))
    assert await storage.get_bytes("copy.bin") == BODY


# --------------------------------------------------------------------------- refused before I/O
NOT_DATA: dict[str, object] = {
    "str": "text is not bytes",
    "int": 42,
    "float": 1.5,
    "none": None,
    "object": object(),
}


@pytest.mark.parametrize("data", list(NOT_DATA.values()), ids=list(NOT_DATA))
async def test_put_refuses_non_bytes_data_with_type_error(
    storage: BaseStorage, data: object
) -> None:
    with pytest.raises(TypeError):
        await storage.put("a.txt", cast("Any", data))
    assert await keys(storage) == []


@pytest.mark.parametrize("data", list(NOT_DATA.values()), ids=list(NOT_DATA))
async def test_put_large_refuses_non_bytes_data_with_type_error(
    storage: BaseStorage, data: object
) -> None:
    with pytest.raises(TypeError):
        await storage.put_large("a.txt", cast("Any", data))
    assert await keys(storage) == []


async def test_refused_put_leaves_the_existing_object_alone(storage: BaseStorage) -> None:
    await storage.put("a.txt", b"original")
    with pytest.raises(TypeError):
        await storage.put("a.txt", cast("Any", "replacement"))
    assert await storage.get_bytes("a.txt") == b"original"


async def test_refused_put_reports_no_progress(storage: BaseStorage) -> None:
    reports: list[object] = []
    with pytest.raises(TypeError):
        await storage.put("a.txt", cast("Any", 42), progress_callback=reports.append)
    assert reports == []
