"""The multipart API on GCS: the XML API strategy (exact requests) and the compose strategy
(against a small in-memory fake of the JSON API, to follow parts through compose trees)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import respx

from litestar_storages._types import MultipartUpload
from litestar_storages.exceptions import (
    StorageError,
    StorageFileExistsError,
    StorageFileNotFoundError,
    StoragePreconditionFailedError,
)

from ._gcs_helpers import Opener, Script, json_error, ok_json, resource

pytestmark = pytest.mark.anyio

HOST = "storage.googleapis.com"
MIB = 1024 * 1024


# ----------------------------------------------------------------------------- XML API
def script(router: respx.MockRouter, *answers: httpx.Response | Exception) -> Script:
    recorded = Script(*answers)
    router.route(host=HOST).mock(side_effect=recorded)
    return recorded


INITIATED = httpx.Response(
    200,
    content=b"<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>p/big.zip</Key>"
    b"<UploadId>UP-1</UploadId></InitiateMultipartUploadResult>",
)


async def test_xml_strategy_exact_requests(router: respx.MockRouter, open_storage: Opener) -> None:
    calls = script(
        router,
        INITIATED,
        httpx.Response(200, headers={"etag": '"e2"'}),
        httpx.Response(200, headers={"etag": '"e1"'}),
        httpx.Response(200, content=b"<CompleteMultipartUploadResult/>"),
        ok_json(resource("p/big.zip", size="12")),
    )
    storage = open_storage(prefix="p", multipart_strategy="xml")
    upload = await storage.start_multipart_upload(
        "big.zip", content_type="application/zip", metadata={"k": "v"}, part_size=5 * MIB
    )
    assert upload.upload_id == "UP-1"
    assert await storage.upload_part(upload, 2, b"second") == "e2"
    assert await storage.upload_part(upload, 1, b"first!") == "e1"
    stored = await storage.complete_multipart_upload(upload)
    assert calls.targets == [
        "POST /bkt/p/big.zip?uploads=",
        "PUT /bkt/p/big.zip?partNumber=2&uploadId=UP-1",
        "PUT /bkt/p/big.zip?partNumber=1&uploadId=UP-1",
        "POST /bkt/p/big.zip?uploadId=UP-1",
        "GET /storage/v1/b/bkt/o/p%2Fbig.zip",
    ]
    initiate, part2, _, complete, _ = calls.requests
    assert initiate.headers["content-type"] == "application/zip"
    assert initiate.headers["x-goog-meta-k"] == "v"
    assert initiate.headers["authorization"] == "Bearer tok"
    assert part2.headers["content-md5"] == "qfDmGhN9hqqdtTRl4IAWEg=="
    assert complete.content == (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b'<Part><PartNumber>1</PartNumber><ETag>"e1"</ETag></Part>'
        b'<Part><PartNumber>2</PartNumber><ETag>"e2"</ETag></Part></CompleteMultipartUpload>'
    )
    assert stored.key == "big.zip"


async def test_xml_strategy_refuses_parts_under_5_mib(open_storage: Opener) -> None:
    storage = open_storage(multipart_strategy="xml")
    with pytest.raises(StoragePreconditionFailedError, match="5 MiB"):
        await storage.start_multipart_upload("a", part_size=MIB)


async def test_xml_abort_deletes_the_upload(router: respx.MockRouter, open_storage: Opener) -> None:
    calls = script(router, httpx.Response(204), httpx.Response(404))
    storage = open_storage()
    upload = MultipartUpload(upload_id="UP-1", key="a")
    await storage.abort_multipart_upload(upload)
    await storage.abort_multipart_upload(upload)
    assert calls.targets == ["DELETE /bkt/a?uploadId=UP-1"] * 2


async def test_xml_part_of_an_unknown_upload(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    missing = httpx.Response(404, content=b"<Error><Code>NoSuchUpload</Code></Error>")
    script(router, missing)
    with pytest.raises(StorageFileNotFoundError) as caught:
        await open_storage().upload_part(MultipartUpload(upload_id="UP-9", key="a"), 1, b"x")
    assert caught.value.code == "NoSuchUpload"


async def test_xml_create_only_completion_checks_and_sends_the_precondition(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(
        router,
        json_error(404, "notFound"),
        httpx.Response(200, content=b"<CompleteMultipartUploadResult/>"),
        ok_json(resource("a")),
    )
    upload = MultipartUpload(upload_id="UP-1", key="a", parts=[(1, "e1")])
    await open_storage().complete_multipart_upload(upload, overwrite=False)
    assert calls.requests[1].headers["x-goog-if-generation-match"] == "0"


async def test_put_large_uses_the_xml_api_on_google(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(
        router,
        INITIATED,
        httpx.Response(200, headers={"etag": '"e1"'}),
        httpx.Response(200, content=b"<CompleteMultipartUploadResult/>"),
        ok_json(resource("big.zip", size="6")),
    )
    await open_storage().put_large("big.zip", b"abcdef", part_size=5 * MIB)
    assert [t.split("?")[0] for t in calls.targets] == [
        "POST /bkt/big.zip",
        "PUT /bkt/big.zip",
        "POST /bkt/big.zip",
        "GET /storage/v1/b/bkt/o/big.zip",
    ]


# ----------------------------------------------------------------------------- compose (fake)
class FakeBucket:
    """Just enough of the JSON API for compose uploads: insert, get, delete, list, compose."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, dict[str, Any]]] = {}
        self.generation = 100
        self.composes: list[list[str]] = []

    def _store(self, name: str, data: bytes, meta: dict[str, Any]) -> dict[str, Any]:
        self.generation += 1
        document = resource(name, size=str(len(data)), generation=str(self.generation), **meta)
        self.objects[name] = (data, document)
        return document

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode().split("?")[0]
        params = request.url.params
        if request.method == "POST" and path == "/upload/storage/v1/b/bkt/o":
            boundary = request.headers["content-type"].split('boundary="')[1].rstrip('"')
            _, head, body, _ = request.content.split(f"--{boundary}".encode())
            meta = json.loads(head.split(b"\r\n\r\n", 1)[1])
            data = body.split(b"\r\n\r\n", 1)[1][:-2]
            name = meta.pop("name")
            return ok_json(
                self._store(name, data, {k: v for k, v in meta.items() if k != "md5Hash"})
            )
        match = re.fullmatch(r"/storage/v1/b/bkt/o/([^/]+)(/compose)?", path)
        if match and match.group(2):
            return self._compose(unquote(match.group(1)), json.loads(request.content), params)
        if match:
            name = unquote(match.group(1))
            if name not in self.objects:
                return json_error(404, "notFound")
            if request.method == "DELETE":
                del self.objects[name]
                return httpx.Response(204)
            return ok_json(self.objects[name][1])
        if path == "/storage/v1/b/bkt/o":
            prefix = params.get("prefix", "")
            items = [
                doc for name, (_, doc) in sorted(self.objects.items()) if name.startswith(prefix)
            ]
            return ok_json({"items": items})
        raise AssertionError(f"unexpected {request.method} {request.url}")

    def _compose(self, name: str, body: dict[str, Any], params: Any) -> httpx.Response:
        if params.get("ifGenerationMatch") == "0" and name in self.objects:
            return json_error(412, "conditionNotMet")
        data = b""
        sources = []
        for source in body["sourceObjects"]:
            stored = self.objects.get(source["name"])
            if stored is None:
                return json_error(404, "notFound")
            wanted = source.get("objectPreconditions", {}).get("ifGenerationMatch")
            if wanted is not None and wanted != stored[1]["generation"]:
                return json_error(412, "conditionNotMet")
            data += stored[0]
            sources.append(source["name"])
        self.composes.append(sources)
        return ok_json(self._store(name, data, body.get("destination", {})))

    def visible(self) -> list[str]:
        return sorted(n for n in self.objects if ".litestar-storages-multipart/" not in n)


