"""litestar-storages: async-first file and object storage for asyncio and trio.

One API over memory, the local filesystem, S3 (and S3-compatible services), Google Cloud Storage
and Azure Blob Storage, spoken over the providers' REST APIs with signing of our own.

Names are imported lazily: ``import litestar_storages`` stays cheap, and a backend's code (and
the HTTP stack) loads only when that backend is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from litestar_storages._version import __version__

# Bound eagerly: the function `retry` shares its name with the module `litestar_storages.retry`,
# and importing that module (as the HTTP layer does) would otherwise make the package attribute
# the module instead of the function.
from litestar_storages.retry import RetryConfig, retry, with_retry

if TYPE_CHECKING:
    from litestar_storages._chunks import PutData
    from litestar_storages._protocol import BaseStorage, PartsArg, Storage
    from litestar_storages._stream import ByteStream
    from litestar_storages._types import (
        MultipartUpload,
        StoredFile,
        UploadResult,
        validate_key,
        validate_prefix,
    )
    from litestar_storages.backends.azure import AzureConfig, AzureStorage
    from litestar_storages.backends.filesystem import FileSystemConfig, FileSystemStorage
    from litestar_storages.backends.gcs import GCSConfig, GCSStorage
    from litestar_storages.backends.memory import MemoryConfig, MemoryStorage
    from litestar_storages.backends.s3 import S3Config, S3Storage
    from litestar_storages.contrib.litestar import StoragePlugin
    from litestar_storages.exceptions import (
        ConfigurationError,
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
        StorageUnsupportedOperationError,
    )
    from litestar_storages.progress import ProgressCallback, ProgressInfo

__all__ = [
    "AzureConfig",
    "AzureStorage",
    "BaseStorage",
    "ByteStream",
    "ConfigurationError",
    "FileSystemConfig",
    "FileSystemStorage",
    "GCSConfig",
    "GCSStorage",
    "MemoryConfig",
    "MemoryStorage",
    "MultipartUpload",
    "PartsArg",
    "ProgressCallback",
    "ProgressInfo",
    "PutData",
    "RetryConfig",
    "S3Config",
    "S3Storage",
    "Storage",
    "StorageConfigurationError",
    "StorageConnectionError",
    "StorageError",
    "StorageFileExistsError",
    "StorageFileNotFoundError",
    "StorageIntegrityError",
    "StorageInvalidKeyError",
    "StoragePermissionError",
    "StoragePlugin",
    "StoragePreconditionFailedError",
    "StorageQuotaExceededError",
    "StorageServerError",
    "StorageTimeoutError",
    "StorageUnsupportedOperationError",
    "StoredFile",
    "UploadResult",
    "__version__",
    "retry",
    "validate_key",
    "validate_prefix",
    "with_retry",
]

_EXCEPTIONS = "litestar_storages.exceptions"
_LAZY: dict[str, str] = {
    "BaseStorage": "litestar_storages._protocol",
    "Storage": "litestar_storages._protocol",
    "PartsArg": "litestar_storages._protocol",
    "PutData": "litestar_storages._chunks",
    "validate_key": "litestar_storages._types",
    "validate_prefix": "litestar_storages._types",
    "ByteStream": "litestar_storages._stream",
    "MultipartUpload": "litestar_storages._types",
    "StoredFile": "litestar_storages._types",
    "UploadResult": "litestar_storages._types",
    "ProgressCallback": "litestar_storages.progress",
    "ProgressInfo": "litestar_storages.progress",
    "MemoryConfig": "litestar_storages.backends.memory",
    "MemoryStorage": "litestar_storages.backends.memory",
    "FileSystemConfig": "litestar_storages.backends.filesystem",
    "FileSystemStorage": "litestar_storages.backends.filesystem",
    "S3Config": "litestar_storages.backends.s3",
    "S3Storage": "litestar_storages.backends.s3",
    "GCSConfig": "litestar_storages.backends.gcs",
    "GCSStorage": "litestar_storages.backends.gcs",
    "AzureConfig": "litestar_storages.backends.azure",
    "AzureStorage": "litestar_storages.backends.azure",
    "StoragePlugin": "litestar_storages.contrib.litestar",
    **{
        name: _EXCEPTIONS
        for name in __all__
        if (name.startswith("Storage") and name.endswith("Error")) or name == "ConfigurationError"
    },
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'litestar_storages' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
