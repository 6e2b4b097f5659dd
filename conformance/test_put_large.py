"""``put_large``: a streamed multipart upload of bodies larger than several parts."""

from __future__ import annotations

import pytest

from conformance.capabilities import Capabilities
from conformance.support import async_chunks, keys, payload
from litestar_storages import BaseStorage

pytestmark = pytest.mark.anyio


async def test_put_large_from_an_async_generator_stores_every_byte_in_order(
    storage: BaseStorage, caps: Capabilities
) -> None:
    part_size = caps.part_size()
    body = payload(part_size * 6 + 123)
    await storage.put_large("large.bin", async_chunks(body, 9_999), part_size=part_size)
    assert await storage.get_bytes("large.bin") == body


async def test_put_large_returns_the_stored_file(storage: BaseStorage, caps: Capabilities) -> None:
    body = payload(caps.part_size() * 2 + 1)
    stored = await storage.put_large("large.bin", body, part_size=caps.part_size())
    assert stored.key == "large.bin"
    assert stored.size == len(body)
    assert (await storage.info("large.bin")).size == len(body)


async def test_put_large_keeps_content_type_and_metadata(
    storage: BaseStorage, caps: Capabilities
) -> None:
    await storage.put_large(
        "large.bin",
        payload(caps.part_size() * 2),
        content_type="application/octet-stream",
        metadata={"source": "camera"},
        part_size=caps.part_size(),
    )
    info = await storage.info("large.bin")
    assert info.content_type == "application/octet-stream"
    assert info.metadata == {"source": "camera"}


async def test_put_large_of_a_body_smaller_than_one_part(
    storage: BaseStorage, caps: Capabilities
) -> None:
    await storage.put_large("small.bin", b"tiny", part_size=caps.part_size())
    assert await storage.get_bytes("small.bin") == b"tiny"


async def test_put_large_of_an_empty_stream_stores_an_empty_object(
    storage: BaseStorage, caps: Capabilities
) -> None:
    await storage.put_large("empty.bin", async_chunks(b"", 10), part_size=caps.part_size())
    assert await storage.get_bytes("empty.bin") == b""
    assert await keys(storage) == ["empty.bin"]


async def test_put_large_replaces_an_existing_object(
    storage: BaseStorage, caps: Capabilities
) -> None:
    await storage.put("large.bin", b"old", metadata={"v": "old"})
    body = payload(caps.part_size() * 2)
    await storage.put_large("large.bin", body, part_size=caps.part_size())
    assert await storage.get_bytes("large.bin") == body
    assert (await storage.info("large.bin")).metadata == {}


async def test_put_large_with_default_part_size(storage: BaseStorage) -> None:
    body = payload(3 * 1024 * 1024)
    await storage.put_large("large.bin", async_chunks(body, 256 * 1024))
    assert await storage.get_bytes("large.bin") == body