@pytest.fixture
def bucket(router: respx.MockRouter) -> FakeBucket:
    fake = FakeBucket()
    router.route(host=HOST).mock(side_effect=fake)
    return fake


async def test_compose_parts_are_hidden_objects_pinned_by_generation(
    bucket: FakeBucket, open_storage: Opener
) -> None:
    storage = open_storage(prefix="p", multipart_strategy="compose")
    upload = await storage.start_multipart_upload("big.bin", content_type="video/mp4")
    assert upload.upload_id.startswith("compose:")
    etag = await storage.upload_part(upload, 1, b"one-")
    await storage.upload_part(upload, 2, b"two")
    assert etag.isdigit()
    hidden = [n for n in bucket.objects if n.startswith("p/.litestar-storages-multipart/")]
    assert len(hidden) == 3  # the marker and two parts
    stored = await storage.complete_multipart_upload(upload)
    assert bucket.objects["p/big.bin"][0] == b"one-two"
    assert stored.content_type == "video/mp4"
    assert list(bucket.objects) == ["p/big.bin"]  # marker and parts deleted


async def test_compose_past_32_parts_builds_a_tree(
    bucket: FakeBucket, open_storage: Opener
) -> None:
    storage = open_storage(multipart_strategy="compose")
    upload = await storage.start_multipart_upload("big.bin")
    bodies = [f"<{n}>".encode() for n in range(1, 71)]
    for number, body in enumerate(bodies, 1):
        await storage.upload_part(upload, number, body)
    await storage.complete_multipart_upload(upload)
    assert bucket.objects["big.bin"][0] == b"".join(bodies)
    assert sorted(len(sources) for sources in bucket.composes) == [3, 6, 32, 32]
    assert bucket.visible() == ["big.bin"]
    assert list(bucket.objects) == ["big.bin"]


