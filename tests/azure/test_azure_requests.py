"""The exact request of every operation: method, URL, query, headers, body and SharedKey.

Each answer is what the service documents ("Put Blob", "Get Blob", ...: response headers).
The Authorization header is recomputed here independently of ``signing.azure``.
"""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

from litestar_storages.backends.azure import AzureStorage
from litestar_storages.backends.azure._integrity import md5_b64
from litestar_storages.backends.azure.config import DEVELOPMENT_ACCOUNT_KEY

from ._azure_helpers import (
    DATE,
    ENDPOINT,
    VERSION,
    error,
    expected_authorization,
    properties_headers,
)
from .conftest import StorageFactory

pytestmark = pytest.mark.anyio


def query(request: httpx.Request) -> list[tuple[str, str]]:
    return parse_qsl(request.url.query.decode(), keep_blank_values=True)


def assert_signed(request: httpx.Request) -> None:
    assert request.headers["x-ms-version"] == VERSION
    assert request.headers["x-ms-date"] == DATE
    assert request.headers["authorization"] == expected_authorization(request)


def written(etag: str = '"0x8D1"') -> httpx.Response:
    return httpx.Response(
        201,
        headers={"etag": etag, "last-modified": DATE, "content-md5": "x", "x-ms-request-id": "r"},
    )


