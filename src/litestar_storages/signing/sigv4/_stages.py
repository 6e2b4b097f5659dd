"""SigV4 stages: the canonical request and its parts, string to sign, signing key, signature.

Every stage of the algorithm is its own public function so a known-answer test can point at the
stage that drifted (see the package docstring for the order). Also here: the encodings a URL and
its signature must agree on (:func:`uri_encode_path`, :func:`encode_query`) and the S3 versus
generic path rules (:func:`canonical_uri`, :func:`normalize_path`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Container, Iterable

from litestar_storages.signing._canonical import (
    HeadersInput,
    QueryInput,
    fold_whitespace,
    header_pairs,
    query_pairs,
    uri_encode,
)

__all__ = [
    "ALGORITHM",
    "EXCLUDED_HEADERS",
    "UNSIGNED_PAYLOAD",
    "authorization_header",
    "canonical_headers",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "credential_scope",
    "encode_query",
    "group_headers",
    "normalize_path",
    "render_headers",
    "signature",
    "signing_key",
    "string_to_sign",
    "uri_encode_path",
]

ALGORITHM = "AWS4-HMAC-SHA256"
"""The ``Authorization`` / ``X-Amz-Algorithm`` algorithm name."""

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
"""Payload hash for a body that is not hashed (S3 presigned URLs, unsigned uploads)."""

EXCLUDED_HEADERS = frozenset(
    {
        # The signature itself, and headers proxies and clients add or rewrite in flight:
        # signing them would break the request (botocore's and the AWS SDKs' deny lists).
        "authorization",
        "user-agent",
        "x-amzn-trace-id",
        "expect",
        # Hop-by-hop headers (RFC 7230 section 6.1): not end-to-end, so not signable.
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
"""Header names that are never signed, even when passed in ``headers``."""


# --- encoding ----------------------------------------------------------------------------------


def uri_encode_path(key_path: str) -> str:
    """Encode an object path for an S3 URL and canonical request: RFC 3986, ``/`` kept.

    S3 signs the path exactly as sent and does not double-encode it, so encoding once here and
    using the result for both the URL and the signature keeps them identical.
    """
    return uri_encode(key_path, safe="/")


def encode_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Encode unencoded ``(name, value)`` pairs into a query string, keeping their order.

    Uses the same RFC 3986 encoding as the canonical query, so the pairs returned by
    :func:`presign_query` encode to exactly the string that was signed (plus the signature).
    """
    return "&".join(f"{uri_encode(k)}={uri_encode(v)}" for k, v in pairs)


def normalize_path(path: str) -> str:
    """Normalise a path for the generic (non-S3) SigV4 canonical URI.

    RFC 3986 section 5.2.4 "remove dot segments", with empty segments merged as the AWS test
    suite expects (``//example//`` becomes ``/example/``); a trailing slash is kept.
    """
    if not path:
        return "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    lead = "/" if path.startswith("/") else ""
    trail = "/" if path.endswith("/") and segments else ""
    return lead + "/".join(segments) + trail


def canonical_uri(path: str, *, s3: bool = True) -> str:
    """The canonical URI line of the canonical request.

    Args:
        path: The path exactly as sent on the wire (already percent-encoded once).
        s3: S3 rules: the path is used as is (S3 neither normalises nor re-encodes it). Other
            services normalise the path and encode each segment again ("each path segment must
            be URI-encoded twice", SigV4 spec).

    Returns:
        The canonical URI, ``/`` for an empty path.
    """
    if s3:
        return path or "/"
    return uri_encode(normalize_path(path), safe="/")


def canonical_query(query: QueryInput | None) -> str:
    """The canonical query string: each name and value encoded, sorted, joined with ``&``.

    Pairs are sorted by encoded name, then encoded value (byte order), after encoding, as the
    spec requires; a parameter without a value is ``name=``.

    Args:
        query: Unencoded ``(name, value)`` pairs (repeated names allowed) or a mapping.
    """
    if not query:
        return ""  # most object requests (GetObject, PutObject) have no query
    encoded = sorted((uri_encode(k), uri_encode(v)) for k, v in query_pairs(query))
    return "&".join(f"{k}={v}" for k, v in encoded)


