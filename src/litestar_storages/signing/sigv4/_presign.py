"""SigV4 query signing: presigned URLs (the ``X-Amz-*`` query parameters).

The hot path of presigning: the query is encoded once, and that encoding is both signed and
returned, so the URL carries exactly the string that was signed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from litestar_storages.signing._canonical import (
    EMPTY_SHA256,
    HeadersInput,
    QueryInput,
    SigningError,
    check_expiry,
    fold_whitespace,
    format_amz_date,
    header_pairs,
    query_pairs,
    uri_encode,
)
from litestar_storages.signing.sigv4._keys import AwsCredentials, SigningKeyCache, derived_key
from litestar_storages.signing.sigv4._stages import (
    ALGORITHM,
    UNSIGNED_PAYLOAD,
    canonical_headers,
    canonical_uri,
    credential_scope,
)

__all__ = ["presign_query", "presign_url"]

_RESERVED_QUERY = frozenset(
    {
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Security-Token",
        "X-Amz-Signature",
    }
)


def _presign(
    method: str,
    *,
    host: str,
    path: str,
    query: QueryInput | None,
    credentials: AwsCredentials,
    region: str,
    service: str,
    now: datetime,
    expires_in: int,
    signed_headers: HeadersInput | None,
    s3: bool,
    key_cache: SigningKeyCache | None,
    payload_hash: str | None,
) -> tuple[list[tuple[str, str]], str]:
    check_expiry(expires_in)
    amz_date, date = format_amz_date(now)
    scope = credential_scope(date, region, service)
    if signed_headers is None:
        block, signed = f"host:{fold_whitespace(host)}\n", "host"
    else:
        extra = [(n, v) for n, v in header_pairs(signed_headers) if n.strip().lower() != "host"]
        block, signed = canonical_headers([("host", host), *extra])
    encoded: list[tuple[tuple[str, str], tuple[str, str]]] = []
    for name, value in query_pairs(query):
        if name in _RESERVED_QUERY:
            raise SigningError(f"query parameter {name} is set by the signer")
        encoded.append(((uri_encode(name), uri_encode(value)), (name, value)))
    # Hot path of presigning: the X-Amz-* names never need encoding, nor do the date and the
    # expiry (digits); the credential is encoded piecewise around its known "/" separators.
    credential = f"{credentials.access_key_id}/{scope}"
    credential_enc = (
        f"{uri_encode(credentials.access_key_id)}%2F{date}%2F{uri_encode(region)}"
        f"%2F{uri_encode(service)}%2Faws4_request"
    )
    expires = str(expires_in)
    encoded += [
        (("X-Amz-Algorithm", ALGORITHM), ("X-Amz-Algorithm", ALGORITHM)),
        (("X-Amz-Credential", credential_enc), ("X-Amz-Credential", credential)),
        (("X-Amz-Date", amz_date), ("X-Amz-Date", amz_date)),
        (("X-Amz-Expires", expires), ("X-Amz-Expires", expires)),
        (("X-Amz-SignedHeaders", uri_encode(signed)), ("X-Amz-SignedHeaders", signed)),
    ]
    if credentials.session_token is not None:
        # S3 and most services sign the token as part of the query.
        token = credentials.session_token
        encoded.append(
            (("X-Amz-Security-Token", uri_encode(token)), ("X-Amz-Security-Token", token))
        )
    encoded.sort()
    cquery = "&".join([f"{ek}={ev}" for (ek, ev), _ in encoded])
    if payload_hash is None:
        # S3 presigned URLs do not cover the body; other services sign the (empty) body hash.
        payload_hash = UNSIGNED_PAYLOAD if s3 else EMPTY_SHA256
    uri = (path or "/") if s3 else canonical_uri(path, s3=False)
    creq = f"{method.upper()}\n{uri}\n{cquery}\n{block}\n{signed}\n{payload_hash}"
    digest = hashlib.sha256(creq.encode("utf-8")).hexdigest()
    sig = derived_key(credentials, date, region, service, key_cache).sign(
        f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"
    )
    ordered = [raw for _, raw in encoded]
    ordered.append(("X-Amz-Signature", sig))
    return ordered, f"{cquery}&X-Amz-Signature={sig}"


def presign_query(
    method: str,
    *,
    host: str,
    path: str,
    query: QueryInput | None,
    credentials: AwsCredentials,
    region: str,
    service: str,
    now: datetime,
    expires_in: int,
    signed_headers: HeadersInput | None = None,
    s3: bool = True,
    key_cache: SigningKeyCache | None = None,
    payload_hash: str | None = None,
) -> list[tuple[str, str]]:
    """Presign a request in the query string (``X-Amz-*`` parameters).

    Response-header overrides (``response-content-disposition``, ``response-content-type``,
    ...) are ordinary query parameters: pass them in ``query`` and they are signed.

    Args:
        method: HTTP method the URL will be used with (any).
        host: ``Host`` of the URL (with ``:port`` when not the default).
        path: Wire path, already percent-encoded once (see :func:`uri_encode_path`).
        query: Unencoded query pairs of the caller.
        credentials: The access key; a session token is added as ``X-Amz-Security-Token``.
        region: Region of the credential scope.
        service: Service of the credential scope.
        now: Signing time, timezone-aware.
        expires_in: Validity in seconds, 1 to 604800 (7 days).
        signed_headers: Headers (with their values) the user of the URL must send, signed
            besides ``host`` (for example ``content-type`` for an upload URL).
        s3: S3 path rules and unsigned payload (see :func:`canonical_uri`).
        key_cache: Optional cache of derived signing keys.
        payload_hash: Payload hash to sign; defaults to :data:`UNSIGNED_PAYLOAD` for S3 and to
            the hash of an empty body otherwise.

    Returns:
        The full query as unencoded pairs, in canonical order, ending with
        ``X-Amz-Signature``. :func:`encode_query` turns it into exactly the signed string.

    Raises:
        SigningError: ``expires_in`` is out of range, ``now`` is naive, or ``query`` already
            holds an ``X-Amz-*`` parameter that the signer sets.
    """
    pairs, _ = _presign(
        method,
        host=host,
        path=path,
        query=query,
        credentials=credentials,
        region=region,
        service=service,
        now=now,
        expires_in=expires_in,
        signed_headers=signed_headers,
        s3=s3,
        key_cache=key_cache,
        payload_hash=payload_hash,
    )
    return pairs


def presign_url(
    method: str,
    *,
    scheme: str = "https",
    host: str,
    path: str,
    query: QueryInput | None = None,
    credentials: AwsCredentials,
    region: str,
    service: str = "s3",
    now: datetime,
    expires_in: int,
    signed_headers: HeadersInput | None = None,
    s3: bool = True,
    key_cache: SigningKeyCache | None = None,
) -> str:
    """Presign and assemble the URL ``scheme://host/path?query``.

    Same arguments and errors as :func:`presign_query`; ``path`` must already be encoded
    (:func:`uri_encode_path`).
    """
    _, encoded = _presign(
        method,
        host=host,
        path=path,
        query=query,
        credentials=credentials,
        region=region,
        service=service,
        now=now,
        expires_in=expires_in,
        signed_headers=signed_headers,
        s3=s3,
        key_cache=key_cache,
        payload_hash=None,
    )
    return f"{scheme}://{host}{path or '/'}?{encoded}"
