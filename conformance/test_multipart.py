"""The explicit multipart API: start, upload parts (concurrently, any order), complete, abort."""

from __future__ import annotations

import json

import anyio
import pytest

from conformance.capabilities import Capabilities
from conformance.support import keys, payload
from litestar_storages import BaseStorage, MultipartUpload, StorageError

pytestmark = pytest.mark.anyio


def _parts(caps: Capabilities, count: int = 3) -> list[bytes]:
    """``count`` distinct parts: full-size ones and a shorter last one."""
    size = caps.part_size()
    bodies = [payload(size, seed=number) for number in range(1, count)]
    return [*bodies, payload(size // 2 + 1, seed=count)]


async def test_parts_uploaded_concurrently_in_reverse_order_assemble_in_part_order(
    storage: BaseStorage, caps: Capabilities
) -> None:
    parts = _parts(caps, 4)
    upload = await storage.start_multipart_upload("big.bin", part_size=caps.part_size())
    async with anyio.create_task_group() as tg:
        for number in reversed(range(1, len(parts) + 1)):
            tg.start_soon(storage.upload_part, upload, number, parts[number - 1])
    await storage.complete_multipart_upload(upload)
    assert await storage.get_bytes("big.bin") == b"".join(parts)


async def test_complete_with_the_etag_list_form(storage: BaseStorage, caps: Capabilities) -> None:
    parts = _parts(caps)
    upload = await storage.start_multipart_upload("big.bin", part_size=caps.part_size())
    etags = [await storage.upload_part(upload, n, body) for n, body in enumerate(parts, 1)]
    await storage.complete_multipart_upload(upload, etags)
    assert await storage.get_bytes("big.bin") == b"".join(parts)


async def test_complete_with_part_number_etag_pairs(
    storage: BaseStorage, caps: Capabilities
) -> None:
    parts = _parts(caps)
    upload = await storage.start_multipart_upload("big.bin", part_size=caps.part_size())
    pairs = [(n, await storage.upload_part(upload, n, body)) for n, body in enumerate(parts, 1)]
    await storage.complete_multipart_upload(upload, list(reversed(pairs)))
    assert await storage.get_bytes("big.bin") == b"".join(parts)


async def test_complete_returns_the_stored_file(storage: BaseStorage, caps: Capabilities) -> None:
    parts = _parts(caps)
    upload = await storage.start_multipart_upload("big.bin", part_size=caps.part_size())
    for number, body in enumerate(parts, 1):
        await storage.upload_part(upload, number, body)
    stored = await storage.complete_multipart_upload(upload)
    assert stored.key == "big.bin"
    assert stored.size == sum(map(len, parts))


async def test_upload_part_returns_an_unquoted_etag(
    storage: BaseStorage, caps: Capabilities
) -> None:
    upload = await storage.start_multipart_upload("big.bin", part_size=caps.part_size())
    etag = await storage.upload_part(upload, 1, b"only part")
    assert isinstance(etag, str)
    assert etag
    assert not etag.startswith('"')
    await storage.abort_multipart_upload(upload)


async def test_upload_records_its_parts(storage: BaseStorage, caps: Capabilities) -> None:
    upload = await storage.start_multipart_upload("big.bin", part_size=caps.part_size())
    first = await storage.upload_part(upload, 2, b"second")
    second = await storage.upload_part(upload, 1, b"first")
    assert sorted(upload.parts) == [(1, second), (2, first)]
    assert upload.completed_parts == 2
    await storage.abort_multipart_upload(upload)


async def test_multipart_object_is_invisible_until_completed(
    storage: BaseStorage, caps: Capabilities
) -> None:
    upload = await storage.start_multipart_upload("big.bin", part_size=caps.part_size())
    await storage.upload_part(upload, 1, payload(caps.part_size()))
    assert not await storage.exists("big.bin")
    assert await keys(storage) == []
    await storage.abort_multipart_upload(upload)


async def test_multipart_keeps_content_type_and_metadata_given_at_start(
    storage: BaseStorage, caps: Capabilities
) -> None:
    upload = await storage.start_multipart_upload(
        "movie.mp4",
        content_type="video/mp4",
        metadata={"author": "alice"},
        part_size=caps.part_size(),
    )
    await storage.upload_part(upload, 1, b"frames")
    await storage.complete_multipart_upload(upload)
    info = await storage.info("movie.mp4")
    assert info.content_type == "video/mp4"
    assert info.metadata == {"author": "alice"}


async def test_multipart_object_has_an_unquoted_etag(
    storage: BaseStorage, caps: Capabilities
) -> None:
    upload = await storage.start_multipart_upload("big.bin", part_size=caps.part_size())
    for number, body in enumerate(_parts(caps), 1):
        await storage.upload_part(upload, number, body)
    await storage.complete_multipart_upload(upload)
    etag = (await storage.info("big.bin")).etag
    assert etag
    assert not etag.startswith('"')


async def test_reuploading_a_part_replaces_it(storage: BaseStorage, caps: Capabilities) -> None:
    parts = _parts(caps, 2)
    upload = await storage.start_multipart_upload("big.bin", part_size=caps.part_size())
    await storage.upload_part(upload, 1, payload(caps.part_size(), seed=99))
    await storage.upload_part(upload, 1, parts[0])
    await storage.upload_part(upload, 2, parts[1])
    await storage.complete_multipart_upload(upload)
    assert await storage.get_bytes("big.bin") == b"".join(parts)


async def test_completing_replaces_an_existing_object(
    storage: BaseStorage, caps: Capabilities
) -> None:
    await storage.put("big.bin", b"old", metadata={"v": "old"})
    upload = await storage.start_multipart_upload("big.bin", part_size=caps.part_size())
    await storage.upload_part(upload, 1, b"new")
    await storage.complete_multipart_upload(upload)
    assert await storage.get_bytes("big.bin") == b"new"
    assert (await storage.info("big.bin")).metadata == {}


async def test_single_empty_part_makes_an_empty_object(
    storage: BaseStorage, caps: Capabilities
) -> None:
    upload = await storage.start_multipart_upload("empty.bin", part_size=caps.part_size())
    await storage.upload_part(upload, 1, b"")
    await storage.complete_multipart_upload(upload)
    assert await storage.get_bytes("empty.bin") == b""


# --------------------------------------------------------------------------- abort
async def test_abort_leaves_no_object(storage: BaseStorage, caps: Capabilities) -> None:
    upload = await storage.start_multipart_upload("big.bin", part_size=caps.part_size())
    await storage.upload_part(upload, 1, payload(caps.part_size()))
    await storage.abort_multipart_upload(upload)
    assert not await storage.exists("big.bin")
    assert await keys(storage) == []


async def test_abort_keeps_an_existing_object(storage: BaseStorage, caps: Capabilities) -> None:
    await storage.put("big.bin", b"previous")
    upload = await storage.start_multipart_upload("big.bin", part_size=caps.part_size())
    await storage.upload_part(upload, 1, b"never seen")
    await storage.abort_multipart_upload(upload)
    assert await storage.get_bytes("big.bin") == b"previous"


async def test_upload_part_after_abort_fails(storage: BaseStorage, caps: Capabilities) -> None:
    upload = await storage.start_multipart_upload("big.bin", part_size=caps.part_size())
    await storage.upload_part(upload, 1, b"part one")
    await storage.abort_multipart_upload(upload)
    with pytest.raises(StorageError):
        await storage.upload_part(upload, 2, b"part two")
    assert await keys(storage) == []


async def test_complete_after_abort_fails_and_stores_nothing(
    storage: BaseStorage, caps: Capabilities
) -> None:
    upload = await storage.start_multipart_upload("big.bin", part_size=caps.part_size())
    await storage.upload_part(upload, 1, b"part one")
    await storage.abort_multipart_upload(upload)
    with pytest.raises(StorageError):
        await storage.complete_multipart_upload(upload)
    assert await keys(storage) == []


async def test_abort_twice_succeeds(storage: BaseStorage, caps: Capabilities) -> None:
    upload = await storage.start_multipart_upload("big.bin", part_size=caps.part_size())
    await storage.abort_multipart_upload(upload)
    await storage.abort_multipart_upload(upload)
    assert await keys(storage) == []


async def test_concurrent_uploads_to_one_key_are_independent(
    storage: BaseStorage, caps: Capabilities
) -> None:
    kept = await storage.start_multipart_upload("big.bin", part_size=caps.part_size())
    dropped = await storage.start_multipart_upload("big.bin", part_size=caps.part_size())
    await storage.upload_part(kept, 1, b"kept")
    await storage.upload_part(dropped, 1, b"dropped")
    await storage.abort_multipart_upload(dropped)
    await storage.complete_multipart_upload(kept)
    assert await storage.get_bytes("big.bin") == b"kept"


# --------------------------------------------------------------------------- resume
async def test_upload_resumes_from_its_serialised_state(
    storage: BaseStorage, caps: Capabilities
) -> None:
    parts = _parts(caps)
    upload = await storage.start_multipart_upload(
        "big.bin", content_type="application/zip", part_size=caps.part_size()
    )
    await storage.upload_part(upload, 1, parts[0])
    saved = json.dumps(upload.to_dict())  # e.g. written to a database before a restart

    resumed = MultipartUpload.from_dict(json.loads(saved))
    assert resumed.completed_parts == 1
    for number, body in enumerate(parts[1:], 2):
        await storage.upload_part(resumed, number, body)
    await storage.complete_multipart_upload(resumed)
    assert await storage.get_bytes("big.bin") == b"".join(parts)
    assert (await storage.info("big.bin")).content_type == "application/zip"


async def test_serialised_upload_round_trips(storage: BaseStorage, caps: Capabilities) -> None:
    upload = await storage.start_multipart_upload("big.bin", part_size=caps.part_size())
    await storage.upload_part(upload, 1, b"one")
    assert MultipartUpload.from_dict(json.loads(json.dumps(upload.to_dict()))) == upload
    await storage.abort_multipart_upload(upload)
