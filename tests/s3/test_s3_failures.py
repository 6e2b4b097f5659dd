"""S3 error mapping and failure injection: every error class, 200-with-error bodies,
connection resets, 5xx/SlowDown bursts, Retry-After, bodies cut mid-stream, clock skew."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx

from litestar_storages import MultipartUpload, RetryConfig
from litestar_storages._http.errors import ProviderError
from litestar_storages.exceptions import (
    StorageConfigurationError,
    StorageConnectionError,
    StorageError,
    StorageFileExistsError,
    StorageFileNotFoundError,
    StorageIntegrityError,
    StorageInvalidKeyError,
    StoragePermissionError,
    StoragePreconditionFailedError,
    StorageQuotaExceededError,
    StorageServerError,
    StorageTimeoutError,
)

from ._s3_helpers import (
    T0,
    CutStream,
    FrozenClock,
    S3Storage,
    open_storage,
    sigv4_is_valid,
    xml_error,
)

pytestmark = pytest.mark.anyio


# ---------------------------------------------------------------------- error mapping
@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (404, "NoSuchKey", StorageFileNotFoundError),
        (403, "AccessDenied", StoragePermissionError),
        (403, "SignatureDoesNotMatch", StoragePermissionError),
        (403, "InvalidAccessKeyId", StoragePermissionError),
        (400, "ExpiredToken", StoragePermissionError),
        (404, "NoSuchBucket", StorageConfigurationError),
        (400, "EntityTooLarge", StorageQuotaExceededError),
        (400, "BadDigest", StorageIntegrityError),
        (400, "XAmzContentSHA256Mismatch", StorageIntegrityError),
        (412, "PreconditionFailed", StoragePreconditionFailedError),
        (400, "InvalidArgument", StorageError),
        (501, "NotImplemented", StorageServerError),
    ],
)
async def test_s3_error_codes_map_to_the_storage_error_tree(
    storage: S3Storage, router: respx.Router, status: int, code: str, cls: type[StorageError]
) -> None:
    router.get("/bucket/p/k").mock(return_value=xml_error(status, code, "the message"))
    with pytest.raises(cls) as caught:
        await storage.get_bytes("k")
    error = caught.value
    assert type(error) is cls
    assert (error.status, error.code, error.request_id) == (status, code, "REQ123")
    assert (error.key, error.backend) == ("k", "s3")  # the key as given, without the prefix
    assert isinstance(error.__cause__, ProviderError)
    assert error.__cause__.details["HostId"] == "HOST456"
    assert "the message" in str(error)


async def test_head_errors_have_no_body_but_keep_status_and_request_id(
    storage: S3Storage, router: respx.Router
) -> None:
    router.head("/bucket/p/k").respond(403, headers={"x-amz-request-id": "R9"})
    with pytest.raises(StoragePermissionError) as caught:
        await storage.info("k")
    assert (caught.value.status, caught.value.request_id) == (403, "R9")


async def test_info_of_a_missing_key_is_not_found(storage: S3Storage, router: respx.Router) -> None:
    router.head("/bucket/p/dir/missing").respond(404)
    with pytest.raises(StorageFileNotFoundError) as caught:
        await storage.info("dir/missing")
    assert caught.value.key == "dir/missing"


async def test_signature_details_never_reach_the_error(
    storage: S3Storage, router: respx.Router
) -> None:
    body = (
        b"<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message>"
        b"<AWSAccessKeyId>AKIDEXAMPLE</AWSAccessKeyId><StringToSign>AWS4 secretish</StringToSign>"
        b"<CanonicalRequest>GET /k X-Amz-Signature=abc</CanonicalRequest></Error>"
    )
    router.get("/bucket/p/k").respond(403, content=body)
    with pytest.raises(StoragePermissionError) as caught:
        await storage.get_bytes("k")
    cause = caught.value.__cause__
    assert isinstance(cause, ProviderError)
    assert set(cause.details) == set()
    text = f"{caught.value} {cause!r} {cause.details}"
    assert "secretish" not in text
    assert "X-Amz-Signature" not in text


async def test_complete_multipart_upload_200_with_error_is_retried(
    storage: S3Storage, router: respx.Router
) -> None:
    route = router.post("/bucket/p/big", params={"uploadId": "U"}).mock(
        side_effect=[
            httpx.Response(200, content=b"\n\n  <Error><Code>InternalError</Code></Error>"),
            httpx.Response(
                200,
                content=b"<CompleteMultipartUploadResult><ETag>e-1</ETag></CompleteMultipartUploadResult>",
            ),
        ]
    )
    router.head("/bucket/p/big").respond(200, headers={"content-length": "1", "etag": '"e-1"'})
    upload = MultipartUpload(upload_id="U", key="big", parts=[(1, "a")])
    stored = await storage.complete_multipart_upload(upload)
    assert route.call_count == 2
    assert stored.etag == "e-1"


async def test_complete_multipart_upload_200_with_a_final_error_raises(
    storage: S3Storage, router: respx.Router
) -> None:
    router.post("/bucket/p/big", params={"uploadId": "U"}).respond(
        200, content=b"<Error><Code>InvalidPart</Code><Message>bad part</Message></Error>"
    )
    upload = MultipartUpload(upload_id="U", key="big", parts=[(1, "a")])
    with pytest.raises(StorageError) as caught:
        await storage.complete_multipart_upload(upload)
    assert caught.value.code == "InvalidPart"


async def test_copy_object_200_with_error_is_an_error(
    storage: S3Storage, router: respx.Router
) -> None:
    router.head("/bucket/p/a").respond(200, headers={"content-length": "1", "etag": '"e"'})
    route = router.put("/bucket/p/b").respond(
        200, content=b"<Error><Code>SlowDown</Code><Message>reduce</Message></Error>"
    )
    with pytest.raises(StorageServerError) as caught:
        await storage.copy("a", "b")
    assert caught.value.code == "SlowDown"
    assert route.call_count == 3  # retried like a 503


async def test_copy_of_a_missing_source_is_not_found(
    storage: S3Storage, router: respx.Router
) -> None:
    router.head("/bucket/p/a").respond(404)
    with pytest.raises(StorageFileNotFoundError):
        await storage.copy("a", "b")


async def test_create_only_put_maps_412_to_file_exists(opener: Any, router: respx.Router) -> None:
    router.put("/bucket/k").mock(return_value=xml_error(412, "PreconditionFailed"))
    async with opener(provider="minio") as storage:
        with pytest.raises(StorageFileExistsError) as caught:
            await storage.put("k", b"x", overwrite=False)
    assert caught.value.status == 412


async def test_create_only_complete_maps_412_to_file_exists(
    opener: Any, router: respx.Router
) -> None:
    router.post("/bucket/k", params={"uploadId": "U"}).mock(
        return_value=xml_error(412, "PreconditionFailed")
    )
    async with opener(provider="minio") as storage:
        upload = MultipartUpload(upload_id="U", key="k", parts=[(1, "a")])
        with pytest.raises(StorageFileExistsError):
            await storage.complete_multipart_upload(upload, overwrite=False)


async def test_a_wrong_md5_etag_on_put_is_an_integrity_error(
    storage: S3Storage, router: respx.Router
) -> None:
    router.put("/bucket/p/k").respond(200, headers={"etag": '"' + "0" * 32 + '"'})
    with pytest.raises(StorageIntegrityError):
        await storage.put("k", b"data")


async def test_kms_etags_are_not_md5_and_not_checked(
    storage: S3Storage, router: respx.Router
) -> None:
    router.put("/bucket/p/k").respond(
        200, headers={"etag": '"' + "0" * 32 + '"', "x-amz-server-side-encryption": "aws:kms"}
    )
    await storage.put("k", b"data")


async def test_a_wrong_download_checksum_is_an_integrity_error(
    opener: Any, router: respx.Router
) -> None:
    router.get("/bucket/k").respond(200, content=b"data", headers={"x-amz-checksum-sha256": "AAAA"})
    async with opener(provider="moto") as storage:
        with pytest.raises(StorageIntegrityError):
            await storage.get_bytes("k")


async def test_a_matching_download_checksum_passes(opener: Any, router: respx.Router) -> None:
    import base64

    digest = base64.b64encode(hashlib.sha256(b"data").digest()).decode()
    route = router.get("/bucket/k").respond(
        200, content=b"data", headers={"x-amz-checksum-sha256": digest}
    )
    async with opener(provider="moto") as storage:
        assert await storage.get_bytes("k") == b"data"
    assert route.calls.last.request.headers["x-amz-checksum-mode"] == "ENABLED"


# ---------------------------------------------------------------------- validation before I/O
async def test_parts_below_5_mib_are_refused_before_any_request(storage: S3Storage) -> None:
    upload = MultipartUpload(upload_id="U", key="k", total_parts=3)
    with pytest.raises(StorageConfigurationError):
        await storage.upload_part(upload, 1, b"small")


async def test_a_part_size_below_5_mib_is_refused_before_any_request(storage: S3Storage) -> None:
    with pytest.raises(StorageConfigurationError):
        await storage.start_multipart_upload("k", part_size=1024)


async def test_completing_with_a_small_middle_part_is_refused_before_the_request(
    storage: S3Storage, router: respx.Router
) -> None:
    router.put("/bucket/p/k").respond(200, headers={"etag": '"e"'})
    upload = MultipartUpload(upload_id="U", key="k")
    await storage.upload_part(upload, 1, b"small")
    await storage.upload_part(upload, 2, b"last")
    with pytest.raises(StorageConfigurationError):
        await storage.complete_multipart_upload(upload)


async def test_a_key_too_long_with_the_prefix_is_refused(storage: S3Storage) -> None:
    with pytest.raises(StorageInvalidKeyError):
        await storage.put("k" * 1023, b"")


# ---------------------------------------------------------------------- failure injection
async def test_a_connection_reset_is_retried(storage: S3Storage, router: respx.Router) -> None:
    route = router.get("/bucket/p/k").mock(
        side_effect=[
            httpx.ReadError("Connection reset by peer"),
            httpx.Response(200, content=b"ok"),
        ]
    )
    assert await storage.get_bytes("k") == b"ok"
    assert route.call_count == 2


async def test_connection_resets_exhaust_into_a_connection_error(
    storage: S3Storage, router: respx.Router
) -> None:
    router.put("/bucket/p/k").mock(side_effect=httpx.ReadError("Connection reset by peer"))
    with pytest.raises(StorageConnectionError):
        await storage.put("k", b"x")


async def test_a_connect_timeout_is_a_timeout_error(
    storage: S3Storage, router: respx.Router
) -> None:
    router.head("/bucket/p/k").mock(side_effect=httpx.ConnectTimeout("slow"))
    with pytest.raises(StorageTimeoutError):
        await storage.exists("k")


@pytest.mark.parametrize("answer", [500, 503, "SlowDown", "InternalError"])
async def test_a_burst_of_server_errors_is_ridden_out(
    storage: S3Storage, router: respx.Router, answer: int | str
) -> None:
    failure = httpx.Response(answer) if isinstance(answer, int) else xml_error(503, answer)
    route = router.put("/bucket/p/k").mock(
        side_effect=[failure, failure, httpx.Response(200, headers={"etag": '"x"'})]
    )
    await storage.put("k", b"")
    assert route.call_count == 3
    assert all(sigv4_is_valid(call.request) for call in route.calls)


async def test_a_longer_burst_fails_as_a_server_error(
    storage: S3Storage, router: respx.Router
) -> None:
    router.put("/bucket/p/k").mock(return_value=xml_error(503, "SlowDown"))
    with pytest.raises(StorageServerError) as caught:
        await storage.put("k", b"")
    assert caught.value.code == "SlowDown"


async def test_429_with_retry_after_waits_as_told(router: respx.Router) -> None:
    storage = open_storage(
        router, retry=RetryConfig(max_attempts=2, base_delay=0, max_delay=60, jitter=False)
    )
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    storage._sender().sleep = sleep
    router.get("/bucket/k").mock(
        side_effect=[
            httpx.Response(429, headers={"retry-after": "7"}),
            httpx.Response(200, content=b"ok"),
        ]
    )
    async with storage:
        assert await storage.get_bytes("k") == b"ok"
    assert waits == [7.0]


@pytest.mark.parametrize(
    "error", [None, httpx.RemoteProtocolError("peer closed"), httpx.ReadError("reset")]
)
async def test_a_body_cut_mid_stream_is_an_integrity_error(
    storage: S3Storage, router: respx.Router, error: Exception | None
) -> None:
    router.get("/bucket/p/k").mock(
        return_value=httpx.Response(
            200, headers={"content-length": "100"}, stream=CutStream(b"x" * 10, error)
        )
    )
    with pytest.raises(StorageIntegrityError) as caught:
        await storage.get_bytes("k")
    assert caught.value.key == "k"
    assert "10 of 100" in str(caught.value)


async def test_clock_skew_is_corrected_and_the_request_re_signed(router: respx.Router) -> None:
    clock = FrozenClock(T0 - timedelta(hours=1))  # our clock is an hour slow
    storage = open_storage(router, clock=clock, retry=RetryConfig(max_attempts=1))
    route = router.get("/bucket/k").mock(
        side_effect=[
            xml_error(403, "RequestTimeTooSkewed", date="Fri, 02 Jan 2026 03:04:05 GMT"),
            httpx.Response(200, content=b"ok"),
        ]
    )
    async with storage:
        assert await storage.get_bytes("k") == b"ok"
        first, second = (call.request for call in route.calls)
        assert first.headers["x-amz-date"] == "20260102T020405Z"
        assert second.headers["x-amz-date"] == "20260102T030405Z"
        assert sigv4_is_valid(second)
        url = await storage.url("k")  # presigning uses the corrected clock too
    assert "X-Amz-Date=20260102T030405Z" in url


async def test_a_wrong_region_is_corrected_from_the_redirect() -> None:
    router = respx.Router(assert_all_mocked=True)
    wrong = router.get("https://s3.amazonaws.com/bucket.with.dots/k").mock(
        return_value=xml_error(301, "PermanentRedirect", **{"x-amz-bucket-region": "eu-central-1"})
    )
    right = router.get("https://s3.eu-central-1.amazonaws.com/bucket.with.dots/k").respond(
        200, content=b"ok"
    )
    storage = open_storage(router, bucket="bucket.with.dots", endpoint_url=None, region=None)
    async with storage:
        assert await storage.get_bytes("k") == b"ok"
    assert wrong.called
    assert "/eu-central-1/s3/aws4_request" in right.calls.last.request.headers["authorization"]
    assert storage.endpoint.region == "eu-central-1"


async def test_a_configured_region_is_never_moved(storage: S3Storage, router: respx.Router) -> None:
    router.get("/bucket/p/k").mock(
        return_value=xml_error(301, "PermanentRedirect", **{"x-amz-bucket-region": "eu-central-1"})
    )
    with pytest.raises(StorageError):
        await storage.get_bytes("k")
    assert storage.endpoint.region == "us-east-1"


async def test_put_large_aborts_on_a_failed_part(storage: S3Storage, router: respx.Router) -> None:
    router.post("/bucket/p/big", params={"uploads": ""}).respond(
        200,
        content=b"<InitiateMultipartUploadResult><UploadId>U</UploadId></InitiateMultipartUploadResult>",
    )
    router.put("/bucket/p/big").mock(return_value=xml_error(400, "InvalidArgument"))
    abort = router.delete("/bucket/p/big", params={"uploadId": "U"}).respond(204)
    with pytest.raises(BaseException):
        await storage.put_large("big", b"x" * (11 * 1024 * 1024), part_size=5 * 1024 * 1024)
    assert abort.called
