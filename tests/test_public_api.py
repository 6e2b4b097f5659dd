"""The public surface: exactly __all__, sorted, importable, cheap to import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import litestar_storages

API_NAMES = {
    "Storage", "BaseStorage", "MemoryStorage", "MemoryConfig", "FileSystemStorage",
    "FileSystemConfig", "S3Storage", "S3Config", "GCSStorage", "GCSConfig", "AzureStorage",
    "AzureConfig", "StoredFile", "UploadResult", "MultipartUpload", "ProgressInfo",
    "ProgressCallback", "RetryConfig", "retry", "with_retry", "StorageError",
    "StorageFileNotFoundError", "StorageFileExistsError", "StoragePermissionError",
    "StorageConnectionError", "StorageConfigurationError", "ConfigurationError",
    "StorageQuotaExceededError", "StoragePlugin", "__version__",
}  # fmt: skip


def test_all_contains_every_name_of_the_contract() -> None:
    assert set(litestar_storages.__all__) >= API_NAMES


def test_all_is_sorted() -> None:
    assert litestar_storages.__all__ == sorted(litestar_storages.__all__)


def test_version_is_a_string() -> None:
    assert isinstance(litestar_storages.__version__, str)
    assert litestar_storages.__version__.count(".") >= 2


def test_retry_is_the_decorator_factory_not_the_module() -> None:
    import litestar_storages.retry as retry_module  # noqa: F401  (binds the submodule)

    assert callable(litestar_storages.retry)
    assert litestar_storages.retry.__module__ == "litestar_storages.retry"
    assert litestar_storages.retry.__name__ == "retry"


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        litestar_storages.NoSuchThing  # noqa: B018


def test_importing_the_package_imports_no_http_stack_and_no_optional_dependency() -> None:
    code = (
        "import sys, litestar_storages as ls; ls.MemoryStorage; ls.StoredFile; ls.StorageError; "
        "print(','.join(m for m in ('httpx','cryptography','jwt','litestar','trio','h11') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_importing_the_package_and_its_value_types_loads_no_async_stack() -> None:
    code = (
        "import sys, litestar_storages as ls; ls.StoredFile; ls.StorageError; ls.RetryConfig; "
        "import litestar_storages.signing.sigv4; "
        "print(','.join(m for m in ('anyio','httpx','sniffio') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""
