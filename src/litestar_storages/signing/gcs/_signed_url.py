"""GCS V4 signed URLs: prepared up to the string to sign, finished with any signature.

:func:`prepare_signed_url` and :func:`finish_signed_url` let the signature be computed elsewhere
(the IAM Credentials ``signBlob`` call); :func:`generate_signed_url` chains both with a local key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from litestar_storages.signing._canonical import (
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
from litestar_storages.signing.gcs._keys import (
    GOOG4_RSA,
    GcsHmacKey,
    GcsServiceAccount,
    algorithm_and_id,
    sign_string,
)
from litestar_storages.signing.gcs._stages import (
    UNSIGNED_PAYLOAD,
    UrlStyle,
    credential_scope,
    resource_location,
    string_to_sign,
)
from litestar_storages.signing.sigv4 import canonical_headers

__all__ = [
    "PreparedSignedUrl",
    "finish_signed_url",
    "generate_signed_url",
    "prepare_signed_url",
]


@dataclass(frozen=True)
class PreparedSignedUrl:
    """A signed URL up to its signature: compute ``signature`` over ``string_to_sign``.

    Attributes:
        base_url: ``scheme://host/path`` of the URL.
        query: The canonical query string (encoded, sorted), without the signature.
        canonical_request: The canonical request that was hashed.
        string_to_sign: The text to sign (RSA, HMAC, or IAM ``signBlob``).
    """

    base_url: str
    query: str
    canonical_request: str
    string_to_sign: str


_RESERVED_QUERY = frozenset(
    {
        "X-Goog-Algorithm",
        "X-Goog-Credential",
        "X-Goog-Date",
        "X-Goog-Expires",
        "X-Goog-SignedHeaders",
        "X-Goog-Signature",
    }
)


def prepare_signed_url(
    method: str,
    *,
    credential_id: str,
    algorithm: str = GOOG4_RSA,
    bucket: str,
    blob: str | None = None,
    now: datetime,
    expires_in: int,
    scheme: str = "https",
    host: str | None = None,
    url_style: UrlStyle = "path",
    bucket_bound_hostname: str | None = None,
    signed_host: str | None = None,
    query: QueryInput | None = None,
    headers: HeadersInput | None = None,
    payload_hash: str | None = None,
    region: str = "auto",
) -> PreparedSignedUrl:
    """Build a V4 signed URL up to the string to sign.

    Args:
        method: HTTP method the URL is for (``GET``, ``PUT``, ``POST`` for resumable starts...).
        credential_id: Service-account e-mail (RSA) or HMAC access id.
        algorithm: :data:`GOOG4_RSA` or :data:`GOOG4_HMAC`.
        bucket: Bucket name.
        blob: Object name (unencoded; ``/`` is kept, everything else RFC 3986 encoded), or
            ``None`` for the bucket itself (list objects).
        now: Signing time, timezone-aware.
        expires_in: Validity in seconds, 1 to 604800.
        scheme: ``https`` or ``http`` (emulators, HTTP bucket-bound hostnames).
        host: Endpoint host, with ``:port`` if needed (default ``storage.googleapis.com``;
            ``storage.<universe-domain>`` outside the default universe).
        url_style: ``path``, ``virtual`` or ``bucket_bound``.
        bucket_bound_hostname: Host serving the bucket, for ``bucket_bound``.
        signed_host: The ``host`` value to sign, when it must differ from the URL's host (the
            emulators and Google's conformance suite sign the bare hostname for a non-default
            port). Defaults to the URL's host.
        query: Extra unencoded query parameters (signed; for example
            ``response-content-disposition`` or ``generation``).
        headers: Headers the user of the URL must send (signed), e.g. ``content-type`` or
            ``x-goog-resumable: start``.
        payload_hash: Payload hash; defaults to the value of an ``x-goog-content-sha256``
            header when one is given, else ``UNSIGNED-PAYLOAD``.
        region: Region of the credential scope (``auto``).

    Returns:
        The prepared URL; pass it with the signature to :func:`finish_signed_url`.

    Raises:
        SigningError: bad expiry, naive ``now``, an ``X-Goog-*`` query parameter that the
            signer sets, or a ``bucket_bound`` style without hostname.
    """
    check_expiry(expires_in)
    url_host, path = resource_location(
        bucket=bucket,
        blob=blob,
        host=host,
        url_style=url_style,
        bucket_bound_hostname=bucket_bound_hostname,
    )
    timestamp, date = format_amz_date(now)
    scope = credential_scope(date, region)
    extra = [(n, v) for n, v in header_pairs(headers) if n.strip().lower() != "host"]
    if payload_hash is None:
        given = [v for n, v in extra if n.strip().lower() == "x-goog-content-sha256"]
        payload_hash = fold_whitespace(given[0]) if given else UNSIGNED_PAYLOAD
    if extra:
        block, signed = canonical_headers([("host", signed_host or url_host), *extra])
    else:
        block, signed = f"host:{fold_whitespace(signed_host or url_host)}\n", "host"
    encoded: list[tuple[str, str]] = []
    for name, value in query_pairs(query):
        if name in _RESERVED_QUERY:
            raise SigningError(f"query parameter {name} is set by the signer")
        encoded.append((uri_encode(name), uri_encode(value)))
    # The X-Goog-* names, the date and the expiry never need encoding.
    encoded += [
        ("X-Goog-Algorithm", uri_encode(algorithm)),
        ("X-Goog-Credential", uri_encode(f"{credential_id}/{scope}")),
        ("X-Goog-Date", timestamp),
        ("X-Goog-Expires", str(expires_in)),
        ("X-Goog-SignedHeaders", uri_encode(signed)),
    ]
    encoded.sort()
    cquery = "&".join([f"{k}={v}" for k, v in encoded])
    creq = f"{method.upper()}\n{path}\n{cquery}\n{block}\n{signed}\n{payload_hash}"
    return PreparedSignedUrl(
        base_url=f"{scheme}://{url_host}{path}",
        query=cquery,
        canonical_request=creq,
        string_to_sign=string_to_sign(algorithm, timestamp, scope, creq),
    )


def finish_signed_url(prepared: PreparedSignedUrl, signature: bytes | str) -> str:
    """Assemble the signed URL from a prepared URL and its signature.

    Args:
        prepared: The result of :func:`prepare_signed_url`.
        signature: The raw signature bytes (RSA/``signBlob`` output, base64-decoded) or its
            lower-case hex form.
    """
    hex_sig = signature.hex() if isinstance(signature, bytes) else signature
    return f"{prepared.base_url}?{prepared.query}&X-Goog-Signature={hex_sig}"


def generate_signed_url(
    credentials: GcsServiceAccount | GcsHmacKey,
    method: str,
    *,
    bucket: str,
    blob: str | None = None,
    now: datetime,
    expires_in: int,
    scheme: str = "https",
    host: str | None = None,
    url_style: UrlStyle = "path",
    bucket_bound_hostname: str | None = None,
    signed_host: str | None = None,
    query: QueryInput | None = None,
    headers: HeadersInput | None = None,
    payload_hash: str | None = None,
) -> str:
    """Sign a V4 URL with a local key (RSA service account or HMAC key).

    Same arguments as :func:`prepare_signed_url`, the algorithm and credential id coming from
    ``credentials``.

    Raises:
        SigningError: see :func:`prepare_signed_url`; also an unusable RSA key.
    """
    algorithm, credential_id = algorithm_and_id(credentials)
    prepared = prepare_signed_url(
        method,
        credential_id=credential_id,
        algorithm=algorithm,
        bucket=bucket,
        blob=blob,
        now=now,
        expires_in=expires_in,
        scheme=scheme,
        host=host,
        url_style=url_style,
        bucket_bound_hostname=bucket_bound_hostname,
        signed_host=signed_host,
        query=query,
        headers=headers,
        payload_hash=payload_hash,
    )
    date = format_amz_date(now)[1]
    return finish_signed_url(prepared, sign_string(credentials, prepared.string_to_sign, date=date))
