"""Azure Blob Storage over its REST API: SharedKey or SAS authorisation, SAS URLs of our own.

``AzureConfig`` says where and how to connect; ``AzureStorage`` implements the storage contract.
The package is split as every cloud backend is: ``config`` (settings and connection strings),
``credentials`` (the ordered credential chain), ``client`` (one function per REST operation)
and ``storage``. Importing it does not import httpx.
"""

from __future__ import annotations

from litestar_storages.backends.azure.config import AzureConfig
from litestar_storages.backends.azure.storage import AzureStorage

__all__ = ["AzureConfig", "AzureStorage"]
