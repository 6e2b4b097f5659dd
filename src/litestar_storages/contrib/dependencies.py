"""``litestar_storages.contrib.dependencies``: 0.2.3's dependency helpers, kept for its users."""

from __future__ import annotations

from litestar_storages.contrib.litestar import StorageDependency, provide_storage

__all__ = ["StorageDependency", "provide_storage"]
