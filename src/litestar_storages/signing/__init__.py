"""Request signing for S3 (SigV4), Google Cloud Storage (V4, OAuth2 JWT) and Azure (SharedKey, SAS).

Pure code: no I/O, no clock reads (``now`` is an argument), no randomness, and nothing imported
from the rest of ``litestar_storages``. Credentials are frozen values whose ``repr`` hides their
secrets; results are headers or query parameters for the caller to attach.

Modules:

* :mod:`litestar_storages.signing.sigv4`: AWS Signature Version 4 (headers, presigned URLs,
  aws-chunked uploads, S3 POST policies, a caller-owned signing-key cache).
* :mod:`litestar_storages.signing.gcs`: GCS V4 signed URLs and POST policies (RSA or HMAC, with
  a prepare / finish split for remote signing) and the service-account JWT assertion.
  ``cryptography`` and ``pyjwt`` are imported only when an RSA key is used.
* :mod:`litestar_storages.signing.azure`: SharedKey for the Blob service, service, account and
  user delegation SAS.

Every failure is a :class:`SigningError` (a ``ValueError``); the backends map it to their own
configuration error.
"""

from __future__ import annotations

from litestar_storages.signing._canonical import (
    SigningError,
    content_length_range,
    eq,
    starts_with,
)

__all__ = [
    "SigningError",
    "content_length_range",
    "eq",
    "starts_with",
]
