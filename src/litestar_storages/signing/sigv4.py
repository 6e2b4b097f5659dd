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

Specification: "Signature Version 4 signing process" (AWS IAM User Guide, "Create a signed AWS
API request") and, for S3's variations, "Authenticating Requests (AWS Signature Version 4)" in
the Amazon S3 API Reference (header-based auth, query-string auth, chunked upload, POST policy).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar_storages.signing._canonical import (
    EMPTY_SHA256,
    MAX_EXPIRES,
    HeadersInput,
    PolicyCondition,
    QueryInput,
    SigningError,
    add_seconds,
    check_expiry,
    fold_whitespace,
    format_amz_date,
    format_iso8601,
    header_pairs,
    mask,
    query_pairs,
    uri_encode,
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

ALGORITHM = "AWS4-HMAC-SHA256"
"""The ``Authorization`` / ``X-Amz-Algorithm`` algorithm name."""

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
"""Payload hash for a body that is not hashed (S3 presigned URLs, unsigned uploads)."""

STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
"""Payload hash announcing an aws-chunked body whose chunks are signed one by one."""

CHUNK_ALGORITHM = "AWS4-HMAC-SHA256-PAYLOAD"
"""First line of each chunk's string to sign in a streaming upload."""

MIN_CHUNK_SIZE = 8 * 1024
"""S3 refuses aws-chunked chunks below 8 KiB, except the last data chunk."""

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

_STREAMING_EMPTY_HASH = EMPTY_SHA256
_FILENAME_VARIABLE = "${filename}"


@dataclass(frozen=True, repr=False)
class AwsCredentials:
    """An AWS access key, optionally temporary (with a session token).

    The ``repr`` shows the access key id (an identifier, not a secret) but never the secret
    key or the session token.
    """

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __repr__(self) -> str:
        return (
            f"AwsCredentials(access_key_id={self.access_key_id!r}, "
            f"secret_access_key={mask(self.secret_access_key)}, "
            f"session_token={mask(self.session_token)})"
        )


class _Keyed:
    """A derived key and an HMAC already keyed with it (copying it skips the key schedule)."""

    __slots__ = ("_mac", "key")

    def __init__(self, key: bytes) -> None:
        self.key = key
        self._mac = hmac.new(key, digestmod=hashlib.sha256)

    def sign(self, text: str) -> str:
        mac = self._mac.copy()
        mac.update(text.encode("utf-8"))
        return mac.hexdigest()


class SigningKeyCache:
    """A bounded LRU of derived signing keys, keyed by (secret, date, region, service).

    Deriving a key costs four HMACs; a key is valid for a whole UTC day, so a process that
    presigns many URLs (or signs many requests) keeps one of these and passes it as
    ``key_cache``. The cache is owned by the caller: nothing in this module keeps global state.
    It is safe to share between threads.
    """

    __slots__ = ("_entries", "_lock", "maxsize")

    def __init__(self, maxsize: int = 64) -> None:
        """Create an empty cache holding at most ``maxsize`` keys.

        Raises:
            SigningError: ``maxsize`` is not positive.
        """
        if maxsize < 1:
            raise SigningError("SigningKeyCache maxsize must be at least 1")
        self.maxsize = maxsize
        self._entries: OrderedDict[tuple[str, str, str, str, str], _Keyed] = OrderedDict()
        self._lock = threading.Lock()

    def _keyed(
        self, secret: str, date: str, region: str, service: str, prefix: str = "AWS4"
    ) -> _Keyed:
        entry = (secret, date, region, service, prefix)
        with self._lock:
            keyed = self._entries.get(entry)
            if keyed is not None:
                self._entries.move_to_end(entry)
                return keyed
        terminator = "aws4_request" if prefix == "AWS4" else f"{prefix.lower()}_request"
        keyed = _Keyed(
            signing_key(secret, date, region, service, prefix=prefix, terminator=terminator)
        )
        with self._lock:
            self._entries[entry] = keyed
            self._entries.move_to_end(entry)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return keyed

    def get(
        self, secret: str, date: str, region: str, service: str, *, prefix: str = "AWS4"
    ) -> bytes:
        """Return the signing key for these inputs, deriving and remembering it if needed."""
        return self._keyed(secret, date, region, service, prefix).key

    def clear(self) -> None:
        """Forget every key (for example after a credential rotation)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        # The keys of the mapping contain secrets: show the size only.
        return f"SigningKeyCache(maxsize={self.maxsize}, size={len(self)})"


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
    encoded = sorted((uri_encode(k), uri_encode(v)) for k, v in query_pairs(query))
    return "&".join(f"{k}={v}" for k, v in encoded)


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
    grouped: dict[str, list[str]] = {}
    for name, value in header_pairs(headers):
        lname = name.strip().lower()
        if lname in EXCLUDED_HEADERS:
            continue
        grouped.setdefault(lname, []).append(fold_whitespace(value))
    names = sorted(grouped)
    block = "".join(f"{n}:{','.join(grouped[n])}\n" for n in names)
    return block, ";".join(names)


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


# --- whole requests ----------------------------------------------------------------------------


def _key(
    credentials: AwsCredentials,
    date: str,
    region: str,
    service: str,
    key_cache: SigningKeyCache | None,
) -> _Keyed:
    if key_cache is not None:
        return key_cache._keyed(credentials.secret_access_key, date, region, service)
    return _Keyed(signing_key(credentials.secret_access_key, date, region, service))


def _sign_headers(
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
    amz_date, date = format_amz_date(now)
    scope = credential_scope(date, region, service)
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
    to_sign = [(n, v) for n, v in header_pairs(headers) if n.strip().lower() not in own]
    to_sign.append(("host", host))
    to_sign.extend(added.items())
    block, signed = canonical_headers(to_sign)
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
    keyed = _key(credentials, date, region, service, key_cache)
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
    added, _, _, _ = _sign_headers(
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
    sig = _key(credentials, date, region, service, key_cache).sign(
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


# --- chunked (streaming) uploads ---------------------------------------------------------------


def chunk_string_to_sign(
    amz_date: str, scope: str, previous_signature: str, chunk_hash: str
) -> str:
    """String to sign of one chunk of an aws-chunked upload.

    ``AWS4-HMAC-SHA256-PAYLOAD``, timestamp, scope, the previous signature (the seed signature
    for the first chunk), the hash of the empty string, and the hash of the chunk data (S3 API
    Reference, "Transferring Payload in Multiple Chunks").
    """
    return (
        f"{CHUNK_ALGORITHM}\n{amz_date}\n{scope}\n{previous_signature}\n"
        f"{_STREAMING_EMPTY_HASH}\n{chunk_hash}"
    )


def encoded_content_length(decoded_length: int, chunk_size: int) -> int:
    """``Content-Length`` of an aws-chunked body: data plus each chunk's metadata.

    Each chunk is ``hex(size);chunk-signature=<64 hex>\\r\\n<data>\\r\\n``, and the body ends
    with a zero-length chunk.

    Raises:
        SigningError: a length is negative or the chunk size is not positive.
    """
    if decoded_length < 0 or chunk_size < 1:
        raise SigningError("lengths must be non-negative and the chunk size positive")
    full, rest = divmod(decoded_length, chunk_size)
    sizes = [chunk_size] * full + ([rest] if rest else []) + [0]
    overhead = len(";chunk-signature=") + 64 + 2 + 2
    return sum(len(f"{size:x}") + overhead + size for size in sizes)


class ChunkSigner:
    """Signs the chunks of one aws-chunked upload, in order.

    Each chunk's signature chains the previous one (the seed signature of the request for the
    first chunk), so the signer carries that one value of state. Send every data chunk with
    :meth:`frame`, then :meth:`final_frame` (the zero-length chunk that ends the body).
    """

    __slots__ = ("_amz_date", "_finished", "_key", "_previous", "_scope")

    def __init__(
        self, *, signing_key: bytes, amz_date: str, scope: str, seed_signature: str
    ) -> None:
        """Start the chain at ``seed_signature`` (the signature of the request headers)."""
        self._key = signing_key
        self._amz_date = amz_date
        self._scope = scope
        self._previous = seed_signature
        self._finished = False

    def __repr__(self) -> str:
        return f"ChunkSigner(scope={self._scope!r}, finished={self._finished})"

    @property
    def previous_signature(self) -> str:
        """The last signature of the chain (the seed signature before the first chunk)."""
        return self._previous

    def sign(self, chunk: bytes) -> str:
        """Sign the next chunk and return its signature; an empty chunk ends the chain.

        Raises:
            SigningError: the final (empty) chunk was already signed.
        """
        if self._finished:
            raise SigningError("the final chunk was already signed")
        sts = chunk_string_to_sign(
            self._amz_date, self._scope, self._previous, hashlib.sha256(chunk).hexdigest()
        )
        self._previous = signature(self._key, sts)
        if not chunk:
            self._finished = True
        return self._previous

    def frame(self, chunk: bytes) -> bytes:
        """Sign ``chunk`` and return it framed for the aws-chunked body."""
        sig = self.sign(chunk)
        return b"".join(
            (f"{len(chunk):x};chunk-signature={sig}\r\n".encode("ascii"), chunk, b"\r\n")
        )

    def final_frame(self) -> bytes:
        """The signed zero-length chunk that ends the body."""
        return self.frame(b"")


def sign_streaming(
    method: str,
    *,
    host: str,
    path: str,
    query: QueryInput | None,
    headers: HeadersInput | None,
    credentials: AwsCredentials,
    region: str,
    service: str = "s3",
    now: datetime,
    decoded_content_length: int,
    chunk_size: int,
    key_cache: SigningKeyCache | None = None,
) -> tuple[dict[str, str], ChunkSigner]:
    """Sign the headers of a ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` upload.

    The body is sent aws-chunked: the caller cuts it into ``chunk_size`` pieces (the last may
    be shorter) and writes ``signer.frame(piece)`` for each, then ``signer.final_frame()``.

    Args:
        method: HTTP method (``PUT`` for PutObject / UploadPart).
        host: ``Host`` header value.
        path: Wire path (already encoded once).
        query: Unencoded query pairs.
        headers: Other headers to sign. A ``content-encoding`` given here is kept after
            ``aws-chunked``.
        credentials: The access key.
        region: Region of the credential scope.
        service: Service of the credential scope.
        now: Signing time, timezone-aware.
        decoded_content_length: Length of the object data in bytes
            (``x-amz-decoded-content-length``).
        chunk_size: Size of every data chunk but the last, at least 8 KiB.
        key_cache: Optional cache of derived signing keys.

    Returns:
        ``(headers, signer)``: the headers to add (``authorization``, ``x-amz-date``,
        ``x-amz-content-sha256``, ``content-encoding``, ``content-length``,
        ``x-amz-decoded-content-length``, and ``x-amz-security-token`` if any) and the chunk
        signer seeded with the request's signature.

    Raises:
        SigningError: the chunk size is below 8 KiB or a length is negative.
    """
    if chunk_size < MIN_CHUNK_SIZE:
        raise SigningError(f"aws-chunked chunks must be at least {MIN_CHUNK_SIZE} bytes")
    pairs = header_pairs(headers)
    encodings = [v for n, v in pairs if n.strip().lower() == "content-encoding"]
    rest = [(n, v) for n, v in pairs if n.strip().lower() != "content-encoding"]
    extra = (
        ("content-encoding", ",".join(["aws-chunked", *encodings])),
        ("content-length", str(encoded_content_length(decoded_content_length, chunk_size))),
        ("x-amz-decoded-content-length", str(decoded_content_length)),
    )
    added, seed, amz_date, key = _sign_headers(
        method,
        host=host,
        path=path,
        query=query,
        headers=rest,
        payload_hash=STREAMING_PAYLOAD,
        credentials=credentials,
        region=region,
        service=service,
        now=now,
        s3=True,
        key_cache=key_cache,
        content_sha256_header=True,
        extra=extra,
    )
    scope = credential_scope(amz_date[:8], region, service)
    return added, ChunkSigner(signing_key=key, amz_date=amz_date, scope=scope, seed_signature=seed)


# --- POST policy (browser form uploads) --------------------------------------------------------


def post_policy_document(expiration: datetime, conditions: Sequence[PolicyCondition]) -> str:
    """The base64 policy document of an S3 POST upload (it is also the string to sign).

    Compact JSON (``{"expiration": ..., "conditions": [...]}``) encoded as base64.
    """
    document = {"expiration": format_iso8601(expiration), "conditions": list(conditions)}
    text = json.dumps(document, separators=(",", ":"))
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def post_policy_signature(policy_b64: str, key: bytes) -> str:
    """Hex HMAC-SHA256 of the base64 policy under the signing key (S3 POST, SigV4)."""
    return signature(key, policy_b64)


def presigned_post(
    *,
    bucket_url: str,
    bucket: str,
    key: str,
    credentials: AwsCredentials,
    region: str,
    now: datetime,
    expires_in: int,
    fields: Mapping[str, str] | None = None,
    conditions: Sequence[PolicyCondition] = (),
    key_cache: SigningKeyCache | None = None,
) -> tuple[str, dict[str, str]]:
    """Sign an S3 POST policy for a browser form upload.

    Args:
        bucket_url: The URL the form posts to (virtual-hosted
            ``https://bucket.s3.region.amazonaws.com/`` or path-style
            ``http://localhost:9000/bucket/``); returned unchanged.
        bucket: Bucket name (a ``bucket`` condition is added).
        key: Object key; a key ending in ``${filename}`` becomes a ``starts-with`` condition on
            the part before it, so the browser's file name fills it in.
        credentials: The access key.
        region: Region of the bucket.
        now: Signing time, timezone-aware.
        expires_in: Validity of the policy in seconds, 1 to 604800.
        fields: Extra form fields; each becomes an exact-match condition.
        conditions: Extra conditions (see ``content_length_range`` and ``starts_with`` in
            ``litestar_storages.signing``).
        key_cache: Optional cache of derived signing keys.

    Returns:
        ``(url, fields)``: the form's action URL and every field the form must send before
        the ``file`` field.

    Raises:
        SigningError: ``expires_in`` is out of range or ``now`` is naive.
    """
    check_expiry(expires_in)
    amz_date, date = format_amz_date(now)
    scope = credential_scope(date, region, "s3")
    form: dict[str, str] = dict(fields or {})
    form["key"] = key
    form["x-amz-algorithm"] = ALGORITHM
    form["x-amz-credential"] = f"{credentials.access_key_id}/{scope}"
    form["x-amz-date"] = amz_date
    if credentials.session_token is not None:
        form["x-amz-security-token"] = credentials.session_token
    policy_conditions: list[Any] = [*conditions, {"bucket": bucket}]
    for name, value in form.items():
        if name == "key" and value.endswith(_FILENAME_VARIABLE):
            policy_conditions.append(["starts-with", "$key", value[: -len(_FILENAME_VARIABLE)]])
        else:
            policy_conditions.append({name: value})
    policy = post_policy_document(add_seconds(now, expires_in), policy_conditions)
    form["policy"] = policy
    form["x-amz-signature"] = _key(credentials, date, region, "s3", key_cache).sign(policy)
    return bucket_url, form
