"""Form uploads streamed straight into storage, with per-field rules."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, post

from litestar_storages import MemoryStorage, StoragePlugin
from litestar_storages.contrib import StorageDependency, UploadedForm, UploadField, receive_uploads

MiB = 1024 * 1024


@post("/documents", request_max_body_size=100 * MiB)
async def upload_documents(
    request: Request[Any, Any, Any], storage: StorageDependency
) -> UploadedForm:
    # No `data` parameter: Litestar leaves the body unread and receive_uploads streams it.
    return await receive_uploads(
        request,
        storage,
        UploadField(
            "document",
            count=3,
            max_size=20 * MiB,
            content_types={"application/pdf"},
            destination="documents",
        ),
        UploadField(
            "cover",
            max_size=2 * MiB,
            content_types={"image/*"},
            naming="uuid",
            destination="covers",
        ),
    )


app = Litestar(route_handlers=[upload_documents], plugins=[StoragePlugin(MemoryStorage())])
