"""What ``info`` and ``list`` report: content type, user metadata and the ``StoredFile`` fields.

User metadata in these tests uses lowercase ASCII names and values, the subset every provider
stores unchanged (S3 lowercases names, Azure requires identifier-like names).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from conformance.capabilities import Capabilities
from conformance.support import collect, payload
from litestar_storages import BaseStorage

pytestmark = pytest.mark.anyio

METADATA = {"author": "alice", "purpose": "conformance_test"}


async def test_info_returns_content_type_and_metadata(storage: BaseStorage) -> None:
    await storage.put("doc.pdf", b"%PDF-", content_type="application/pdf", metadata=METADATA)
    info = await storage.info("doc.pdf")
    assert info.content_type == "application/pdf"
    assert info.metadata == METADATA


async def test_put_result_carries_content_type_and_metadata(storage: BaseStorage) -> None:
    stored = await storage.put(
        "doc.pdf", b"%PDF-", content_type="application/pdf", metadata=METADATA
    )
    assert stored.content_type == "application/pdf"
    assert stored.metadata == METADATA


async def test_list_reports_content_type_and_metadata_where_supported(
    storage: BaseStorage, caps: Capabilities
) -> None:
    await storage.put("doc.pdf", b"%PDF-", content_type="application/pdf", metadata=METADATA)
    [listed] = await collect(storage.list())
    assert listed.key == "doc.pdf"
    assert listed.size == 5
    if caps.list_includes_metadata:
        assert listed.content_type == "application/pdf"
        assert listed.metadata == METADATA


async def test_info_of_object_put_without_metadata_has_empty_metadata(
    storage: BaseStorage,
) -> None:
    await storage.put("plain.bin", b"x")
    assert (await storage.info("plain.bin")).metadata == {}


async def test_overwrite_replaces_metadata_rather_than_merging(storage: BaseStorage) -> None:
    await storage.put("a.txt", b"1", content_type="text/plain", metadata={"one": "1"})
    await storage.put("a.txt", b"2", content_type="text/csv", metadata={"two": "2"})
    info = await storage.info("a.txt")
    assert info.content_type == "text/csv"
    assert info.metadata == {"two": "2"}


async def test_metadata_passed_to_put_is_copied_not_shared(storage: BaseStorage) -> None:
    mine = {"version": "1"}
    await storage.put("a.txt", b"x", metadata=mine)
    mine["version"] = "changed by caller"
    assert (await storage.info("a.txt")).metadata == {"version": "1"}


async def test_metadata_returned_by_info_is_a_copy(storage: BaseStorage) -> None:
    await storage.put("a.txt", b"x", metadata={"version": "1"})
    (await storage.info("a.txt")).metadata["version"] = "changed by caller"
    assert (await storage.info("a.txt")).metadata == {"version": "1"}


# --------------------------------------------------------------------------- StoredFile fields
async def test_info_size_is_the_byte_length(storage: BaseStorage) -> None:
    await storage.put("utf8.txt", "héllo wörld".encode())
    assert (await storage.info("utf8.txt")).size == 13


async def test_info_key_is_the_key_as_given(storage: BaseStorage) -> None:
    await storage.put("nested/dir/file.txt", b"x")
    assert (await storage.info("nested/dir/file.txt")).key == "nested/dir/file.txt"


async def test_etag_is_present_and_unquoted(storage: BaseStorage) -> None:
    await storage.put("a.txt", b"x")
    etag = (await storage.info("a.txt")).etag
    assert etag
    assert not etag.startswith(('"', 'W/"'))
    assert not etag.endswith('"')


async def test_etag_of_put_result_matches_info(storage: BaseStorage) -> None:
    stored = await storage.put("a.txt", payload(1000))
    assert stored.etag == (await storage.info("a.txt")).etag


async def test_etag_changes_when_content_changes(storage: BaseStorage) -> None:
    await storage.put("a.txt", b"first")
    before = (await storage.info("a.txt")).etag
    await storage.put("a.txt", b"second")
    assert (await storage.info("a.txt")).etag != before


async def test_last_modified_is_timezone_aware_utc(storage: BaseStorage) -> None:
    await storage.put("a.txt", b"x")
    modified = (await storage.info("a.txt")).last_modified
    assert isinstance(modified, datetime)
    assert modified.utcoffset() == timedelta(0)


async def test_last_modified_is_close_to_now(storage: BaseStorage) -> None:
    before = datetime.now(timezone.utc) - timedelta(minutes=5)
    await storage.put("a.txt", b"x")
    after = datetime.now(timezone.utc) + timedelta(minutes=5)
    modified = (await storage.info("a.txt")).last_modified
    assert modified is not None
    assert before <= modified <= after


async def test_list_entries_carry_size_and_utc_last_modified(storage: BaseStorage) -> None:
    await storage.put("a.txt", b"12345")
    [listed] = await collect(storage.list())
    assert listed.size == 5
    assert listed.last_modified is not None
    assert listed.last_modified.utcoffset() == timedelta(0)


# --------------------------------------------------------------------------- persistence
@pytest.mark.usefixtures("storage")  # empties the location afterwards (cloud backends)
async def test_reopened_storage_reports_the_same_stored_file(
    caps: Capabilities, open_again: Callable[[], BaseStorage]
) -> None:
    first = open_again()
    async with first:
        await first.put("kept.txt", b"kept", content_type="text/plain", metadata=METADATA)
        before = await first.info("kept.txt")
    second = open_again()
    async with second:
        if caps.persistent:
            assert await second.info("kept.txt") == before
            assert await second.get_bytes("kept.txt") == b"kept"
        else:
            assert not await second.exists("kept.txt")
