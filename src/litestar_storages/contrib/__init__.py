"""Litestar integration: the plugin, response helpers, upload handling and DTOs.

Needs the ``litestar`` extra (``pip install 'litestar-storages[litestar]'``). Names are loaded on
first use, so ``import litestar_storages`` (and even ``import litestar_storages.contrib``) never
imports Litestar; ``from litestar_storages.contrib import StoragePlugin`` does.

| name                                   | what it is                                          |
|----------------------------------------|-----------------------------------------------------|
| ``StoragePlugin``                      | DI, close on shutdown, storage errors as HTTP       |
| ``StorageDependency``                  | annotation for injected storages                    |
| ``provide_storage``                    | a provider for registering a storage by hand        |
| ``file_response``                      | stream an object (Range, ETag, 304, 206, 416)       |
| ``presigned_redirect``                 | 307 to ``await storage.url(key)``                   |
| ``receive_uploads``, ``UploadField``   | stream multipart file fields into storage           |
| ``StoredUpload``, ``UploadedForm``     | what ``receive_uploads`` returns                    |
| ``UploadError`` and subclasses         | 400 / 413 / 415 refusals of an upload               |
| ``sanitize_filename``                  | the filename rules of uploads, for your own use     |
| ``StoredFileDTO``, ``StoredFileReadDTO``| DTOs without / with ``metadata``                   |
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from litestar_storages.contrib._filenames import sanitize_filename
    from litestar_storages.contrib._responses import file_response, presigned_redirect
    from litestar_storages.contrib._uploads import (
        StoredUpload,
        UploadContentTypeError,
        UploadedForm,
        UploadError,
        UploadField,
        UploadTooLargeError,
        receive_uploads,
    )
    from litestar_storages.contrib.dto import StoredFileDTO, StoredFileReadDTO
    from litestar_storages.contrib.litestar import (
        StorageDependency,
        StoragePlugin,
        provide_storage,
    )

__all__ = [
    "StorageDependency",
    "StoragePlugin",
    "StoredFileDTO",
    "StoredFileReadDTO",
    "StoredUpload",
    "UploadContentTypeError",
    "UploadError",
    "UploadField",
    "UploadTooLargeError",
    "UploadedForm",
    "file_response",
    "presigned_redirect",
    "provide_storage",
    "receive_uploads",
    "sanitize_filename",
]

_PLUGIN = "litestar_storages.contrib.litestar"
_UPLOADS = "litestar_storages.contrib._uploads"
_LAZY: dict[str, str] = {
    "StorageDependency": _PLUGIN,
    "StoragePlugin": _PLUGIN,
    "provide_storage": _PLUGIN,
    "StoredFileDTO": "litestar_storages.contrib.dto",
    "StoredFileReadDTO": "litestar_storages.contrib.dto",
    "file_response": "litestar_storages.contrib._responses",
    "presigned_redirect": "litestar_storages.contrib._responses",
    "sanitize_filename": "litestar_storages.contrib._filenames",
    **dict.fromkeys(
        (
            "StoredUpload",
            "UploadContentTypeError",
            "UploadError",
            "UploadField",
            "UploadTooLargeError",
            "UploadedForm",
            "receive_uploads",
        ),
        _UPLOADS,
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'litestar_storages.contrib' has no attribute {name!r}")
    try:
        imported = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.split(".")[0] == "litestar":
            raise ImportError(
                f"litestar_storages.contrib.{name} needs Litestar: "
                "pip install 'litestar-storages[litestar]'"
            ) from exc
        raise
    value = getattr(imported, name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
