"""SigV4 header signing: the ``Authorization`` header and the ``x-amz-*`` headers it covers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from litestar_storages.signing._canonical import (
    HeadersInput,
    QueryInput,
    header_pairs,
)
from litestar_storages.signing.sigv4._keys import AwsCredentials, SigningKeyCache, signing_scope
from litestar_storages.signing.sigv4._stages import (
    authorization_header,
    canonical_query,
    canonical_uri,
    group_headers,
    render_headers,
    string_to_sign,
)

__all__ = ["sign_headers", "sign_headers_and_seed"]


def sign_headers_and_seed(
    method: str,
    *,
    host: str,
    path: str,
    query: QueryInput | None,
    headers: HeadersInput | None,
    payload_hash: str,
    credentials: AwsCredentials,
    region: str,
    service: str,
    now: datetime,
    s3: bool,
    key_cache: SigningKeyCache | None,
    content_sha256_header: bool | None,
    extra: Sequence[tuple[str, str]] = (),
) -> tuple[dict[str, str], str, str, bytes]:
    """:func:`sign_headers`, also returning the signature, ``x-amz-date`` and the signing key
    (the seed of an aws-chunked upload's chain of chunk signatures)."""
    amz_date, _, scope, keyed = signing_scope(credentials, now, region, service, key_cache)
    added: dict[str, str] = dict(extra)
    added["x-amz-date"] = amz_date
    if content_sha256_header if content_sha256_header is not None else s3:
        # S3 requires the payload hash as a header too, and signs it.
        added["x-amz-content-sha256"] = payload_hash
    if credentials.session_token is not None:
        added["x-amz-security-token"] = credentials.session_token
    # ``host`` is signed but not returned: the HTTP client sets it from the URL. Headers the
    # signer computes replace any caller-supplied header of the same name.
    own = {"host", *added}
    grouped = group_headers(header_pairs(headers), skip=own)
    group_headers((("host", host), *added.items()), grouped)
    block, signed = render_headers(grouped)
    creq = "\n".join(
        (
            method.upper(),
            canonical_uri(path, s3=s3),
            canonical_query(query),
            block,
            signed,
            payload_hash,
        )
    )
    sig = keyed.sign(string_to_sign(amz_date, scope, creq))
    added["authorization"] = authorization_header(credentials.access_key_id, scope, signed, sig)
    return added, sig, amz_date, keyed.key


def sign_headers(
    method: str,
    *,
    host: str,
    path: str,
    query: QueryInput | None,
    headers: HeadersInput | None,
    payload_hash: str,
    credentials: AwsCredentials,
    region: str,
    service: str,
    now: datetime,
    s3: bool = True,
    key_cache: SigningKeyCache | None = None,
    content_sha256_header: bool | None = None,
) -> dict[str, str]:
    """Sign a request with the ``Authorization`` header.

    Args:
        method: HTTP method.
        host: The ``Host`` header value (with ``:port`` when it is not the scheme's default).
            Signed, but not returned: the HTTP client sends it from the URL.
        path: The wire path, exactly as sent (already percent-encoded once, see
            :func:`uri_encode_path`).
        query: Unencoded query pairs.
        headers: Headers to sign besides ``host`` (for example ``content-type``, ``range``,
            ``x-amz-meta-*``). :data:`EXCLUDED_HEADERS` are never signed.
        payload_hash: Hex SHA-256 of the body (:data:`EMPTY_SHA256` for none),
            :data:`UNSIGNED_PAYLOAD`, or :data:`STREAMING_PAYLOAD` (see :func:`sign_streaming`).
        credentials: The access key.
        region: Region of the credential scope (``us-east-1``, ...).
        service: Service of the credential scope (``s3``, ...).
        now: Signing time, timezone-aware.
        s3: S3 rules for the path (see :func:`canonical_uri`) and the ``x-amz-content-sha256``
            header.
        key_cache: Optional cache of derived signing keys.
        content_sha256_header: Whether to add and sign ``x-amz-content-sha256``; defaults to
            ``s3``.

    Returns:
        The headers to add to the request (lower-case names): ``authorization``,
        ``x-amz-date``, ``x-amz-content-sha256`` (when enabled) and ``x-amz-security-token``
        (with temporary credentials).

    Raises:
        SigningError: ``now`` is naive, or a value cannot be encoded.
    """
    added, _, _, _ = sign_headers_and_seed(
        method,
        host=host,
        path=path,
        query=query,
        headers=headers,
        payload_hash=payload_hash,
        credentials=credentials,
        region=region,
        service=service,
        now=now,
        s3=s3,
        key_cache=key_cache,
        content_sha256_header=content_sha256_header,
    )
    return added
