"""GCS V4 stages: credential scope, canonical request, string to sign; the URL's host and path.

The same layout and encoding rules as SigV4 for S3 (the canonical headers are SigV4's).
"""

from __future__ import annotations

import hashlib
from typing import Literal

from litestar_storages.signing._canonical import (
    HeadersInput,
    QueryInput,
    SigningError,
    query_pairs,
    uri_encode,
)
from litestar_storages.signing.sigv4 import canonical_headers

__all__ = [
    "DEFAULT_HOST",
    "UNSIGNED_PAYLOAD",
    "UrlStyle",
    "canonical_request",
    "credential_scope",
    "resource_location",
    "string_to_sign",
]

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
"""Payload hash of a signed URL: the body is not covered."""

DEFAULT_HOST = "storage.googleapis.com"
"""XML API endpoint that signed URLs point at."""

UrlStyle = Literal["path", "virtual", "bucket_bound"]
"""``path``: ``host/bucket/object``; ``virtual``: ``bucket.host/object``;
``bucket_bound``: ``bucket-bound-hostname/object`` (a CNAME or load balancer)."""


def credential_scope(date: str, region: str = "auto") -> str:
    """``YYYYMMDD/auto/storage/goog4_request``: the V4 credential scope."""
    return f"{date}/{region}/storage/goog4_request"


def canonical_request(
    method: str,
    *,
    path: str,
    query: QueryInput | None,
    headers: HeadersInput,
    payload_hash: str = UNSIGNED_PAYLOAD,
) -> str:
    """The V4 canonical request: method, path (as sent), sorted query, headers, hash.

    The same layout and encoding rules as SigV4 for S3: the path is used as sent (encoded once,
    ``/`` kept), query names and values are RFC 3986 encoded and sorted, header names are
    lower-cased and values trimmed with whitespace folded.

    Args:
        method: HTTP method.
        path: Wire path (already encoded).
        query: Unencoded query pairs, including the ``X-Goog-*`` parameters.
        headers: Every header to sign, including ``host``.
        payload_hash: ``UNSIGNED-PAYLOAD`` or the hex SHA-256 of the body.
    """
    block, signed = canonical_headers(headers)
    encoded = sorted((uri_encode(k), uri_encode(v)) for k, v in query_pairs(query))
    cquery = "&".join(f"{k}={v}" for k, v in encoded)
    return "\n".join((method.upper(), path or "/", cquery, block, signed, payload_hash))


def string_to_sign(algorithm: str, timestamp: str, scope: str, canonical_request: str) -> str:
    """The V4 string to sign: algorithm, timestamp, scope, hex SHA-256 of the canonical request."""
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{algorithm}\n{timestamp}\n{scope}\n{digest}"


def resource_location(
    *,
    bucket: str,
    blob: str | None,
    host: str | None,
    url_style: UrlStyle,
    bucket_bound_hostname: str | None,
) -> tuple[str, str]:
    """``(host, path)`` of the resource for a URL style; the object name is encoded once."""
    tail = "" if blob is None else uri_encode(blob, safe="/")
    if url_style == "path":
        return host or DEFAULT_HOST, f"/{bucket}" + ("" if blob is None else f"/{tail}")
    if url_style == "virtual":
        return f"{bucket}.{host or DEFAULT_HOST}", f"/{tail}"
    if url_style == "bucket_bound":
        if not bucket_bound_hostname:
            raise SigningError("url_style='bucket_bound' needs bucket_bound_hostname")
        return bucket_bound_hostname, f"/{tail}"
    raise SigningError(f"unknown url_style {url_style!r}")
