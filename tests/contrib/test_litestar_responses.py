"""file_response and presigned_redirect in a real app: headers, ranges, conditionals, closing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from litestar import Litestar, Request, Response, get, route
from litestar.params import FromPath
from litestar.testing import TestClient

from litestar_storages import MemoryStorage, Storage, StoragePlugin, StoredFile
from litestar_storages._stream import ByteStream
from litestar_storages.contrib import StorageDependency, file_response, presigned_redirect
from litestar_storages.contrib._responses import (
    Unsatisfiable,
    content_disposition,
    http_date,
    parse_range,
)

from ._support import asgi_request, client_on, on_app_loop

BODY = bytes(range(256)) * 40  # 10240 bytes, every offset distinguishable


def download_app(storage: Storage, **options: Any) -> Litestar:
    @route("/files/{key:path}", http_method=["GET", "HEAD"])
    async def download(
        key: FromPath[str], request: Request[Any, Any, Any], storage: StorageDependency
    ) -> Response[Any]:
        return await file_response(storage, key.lstrip("/"), request, **options)

    return Litestar([download], plugins=[StoragePlugin(storage)])


@pytest.fixture
def client_for(anyio_backend: str) -> Iterator[Any]:
    clients: list[TestClient[Litestar]] = []

    def make(app: Litestar) -> TestClient[Litestar]:
        client = client_on(app, anyio_backend)
        clients.append(client.__enter__())
        return client

    yield make
    for client in reversed(clients):
        client.__exit__(None, None, None)


def put(
    client: TestClient[Litestar], storage: Storage, key: str, data: bytes, **kw: Any
) -> StoredFile:
    return on_app_loop(client, storage.put, key, data, **kw)


# --------------------------------------------------------------------------- full responses
def test_full_response_has_every_header(client_for: Any, storage: Storage) -> None:
    client = client_for(download_app(storage))
    stored = put(client, storage, "docs/report.pdf", BODY, content_type="application/pdf")
    info = on_app_loop(client, storage.info, "docs/report.pdf")
    response = client.get("/files/docs/report.pdf")
    assert response.status_code == 200
    assert response.content == BODY
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-length"] == str(len(BODY))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-disposition"] == 'attachment; filename="report.pdf"'
    assert response.headers["x-content-type-options"] == "nosniff"
    if info.etag is not None:
        assert response.headers["etag"] == f'"{info.etag}"'
    if info.last_modified is not None:
        assert response.headers["last-modified"] == http_date(info.last_modified)
    assert stored.size == len(BODY)


def test_a_stored_text_type_is_sent_without_an_invented_charset(
    client_for: Any, storage: Storage
) -> None:
    client = client_for(download_app(storage))
    put(client, storage, "a.txt", b"caf\xe9", content_type="text/plain; charset=latin-1")
    response = client.get("/files/a.txt")
    assert response.headers.get_list("content-type") == ["text/plain; charset=latin-1"]


def test_an_untyped_object_is_octet_stream(client_for: Any, storage: Storage) -> None:
    client = client_for(download_app(storage))
    put(client, storage, "blob", b"x")
    assert client.get("/files/blob").headers["content-type"] == "application/octet-stream"


def test_an_empty_object_is_an_empty_200(client_for: Any, storage: Storage) -> None:
    client = client_for(download_app(storage))
    put(client, storage, "empty", b"")
    response = client.get("/files/empty")
    assert (response.status_code, response.content) == (200, b"")
    assert response.headers["content-length"] == "0"


def test_a_unicode_filename_uses_rfc_6266_filename_star(client_for: Any, storage: Storage) -> None:
    client = client_for(download_app(storage))
    put(client, storage, "Résumé 2024.pdf", b"x")
    disposition = client.get("/files/Résumé 2024.pdf").headers["content-disposition"]
    assert disposition == (
        "attachment; filename=\"Resume 2024.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9%202024.pdf"
    )


def test_inline_disposition_and_a_chosen_filename(client_for: Any, storage: Storage) -> None:
    client = client_for(download_app(storage, disposition="inline", filename="photo.png"))
    put(client, storage, "u/123", b"x", content_type="image/png")
    disposition = client.get("/files/u/123").headers["content-disposition"]
    assert disposition == 'inline; filename="photo.png"'


def test_no_disposition_header_when_asked(client_for: Any, storage: Storage) -> None:
    client = client_for(download_app(storage, disposition=None))
    put(client, storage, "a", b"x")
    assert "content-disposition" not in client.get("/files/a").headers


def test_cache_control_and_extra_headers(client_for: Any, storage: Storage) -> None:
    client = client_for(
        download_app(storage, cache_control="private, max-age=60", headers={"X-Extra": "1"})
    )
    put(client, storage, "a", b"x")
    response = client.get("/files/a")
    assert response.headers["cache-control"] == "private, max-age=60"
    assert response.headers["x-extra"] == "1"


def test_head_sends_the_headers_without_the_body(client_for: Any, storage: Storage) -> None:
    client = client_for(download_app(storage))
    put(client, storage, "a.bin", BODY)
    response = client.head("/files/a.bin")
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(BODY))
    assert response.content == b""


def test_a_missing_object_is_404(client_for: Any, storage: Storage) -> None:
    client = client_for(download_app(storage))
    assert client.get("/files/nothing/here").status_code == 404


# --------------------------------------------------------------------------- ranges
@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=2-5", 2, 5),
        ("bytes=10000-", 10000, 10239),
        ("bytes=-3", 10237, 10239),
        ("bytes=-999999", 0, 10239),
        ("bytes=10230-99999", 10230, 10239),
        ("bytes=0-0", 0, 0),
    ],
)
def test_a_single_range_is_206_with_content_range(
    client_for: Any, storage: Storage, header: str, first: int, last: int
) -> None:
    client = client_for(download_app(storage))
    put(client, storage, "r.bin", BODY)
    response = client.get("/files/r.bin", headers={"Range": header})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {first}-{last}/{len(BODY)}"
    assert response.headers["content-length"] == str(last - first + 1)
    assert response.content == BODY[first : last + 1]


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=99999-100000", "bytes=-0"])
def test_an_unsatisfiable_range_is_416(client_for: Any, storage: Storage, header: str) -> None:
    client = client_for(download_app(storage))
    put(client, storage, "r.bin", BODY)
    response = client.get("/files/r.bin", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(BODY)}"


@pytest.mark.parametrize("header", ["bytes=0-1,4-5", "bytes=5-2", "bytes=abc", "items=0-5"])
def test_ranges_we_do_not_serve_give_the_whole_object(
    client_for: Any, storage: Storage, header: str
) -> None:
    client = client_for(download_app(storage))
    put(client, storage, "r.bin", BODY)
    response = client.get("/files/r.bin", headers={"Range": header})
    assert (response.status_code, response.content) == (200, BODY)


def test_if_range_with_the_current_etag_serves_the_range(client_for: Any, storage: Storage) -> None:
    client = client_for(download_app(storage))
    put(client, storage, "r.bin", BODY)
    etag = client.get("/files/r.bin").headers.get("etag")
    if etag is None:
        pytest.skip("backend reports no ETag")
    response = client.get("/files/r.bin", headers={"Range": "bytes=0-9", "If-Range": etag})
    assert response.status_code == 206


def test_if_range_with_a_stale_etag_serves_the_whole_object(
    client_for: Any, storage: Storage
) -> None:
    client = client_for(download_app(storage))
    put(client, storage, "r.bin", BODY)
    headers = {"Range": "bytes=0-9", "If-Range": '"stale"'}
    response = client.get("/files/r.bin", headers=headers)
    assert (response.status_code, response.content) == (200, BODY)


class RecordingStorage(MemoryStorage):
    """MemoryStorage recording the keyword arguments of every ``get`` and every stream."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict[str, Any]] = []
        self.streams: list[ByteStream] = []

    def get(
        self,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        progress_callback: Any = None,
    ) -> ByteStream:
        self.calls.append({k: v for k, v in (("start", start), ("end", end)) if v is not None})
        stream = super().get(key, start=start, end=end)
        self.streams.append(stream)
        return stream


