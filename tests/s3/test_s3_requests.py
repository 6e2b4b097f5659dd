"""The exact request of every S3 operation: method, wire path, query, headers, valid SigV4."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest
import respx

from litestar_storages import MultipartUpload, StorageError

from ._s3_helpers import AMZ_DATE, KEY_ID, S3Storage, open_storage, sigv4_is_valid

pytestmark = pytest.mark.anyio

TRICKY = "dir/a b+c%d?e#f&g=h/ü ñ/~x!*'()"
TRICKY_PATH = "/bucket/p/dir/a%20b%2Bc%25d%3Fe%23f%26g%3Dh/%C3%BC%20%C3%B1/~x%21%2A%27%28%29"

LIST_PAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>
  <EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>
  <Contents><Key>p/a%20b</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>
    <ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><Size>1</Size></Contents>
  <Contents><Key>p/c</Key><LastModified>2026-01-01T00:00:01.000Z</LastModified>
    <ETag>"x"</ETag><Size>22</Size></Contents>
</ListBucketResult>"""


def only(route: respx.Route) -> httpx.Request:
    assert route.call_count == 1
    return route.calls.last.request


def query_of(request: httpx.Request) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))


async def test_put_object_request(storage: S3Storage, router: respx.Router) -> None:
    body = b"hello"
    route = router.put(path__startswith="/bucket/").respond(
        200, headers={"etag": f'"{hashlib.md5(body).hexdigest()}"'}
    )
    await storage.put(TRICKY, body, content_type="text/plain", metadata={"Author": "Zoë"})
    request = only(route)
    assert request.method == "PUT"
    assert request.url.raw_path.decode() == TRICKY_PATH
    assert request.headers["content-type"] == "text/plain"
    assert request.headers["x-amz-meta-author"] == "=?UTF-8?B?Wm/Dqw==?="
    assert request.headers["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
    assert request.headers["x-amz-date"] == AMZ_DATE
    assert request.headers["authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20260102/us-east-1/s3/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-author,"
    )
    assert "if-none-match" not in request.headers
    assert request.content == body
    assert sigv4_is_valid(request)


async def test_create_only_put_sends_if_none_match_where_supported(
    opener: Any, router: respx.Router
) -> None:
    route = router.put("/bucket/k").respond(200, headers={"etag": '"x"'})
    async with opener(provider="aws", addressing_style="path") as storage:
        await storage.put("k", b"", overwrite=False)
    request = only(route)
    assert request.headers["if-none-match"] == "*"
    assert "if-none-match" in request.headers["authorization"]
    assert "x-amz-checksum-sha256" in request.headers  # AWS stores a SHA-256 checksum


async def test_create_only_put_checks_with_head_where_unsupported(
    storage: S3Storage, router: respx.Router
) -> None:
    head = router.head("/bucket/p/k").respond(404)
    put = router.put("/bucket/p/k").respond(200, headers={"etag": '"x"'})
    await storage.put("k", b"", overwrite=False)
    assert head.called
    assert "if-none-match" not in only(put).headers


async def test_get_object_request(storage: S3Storage, router: respx.Router) -> None:
    route = router.get(path__startswith="/bucket/p/dir/").respond(200, content=b"data")
    assert await storage.get_bytes(TRICKY) == b"data"
    request = only(route)
    assert "range" not in request.headers
    assert "accept-encoding" not in request.headers  # bytes come back exactly as stored
    assert sigv4_is_valid(request)


@pytest.mark.parametrize(
    ("start", "end", "header"),
    [(0, 10, "bytes=0-9"), (5, None, "bytes=5-"), (-3, None, "bytes=-3"), (2, 3, "bytes=2-2")],
)
async def test_range_reads_send_an_inclusive_range(
    storage: S3Storage, router: respx.Router, start: int, end: int | None, header: str
) -> None:
    route = router.get("/bucket/p/k").respond(206, content=b"x")
    await storage.get("k", start=start, end=end).read()
    assert only(route).headers["range"] == header
    assert "range" in only(route).headers["authorization"]


async def test_a_range_past_the_end_is_empty(storage: S3Storage, router: respx.Router) -> None:
    router.get("/bucket/p/k").respond(416, content=b"<Error><Code>InvalidRange</Code></Error>")
    assert await storage.get("k", start=100).read() == b""


async def test_an_empty_range_sends_only_a_head(storage: S3Storage, router: respx.Router) -> None:
    head = router.head("/bucket/p/k").respond(200, headers={"content-length": "4"})
    assert await storage.get("k", start=3, end=3).read() == b""
    assert head.called


async def test_head_object_request_and_parse(storage: S3Storage, router: respx.Router) -> None:
    route = router.head("/bucket/p/k").respond(
        200,
        headers={
            "content-length": "11",
            "content-type": "text/plain",
            "etag": '"abc"',
            "last-modified": "Fri, 02 Jan 2026 03:04:05 GMT",
            "x-amz-meta-author": "=?UTF-8?B?Wm/Dqw==?=",
            "x-amz-meta-plain": "value",
        },
    )
    info = await storage.info("k")
    assert (info.key, info.size, info.content_type, info.etag) == ("k", 11, "text/plain", "abc")
    assert info.metadata == {"author": "Zoë", "plain": "value"}
    assert info.last_modified is not None
    assert info.last_modified.tzinfo is not None
    assert only(route).headers["x-amz-content-sha256"] == hashlib.sha256(b"").hexdigest()


async def test_exists_is_false_only_for_404(storage: S3Storage, router: respx.Router) -> None:
    router.head("/bucket/p/yes").respond(200)
    router.head("/bucket/p/no").respond(404)
    assert await storage.exists("yes")
    assert not await storage.exists("no")


async def test_delete_object_request(storage: S3Storage, router: respx.Router) -> None:
    route = router.delete("/bucket/p/k").respond(204)
    await storage.delete("k")
    assert sigv4_is_valid(only(route))


async def test_delete_of_a_missing_key_succeeds_even_on_404(
    storage: S3Storage, router: respx.Router
) -> None:
    router.delete("/bucket/p/k").respond(404)
    await storage.delete("k")


async def test_list_objects_v2_request_and_parse(storage: S3Storage, router: respx.Router) -> None:
    route = router.get("/bucket").respond(200, content=LIST_PAGE)
    files = [f async for f in storage.list()]
    request = only(route)
    assert query_of(request) == {
        "list-type": "2",
        "encoding-type": "url",
        "max-keys": "1000",
        "prefix": "p/",
    }
    assert [(f.key, f.size, f.etag) for f in files] == [
        ("a b", 1, "0cc175b9c0f1b6a831c399e269772661"),
        ("c", 22, "x"),
    ]
    assert sigv4_is_valid(request)


async def test_list_follows_continuation_tokens_and_respects_limit(
    storage: S3Storage, router: respx.Router
) -> None:
    first = LIST_PAGE.replace(
        b"<IsTruncated>false</IsTruncated>",
        b"<IsTruncated>true</IsTruncated><NextContinuationToken>T/1+=</NextContinuationToken>",
    )
    route = router.get("/bucket").mock(
        side_effect=[httpx.Response(200, content=first), httpx.Response(200, content=LIST_PAGE)]
    )
    keys = [f.key async for f in storage.list(limit=3)]
    assert keys == ["a b", "c", "a b"]
    second = route.calls[1].request
    assert query_of(second)["continuation-token"] == "T/1+="
    assert query_of(second)["max-keys"] == "1"
    assert b"continuation-token=T%2F1%2B%3D" in second.url.raw_path


async def test_list_with_limit_zero_sends_nothing(storage: S3Storage) -> None:
    assert [f async for f in storage.list(limit=0)] == []


async def test_list_directories_uses_the_delimiter(
    storage: S3Storage, router: respx.Router
) -> None:
    page = LIST_PAGE.replace(
        b"</ListBucketResult>",
        b"<CommonPrefixes><Prefix>p/photos/</Prefix></CommonPrefixes></ListBucketResult>",
    )
    route = router.get("/bucket").respond(200, content=page)
    assert [d async for d in storage.list_directories()] == ["photos/"]
    assert query_of(only(route))["delimiter"] == "/"


async def test_copy_object_request(storage: S3Storage, router: respx.Router) -> None:
    router.head(path__startswith="/bucket/p/dir/").respond(
        200, headers={"content-length": "3", "etag": '"src"', "content-type": "a/b"}
    )
    route = router.put("/bucket/p/dest").respond(
        200,
        content=b"<CopyObjectResult><ETag>&quot;new&quot;</ETag>"
        b"<LastModified>2026-01-01T00:00:00Z</LastModified></CopyObjectResult>",
    )
    stored = await storage.copy(TRICKY, "dest")
    request = only(route)
    assert request.headers["x-amz-copy-source"] == TRICKY_PATH
    assert request.headers["x-amz-copy-source-if-match"] == '"src"'
    assert request.headers["x-amz-metadata-directive"] == "COPY"
    assert (stored.key, stored.size, stored.etag, stored.content_type) == ("dest", 3, "new", "a/b")
    assert sigv4_is_valid(request)


async def test_move_is_copy_then_delete(storage: S3Storage, router: respx.Router) -> None:
    router.head("/bucket/p/a").respond(200, headers={"content-length": "1", "etag": '"e"'})
    router.put("/bucket/p/b").respond(
        200, content=b"<CopyObjectResult><ETag>e</ETag></CopyObjectResult>"
    )
    delete = router.delete("/bucket/p/a").respond(204)
    await storage.move("a", "b")
    assert delete.called


async def test_multipart_requests(storage: S3Storage, router: respx.Router) -> None:
    create = router.post("/bucket/p/big", params={"uploads": ""}).respond(
        200,
        content=b"<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>p/big</Key>"
        b"<UploadId>UP/1+</UploadId></InitiateMultipartUploadResult>",
    )
    part = router.put("/bucket/p/big").respond(200, headers={"etag": '"e1"'})
    complete = router.post("/bucket/p/big", params={"uploadId": "UP/1+"}).respond(
        200,
        content=b'<CompleteMultipartUploadResult><ETag>"m-1"</ETag></CompleteMultipartUploadResult>',
    )
    router.head("/bucket/p/big").respond(200, headers={"content-length": "1", "etag": '"m-1"'})
    upload = await storage.start_multipart_upload("big", content_type="a/b", metadata={"k": "v"})
    assert upload.upload_id == "UP/1+"
    created = only(create)
    assert created.headers["content-type"] == "a/b"
    assert created.headers["x-amz-meta-k"] == "v"
    assert created.headers["content-length"] == "0"
    assert sigv4_is_valid(created)
    assert await storage.upload_part(upload, 1, b"x") == "e1"
    sent = only(part)
    assert query_of(sent) == {"partNumber": "1", "uploadId": "UP/1+"}
    assert b"uploadId=UP%2F1%2B" in sent.url.raw_path
    assert sigv4_is_valid(sent)
    stored = await storage.complete_multipart_upload(upload)
    finished = only(complete)
    assert finished.content == (
        b'<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload '
        b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><PartNumber>1</PartNumber>'
        b'<ETag>"e1"</ETag></Part></CompleteMultipartUpload>'
    )
    assert finished.headers["x-amz-content-sha256"] == hashlib.sha256(finished.content).hexdigest()
    assert sigv4_is_valid(finished)
    assert stored.etag == "m-1"


async def test_abort_and_list_parts_requests(storage: S3Storage, router: respx.Router) -> None:
    abort = router.delete("/bucket/p/big", params={"uploadId": "U"}).respond(204)
    parts = router.get("/bucket/p/big", params={"uploadId": "U"}).respond(
        200,
        content=b"<ListPartsResult><IsTruncated>false</IsTruncated>"
        b'<Part><PartNumber>2</PartNumber><ETag>"b"</ETag><Size>5</Size></Part>'
        b'<Part><PartNumber>1</PartNumber><ETag>"a"</ETag><Size>6</Size></Part>'
        b"</ListPartsResult>",
    )
    upload = MultipartUpload.from_dict({"upload_id": "U", "key": "big"})
    resumed = await storage.resume_multipart_upload(upload)
    assert sorted(resumed.parts) == [(1, "a"), (2, "b")]
    assert sigv4_is_valid(only(parts))
    await storage.abort_multipart_upload(upload)
    assert sigv4_is_valid(only(abort))


async def test_virtual_hosted_addressing_puts_the_bucket_in_the_host() -> None:
    router = respx.Router(assert_all_mocked=True)
    route = router.get("https://my-bucket.s3.eu-west-1.amazonaws.com/a/b%20c").respond(
        200, content=b"x"
    )
    storage = open_storage(router, bucket="my-bucket", endpoint_url=None, region="eu-west-1")
    async with storage:
        assert await storage.get_bytes("a/b c") == b"x"
    request = only(route)
    assert request.url.raw_path == b"/a/b%20c"
    assert request.headers["host"] == "my-bucket.s3.eu-west-1.amazonaws.com"
    assert sigv4_is_valid(request)


async def test_session_tokens_are_sent_and_signed(opener: Any, router: respx.Router) -> None:
    route = router.get("/bucket/k").respond(200, content=b"x")
    async with opener(session_token="TOKEN") as storage:
        await storage.get_bytes("k")
    request = only(route)
    assert request.headers["x-amz-security-token"] == "TOKEN"
    assert "x-amz-security-token" in request.headers["authorization"]
    assert sigv4_is_valid(request)


async def test_anonymous_requests_are_unsigned(opener: Any, router: respx.Router) -> None:
    route = router.get("/bucket/k").respond(200, content=b"x")
    async with opener(anonymous=True) as storage:
        assert await storage.get_bytes("k") == b"x"
    assert "authorization" not in only(route).headers
    assert storage.credential_source == "anonymous"


async def test_an_injected_client_is_used_and_left_open(router: respx.Router) -> None:
    from litestar_storages.backends.s3 import S3Config

    from ._s3_helpers import FrozenClock

    route = router.get("/bucket/k").respond(200, content=b"x")
    async with httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as client:
        storage = S3Storage(
            S3Config(
                bucket="bucket",
                endpoint_url="http://s3.test:9000",
                access_key_id=KEY_ID,
                secret_access_key="s",
            ),
            http_client=client,
            clock=FrozenClock(),
        )
        async with storage:
            assert await storage.get_bytes("k") == b"x"
        assert not client.is_closed
    assert route.called


async def test_objects_over_the_copy_limit_are_copied_part_by_part(
    storage: S3Storage, router: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage.copy_object_limit = 10  # pretend 25 bytes is over CopyObject's 5 GiB
    router.head("/bucket/p/big").respond(
        200, headers={"content-length": "25", "etag": '"src"', "content-type": "a/b"}
    )
    create = router.post("/bucket/p/copy", params={"uploads": ""}).respond(
        200,
        content=b"<InitiateMultipartUploadResult><UploadId>C1</UploadId>"
        b"</InitiateMultipartUploadResult>",
    )
    parts = router.put("/bucket/p/copy").respond(
        200, content=b'<CopyPartResult><ETag>"pe"</ETag></CopyPartResult>'
    )
    complete = router.post("/bucket/p/copy", params={"uploadId": "C1"}).respond(
        200,
        content=b"<CompleteMultipartUploadResult><ETag>m-3</ETag></CompleteMultipartUploadResult>",
    )
    from litestar_storages.backends.s3 import _copy

    monkeypatch.setattr(_copy, "copy_part_size", lambda size, minimum=0: 10)
    stored = await storage.copy("big", "copy")
    assert created_with(create, "content-type") == "a/b"
    ranges = sorted(call.request.headers["x-amz-copy-source-range"] for call in parts.calls)
    assert ranges == ["bytes=0-9", "bytes=10-19", "bytes=20-24"]
    assert {call.request.headers["x-amz-copy-source"] for call in parts.calls} == {"/bucket/p/big"}
    assert all(sigv4_is_valid(call.request) for call in parts.calls)
    assert complete.called
    assert (stored.size, stored.etag) == (25, "m-3")


async def test_a_failed_part_copy_aborts_the_upload(
    storage: S3Storage, router: respx.Router
) -> None:
    storage.copy_object_limit = 10
    router.head("/bucket/p/big").respond(200, headers={"content-length": "25", "etag": '"e"'})
    router.post("/bucket/p/copy", params={"uploads": ""}).respond(
        200,
        content=b"<InitiateMultipartUploadResult><UploadId>C1</UploadId>"
        b"</InitiateMultipartUploadResult>",
    )
    router.put("/bucket/p/copy").respond(403, content=b"<Error><Code>AccessDenied</Code></Error>")
    abort = router.delete("/bucket/p/copy", params={"uploadId": "C1"}).respond(204)
    with pytest.raises(StorageError):
        await storage.copy("big", "copy")
    assert abort.called


def created_with(route: respx.Route, header: str) -> str:
    return str(route.calls.last.request.headers[header])


async def test_unsigned_payload_signs_no_body_hash(opener: Any, router: respx.Router) -> None:
    body = b"x" * 100
    md5 = hashlib.md5(body).hexdigest()
    put = router.put("/bucket/small").respond(200, headers={"etag": f'"{md5}"'})
    router.post("/bucket/big", params={"uploads": ""}).respond(
        200,
        content=b"<InitiateMultipartUploadResult><UploadId>U</UploadId></InitiateMultipartUploadResult>",
    )
    part = router.put("/bucket/big", params={"uploadId": "U"}).respond(
        200, headers={"etag": '"e1"'}
    )
    async with opener(provider="aws", addressing_style="path", unsigned_payload=True) as storage:
        await storage.put("small", body)
        upload = await storage.start_multipart_upload("big")
        await storage.upload_part(upload, 1, body)
    for request in (only(put), only(part)):
        assert request.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
        assert "x-amz-checksum-sha256" not in request.headers  # it would need the SHA-256
        assert request.content == body
        assert sigv4_is_valid(request)


async def test_a_wrong_etag_is_still_caught_with_an_unsigned_payload(
    opener: Any, router: respx.Router
) -> None:
    router.put("/bucket/k").respond(200, headers={"etag": f'"{hashlib.md5(b"other").hexdigest()}"'})
    async with opener(addressing_style="path", unsigned_payload=True) as storage:
        with pytest.raises(StorageError, match="MD5"):
            await storage.put("k", b"sent")
