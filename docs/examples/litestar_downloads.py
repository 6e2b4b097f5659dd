"""Serving stored files: streamed with Range and ETag support, or by presigned redirect."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Litestar, Request, Response, get, route
from litestar.params import FromPath
from litestar.response import Redirect

from litestar_storages import MemoryStorage, StoragePlugin
from litestar_storages.contrib import StorageDependency, file_response, presigned_redirect


@route("/files/{key:path}", http_method=["GET", "HEAD"])
async def download(
    key: FromPath[str], request: Request[Any, Any, Any], storage: StorageDependency
) -> Response[Any]:
    return await file_response(
        storage, key.lstrip("/"), request, cache_control="private, max-age=3600"
    )


@get("/direct/{key:path}")
async def direct(key: FromPath[str], storage: StorageDependency) -> Redirect:
    # With S3, GCS or Azure the client then downloads from the provider, not through us.
    return await presigned_redirect(storage, key.lstrip("/"), expires_in=timedelta(minutes=5))


app = Litestar(route_handlers=[download, direct], plugins=[StoragePlugin(MemoryStorage())])
