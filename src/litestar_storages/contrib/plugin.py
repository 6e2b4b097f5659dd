"""Where litestar-storages 0.2.3 kept ``StoragePlugin`` (now ``contrib.litestar``)."""

from __future__ import annotations

from litestar_storages.contrib.litestar import StoragePlugin

__all__ = ["StoragePlugin"]
