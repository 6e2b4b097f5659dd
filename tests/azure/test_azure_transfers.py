"""Downloads (integrity, ranges, closing) and uploads (streamed, multipart, abort)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from litestar_storages.backends.azure import AzureStorage
from litestar_storages.backends.azure._integrity import md5_b64
from litestar_storages.backends.azure._wire import block_id
from litestar_storages.exceptions import (
    StorageFileExistsError,
    StorageFileNotFoundError,
    StorageIntegrityError,
    StoragePreconditionFailedError,
)
from litestar_storages.progress import ProgressInfo

from ._azure_helpers import DATE, ENDPOINT, error, properties_headers

pytestmark = pytest.mark.anyio

URL = f"{ENDPOINT}/box/k"
MiB = 1024 * 1024


# --------------------------------------------------------------------------- downloads
async def test_full_download_with_a_wrong_md5_is_an_integrity_error(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    router.get(URL).mock(
        return_value=httpx.Response(
            200, content=b"hellx", headers={"content-md5": md5_b64(b"hello")}
        )
    )
    with pytest.raises(StorageIntegrityError, match="MD5"):
        await storage.get_bytes("k")


async def test_download_without_md5_is_accepted(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    router.get(URL).mock(return_value=httpx.Response(200, content=b"hello"))
    assert await storage.get_bytes("k") == b"hello"


async def test_ranged_download_ignores_the_whole_blob_md5(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    router.get(URL).mock(
        return_value=httpx.Response(
            206, content=b"ell", headers={"x-ms-blob-content-md5": md5_b64(b"hello")}
        )
    )
    assert await storage.get("k", start=1, end=4).read() == b"ell"


async def test_short_body_is_an_integrity_error(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    router.get(URL).mock(
        return_value=httpx.Response(
            200, headers={"content-length": "5"}, stream=httpx.ByteStream(b"hel")
        )
    )
    with pytest.raises(StorageIntegrityError):
        await storage.get_bytes("k")


async def test_range_past_the_end_yields_nothing(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    router.get(URL).mock(return_value=error(416, "InvalidRange"))
    assert await storage.get("k", start=100).read() == b""


async def test_empty_range_still_reports_a_missing_key(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    router.head(URL).mock(return_value=error(404, "BlobNotFound", head=True))
    with pytest.raises(StorageFileNotFoundError):
        await storage.get("k", start=5, end=5).read()


async def test_negative_range_is_refused_before_any_request(storage: AzureStorage) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        storage.get("k", start=-1)


async def test_download_reports_progress(router: respx.MockRouter, storage: AzureStorage) -> None:
    router.get(URL).mock(return_value=httpx.Response(200, content=b"x" * 1000))
    seen: list[ProgressInfo] = []
    await storage.get("k", progress_callback=seen.append).read()
    assert seen[-1].bytes_transferred == 1000
    assert seen[-1].total_bytes == 1000
    assert seen[-1].operation == "download"


class ChunkedBody(httpx.AsyncByteStream):
    """A response body in fixed chunks that records whether it was closed.

    A plain iterator rather than an async generator, like the library's own transport's
    streams: an abandoned async generator would be finalised by trio at garbage collection.
    """

    def __init__(self, chunks: int) -> None:
        self.left = chunks
        self.closed = False

    def __aiter__(self) -> ChunkedBody:
        return self

    async def __anext__(self) -> bytes:
        if self.left == 0:
            raise StopAsyncIteration
        self.left -= 1
        return b"x" * 1024

    async def aclose(self) -> None:
        self.closed = True


async def test_breaking_out_of_a_download_closes_it() -> None:
    # A MockTransport rather than respx: respx answers through httpx's own transport, whose
    # response streams are async generators that trio would finalise late (not ours to close).
    from litestar_storages.backends.azure import AzureConfig

    from ._azure_helpers import CONNECTION_STRING

    body = ChunkedBody(100)
    transport = httpx.MockTransport(lambda _request: httpx.Response(200, stream=body))
    async with httpx.AsyncClient(transport=transport) as client:
        storage = AzureStorage(
            AzureConfig(container="box", connection_string=CONNECTION_STRING), http_client=client
        )
        async with storage.get("k") as stream:
            async for _chunk in stream:
                break
    assert stream.closed
    assert body.closed
    assert body.left == 99


# --------------------------------------------------------------------------- uploads
async def test_small_stream_goes_in_one_put_blob(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    route = router.put(URL).mock(
        return_value=httpx.Response(201, headers={"etag": '"e"', "last-modified": DATE})
    )

    async def chunks() -> AsyncIterator[bytes]:
        yield b"ab"
        yield b"cd"

    stored = await storage.put("k", chunks())
    assert route.call_count == 1
    assert route.calls.last.request.content == b"abcd"
    assert "comp" not in route.calls.last.request.url.params
    assert stored.size == 4


async def test_large_stream_goes_in_parallel_blocks_then_one_commit(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    route = router.put(URL).mock(
        return_value=httpx.Response(201, headers={"etag": '"e"', "last-modified": DATE})
    )
    router.head(URL).mock(
        return_value=httpx.Response(200, headers=properties_headers(size=17 * MiB))
    )
    body = bytes(range(256)) * (17 * MiB // 256)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), MiB):
            yield body[start : start + MiB]

    seen: list[ProgressInfo] = []
    stored = await storage.put("k", chunks(), progress_callback=seen.append)
    requests = [call.request for call in route.calls]
    blocks = [r for r in requests if r.url.params.get("comp") == "block"]
    commits = [r for r in requests if r.url.params.get("comp") == "blocklist"]
    assert [len(r.content) for r in sorted(blocks, key=lambda r: r.url.params["blockid"])] == [
        8 * MiB,
        8 * MiB,
        MiB,
    ]
    assert (
        b"".join(r.content for r in sorted(blocks, key=lambda r: r.url.params["blockid"])) == body
    )
    assert len(commits) == 1
    assert stored.size == 17 * MiB
    assert seen[-1].bytes_transferred == 17 * MiB


async def test_create_only_stream_checks_existence_before_uploading(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    router.head(URL).mock(return_value=httpx.Response(200, headers=properties_headers()))
    put = router.put(URL).mock(return_value=httpx.Response(201))

    async def chunks() -> AsyncIterator[bytes]:
        yield b"x"

    with pytest.raises(StorageFileExistsError):
        await storage.put("k", chunks(), overwrite=False)
    assert not put.called


async def test_bad_metadata_is_refused_before_any_request(storage: AzureStorage) -> None:
    with pytest.raises(ValueError, match="metadata name"):
        await storage.put("k", b"x", metadata={"not-an-identifier": "v"})


async def test_complete_refuses_an_etag_of_another_upload(storage: AzureStorage) -> None:
    upload = await storage.start_multipart_upload("k")
    other = await storage.start_multipart_upload("k")
    with pytest.raises(StoragePreconditionFailedError, match="part 1"):
        await storage.complete_multipart_upload(upload, [block_id(other.upload_id, 1)])


async def test_complete_without_parts_is_refused(storage: AzureStorage) -> None:
    upload = await storage.start_multipart_upload("k")
    with pytest.raises(StoragePreconditionFailedError, match="at least one part"):
        await storage.complete_multipart_upload(upload)


async def test_complete_accepts_pairs_and_etag_lists(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    route = router.put(URL).mock(return_value=httpx.Response(201))
    router.head(URL).mock(return_value=httpx.Response(200, headers=properties_headers()))
    upload = await storage.start_multipart_upload("k")
    ids = [block_id(upload.upload_id, n) for n in (1, 2)]
    await storage.complete_multipart_upload(upload, [(2, ids[1]), (1, ids[0])])
    await storage.complete_multipart_upload(upload, ids)
    first, second = (call.request.content for call in route.calls)
    assert first == second
    assert first.index(ids[0].encode()) < first.index(ids[1].encode())


async def test_upload_state_survives_a_restart(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    from litestar_storages import MultipartUpload

    router.put(URL).mock(return_value=httpx.Response(201))
    router.head(URL).mock(return_value=httpx.Response(200, headers=properties_headers()))
    upload = await storage.start_multipart_upload("k", content_type="text/csv")
    await storage.upload_part(upload, 1, b"x")
    resumed = MultipartUpload.from_dict(upload.to_dict())
    await storage.complete_multipart_upload(resumed)
    commit = router.routes[0].calls.last.request
    assert commit.headers["x-ms-blob-content-type"] == "text/csv"


# --------------------------------------------------------------------------- abort
def block_list(committed: list[str], uncommitted: list[str]) -> httpx.Response:
    def blocks(ids: list[str]) -> str:
        return "".join(f"<Block><Name>{i}</Name><Size>1</Size></Block>" for i in ids)

    body = (
        f"<BlockList><CommittedBlocks>{blocks(committed)}</CommittedBlocks>"
        f"<UncommittedBlocks>{blocks(uncommitted)}</UncommittedBlocks></BlockList>"
    )
    return httpx.Response(200, content=body.encode())


async def test_abort_of_a_new_blob_commits_nothing_create_only_then_deletes_it(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    upload = await storage.start_multipart_upload("k")
    mine = [block_id(upload.upload_id, n) for n in (1, 2)]
    listing = router.get(URL).mock(return_value=block_list([], mine))
    commit = router.put(URL).mock(
        return_value=httpx.Response(201, headers={"etag": '"0xEMPTY"', "last-modified": DATE})
    )
    delete = router.delete(URL).mock(return_value=httpx.Response(202))
    await storage.abort_multipart_upload(upload)
    assert dict(listing.calls.last.request.url.params) == {
        "comp": "blocklist",
        "blocklisttype": "all",
    }
    empty = commit.calls.last.request
    assert empty.headers["if-none-match"] == "*"
    assert empty.content.endswith(b"<BlockList></BlockList>")
    assert delete.calls.last.request.headers["if-match"] == '"0xEMPTY"'
    assert upload.parts == []


async def test_abort_leaves_blocks_of_an_existing_blob_and_says_so(
    router: respx.MockRouter, storage: AzureStorage, caplog: pytest.LogCaptureFixture
) -> None:
    upload = await storage.start_multipart_upload("k")
    router.get(URL).mock(return_value=block_list(["Y29tbWl0dGVk"], [block_id(upload.upload_id, 1)]))
    put = router.put(URL).mock(return_value=httpx.Response(201))
    with caplog.at_level(logging.INFO, logger="litestar_storages"):
        await storage.abort_multipart_upload(upload)
    assert not put.called
    assert "the blob exists" in caplog.text


async def test_abort_when_a_put_blob_blob_exists_is_refused_by_the_condition(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    upload = await storage.start_multipart_upload("k")
    router.get(URL).mock(return_value=block_list([], [block_id(upload.upload_id, 1)]))
    router.put(URL).mock(return_value=error(409, "BlobAlreadyExists"))
    delete = router.delete(URL).mock(return_value=httpx.Response(202))
    await storage.abort_multipart_upload(upload)
    assert not delete.called


async def test_abort_keeps_the_blocks_of_another_upload_in_progress(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    upload = await storage.start_multipart_upload("k")
    other = await storage.start_multipart_upload("k")
    router.get(URL).mock(
        return_value=block_list([], [block_id(upload.upload_id, 1), block_id(other.upload_id, 1)])
    )
    put = router.put(URL).mock(return_value=httpx.Response(201))
    await storage.abort_multipart_upload(upload)
    assert not put.called


async def test_abort_with_nothing_staged_sends_one_request(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    upload = await storage.start_multipart_upload("k")
    route = router.get(URL).mock(return_value=error(404, "BlobNotFound"))
    await storage.abort_multipart_upload(upload)
    await storage.abort_multipart_upload(upload)  # twice is fine
    assert route.call_count == 2


async def test_abort_does_not_delete_a_blob_written_after_the_empty_commit(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    upload = await storage.start_multipart_upload("k")
    router.get(URL).mock(return_value=block_list([], [block_id(upload.upload_id, 1)]))
    router.put(URL).mock(return_value=httpx.Response(201, headers={"etag": '"0xEMPTY"'}))
    router.delete(URL).mock(return_value=error(412, "ConditionNotMet"))
    await storage.abort_multipart_upload(upload)  # no error: the newer blob stays


async def test_failed_put_large_aborts_its_upload(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    router.put(URL).mock(side_effect=[httpx.Response(201), error(400, "Md5Mismatch")])
    listing = router.get(URL).mock(return_value=error(404, "BlobNotFound"))
    # BaseStorage uploads parts in a task group, which may wrap the failure in a group.
    with pytest.raises(Exception) as caught:
        await storage.put_large("k", b"a" * 10 + b"b" * 10, part_size=10)
    assert "Md5Mismatch" in repr(caught.value) or "Md5Mismatch" in str(caught.value.__cause__)
    assert listing.called


async def test_parts_and_completes_after_abort_fail_without_a_request(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    from litestar_storages import MultipartUpload

    upload = await storage.start_multipart_upload("k")
    router.get(URL).mock(return_value=error(404, "BlobNotFound"))
    await storage.abort_multipart_upload(upload)
    saved = MultipartUpload.from_dict(upload.to_dict())
    for aborted in (upload, saved):
        with pytest.raises(StorageFileNotFoundError) as caught:
            await storage.upload_part(aborted, 1, b"x")
        assert caught.value.code == "NoSuchUpload"
        with pytest.raises(StorageFileNotFoundError):
            await storage.complete_multipart_upload(aborted, [block_id("0" * 32, 1)])
    await storage.abort_multipart_upload(upload)  # aborting again is fine