class PlainGetStorage(MemoryStorage):
    """A backend whose ``get`` takes only the key (no ranged reads)."""

    def get(self, key: str) -> ByteStream:  # type: ignore[override]
        return super().get(key)


def test_a_range_uses_the_backends_ranged_get(anyio_backend: str) -> None:
    storage = RecordingStorage()
    with client_on(download_app(storage), anyio_backend) as client:
        on_app_loop(client, storage.put, "big.bin", BODY * 300)  # 3 MiB: several chunks
        response = client.get("/files/big.bin", headers={"Range": "bytes=1048570-2097160"})
    assert response.content == (BODY * 300)[1048570:2097161]
    assert storage.calls == [{"start": 1048570, "end": 2097161}]


def test_without_a_ranged_get_the_leading_bytes_are_skipped(anyio_backend: str) -> None:
    storage = PlainGetStorage()
    with client_on(download_app(storage), anyio_backend) as client:
        on_app_loop(client, storage.put, "big.bin", BODY * 300)
        response = client.get("/files/big.bin", headers={"Range": "bytes=1048570-2097160"})
    assert response.status_code == 206
    assert response.content == (BODY * 300)[1048570:2097161]


@pytest.mark.anyio
async def test_a_client_that_stops_reading_does_not_leave_the_download_open() -> None:
    storage = RecordingStorage()
    await storage.put("big.bin", BODY * 300)
    app = download_app(storage)
    exchange = await asgi_request(app, "GET", "/files/big.bin", fail_on_body_message=1)
    assert exchange.status == 200
    assert exchange.error is not None  # the failed send, re-raised by Litestar
    assert len(storage.streams) == 1
    assert storage.streams[0].closed


