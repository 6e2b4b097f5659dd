"""The exact request each GCSStorage operation sends, and how it reads the answer (respx)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import httpx
import pytest
import respx

from litestar_storages.backends.gcs import GCSStoredFile
from litestar_storages.exceptions import (
    StorageFileExistsError,
    StorageFileNotFoundError,
    StorageIntegrityError,
)

from ._gcs_helpers import Opener, Script, json_error, ok_json, resource

pytestmark = pytest.mark.anyio

HOST = "storage.googleapis.com"


def script(router: respx.MockRouter, *answers: httpx.Response | Exception) -> Script:
    recorded = Script(*answers)
    router.route(host=HOST).mock(side_effect=recorded)
    return recorded


# ----------------------------------------------------------------------------- put
async def test_put_bytes_is_one_multipart_insert_with_md5_and_metadata(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(router, ok_json(resource("pre/a b.txt", metadata={"k": "v"})))
    storage = open_storage(prefix="pre")
    stored = await storage.put("a b.txt", b"hello", content_type="text/plain", metadata={"k": "v"})
    [request] = calls.requests
    assert calls.targets == ["POST /upload/storage/v1/b/bkt/o?uploadType=multipart"]
    assert request.headers["authorization"] == "Bearer tok"
    boundary = request.headers["content-type"].split('boundary="', 1)[1].rstrip('"')
    head, data, tail = request.content.split(f"--{boundary}".encode())[1:4]
    assert json.loads(head.split(b"\r\n\r\n", 1)[1]) == {
        "name": "pre/a b.txt",
        "contentType": "text/plain",
        "metadata": {"k": "v"},
        "md5Hash": "XUFAKrxLKna5cZ2REBfFkg==",
    }
    assert data == b"\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
    assert tail == b"--\r\n"
    assert isinstance(stored, GCSStoredFile)
    assert (stored.key, stored.metadata, stored.generation) == (
        "a b.txt",
        {"k": "v"},
        1700000000000001,
    )


async def test_put_create_only_sends_if_generation_match_zero(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(router, ok_json(resource("a")))
    await open_storage().put("a", b"x", overwrite=False)
    assert calls.requests[0].url.params["ifGenerationMatch"] == "0"


async def test_put_create_only_on_an_existing_key_raises_file_exists(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    script(router, json_error(412, "conditionNotMet", "At least one of the pre-conditions failed"))
    with pytest.raises(StorageFileExistsError) as caught:
        await open_storage().put("a.txt", b"x", overwrite=False)
    assert caught.value.key == "a.txt"
    assert isinstance(caught.value, FileExistsError)


async def test_put_without_checksums_sends_no_md5(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(router, ok_json(resource("a")))
    await open_storage(verify_checksums=False).put("a", b"x")
    assert b"md5Hash" not in calls.requests[0].content


async def test_put_of_a_short_stream_is_still_one_request(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"he"
        yield b"llo"

    calls = script(router, ok_json(resource("a")))
    await open_storage().put("a", chunks())
    assert calls.targets == ["POST /upload/storage/v1/b/bkt/o?uploadType=multipart"]
    assert b"\r\n\r\nhello\r\n" in calls.requests[0].content


# ----------------------------------------------------------------------------- get
async def test_get_streams_alt_media_of_the_encoded_name(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    body = httpx.Response(
        200,
        content=b"hello",
        headers={"x-goog-hash": "crc32c=mnG7TA==,md5=XUFAKrxLKna5cZ2REBfFkg=="},
    )
    calls = script(router, body)
    assert await open_storage().get_bytes("dir/a b.txt") == b"hello"
    assert calls.targets == ["GET /storage/v1/b/bkt/o/dir%2Fa%20b.txt?alt=media"]
    assert "range" not in calls.requests[0].headers


async def test_get_nothing_is_requested_before_the_first_chunk(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(router)
    stream = open_storage().get("a")
    assert calls.requests == []
    await stream.aclose()


async def test_get_of_a_missing_key_raises_on_the_first_chunk(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    script(router, json_error(404, "notFound", "No such object: bkt/missing"))
    stream = open_storage().get("missing")
    with pytest.raises(StorageFileNotFoundError) as caught:
        await stream.read()
    assert caught.value.key == "missing"
    assert caught.value.code == "notFound"


async def test_get_range_sends_a_range_header(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(router, httpx.Response(206, content=b"ell"))
    data = await open_storage().get("a", start=1, end=4).read()
    assert data == b"ell"
    assert calls.requests[0].headers["range"] == "bytes=1-3"


async def test_get_open_ended_range(router: respx.MockRouter, open_storage: Opener) -> None:
    calls = script(router, httpx.Response(206, content=b"llo"))
    await open_storage().get("a", start=2).read()
    assert calls.requests[0].headers["range"] == "bytes=2-"


async def test_get_range_past_the_end_yields_nothing(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    script(router, httpx.Response(416))
    assert await open_storage().get("a", start=100).read() == b""


async def test_get_empty_range_checks_the_key_exists(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(router, ok_json(resource("a")))
    assert await open_storage().get("a", start=3, end=3).read() == b""
    assert calls.targets == ["GET /storage/v1/b/bkt/o/a"]


async def test_get_detects_a_corrupted_body(router: respx.MockRouter, open_storage: Opener) -> None:
    body = httpx.Response(
        200, content=b"jello", headers={"x-goog-hash": "md5=XUFAKrxLKna5cZ2REBfFkg=="}
    )
    script(router, body)
    with pytest.raises(StorageIntegrityError):
        await open_storage().get_bytes("a")


async def test_get_does_not_check_hashes_of_a_range(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    body = httpx.Response(
        206, content=b"j", headers={"x-goog-hash": "md5=XUFAKrxLKna5cZ2REBfFkg=="}
    )
    script(router, body)
    assert await open_storage().get("a", start=0, end=1).read() == b"j"


async def test_get_does_not_check_hashes_of_transcoded_objects(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    headers = {
        "x-goog-hash": "md5=XUFAKrxLKna5cZ2REBfFkg==",
        "x-goog-stored-content-encoding": "gzip",
    }
    script(router, httpx.Response(200, content=b"decompressed", headers=headers))
    assert await open_storage().get_bytes("a") == b"decompressed"


async def test_get_detects_a_short_body(router: respx.MockRouter, open_storage: Opener) -> None:
    class Short(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"hel"

    script(router, httpx.Response(200, headers={"content-length": "5"}, stream=Short()))
    with pytest.raises(StorageIntegrityError):
        await open_storage().get_bytes("a")


async def test_get_reports_download_progress(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    script(router, httpx.Response(200, content=b"hello"))
    seen: list[tuple[int, int | None]] = []
    stream = open_storage().get(
        "a", progress_callback=lambda info: seen.append((info.bytes_transferred, info.total_bytes))
    )
    await stream.read()
    assert seen[-1] == (5, 5)


# ----------------------------------------------------------------------------- info, exists, delete
async def test_info_is_objects_get_with_real_metadata(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(router, ok_json(resource("a.txt", metadata={"k": "v"})))
    info = await open_storage().info("a.txt")
    assert calls.targets == ["GET /storage/v1/b/bkt/o/a.txt"]
    assert info.size == 5
    assert info.content_type == "text/plain"
    assert info.etag == "CKih16GjycICEAE="
    assert info.last_modified == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    assert info.metadata == {"k": "v"}
    assert info.generation == 1700000000000001


async def test_info_of_a_missing_key(router: respx.MockRouter, open_storage: Opener) -> None:
    script(router, json_error(404, "notFound"))
    with pytest.raises(StorageFileNotFoundError):
        await open_storage().info("a")


async def test_exists_is_false_only_for_404(router: respx.MockRouter, open_storage: Opener) -> None:
    script(router, json_error(404, "notFound"), ok_json(resource("a")))
    storage = open_storage()
    assert not await storage.exists("a")
    assert await storage.exists("a")


async def test_delete_is_idempotent(router: respx.MockRouter, open_storage: Opener) -> None:
    calls = script(router, httpx.Response(204), json_error(404, "notFound"))
    storage = open_storage()
    await storage.delete("a/b")
    await storage.delete("a/b")
    assert calls.targets == ["DELETE /storage/v1/b/bkt/o/a%2Fb"] * 2


# ----------------------------------------------------------------------------- list
async def test_list_pages_lazily_with_prefix_and_page_token(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    first = {"items": [resource("pre/d/a"), resource("pre/d/b")], "nextPageToken": "T2"}
    second = {"items": [resource("pre/d/c")]}
    calls = script(router, ok_json(first), ok_json(second))
    listing = open_storage(prefix="pre").list("d/")
    assert (await anext(listing)).key == "d/a"
    assert len(calls.requests) == 1  # the second page is fetched only when needed
    assert [item.key async for item in listing] == ["d/b", "d/c"]
    assert calls.targets == [
        "GET /storage/v1/b/bkt/o?prefix=pre%2Fd%2F&maxResults=1000",
        "GET /storage/v1/b/bkt/o?prefix=pre%2Fd%2F&maxResults=1000&pageToken=T2",
    ]


async def test_list_limit_asks_for_no_more_than_needed(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(router, ok_json({"items": [resource("a"), resource("b")]}))
    keys = [item.key async for item in open_storage().list(limit=2)]
    assert keys == ["a", "b"]
    assert calls.requests[0].url.params["maxResults"] == "2"


async def test_list_limit_zero_sends_nothing(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(router)
    assert [item async for item in open_storage().list(limit=0)] == []
    assert calls.requests == []


async def test_list_hides_multipart_parts(router: respx.MockRouter, open_storage: Opener) -> None:
    items = [resource(".litestar-storages-multipart/abc/part-00001"), resource("a")]
    script(router, ok_json({"items": items}))
    assert [item.key async for item in open_storage().list()] == ["a"]


async def test_list_with_prefixes_yields_objects_and_directories_in_order(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    page = {"items": [resource("a.txt"), resource("c.txt")], "prefixes": ["b/", "d/"]}
    calls = script(router, ok_json(page))
    entries = [
        entry if isinstance(entry, str) else entry.key
        async for entry in open_storage().list_with_prefixes()
    ]
    assert entries == ["a.txt", "b/", "c.txt", "d/"]
    assert calls.requests[0].url.params["delimiter"] == "/"


# ----------------------------------------------------------------------------- copy, move
async def test_copy_loops_on_the_rewrite_token(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(
        router,
        ok_json({"done": False, "rewriteToken": "R1", "totalBytesRewritten": "1"}),
        ok_json({"done": True, "resource": resource("p/b/c")}),
    )
    stored = await open_storage(prefix="p").copy("a", "b/c")
    assert calls.targets == [
        "POST /storage/v1/b/bkt/o/p%2Fa/rewriteTo/b/bkt/o/p%2Fb%2Fc",
        "POST /storage/v1/b/bkt/o/p%2Fa/rewriteTo/b/bkt/o/p%2Fb%2Fc?rewriteToken=R1",
    ]
    assert stored.key == "b/c"


async def test_copy_of_a_missing_source(router: respx.MockRouter, open_storage: Opener) -> None:
    script(router, json_error(404, "notFound"))
    with pytest.raises(StorageFileNotFoundError) as caught:
        await open_storage().copy("missing", "b")
    assert caught.value.key == "missing"


async def test_move_rewrites_then_deletes_the_source(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(router, ok_json({"done": True, "resource": resource("b")}), httpx.Response(204))
    stored = await open_storage().move("a", "b")
    assert calls.targets == [
        "POST /storage/v1/b/bkt/o/a/rewriteTo/b/bkt/o/b",
        "DELETE /storage/v1/b/bkt/o/a",
    ]
    assert stored.key == "b"


# ----------------------------------------------------------------------------- anonymous
async def test_anonymous_requests_carry_no_authorization(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(router, ok_json(resource("a")))
    await open_storage(anonymous=True).info("a")
    assert "authorization" not in calls.requests[0].headers
