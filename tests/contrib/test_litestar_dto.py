"""StoredFileDTO and StoredFileReadDTO (0.2.3's DTOs): without and with ``metadata``."""

from __future__ import annotations

from litestar import Litestar, get

from litestar_storages import MemoryStorage, StoragePlugin, StoredFile
from litestar_storages.contrib import StorageDependency, StoredFileDTO, StoredFileReadDTO

from ._support import client_on, on_app_loop


@get("/brief", return_dto=StoredFileDTO)
async def brief(storage: StorageDependency) -> StoredFile:
    return await storage.info("a.txt")


@get("/full", return_dto=StoredFileReadDTO)
async def full(storage: StorageDependency) -> StoredFile:
    return await storage.info("a.txt")


def test_stored_file_dto_leaves_out_metadata(anyio_backend: str) -> None:
    storage = MemoryStorage()
    app = Litestar([brief, full], plugins=[StoragePlugin(storage)])
    with client_on(app, anyio_backend) as client:
        on_app_loop(
            client, storage.put, "a.txt", b"hi", content_type="text/plain", metadata={"by": "me"}
        )
        body = client.get("/brief").json()
    assert set(body) == {"key", "size", "content_type", "etag", "last_modified"}
    assert (body["key"], body["size"], body["content_type"]) == ("a.txt", 2, "text/plain")
    assert body["last_modified"].endswith("Z")


def test_stored_file_read_dto_includes_metadata(anyio_backend: str) -> None:
    storage = MemoryStorage()
    app = Litestar([brief, full], plugins=[StoragePlugin(storage)])
    with client_on(app, anyio_backend) as client:
        on_app_loop(client, storage.put, "a.txt", b"hi", metadata={"by": "me"})
        body = client.get("/full").json()
    assert body["metadata"] == {"by": "me"}


def test_the_0_2_3_module_path_still_works() -> None:
    from litestar_storages.contrib.dto import StoredFileDTO as Legacy

    assert Legacy is StoredFileDTO