@pytest.mark.anyio
async def test_a_client_that_disconnects_does_not_leave_the_download_open() -> None:
    storage = RecordingStorage()
    await storage.put("big.bin", BODY * 300)
    exchange = await asgi_request(
        download_app(storage), "GET", "/files/big.bin", disconnect_after_body=True
    )
    assert exchange.status == 200
    assert all(stream.closed for stream in storage.streams)


@pytest.mark.anyio
async def test_the_download_is_closed_once_the_range_is_sent() -> None:
    storage = PlainGetStorage()
    streams: list[Any] = []
    original = storage.get

    def get(key: str) -> ByteStream:
        stream = original(key)
        streams.append(stream)
        return stream

    storage.get = get  # type: ignore[method-assign]
    await storage.put("big.bin", BODY * 300)
    exchange = await asgi_request(
        download_app(storage), "GET", "/files/big.bin", headers={"Range": "bytes=0-9"}
    )
    assert exchange.status == 206
    assert bytes(exchange.body) == BODY[:10]
    assert streams[0].closed


# --------------------------------------------------------------------------- conditionals
def _etag(client: TestClient[Litestar], storage: Storage, key: str) -> str:
    info = on_app_loop(client, storage.info, key)
    if info.etag is None:
        pytest.skip("backend reports no ETag")
    return f'"{info.etag}"'


@pytest.mark.parametrize(
    "if_none_match",
    ["{etag}", "W/{etag}", '"other", {etag}', "*"],
    ids=["strong", "weak", "list", "star"],
)
def test_if_none_match_gives_304(client_for: Any, storage: Storage, if_none_match: str) -> None:
    client = client_for(download_app(storage, cache_control="no-cache"))
    put(client, storage, "a.txt", b"hello")
    etag = _etag(client, storage, "a.txt")
    response = client.get(
        "/files/a.txt", headers={"If-None-Match": if_none_match.format(etag=etag)}
    )
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert response.headers["cache-control"] == "no-cache"


def test_if_none_match_with_another_etag_is_200(client_for: Any, storage: Storage) -> None:
    client = client_for(download_app(storage))
    put(client, storage, "a.txt", b"hello")
    response = client.get("/files/a.txt", headers={"If-None-Match": '"something-else"'})
    assert (response.status_code, response.content) == (200, b"hello")