# --------------------------------------------------------------------------- Put Blob
async def test_put_sends_put_blob_with_type_md5_content_type_and_metadata(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    route = router.put(f"{ENDPOINT}/box/dir/a%20b.txt").mock(return_value=written())
    stored = await storage.put(
        "dir/a b.txt", b"hello", content_type="text/plain", metadata={"author": "alice"}
    )
    request = route.calls.last.request
    assert request.content == b"hello"
    assert request.headers["x-ms-blob-type"] == "BlockBlob"
    assert request.headers["x-ms-blob-content-type"] == "text/plain"
    assert request.headers["content-md5"] == md5_b64(b"hello")
    assert request.headers["content-length"] == "5"
    assert request.headers["x-ms-meta-author"] == "alice"
    assert "if-none-match" not in request.headers
    assert_signed(request)
    assert stored.etag == "0x8D1"
    assert stored.size == 5
    assert stored.metadata == {"author": "alice"}


async def test_put_without_content_type_stores_octet_stream(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    route = router.put(f"{ENDPOINT}/box/k").mock(return_value=written())
    stored = await storage.put("k", b"x")
    assert route.calls.last.request.headers["x-ms-blob-content-type"] == "application/octet-stream"
    assert stored.content_type == "application/octet-stream"


async def test_create_only_put_sends_if_none_match_star(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    route = router.put(f"{ENDPOINT}/box/k").mock(return_value=written())
    await storage.put("k", b"x", overwrite=False)
    request = route.calls.last.request
    assert request.headers["if-none-match"] == "*"
    assert_signed(request)


async def test_prefix_is_prepended_to_the_blob_name(
    router: respx.MockRouter, make_storage: StorageFactory
) -> None:
    route = router.put(f"{ENDPOINT}/box/uploads/k").mock(return_value=written())
    stored = await make_storage(prefix="uploads").put("k", b"x")
    assert route.called
    assert stored.key == "k"


# --------------------------------------------------------------------------- Get Blob
async def test_get_sends_get_blob_without_range(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    route = router.get(f"{ENDPOINT}/box/k").mock(
        return_value=httpx.Response(
            200, content=b"hello", headers={"content-md5": md5_b64(b"hello")}
        )
    )
    assert await storage.get_bytes("k") == b"hello"
    request = route.calls.last.request
    assert "x-ms-range" not in request.headers
    assert_signed(request)


@pytest.mark.parametrize(
    ("start", "end", "header"),
    [(10, 20, "bytes=10-19"), (5, None, "bytes=5-"), (None, 4, "bytes=0-3")],
)
async def test_range_reads_send_x_ms_range(
    router: respx.MockRouter, storage: AzureStorage, start: int | None, end: int | None, header: str
) -> None:
    route = router.get(f"{ENDPOINT}/box/k").mock(return_value=httpx.Response(206, content=b"abc"))
    assert await storage.get("k", start=start, end=end).read() == b"abc"
    request = route.calls.last.request
    assert request.headers["x-ms-range"] == header
    assert_signed(request)


# --------------------------------------------------------------------------- Get Blob Properties
async def test_info_sends_head_and_reads_properties(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    route = router.head(f"{ENDPOINT}/box/k").mock(
        return_value=httpx.Response(
            200, headers=properties_headers(size=12, metadata={"Author": "alice"})
        )
    )
    info = await storage.info("k")
    assert_signed(route.calls.last.request)
    assert info.size == 12
    assert info.content_type == "text/plain"
    assert info.etag == "0x8D0"
    assert info.metadata == {"Author": "alice"}
    assert info.last_modified is not None
    assert info.last_modified.isoformat() == "2026-03-04T05:06:07+00:00"


async def test_exists_is_false_on_404(router: respx.MockRouter, storage: AzureStorage) -> None:
    router.head(f"{ENDPOINT}/box/k").mock(return_value=error(404, "BlobNotFound", head=True))
    assert not await storage.exists("k")


# --------------------------------------------------------------------------- Delete Blob
async def test_delete_sends_delete_blob_with_snapshots(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    route = router.delete(f"{ENDPOINT}/box/k").mock(return_value=httpx.Response(202))
    await storage.delete("k")
    request = route.calls.last.request
    assert request.headers["x-ms-delete-snapshots"] == "include"
    assert_signed(request)


async def test_delete_of_a_missing_blob_succeeds(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    router.delete(f"{ENDPOINT}/box/k").mock(return_value=error(404, "BlobNotFound"))
    await storage.delete("k")


# --------------------------------------------------------------------------- List Blobs
def page(names: list[str], marker: str = "") -> httpx.Response:
    blobs = "".join(
        f"<Blob><Name>{name}</Name><Properties><Content-Length>1</Content-Length>"
        f"<Etag>0x1</Etag><Content-Type>text/plain</Content-Type></Properties>"
        f"<Metadata><v>1</v></Metadata></Blob>"
        for name in names
    )
    body = (
        f"<EnumerationResults><Blobs>{blobs}</Blobs>"
        f"<NextMarker>{marker}</NextMarker></EnumerationResults>"
    )
    return httpx.Response(200, content=body.encode())


async def test_list_follows_markers_and_strips_the_prefix(
    router: respx.MockRouter, make_storage: StorageFactory
) -> None:
    route = router.get(f"{ENDPOINT}/box").mock(
        side_effect=[page(["p/a", "p/b"], "m2"), page(["p/c"])]
    )
    storage = make_storage(prefix="p", list_page_size=2)
    listed = [item async for item in storage.list()]
    assert [item.key for item in listed] == ["a", "b", "c"]
    assert listed[0].metadata == {"v": "1"}
    first, second = (call.request for call in route.calls)
    assert query(first) == [
        ("restype", "container"),
        ("comp", "list"),
        ("include", "metadata"),
        ("prefix", "p/"),
        ("maxresults", "2"),
    ]
    assert ("marker", "m2") in query(second)
    assert_signed(first)
    assert_signed(second)


async def test_list_limit_asks_only_for_what_is_left(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    route = router.get(f"{ENDPOINT}/box").mock(side_effect=[page(["a"], "m")])
    assert [item.key async for item in storage.list("a", limit=1)] == ["a"]
    assert ("maxresults", "1") in query(route.calls.last.request)
    assert route.call_count == 1


async def test_list_with_a_delimiter_and_the_prefixes(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    body = (
        b"<EnumerationResults><Blobs><Blob><Name>top.txt</Name><Properties>"
        b"<Content-Length>1</Content-Length></Properties></Blob>"
        b"<BlobPrefix><Name>dir/</Name></BlobPrefix></Blobs><NextMarker/></EnumerationResults>"
    )
    route = router.get(f"{ENDPOINT}/box").mock(return_value=httpx.Response(200, content=body))
    assert [item.key async for item in storage.list(delimiter="/")] == ["top.txt"]
    assert [folder async for folder in storage.list_prefixes()] == ["dir/"]
    assert ("delimiter", "/") in query(route.calls.last.request)


async def test_list_with_limit_zero_sends_nothing(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    assert [item async for item in storage.list(limit=0)] == []


# --------------------------------------------------------------------------- Copy Blob
async def test_copy_sends_copy_blob_then_waits_for_success(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    copy = router.put(f"{ENDPOINT}/box/dst").mock(
        return_value=httpx.Response(
            202, headers={"x-ms-copy-id": "c1", "x-ms-copy-status": "success"}
        )
    )
    head = router.head(f"{ENDPOINT}/box/dst").mock(
        return_value=httpx.Response(
            200, headers=properties_headers(x_ms_copy_id="c1", x_ms_copy_status="success")
        )
    )
    stored = await storage.copy("dir/s p.txt", "dst")
    request = copy.calls.last.request
    assert request.headers["x-ms-copy-source"] == f"{ENDPOINT}/box/dir/s%20p.txt"
    assert_signed(request)
    assert head.called
    assert stored.key == "dst"


# --------------------------------------------------------------------------- blocks
async def test_upload_part_sends_put_block_with_its_id_and_md5(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    route = router.put(f"{ENDPOINT}/box/big").mock(return_value=httpx.Response(201))
    upload = await storage.start_multipart_upload("big")
    etag = await storage.upload_part(upload, 3, b"part three")
    request = route.calls.last.request
    assert query(request) == [("comp", "block"), ("blockid", etag)]
    assert base64.b64decode(etag) == f"{upload.upload_id}:00003".encode()
    assert request.headers["content-md5"] == md5_b64(b"part three")
    assert request.content == b"part three"
    assert_signed(request)
    assert upload.parts == [(3, etag)]


async def test_complete_commits_blocks_in_part_order_with_type_and_metadata(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    route = router.put(f"{ENDPOINT}/box/big").mock(return_value=httpx.Response(201))
    router.head(f"{ENDPOINT}/box/big").mock(
        return_value=httpx.Response(
            200, headers=properties_headers(size=20, content_type="video/mp4")
        )
    )
    upload = await storage.start_multipart_upload(
        "big", content_type="video/mp4", metadata={"v": "2"}
    )
    second = await storage.upload_part(upload, 2, b"b" * 10)
    first = await storage.upload_part(upload, 1, b"a" * 10)
    stored = await storage.complete_multipart_upload(upload, overwrite=False)
    commit = route.calls.last.request
    assert query(commit) == [("comp", "blocklist")]
    assert commit.content == (
        b'<?xml version="1.0" encoding="utf-8"?><BlockList>'
        + f"<Latest>{first}</Latest><Latest>{second}</Latest>".encode()
        + b"</BlockList>"
    )
    assert commit.headers["x-ms-blob-content-type"] == "video/mp4"
    assert commit.headers["x-ms-meta-v"] == "2"
    assert commit.headers["if-none-match"] == "*"
    assert commit.headers["content-md5"] == md5_b64(commit.content)
    assert_signed(commit)
    assert stored.size == 20


# --------------------------------------------------------------------------- other account styles
async def test_emulator_path_style_requests_and_signature(
    router: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    from litestar_storages.backends.azure import AzureConfig

    from ._azure_helpers import FrozenClock

    storage = AzureStorage(
        AzureConfig(container="box", connection_string="UseDevelopmentStorage=true"),
        http_client=http_client,
        clock=FrozenClock(),
    )
    route = router.put("http://127.0.0.1:10000/devstoreaccount1/box/k").mock(return_value=written())
    await storage.put("k", b"x")
    request = route.calls.last.request
    # The canonicalised resource repeats the account: /devstoreaccount1/devstoreaccount1/box/k.
    assert request.headers["authorization"] == expected_authorization(
        request, account="devstoreaccount1", key=DEVELOPMENT_ACCOUNT_KEY
    )


async def test_sas_configured_storage_appends_the_token_and_does_not_sign(
    router: respx.MockRouter, make_storage: StorageFactory
) -> None:
    storage = make_storage(
        connection_string=None, account_url=ENDPOINT, sas_token="?sv=2025-11-05&sp=rw&sig=a%2Bb"
    )
    route = router.head(f"{ENDPOINT}/box/k").mock(
        return_value=httpx.Response(200, headers=properties_headers())
    )
    await storage.info("k")
    request = route.calls.last.request
    assert query(request) == [("sv", "2025-11-05"), ("sp", "rw"), ("sig", "a+b")]
    assert "authorization" not in request.headers
    assert request.headers["x-ms-version"] == VERSION


async def test_each_retry_is_signed_again(router: respx.MockRouter, storage: AzureStorage) -> None:
    route = router.head(f"{ENDPOINT}/box/k").mock(
        side_effect=[
            error(503, "ServerBusy", head=True),
            httpx.Response(200, headers=properties_headers()),
        ]
    )
    await storage.info("k")
    assert route.call_count == 2
    for call in route.calls:
        assert_signed(call.request)
