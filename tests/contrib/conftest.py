"""Fixtures of the Litestar integration tests: storages on every backend that runs offline."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest

from litestar_storages import MemoryStorage, Storage

HAS_FILESYSTEM = importlib.util.find_spec("litestar_storages.backends.filesystem") is not None


def _filesystem(root: Path) -> Storage:
    from litestar_storages.backends.filesystem import FileSystemConfig, FileSystemStorage

    return FileSystemStorage(FileSystemConfig(path=root))


@pytest.fixture(
    params=[
        "memory",
        pytest.param(
            "filesystem",
            marks=pytest.mark.skipif(
                not HAS_FILESYSTEM,
                reason="litestar_storages.backends.filesystem is not importable yet",
            ),
        ),
    ]
)
def storage_kind(request: pytest.FixtureRequest) -> str:
    """The backend under test: memory always, filesystem once that backend exists."""
    return str(request.param)


@pytest.fixture
def storage_root(tmp_path: Path) -> Path:
    """Root directory of the filesystem storage (unused by memory)."""
    root = tmp_path / "storage-root"
    root.mkdir()
    return root


@pytest.fixture
def make_storage(storage_kind: str, storage_root: Path) -> Callable[[], Storage]:
    """A factory of fresh, empty storages of ``storage_kind`` (filesystem ones share the root)."""

    def make() -> Storage:
        return MemoryStorage() if storage_kind == "memory" else _filesystem(storage_root)

    return make


@pytest.fixture
def storage(make_storage: Callable[[], Storage]) -> Storage:
    """A fresh, empty storage of ``storage_kind``."""
    return make_storage()