def test_if_none_match_beats_a_range(client_for: Any, storage: Storage) -> None:
    client = client_for(download_app(storage))
    put(client, storage, "a.txt", b"hello")
    etag = _etag(client, storage, "a.txt")
    response = client.get("/files/a.txt", headers={"If-None-Match": etag, "Range": "bytes=0-1"})
    assert response.status_code == 304


def test_if_modified_since_after_the_last_write_gives_304(
    client_for: Any, storage: Storage
) -> None:
    client = client_for(download_app(storage))
    put(client, storage, "a.txt", b"hello")
    later = http_date(datetime.now(timezone.utc) + timedelta(minutes=5))
    earlier = http_date(datetime.now(timezone.utc) - timedelta(days=1))
    assert client.get("/files/a.txt", headers={"If-Modified-Since": later}).status_code == 304
    assert client.get("/files/a.txt", headers={"If-Modified-Since": earlier}).status_code == 200


# --------------------------------------------------------------------------- redirect
class UrlRecordingStorage(MemoryStorage):
    def __init__(self) -> None:
        super().__init__()
        self.expiries: list[timedelta | None] = []

    async def url(self, key: str, *, expires_in: timedelta | None = None) -> str:
        self.expiries.append(expires_in)
        return f"https://cdn.example/{key}?X-Signature=abc"


def redirect_app(storage: Storage, **options: Any) -> Litestar:
    @get("/go/{key:path}")
    async def go(key: FromPath[str], storage: StorageDependency) -> Any:
        return await presigned_redirect(storage, key.lstrip("/"), **options)

    return Litestar([go], plugins=[StoragePlugin(storage)])


def test_presigned_redirect_is_a_307_to_the_storage_url(anyio_backend: str) -> None:
    storage = UrlRecordingStorage()
    app = redirect_app(storage, expires_in=timedelta(minutes=5))
    with client_on(app, anyio_backend) as client:
        response = client.get("/go/a/b.pdf", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "https://cdn.example/a/b.pdf?X-Signature=abc"
    assert response.headers["cache-control"] == "no-store"
    assert storage.expiries == [timedelta(minutes=5)]


def test_presigned_redirect_may_be_a_302(anyio_backend: str) -> None:
    app = redirect_app(UrlRecordingStorage(), status_code=302)
    with client_on(app, anyio_backend) as client:
        assert client.get("/go/a", follow_redirects=False).status_code == 302


@pytest.mark.anyio
async def test_a_permanent_redirect_is_refused() -> None:
    with pytest.raises(ValueError, match="temporary"):
        await presigned_redirect(MemoryStorage(), "a", status_code=301)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- pure helpers
@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None),
        ("", 10, None),
        ("bytes=0-4", 10, (0, 4)),
        ("BYTES = 0-4", 10, (0, 4)),
        ("bytes=4-", 10, (4, 9)),
        ("bytes=-4", 10, (6, 9)),
        ("bytes=-40", 10, (0, 9)),
        ("bytes=8-40", 10, (8, 9)),
        ("bytes=4-2", 10, None),
        ("bytes=1-2,4-5", 10, None),
        ("bytes=-", 10, None),
        ("bytes=x-2", 10, None),
        ("bytes=١-٢", 10, None),  # non-ASCII digits are not digits here  # noqa: RUF001
        ("lines=1-2", 10, None),
    ],
)
def test_parse_range(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=-0", 10), ("bytes=-5", 0)])
def test_parse_range_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, size)


def test_content_disposition_escapes_what_would_break_the_header() -> None:
    value = content_disposition("attachment", 'a"b\\c\r\nd.txt')
    assert "\r" not in value
    assert "\n" not in value
    assert value.startswith("attachment; filename=\"a_b_c__d.txt\"; filename*=UTF-8''")
    assert "a%22b%5Cc%0D%0Ad.txt" in value


def test_content_disposition_of_a_name_without_ascii_letters() -> None:
    value = content_disposition("inline", "報告.pdf")
    assert value == "inline; filename=\".pdf\"; filename*=UTF-8''%E5%A0%B1%E5%91%8A.pdf"
