"""Streamed ``put`` through a resumable session: chunking, progress, recovery after failures."""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from litestar_storages.exceptions import (
    StorageConnectionError,
    StorageError,
    StorageFileExistsError,
    StorageIntegrityError,
)

from ._gcs_helpers import Opener, Script, json_error, ok_json, resource

pytestmark = pytest.mark.anyio

HOST = "storage.googleapis.com"
KIB = 1024
CHUNK = 256 * KIB
SESSION = (
    "https://storage.googleapis.com/upload/storage/v1/b/bkt/o?uploadType=resumable&upload_id=S1"
)
DATA = random.Random(5).randbytes(600 * KIB)


def md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def started() -> httpx.Response:
    return httpx.Response(200, headers={"location": SESSION})


def committed(upto: int) -> httpx.Response:
    return httpx.Response(308, headers={"range": f"bytes=0-{upto - 1}"})


def finished(data: bytes = DATA, **extra: str) -> httpx.Response:
    document = resource("big.bin", size=str(len(data)), md5Hash=md5(data))
    document.update(extra)
    return ok_json(document)


async def stream(data: bytes = DATA, piece: int = 50 * KIB) -> AsyncIterator[bytes]:
    for start in range(0, len(data), piece):
        yield data[start : start + piece]


def script(router: respx.MockRouter, *answers: httpx.Response | Exception) -> Script:
    recorded = Script(*answers)
    router.route(host=HOST).mock(side_effect=recorded)
    return recorded


def ranges(calls: Script) -> list[str]:
    return [r.headers.get("content-range", "-") for r in calls.requests]


def uploaded(calls: Script) -> bytes:
    """The bytes the session holds, replaying each chunk at its offset."""
    held = bytearray()
    for request in calls.requests:
        value = request.headers.get("content-range", "")
        if request.content and value.startswith("bytes ") and "*/" not in value:
            first = int(value[6:].split("-", 1)[0])
            held[first : first + len(request.content)] = request.content
    return bytes(held)


