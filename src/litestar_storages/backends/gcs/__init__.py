"""Google Cloud Storage over its JSON and XML REST APIs: ``GCSConfig`` and ``GCSStorage``.

Importing this package imports neither httpx nor cryptography (see ``storage.py``).
"""

from __future__ import annotations

from litestar_storages.backends.gcs._wire import GCSStoredFile
from litestar_storages.backends.gcs.config import GCSConfig
from litestar_storages.backends.gcs.credentials import CredentialSource
from litestar_storages.backends.gcs.storage import GCSStorage

__all__ = ["CredentialSource", "GCSConfig", "GCSStorage", "GCSStoredFile"]
