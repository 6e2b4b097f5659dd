"""Presigned URLs and POST policies for S3: pure, local, no request sent, no httpx imported.

S3 query-string authentication ("Authenticating Requests: Using Query Parameters"): the URL
carries ``X-Amz-Algorithm``, ``X-Amz-Credential``, ``X-Amz-Date``, ``X-Amz-Expires`` (1 to
604,800 seconds), ``X-Amz-SignedHeaders`` and ``X-Amz-Signature``; the payload is
``UNSIGNED-PAYLOAD``. Response-header overrides (``response-content-disposition`` ...) are
ordinary, signed query parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from litestar_storages.exceptions import StorageConfigurationError
from litestar_storages.signing._canonical import SigningError, content_length_range
from litestar_storages.signing.sigv4 import (
    MAX_EXPIRES,
    AwsCredentials,
    SigningKeyCache,
    encode_query,
    presign_query,
    presigned_post,
    uri_encode_path,
)

if TYPE_CHECKING:
    from litestar_storages.backends.s3.config import S3Endpoint

__all__ = ["expiry_seconds", "presign_post", "presign_url"]

_METHODS = frozenset({"GET", "PUT", "DELETE", "HEAD", "POST"})


def expiry_seconds(expires_in: timedelta | int) -> int:
    """Whole seconds from 1 to 604,800 (S3's limits for presigned URLs).

    Raises:
        StorageConfigurationError: Zero, negative, fractional or over seven days.
    """
    seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
    if isinstance(seconds, bool) or not float(seconds).is_integer():
        raise StorageConfigurationError("expires_in must be whole seconds", backend="s3")
    if not 1 <= seconds <= MAX_EXPIRES:
        raise StorageConfigurationError(
            f"expires_in must be between 1 second and 7 days, not {seconds:g} seconds",
            backend="s3",
        )
    return int(seconds)


def presign_url(
    ep: S3Endpoint,
    full_key: str,
    *,
    credentials: AwsCredentials | None,
    now: datetime,
    expires_in: timedelta | int,
    method: str = "GET",
    content_type: str | None = None,
    content_disposition: str | None = None,
    response_content_type: str | None = None,
    key_cache: SigningKeyCache | None = None,
) -> str:
    """A presigned URL for ``full_key`` (a plain URL for anonymous access).

    ``content_type`` is signed as a header, so an upload URL only accepts that type.
    """
    verb = method.upper()
    if verb not in _METHODS:
        raise StorageConfigurationError(f"cannot presign method {method!r}", backend="s3")
    seconds = expiry_seconds(expires_in)
    path = ep.path(uri_encode_path(full_key))
    query: list[tuple[str, str]] = []
    if content_disposition:
        query.append(("response-content-disposition", content_disposition))
    if response_content_type:
        query.append(("response-content-type", response_content_type))
    if credentials is None:
        return f"{ep.origin}{path}" + (f"?{encode_query(query)}" if query else "")
    try:
        pairs = presign_query(
            verb,
            host=ep.host_header,
            path=path,
            query=query,
            credentials=credentials,
            region=ep.region,
            service="s3",
            now=now,
            expires_in=seconds,
            signed_headers={"content-type": content_type} if content_type else None,
            key_cache=key_cache,
        )
    except SigningError as exc:
        raise StorageConfigurationError(f"cannot presign: {exc}", backend="s3") from exc
    return f"{ep.origin}{path}?{encode_query(pairs)}"


def presign_post(
    ep: S3Endpoint,
    full_key: str,
    *,
    credentials: AwsCredentials,
    now: datetime,
    expires_in: timedelta | int,
    content_type: str | None = None,
    max_size: int | None = None,
    fields: Mapping[str, str] | None = None,
    conditions: Sequence[Any] = (),
    key_cache: SigningKeyCache | None = None,
) -> dict[str, Any]:
    """A browser form upload: ``{"url": action, "fields": hidden form fields}``.

    The form posts to the bucket (S3 "Browser-Based Uploads Using POST"); ``max_size`` adds a
    ``content-length-range`` condition.
    """
    seconds = expiry_seconds(expires_in)
    bucket_url = f"{ep.scheme}://{ep.host}/{ep.bucket}" if ep.path_style else f"{ep.origin}/"
    form = dict(fields or {})
    if content_type:
        form["Content-Type"] = content_type
    extra = list(conditions)
    try:
        if max_size is not None:
            extra.append(content_length_range(0, max_size))
        url, signed = presigned_post(
            bucket_url=bucket_url,
            bucket=ep.bucket,
            key=full_key,
            credentials=credentials,
            region=ep.region,
            now=now,
            expires_in=seconds,
            fields=form,
            conditions=extra,
            key_cache=key_cache,
        )
    except SigningError as exc:
        raise StorageConfigurationError(
            f"cannot sign the POST policy: {exc}", backend="s3"
        ) from exc
    return {"url": url, "fields": signed}