async def test_stream_larger_than_a_chunk_uses_a_resumable_session(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(router, started(), committed(CHUNK), committed(2 * CHUNK), finished())
    storage = open_storage(upload_chunk_size=CHUNK)
    stored = await storage.put("big.bin", stream(), content_type="video/mp4", metadata={"k": "v"})
    assert calls.targets[0] == "POST /upload/storage/v1/b/bkt/o?uploadType=resumable"
    assert calls.requests[0].headers["x-upload-content-type"] == "video/mp4"
    assert ranges(calls)[1:] == [
        "bytes 0-262143/*",
        "bytes 262144-524287/*",
        "bytes 524288-614399/614400",
    ]
    assert all(r.url == httpx.URL(SESSION) for r in calls.requests[1:])
    assert uploaded(calls) == DATA
    assert stored.size == len(DATA)


async def test_a_stream_ending_on_a_chunk_boundary_finishes_with_its_last_chunk(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    data = DATA[: 2 * CHUNK]
    calls = script(router, started(), committed(CHUNK), finished(data))
    await open_storage(upload_chunk_size=CHUNK).put("big.bin", stream(data))
    assert ranges(calls)[1:] == ["bytes 0-262143/*", "bytes 262144-524287/524288"]


async def test_upload_progress_follows_committed_bytes(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    script(router, started(), committed(CHUNK), committed(2 * CHUNK), finished())
    seen: list[int] = []
    await open_storage(upload_chunk_size=CHUNK).put(
        "big.bin", stream(), progress_callback=lambda info: seen.append(info.bytes_transferred)
    )
    assert seen == [0, CHUNK, 2 * CHUNK, len(DATA)]


async def test_a_partly_persisted_chunk_is_continued_from_the_committed_offset(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    # "GCS may persist fewer bytes than were sent": the 308 says so, and we go on from there.
    calls = script(
        router, started(), committed(100 * KIB), committed(100 * KIB + CHUNK), finished()
    )
    await open_storage(upload_chunk_size=CHUNK).put("big.bin", stream())
    assert ranges(calls)[1:] == [
        "bytes 0-262143/*",
        "bytes 102400-364543/*",
        "bytes 364544-614399/614400",
    ]
    assert uploaded(calls) == DATA


async def test_a_dropped_connection_resumes_from_the_committed_offset(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(
        router,
        started(),
        committed(CHUNK),
        httpx.ReadError("connection reset by peer"),  # the second chunk breaks mid-way
        committed(CHUNK + 128 * KIB),  # ... the status query: half of it arrived
        finished(),
    )
    stored = await open_storage(upload_chunk_size=CHUNK).put("big.bin", stream())
    assert ranges(calls)[1:] == [
        "bytes 0-262143/*",
        "bytes 262144-524287/*",
        "bytes */*",
        "bytes 393216-614399/614400",
    ]
    assert calls.requests[3].content == b""
    assert uploaded(calls) == DATA
    assert stored.size == len(DATA)


async def test_a_server_error_on_the_last_chunk_resumes_with_the_known_total(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(
        router,
        started(),
        committed(CHUNK),
        committed(2 * CHUNK),
        json_error(500, "backendError"),
        committed(2 * CHUNK),
        finished(),
    )
    await open_storage(upload_chunk_size=CHUNK).put("big.bin", stream())
    assert ranges(calls)[3:] == [
        "bytes 524288-614399/614400",
        "bytes */614400",
        "bytes 524288-614399/614400",
    ]


async def test_the_status_query_may_find_the_upload_already_finished(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(router, started(), committed(CHUNK), httpx.ReadError("reset"), finished())
    data = DATA[: CHUNK + 10]
    calls.answers[-1] = finished(data)
    stored = await open_storage(upload_chunk_size=CHUNK).put("big.bin", stream(data))
    assert stored.size == len(data)
    assert ranges(calls)[-1] == "bytes */262154"


async def test_repeated_failures_without_progress_give_up_and_cancel_the_session(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(
        router,
        started(),
        httpx.ReadError("reset"),
        committed(0),
        httpx.ReadError("reset"),
        committed(0),
        httpx.ReadError("reset"),
        httpx.Response(499),  # the cancel
    )
    with pytest.raises(StorageConnectionError):
        await open_storage(upload_chunk_size=CHUNK).put("big.bin", stream())
    assert calls.requests[-1].method == "DELETE"
    assert calls.requests[-1].url == httpx.URL(SESSION)


async def test_an_expired_session_fails_the_upload(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(
        router,
        started(),
        httpx.ReadError("reset"),
        json_error(410, "gone"),
        httpx.Response(410),  # the cancel finds it gone too
    )
    with pytest.raises(StorageError) as caught:
        await open_storage(upload_chunk_size=CHUNK).put("big.bin", stream())
    assert caught.value.status == 410
    assert calls.requests[-1].method == "DELETE"


async def test_a_failing_source_cancels_the_session(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield DATA[: CHUNK + 1]
        yield DATA[CHUNK + 1 : 2 * CHUNK + 10]
        raise OSError("disk gone")

    calls = script(router, started(), committed(CHUNK), committed(2 * CHUNK), httpx.Response(499))
    with pytest.raises(OSError, match="disk gone"):
        await open_storage(upload_chunk_size=CHUNK).put("big.bin", broken())
    assert calls.requests[-1].method == "DELETE"


async def test_create_only_stream_checks_first_and_sends_the_precondition(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(
        router,
        json_error(404, "notFound"),
        started(),
        committed(CHUNK),
        committed(2 * CHUNK),
        finished(),
    )
    await open_storage(upload_chunk_size=CHUNK).put("big.bin", stream(), overwrite=False)
    assert calls.targets[0] == "GET /storage/v1/b/bkt/o/big.bin"
    assert calls.requests[1].url.params["ifGenerationMatch"] == "0"


async def test_create_only_stream_onto_an_existing_key_sends_no_data(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(router, ok_json(resource("big.bin")))
    with pytest.raises(StorageFileExistsError):
        await open_storage(upload_chunk_size=CHUNK).put("big.bin", stream(), overwrite=False)
    assert len(calls.requests) == 1


async def test_a_precondition_failure_at_the_end_is_file_exists(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    script(
        router,
        json_error(404, "notFound"),
        started(),
        committed(CHUNK),
        committed(2 * CHUNK),
        json_error(412, "conditionNotMet"),
        httpx.Response(499),
    )
    with pytest.raises(StorageFileExistsError):
        await open_storage(upload_chunk_size=CHUNK).put("big.bin", stream(), overwrite=False)


async def test_a_stored_md5_that_differs_deletes_that_generation_and_raises(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(
        router,
        started(),
        committed(CHUNK),
        committed(2 * CHUNK),
        finished(md5Hash=md5(b"something else")),
        httpx.Response(204),  # the delete of the corrupted generation
        httpx.Response(410),  # the session cancel: already finished
    )
    with pytest.raises(StorageIntegrityError):
        await open_storage(upload_chunk_size=CHUNK).put("big.bin", stream())
    delete = calls.requests[4]
    assert delete.method == "DELETE"
    assert delete.url.params["ifGenerationMatch"] == "1700000000000001"


async def test_a_session_on_another_host_gets_no_bearer_token(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    other = "https://uploads.example.test/session/1"
    foreign = Script(committed(CHUNK), committed(2 * CHUNK), finished())
    router.route(host="uploads.example.test").mock(side_effect=foreign)
    calls = script(router, httpx.Response(200, headers={"location": other}))
    await open_storage(upload_chunk_size=CHUNK).put("big.bin", stream())
    assert calls.requests[0].headers["authorization"] == "Bearer tok"
    assert all("authorization" not in r.headers for r in foreign.requests)