def group_headers(
    headers: Iterable[tuple[str, str]],
    into: dict[str, str] | None = None,
    *,
    skip: Container[str] = (),
) -> dict[str, str]:
    """Canonical header values by canonical name: the first half of :func:`canonical_headers`.

    Names are trimmed and lower-cased; values are trimmed with inner whitespace folded; a name
    that repeats has its values joined with ``,`` in the order given. Names in
    :data:`EXCLUDED_HEADERS` or in ``skip`` are dropped. With ``into``, the headers are added
    to an existing grouping (and it is returned).
    """
    grouped = {} if into is None else into
    for name, value in headers:
        lname = name.strip().lower()
        if lname in EXCLUDED_HEADERS or lname in skip:
            continue
        folded = fold_whitespace(value)
        previous = grouped.get(lname)
        grouped[lname] = folded if previous is None else f"{previous},{folded}"
    return grouped


def render_headers(grouped: dict[str, str]) -> tuple[str, str]:
    """The canonical headers block and signed headers list of a :func:`group_headers` result:
    the second half of :func:`canonical_headers`."""
    names = sorted(grouped)
    block = "".join([f"{n}:{grouped[n]}\n" for n in names])
    return block, ";".join(names)


def canonical_headers(headers: HeadersInput) -> tuple[str, str]:
    """The canonical headers block and the signed headers list.

    Names are lower-cased and sorted; values are trimmed with inner whitespace folded; a name
    that repeats has its values joined with ``,`` in the order given. Headers in
    :data:`EXCLUDED_HEADERS` are dropped.

    Args:
        headers: Every header to sign, including ``host``.

    Returns:
        ``(block, signed_headers)``: the block ends with a newline after each header
        (``name:value\\n``), and ``signed_headers`` is the ``;``-joined list of names.
    """
    return render_headers(group_headers(header_pairs(headers)))


def canonical_request(
    method: str,
    *,
    path: str,
    query: QueryInput | None,
    headers: HeadersInput,
    payload_hash: str,
    s3: bool = True,
) -> str:
    """The canonical request (stage 1): method, URI, query, headers, signed headers, hash.

    Args:
        method: HTTP method, upper case.
        path: Wire path (see :func:`canonical_uri`).
        query: Unencoded query pairs.
        headers: Every header to sign, including ``host`` and ``x-amz-date``.
        payload_hash: Hex SHA-256 of the body, :data:`UNSIGNED_PAYLOAD` or
            :data:`STREAMING_PAYLOAD`.
        s3: S3 path rules (see :func:`canonical_uri`).
    """
    block, signed = canonical_headers(headers)
    return "\n".join(
        (
            method.upper(),
            canonical_uri(path, s3=s3),
            canonical_query(query),
            block,
            signed,
            payload_hash,
        )
    )


def credential_scope(date: str, region: str, service: str, terminator: str = "aws4_request") -> str:
    """``YYYYMMDD/region/service/aws4_request``: what the signing key is valid for."""
    return f"{date}/{region}/{service}/{terminator}"


def string_to_sign(
    amz_date: str, scope: str, canonical_request: str, *, algorithm: str = ALGORITHM
) -> str:
    """The string to sign (stage 2): algorithm, timestamp, scope, hash of the canonical request."""
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{algorithm}\n{amz_date}\n{scope}\n{digest}"


def signing_key(
    secret: str,
    date: str,
    region: str,
    service: str,
    *,
    prefix: str = "AWS4",
    terminator: str = "aws4_request",
) -> bytes:
    """The derived signing key (stage 3): HMAC chain over date, region, service, terminator.

    ``prefix``/``terminator`` are ``GOOG4``/``goog4_request`` for GCS HMAC keys, which derive
    their key the same way.
    """
    k = hmac.digest(f"{prefix}{secret}".encode(), date.encode("utf-8"), "sha256")
    k = hmac.digest(k, region.encode("utf-8"), "sha256")
    k = hmac.digest(k, service.encode("utf-8"), "sha256")
    return hmac.digest(k, terminator.encode("utf-8"), "sha256")


def signature(key: bytes, string_to_sign: str) -> str:
    """The signature (stage 4): hex HMAC-SHA256 of the string to sign under the signing key."""
    return hmac.digest(key, string_to_sign.encode("utf-8"), "sha256").hex()


def authorization_header(
    access_key_id: str,
    scope: str,
    signed_headers: str,
    signature: str,
    *,
    separator: str = ", ",
) -> str:
    """The ``Authorization`` header value (stage 5).

    ``separator`` is what goes between the three components: AWS accepts ``", "`` (what the
    SDKs send) and ``","`` (what the S3 documentation prints).
    """
    return (
        f"{ALGORITHM} Credential={access_key_id}/{scope}{separator}"
        f"SignedHeaders={signed_headers}{separator}Signature={signature}"
    )
