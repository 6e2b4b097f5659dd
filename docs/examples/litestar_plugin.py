"""StoragePlugin: storages injected into handlers, closed on shutdown, errors mapped to HTTP."""

from __future__ import annotations

from litestar import Litestar, get, post
from litestar.params import FromPath, JSONBody

from litestar_storages import MemoryStorage, StoragePlugin, StoredFile
from litestar_storages.contrib import StorageDependency, StoredFileDTO


@post("/notes/{name:str}", return_dto=StoredFileDTO)
async def save_note(
    name: FromPath[str], data: JSONBody[dict[str, str]], storage: StorageDependency
) -> StoredFile:
    return await storage.put(f"notes/{name}.txt", data["text"].encode(), content_type="text/plain")


@get("/notes/{name:str}")
async def read_note(name: FromPath[str], storage: StorageDependency) -> str:
    # A missing note raises StorageFileNotFoundError: the plugin turns it into a 404.
    return (await storage.get_bytes(f"notes/{name}.txt")).decode()


@get("/avatars/{user:str}", return_dto=StoredFileDTO)
async def avatar_info(user: FromPath[str], avatars_storage: StorageDependency) -> StoredFile:
    return await avatars_storage.info(f"{user}.png")


app = Litestar(
    route_handlers=[save_note, read_note, avatar_info],
    plugins=[StoragePlugin(default=MemoryStorage(), avatars=MemoryStorage())],
)
