"""receive_uploads in a real app: rules, names, collisions, and nothing left after a failure."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from litestar import Litestar, Request, post
from litestar.testing import TestClient

from litestar_storages import MemoryStorage, Storage, StoragePlugin
from litestar_storages.contrib import (
    StorageDependency,
    UploadedForm,
    UploadField,
    receive_uploads,
)

from ._support import (
    BOUNDARY,
    Exchange,
    asgi_request,
    client_on,
    multipart_body,
    on_app_loop,
    split,
    stored_keys,
)

FORM = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
PDF = b"%PDF-1.7 " + bytes(range(256)) * 8


def upload_app(storage: Storage, *fields: UploadField, **options: Any) -> Litestar:
    @post("/upload")
    async def upload(request: Request[Any, Any, Any], storage: StorageDependency) -> UploadedForm:
        return await receive_uploads(request, storage, *fields, **options)

    return Litestar([upload], plugins=[StoragePlugin(storage)])


@pytest.fixture
def client_for(anyio_backend: str) -> Iterator[Callable[[Litestar], TestClient[Litestar]]]:
    clients: list[TestClient[Litestar]] = []

    def make(app: Litestar) -> TestClient[Litestar]:
        client = client_on(app, anyio_backend).__enter__()
        clients.append(client)
        return client

    yield make
    for client in reversed(clients):
        client.__exit__(None, None, None)


def keys(client: TestClient[Litestar], storage: Storage) -> list[str]:
    return sorted(on_app_loop(client, stored_keys, storage))


LOCKS = Path(".litestar-storages", "locks")


def files_on_disk(root: Path) -> list[str]:
    """Every file under the filesystem storage's root: objects, metadata sidecars, multipart
    staging and temporary files; only the backend's lock files (which it keeps) are left out.
    """
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and not path.relative_to(root).is_relative_to(LOCKS)
    )


def post_parts(
    client: TestClient[Litestar], parts: list[tuple[str, str | None, str | None, bytes]]
) -> httpx.Response:
    return client.post("/upload", content=multipart_body(parts), headers=FORM)


# --------------------------------------------------------------------------- storing
def test_a_file_is_stored_under_its_sanitised_name(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc")))
    response = client.post(
        "/upload", files={"doc": ("../../My Report.pdf", PDF, "application/pdf")}
    )
    assert response.status_code == 201
    upload = response.json()["uploads"][0]
    assert upload["file"]["key"] == "My_Report.pdf"
    assert upload["file"]["size"] == len(PDF)
    assert upload["file"]["content_type"] == "application/pdf"
    assert upload["field"] == "doc"
    assert upload["filename"] == "../../My Report.pdf"
    assert on_app_loop(client, storage.get_bytes, "My_Report.pdf") == PDF


def test_text_values_are_collected(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc")))
    response = client.post(
        "/upload",
        data={"title": "Trip", "tags": ["a", "b"]},
        files={"doc": ("a.txt", b"x", "text/plain")},
    )
    assert response.json()["values"] == {"title": ["Trip"], "tags": ["a", "b"]}


def test_several_files_in_one_field_keep_their_order(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("photos", count=3)))
    response = client.post(
        "/upload",
        files=[("photos", (f"p{i}.jpg", bytes([i]) * 10, "image/jpeg")) for i in range(3)],
    )
    assert [u["file"]["key"] for u in response.json()["uploads"]] == ["p0.jpg", "p1.jpg", "p2.jpg"]


def test_the_destination_prefixes_keys(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc", destination="/uploads/docs/")))
    post_parts(client, [("doc", "a.pdf", "application/pdf", PDF)])
    assert keys(client, storage) == ["uploads/docs/a.pdf"]


def test_a_missing_content_type_is_guessed_from_the_name(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc")))
    response = post_parts(client, [("doc", "a.pdf", None, PDF)])
    assert response.json()["uploads"][0]["file"]["content_type"] == "application/pdf"


def test_field_metadata_is_stored(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc", metadata={"source": "form"})))
    post_parts(client, [("doc", "a.pdf", "application/pdf", PDF)])
    assert on_app_loop(client, storage.info, "a.pdf").metadata == {"source": "form"}


def test_generate_url_fills_the_url(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc", generate_url=True)))
    response = post_parts(client, [("doc", "a.pdf", "application/pdf", PDF)])
    url = response.json()["uploads"][0]["url"]
    assert url == on_app_loop(client, storage.url, "a.pdf")


def test_an_empty_file_input_is_skipped(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc")))
    response = post_parts(client, [("doc", "", "application/octet-stream", b"")])
    assert response.json()["uploads"] == []
    assert keys(client, storage) == []


def test_an_empty_file_with_a_name_is_stored(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc")))
    post_parts(client, [("doc", "empty.txt", "text/plain", b"")])
    assert on_app_loop(client, storage.get_bytes, "empty.txt") == b""


def test_a_nameless_file_gets_a_generated_name(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc"), id_factory=lambda: "id123"))
    post_parts(client, [("doc", "", "application/octet-stream", b"data")])
    assert keys(client, storage) == ["id123"]


def test_each_field_may_have_its_own_storage(anyio_backend: str) -> None:
    main, images = MemoryStorage(), MemoryStorage()
    app = upload_app(main, UploadField("doc"), UploadField("photo", storage=images))
    with client_on(app, anyio_backend) as client:
        post_parts(
            client,
            [("doc", "a.pdf", "application/pdf", PDF), ("photo", "p.png", "image/png", b"png")],
        )
        assert keys(client, main) == ["a.pdf"]
        assert keys(client, images) == ["p.png"]


# --------------------------------------------------------------------------- names
def test_the_same_name_twice_gets_a_numbered_key(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc", count=3)))
    for body in (b"one", b"two", b"three"):
        post_parts(client, [("doc", "doc.pdf", "application/pdf", body)])
    assert keys(client, storage) == ["doc-1.pdf", "doc-2.pdf", "doc.pdf"]
    assert on_app_loop(client, storage.get_bytes, "doc-2.pdf") == b"three"


def test_an_existing_object_is_never_overwritten(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc")))
    on_app_loop(client, storage.put, "doc.pdf", b"precious")
    post_parts(client, [("doc", "doc.pdf", "application/pdf", b"new")])
    assert on_app_loop(client, storage.get_bytes, "doc.pdf") == b"precious"
    assert on_app_loop(client, storage.get_bytes, "doc-1.pdf") == b"new"


def test_overwrite_replaces_the_object(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc", overwrite=True)))
    on_app_loop(client, storage.put, "doc.pdf", b"old")
    post_parts(client, [("doc", "doc.pdf", "application/pdf", b"new")])
    assert keys(client, storage) == ["doc.pdf"]
    assert on_app_loop(client, storage.get_bytes, "doc.pdf") == b"new"


def test_uuid_naming_keeps_only_the_extension(client_for: Any, storage: Storage) -> None:
    ids = itertools.count()
    app = upload_app(
        storage,
        UploadField("doc", naming="uuid", destination="u"),
        id_factory=lambda: f"id{next(ids)}",
    )
    client = client_for(app)
    post_parts(client, [("doc", "Secret Name.PDF", "application/pdf", PDF)])
    assert keys(client, storage) == ["u/id0.pdf"]


# --------------------------------------------------------------------------- refusals
def test_too_many_files_is_400_and_stores_nothing(
    client_for: Any, storage: Storage, storage_root: Path
) -> None:
    client = client_for(upload_app(storage, UploadField("doc", count=2)))
    response = post_parts(client, [("doc", f"{n}.pdf", "application/pdf", PDF) for n in range(3)])
    assert response.status_code == 400
    assert response.json()["extra"] == {"field": "doc"}
    assert keys(client, storage) == []
    assert files_on_disk(storage_root) == []


def test_a_file_over_max_size_is_413_and_stores_nothing(
    client_for: Any, storage: Storage, storage_root: Path
) -> None:
    client = client_for(upload_app(storage, UploadField("doc", count=2, max_size=len(PDF))))
    response = post_parts(
        client,
        [
            ("doc", "fits.pdf", "application/pdf", PDF),  # exactly max_size: accepted
            ("doc", "big.pdf", "application/pdf", PDF + b"!"),
        ],
    )
    assert response.status_code == 413
    assert keys(client, storage) == []
    assert files_on_disk(storage_root) == []


def test_max_size_zero_allows_only_empty_files(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc", max_size=0)))
    assert post_parts(client, [("doc", "a", None, b"")]).status_code == 201
    assert post_parts(client, [("doc", "b", None, b"x")]).status_code == 413


def test_a_disallowed_content_type_is_415(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("photo", content_types={"image/*"})))
    assert post_parts(client, [("photo", "a.png", "image/png", b"png")]).status_code == 201
    response = post_parts(client, [("photo", "b.pdf", "application/pdf", PDF)])
    assert response.status_code == 415
    assert keys(client, storage) == ["a.png"]


def test_exact_content_types_are_case_insensitive(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc", content_types=["Application/PDF"])))
    assert post_parts(client, [("doc", "a.pdf", "APPLICATION/pdf", PDF)]).status_code == 201


def test_a_missing_required_file_is_400(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc"), UploadField("cv", required=True)))
    response = post_parts(client, [("doc", "a.pdf", "application/pdf", PDF)])
    assert response.status_code == 400
    assert keys(client, storage) == []


def test_a_file_in_an_undeclared_field_is_400(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc")))
    response = post_parts(
        client,
        [("doc", "a.pdf", "application/pdf", PDF), ("other", "b.pdf", "application/pdf", PDF)],
    )
    assert response.status_code == 400
    assert keys(client, storage) == []


def test_a_request_that_is_not_a_form_is_415(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc")))
    assert client.post("/upload", json={"doc": "x"}).status_code == 415


def test_a_malformed_body_is_400_and_stores_nothing(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc", count=2)))
    body = multipart_body([("doc", "a.pdf", "application/pdf", PDF)] * 2)
    response = client.post("/upload", content=body[:-60], headers=FORM)
    assert response.status_code == 400
    assert keys(client, storage) == []


def test_oversized_and_too_many_values_are_413(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc"), max_values=2, max_value_size=10))
    assert post_parts(client, [("t", None, None, b"x" * 11)]).status_code == 413
    assert post_parts(client, [("t", None, None, b"x")] * 3).status_code == 413
    assert post_parts(client, [("t", None, None, b"x")] * 2).status_code == 201


def test_a_value_that_is_not_text_is_400(client_for: Any, storage: Storage) -> None:
    client = client_for(upload_app(storage, UploadField("doc")))
    assert post_parts(client, [("t", None, None, b"\xff\xfe")]).status_code == 400


# --------------------------------------------------------------------------- streaming, aborts
class RecordingPuts(MemoryStorage):
    """Records, for each streamed put, how much of the request had arrived at its first chunk."""

    def __init__(self, progress: Callable[[], int]) -> None:
        super().__init__()
        self.progress = progress
        self.first_chunk_at: list[int] = []
        self.data_types: list[type] = []

    async def put(self, key: str, data: Any, **kwargs: Any) -> Any:
        self.data_types.append(type(data))
        if isinstance(data, (bytes, bytearray)):
            return await super().put(key, data, **kwargs)

        async def watched() -> Any:
            first = True
            async for chunk in data:
                if first:
                    self.first_chunk_at.append(self.progress())
                    first = False
                yield chunk

        return await super().put(key, watched(), **kwargs)


@pytest.mark.anyio
async def test_files_stream_into_storage_while_the_request_arrives() -> None:
    body = multipart_body([("doc", "big.bin", None, bytes(range(256)) * 4096)])  # 1 MiB
    chunks = split(body, 64 * 1024)
    exchange = Exchange()
    storage = RecordingPuts(lambda: exchange.received_chunks)
    app = upload_app(storage, UploadField("doc"))
    await asgi_request(app, "POST", "/upload", headers=FORM, chunks=chunks, exchange=exchange)
    assert exchange.status == 201, exchange.body
    # The body reached put() as an async iterator, not as bytes ...
    assert [t for t in storage.data_types if t is not bytes] != []
    # ... and put() got its first bytes after the first of the 17 request chunks, not the last.
    assert storage.first_chunk_at == [1]
    assert len(chunks) == 17


@pytest.mark.anyio
async def test_a_client_that_disconnects_mid_upload_leaves_nothing(
    storage: Storage, storage_root: Path
) -> None:
    body = multipart_body(
        [
            ("doc", "complete.pdf", "application/pdf", PDF),
            ("doc", "partial.pdf", "application/pdf", PDF * 100),
        ]
    )
    cut = body.index(b"partial.pdf") + 20_000  # well inside the second file
    app = upload_app(storage, UploadField("doc", count=2))
    exchange = await asgi_request(
        app,
        "POST",
        "/upload",
        headers=FORM,
        chunks=split(body[:cut], 4096),
        disconnect_after_body=True,
    )
    assert exchange.status >= 400
    assert await stored_keys(storage) == []
    assert files_on_disk(storage_root) == []


@pytest.mark.anyio
async def test_a_cancelled_upload_leaves_nothing(storage: Storage, storage_root: Path) -> None:
    body = multipart_body(
        [
            ("doc", "complete.pdf", "application/pdf", PDF),
            ("doc", "partial.pdf", "application/pdf", PDF * 100),
        ]
    )
    chunks = split(body[: body.index(b"partial.pdf") + 20_000], 4096)
    app = upload_app(storage, UploadField("doc", count=2))
    stalled = anyio.Event()

    async def receive() -> dict[str, Any]:
        if chunks:
            return {"type": "http.request", "body": chunks.pop(0), "more_body": True}
        stalled.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        pass

    scope = {
        "type": "http", "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/upload", "raw_path": b"/upload", "root_path": "", "query_string": b"",
        "headers": [(b"content-type", FORM["Content-Type"].encode())],
        "client": ("127.0.0.1", 1), "server": ("test", 80), "asgi": {"version": "3.0"},
        "state": {},
    }  # fmt: skip
    async with anyio.create_task_group() as tg:
        tg.start_soon(app, scope, receive, send)  # type: ignore[arg-type]
        await stalled.wait()
        await anyio.wait_all_tasks_blocked()
        tg.cancel_scope.cancel()
    assert await stored_keys(storage) == []
    assert files_on_disk(storage_root) == []


@pytest.mark.anyio
async def test_concurrent_uploads_of_one_name_get_distinct_keys(storage: Storage) -> None:
    app = upload_app(storage, UploadField("doc"))
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    bodies = [f"upload {n}".encode() * 1000 for n in range(8)]
    responses: list[httpx.Response] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

        async def send(body: bytes) -> None:
            files = {"doc": ("doc.pdf", body, "application/pdf")}
            responses.append(await client.post("/upload", files=files))

        async with anyio.create_task_group() as tg:
            for body in bodies:
                tg.start_soon(send, body)
    assert [r.status_code for r in responses] == [201] * 8
    stored = {r.json()["uploads"][0]["file"]["key"] for r in responses}
    assert stored == {"doc.pdf"} | {f"doc-{n}.pdf" for n in range(1, 8)}
    contents = {await storage.get_bytes(key) for key in stored}
    assert contents == set(bodies)


class MultipartPathStorage(MemoryStorage):
    """MemoryStorage whose ``put`` takes the cloud backends' path (BaseStorage._put_streamed:
    one request up to a part, multipart above), with tiny parts so a file spans several."""

    async def _put_object(self, key: str, body: bytes, **kwargs: Any) -> Any:
        return self._store(key, body, etag="single", **kwargs)

    async def put(self, key: str, data: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("overwrite", True)
        kwargs.setdefault("content_type", None)
        kwargs.setdefault("metadata", None)
        kwargs.setdefault("progress_callback", None)
        return await self._put_streamed(key, data, part_size=1024, **kwargs)


@pytest.mark.anyio
async def test_an_oversized_file_on_the_multipart_path_leaves_no_parts() -> None:
    storage = MultipartPathStorage()
    body = multipart_body(
        [
            ("doc", "ok.bin", None, b"a" * 3000),  # three parts: stored by multipart
            ("doc", "big.bin", None, b"b" * 9000),  # over max_size after several parts
        ]
    )
    app = upload_app(storage, UploadField("doc", count=2, max_size=8000))
    exchange = await asgi_request(app, "POST", "/upload", headers=FORM, chunks=split(body, 700))
    assert exchange.status == 413
    assert await stored_keys(storage) == []
    assert storage._uploads == {}  # every multipart upload was completed or aborted
