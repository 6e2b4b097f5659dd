"""AWS Signature Version 4: header signing, presigned URLs, chunked uploads, POST policies.

Pure functions over explicit inputs: the time is the ``now`` argument, credentials are a frozen
value, and the result is the headers or query parameters to add. Every stage of the algorithm is
its own public function so a known-answer test can point at the stage that drifted:

1. :func:`canonical_request` (built from :func:`canonical_uri`, :func:`canonical_query` and
   :func:`canonical_headers`);
2. :func:`string_to_sign` over :func:`credential_scope`;
3. :func:`signing_key` (optionally through a caller-owned :class:`SigningKeyCache`);
4. :func:`signature`;
5. :func:`authorization_header`, or the ``X-Amz-*`` query of :func:`presign_query`.

Every name is imported from this package; its modules are private:

* ``_stages``: the stages above, the S3 and generic path rules, the URL encodings;
* ``_keys``: :class:`AwsCredentials`, derived signing keys and :class:`SigningKeyCache`;
* ``_headers``: :func:`sign_headers` (the ``Authorization`` header);
* ``_presign``: :func:`presign_query` and :func:`presign_url` (query-string auth);
* ``_chunked``: :func:`sign_streaming` and :class:`ChunkSigner` (aws-chunked uploads);
* ``_post``: :func:`presigned_post` (browser form uploads).

``_chunked`` and ``_post`` are imported on first use of one of their names: a process that only
presigns URLs (a serverless function) does not pay for them, nor for ``json``.

Specification: "Signature Version 4 signing process" (AWS IAM User Guide, "Create a signed AWS
API request") and, for S3's variations, "Authenticating Requests (AWS Signature Version 4)" in
the Amazon S3 API Reference (header-based auth, query-string auth, chunked upload, POST policy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar_storages.signing._canonical import EMPTY_SHA256, MAX_EXPIRES, uri_encode
from litestar_storages.signing.sigv4._headers import sign_headers
from litestar_storages.signing.sigv4._keys import AwsCredentials, SigningKeyCache
from litestar_storages.signing.sigv4._presign import presign_query, presign_url
from litestar_storages.signing.sigv4._stages import (
    ALGORITHM,
    EXCLUDED_HEADERS,
    UNSIGNED_PAYLOAD,
    authorization_header,
    canonical_headers,
    canonical_query,
    canonical_request,
    canonical_uri,
    credential_scope,
    encode_query,
    normalize_path,
    signature,
    signing_key,
    string_to_sign,
    uri_encode_path,
)

if TYPE_CHECKING:
    from litestar_storages.signing.sigv4._chunked import (
        CHUNK_ALGORITHM,
        MIN_CHUNK_SIZE,
        STREAMING_PAYLOAD,
        ChunkSigner,
        chunk_string_to_sign,
        encoded_content_length,
        sign_streaming,
    )
    from litestar_storages.signing.sigv4._post import (
        post_policy_document,
        post_policy_signature,
        presigned_post,
    )

__all__ = [
    "ALGORITHM",
    "CHUNK_ALGORITHM",
    "EMPTY_SHA256",
    "EXCLUDED_HEADERS",
    "MAX_EXPIRES",
    "MIN_CHUNK_SIZE",
    "STREAMING_PAYLOAD",
    "UNSIGNED_PAYLOAD",
    "AwsCredentials",
    "ChunkSigner",
    "SigningKeyCache",
    "authorization_header",
    "canonical_headers",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "chunk_string_to_sign",
    "credential_scope",
    "encode_query",
    "encoded_content_length",
    "normalize_path",
    "post_policy_document",
    "post_policy_signature",
    "presign_query",
    "presign_url",
    "presigned_post",
    "sign_headers",
    "sign_streaming",
    "signature",
    "signing_key",
    "string_to_sign",
    "uri_encode",
    "uri_encode_path",
]

_CHUNKED = frozenset(
    {
        "CHUNK_ALGORITHM",
        "MIN_CHUNK_SIZE",
        "STREAMING_PAYLOAD",
        "ChunkSigner",
        "chunk_string_to_sign",
        "encoded_content_length",
        "sign_streaming",
    }
)
_POST = frozenset({"post_policy_document", "post_policy_signature", "presigned_post"})


def __getattr__(name: str) -> Any:
    # Module-level __getattr__ (PEP 562): runs only for names not bound yet.
    if name in _CHUNKED:
        from litestar_storages.signing.sigv4 import _chunked

        value = getattr(_chunked, name)
    elif name in _POST:
        from litestar_storages.signing.sigv4 import _post

        value = getattr(_post, name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