async def test_compose_abort_deletes_every_part_even_unrecorded_ones(
    bucket: FakeBucket, open_storage: Opener
) -> None:
    storage = open_storage(multipart_strategy="compose")
    upload = await storage.start_multipart_upload("big.bin")
    await storage.upload_part(upload, 1, b"a")
    stale = MultipartUpload.from_dict(upload.to_dict())
    await storage.upload_part(upload, 2, b"b")
    await storage.abort_multipart_upload(stale)
    assert bucket.objects == {}


async def test_compose_part_after_abort_fails_and_leaves_nothing(
    bucket: FakeBucket, open_storage: Opener
) -> None:
    storage = open_storage(multipart_strategy="compose")
    upload = await storage.start_multipart_upload("big.bin")
    await storage.abort_multipart_upload(upload)
    with pytest.raises(StorageFileNotFoundError):
        await storage.upload_part(upload, 1, b"late")
    assert bucket.objects == {}


async def test_compose_complete_after_abort_fails(bucket: FakeBucket, open_storage: Opener) -> None:
    storage = open_storage(multipart_strategy="compose")
    upload = await storage.start_multipart_upload("big.bin")
    await storage.upload_part(upload, 1, b"x")
    await storage.abort_multipart_upload(upload)
    with pytest.raises(StorageFileNotFoundError):
        await storage.complete_multipart_upload(upload)


async def test_compose_refuses_an_etag_it_did_not_issue(
    bucket: FakeBucket, open_storage: Opener
) -> None:
    storage = open_storage(multipart_strategy="compose")
    upload = await storage.start_multipart_upload("big.bin")
    await storage.upload_part(upload, 1, b"x")
    with pytest.raises(StoragePreconditionFailedError):
        await storage.complete_multipart_upload(upload, ["not-an-etag"])


async def test_compose_of_a_replaced_part_fails(bucket: FakeBucket, open_storage: Opener) -> None:
    storage = open_storage(multipart_strategy="compose")
    upload = await storage.start_multipart_upload("big.bin")
    old = await storage.upload_part(upload, 1, b"old")
    await storage.upload_part(upload, 1, b"new")
    with pytest.raises(StorageError):
        await storage.complete_multipart_upload(upload, [old])
    assert "big.bin" not in bucket.objects


async def test_compose_create_only_onto_an_existing_key(
    bucket: FakeBucket, open_storage: Opener
) -> None:
    storage = open_storage(multipart_strategy="compose")
    await storage.put("big.bin", b"old")
    upload = await storage.start_multipart_upload("big.bin")
    await storage.upload_part(upload, 1, b"new")
    with pytest.raises(StorageFileExistsError):
        await storage.complete_multipart_upload(upload, overwrite=False)
    assert bucket.objects["big.bin"][0] == b"old"


async def test_put_large_through_compose_streams_parts(
    bucket: FakeBucket, open_storage: Opener
) -> None:
    storage = open_storage(multipart_strategy="compose")
    data = bytes(range(256)) * 40
    seen: list[int] = []
    await storage.put_large(
        "big.bin",
        data,
        part_size=1000,
        progress_callback=lambda i: seen.append(i.bytes_transferred),
    )
    assert bucket.objects["big.bin"][0] == data
    assert seen[-1] == len(data)
    assert bucket.visible() == ["big.bin"]
