"""Amazon S3 and S3-compatible storage over the REST API (no SDK).

Same four roles as every cloud backend: ``config`` (``S3Config``, provider traits, endpoint and
region rules), ``credentials`` (the ordered credential chain and the SigV4 signer), ``client``
(one function per S3 operation) and ``storage`` (``S3Storage``, thin over the client).
"""

from __future__ import annotations

from litestar_storages.backends.s3.config import S3Config
from litestar_storages.backends.s3.storage import S3Storage

__all__ = ["S3Config", "S3Storage"]
