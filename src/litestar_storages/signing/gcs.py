"""Google Cloud Storage: V4 signed URLs, signed POST policies, service-account JWT assertions.

Signed URLs and POST policies are split in two pure steps so that the signature itself can be
computed elsewhere (the IAM Credentials ``signBlob`` call, used on machines that have no key
file):

* ``prepare_*`` builds everything up to the string to sign;
* ``finish_*`` assembles the URL or form fields from a signature computed by anyone.

:func:`generate_signed_url` and :func:`generate_signed_post_policy` chain both steps with a
local key: RSA (``GOOG4-RSA-SHA256``, a service-account key) or HMAC (``GOOG4-HMAC-SHA256``, an
HMAC key, whose signing key is derived as in SigV4 with ``GOOG4``/``goog4_request``).

``cryptography`` and ``pyjwt`` are imported inside the functions that need them, so this module
(and the S3 signer) can be imported without them.

Specifications: "V4 signing process with your own program", "Canonical requests" and
"Signatures" in the Cloud Storage documentation; "Using OAuth 2.0 for Server to Server
Applications" for the JWT assertion.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

from litestar_storages.signing._canonical import (
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
    hmac_sha256,
    mask,
    query_pairs,
    require_utc,
    uri_encode,
)
from litestar_storages.signing.sigv4 import canonical_headers, signing_key

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

__all__ = [
    "DEFAULT_HOST",
    "GOOG4_HMAC",
    "GOOG4_RSA",
    "JWT_BEARER_GRANT",
    "MAX_EXPIRES",
    "MAX_JWT_LIFETIME",
    "TOKEN_URI",
    "UNSIGNED_PAYLOAD",
    "GcsHmacKey",
    "GcsServiceAccount",
    "PreparedPostPolicy",
    "PreparedSignedUrl",
    "UrlStyle",
    "canonical_request",
    "credential_scope",
    "finish_post_policy",
    "finish_signed_url",
    "generate_signed_post_policy",
    "generate_signed_url",
    "hmac_signing_key",
    "jwt_assertion",
    "jwt_claims",
    "post_policy_document",
    "prepare_post_policy",
    "prepare_signed_url",
    "rsa_sign",
    "sign_string",
    "string_to_sign",
    "token_request_body",
]

GOOG4_RSA = "GOOG4-RSA-SHA256"
"""Algorithm of URLs signed with a service-account RSA key."""

GOOG4_HMAC = "GOOG4-HMAC-SHA256"
"""Algorithm of URLs signed with an HMAC key."""

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
"""Payload hash of a signed URL: the body is not covered."""

DEFAULT_HOST = "storage.googleapis.com"
"""XML API endpoint that signed URLs point at."""

TOKEN_URI = "https://oauth2.googleapis.com/token"
"""OAuth2 token endpoint: the JWT assertion's audience."""

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
"""``grant_type`` of a token request made with a JWT assertion (RFC 7523)."""


MAX_JWT_LIFETIME = 3600
"""Google accepts assertions whose ``exp`` is at most one hour after ``iat``."""

UrlStyle = Literal["path", "virtual", "bucket_bound"]
"""``path``: ``host/bucket/object``; ``virtual``: ``bucket.host/object``;
``bucket_bound``: ``bucket-bound-hostname/object`` (a CNAME or load balancer)."""


@dataclass(frozen=True, repr=False)
class GcsServiceAccount:
    """A service-account key: its e-mail and PEM private key (from the JSON key file).

    The RSA key is parsed on first use and kept on the instance, so signing many URLs parses
    the PEM once. The ``repr`` never shows the key.
    """

    client_email: str
    private_key_pem: str
    private_key_id: str | None = None
    token_uri: str = TOKEN_URI
    _loaded: Any = field(default=None, init=False, compare=False)

    @classmethod
    def from_info(cls, info: Mapping[str, Any]) -> GcsServiceAccount:
        """Build from the parsed JSON key file (``type: service_account``).

        Raises:
            SigningError: a required field is missing.
        """
        try:
            return cls(
                client_email=str(info["client_email"]),
                private_key_pem=str(info["private_key"]),
                private_key_id=info.get("private_key_id"),
                token_uri=str(info.get("token_uri") or TOKEN_URI),
            )
        except KeyError as exc:
            raise SigningError(f"service account info lacks {exc.args[0]!r}") from None

    def __repr__(self) -> str:
        return (
            f"GcsServiceAccount(client_email={self.client_email!r}, "
            f"private_key_pem={mask(self.private_key_pem)}, "
            f"private_key_id={self.private_key_id!r})"
        )

    def private_key(self) -> RSAPrivateKey:
        """The parsed RSA private key (loaded once, then reused).

        Raises:
            SigningError: the PEM is not an RSA private key, or ``cryptography`` is missing.
        """
        if self._loaded is not None:
            return self._loaded  # type: ignore[no-any-return]
        try:
            from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
            from cryptography.hazmat.primitives.serialization import load_pem_private_key
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise SigningError(
                "RSA signing needs `cryptography` (install litestar-storages[gcs])"
            ) from exc
        try:
            key = load_pem_private_key(self.private_key_pem.encode("utf-8"), password=None)
        except (ValueError, TypeError) as exc:
            raise SigningError("the service account private key is not a valid PEM key") from exc
        if not isinstance(key, RSAPrivateKey):
            raise SigningError("the service account private key is not an RSA key")
        # Frozen dataclass: the cache slot is set once, behind the public API.
        object.__setattr__(self, "_loaded", key)
        return key


@dataclass(frozen=True, repr=False)
class GcsHmacKey:
    """An HMAC key for the XML API (``access_id`` is ``GOOG1...``); ``repr`` hides the secret."""

    access_id: str
    secret: str

    def __repr__(self) -> str:
        return f"GcsHmacKey(access_id={self.access_id!r}, secret={mask(self.secret)})"


# --- stages ------------------------------------------------------------------------------------


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


def hmac_signing_key(secret: str, date: str, region: str = "auto") -> bytes:
    """The ``GOOG4-HMAC-SHA256`` signing key: SigV4's derivation, ``GOOG4``/``goog4_request``."""
    return signing_key(secret, date, region, "storage", prefix="GOOG4", terminator="goog4_request")


def rsa_sign(account: GcsServiceAccount, data: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 with SHA-256 over ``data`` with the account's key (``GOOG4-RSA-SHA256``).

    Raises:
        SigningError: the key cannot be loaded.
    """
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.hashes import SHA256

    return account.private_key().sign(data, PKCS1v15(), SHA256())


def sign_string(credentials: GcsServiceAccount | GcsHmacKey, text: str, *, date: str) -> str:
    """Sign a V4 string to sign (or a base64 policy) locally; return the hex signature.

    Args:
        credentials: A service account (RSA) or an HMAC key.
        text: The string to sign.
        date: ``YYYYMMDD`` of the credential scope (used by HMAC key derivation).
    """
    if isinstance(credentials, GcsHmacKey):
        return hmac_sha256(hmac_signing_key(credentials.secret, date), text).hex()
    return rsa_sign(credentials, text.encode("utf-8")).hex()


def _algorithm_and_id(credentials: GcsServiceAccount | GcsHmacKey) -> tuple[str, str]:
    if isinstance(credentials, GcsHmacKey):
        return GOOG4_HMAC, credentials.access_id
    return GOOG4_RSA, credentials.client_email


def _location(
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


# --- signed URLs -------------------------------------------------------------------------------


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
    url_host, path = _location(
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
    algorithm, credential_id = _algorithm_and_id(credentials)
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


# --- POST policy -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedPostPolicy:
    """A POST policy up to its signature: sign ``string_to_sign`` (the base64 policy).

    Attributes:
        url: The form's action URL.
        fields: Every form field except ``x-goog-signature``.
        string_to_sign: The base64 policy document (also the ``policy`` field).
    """

    url: str
    fields: Mapping[str, str]
    string_to_sign: str


def post_policy_document(expiration: datetime, conditions: Sequence[PolicyCondition]) -> str:
    """The base64 policy document: compact JSON ``{"conditions": [...], "expiration": ...}``.

    Non-ASCII text is written as ``\\uXXXX`` escapes, as Google's client libraries do (and as
    the conformance suite's policies are encoded).
    """
    document = {"conditions": list(conditions), "expiration": format_iso8601(expiration)}
    return base64.b64encode(json.dumps(document, separators=(",", ":")).encode("ascii")).decode(
        "ascii"
    )


def prepare_post_policy(
    *,
    credential_id: str,
    algorithm: str = GOOG4_RSA,
    bucket: str,
    key: str,
    now: datetime,
    expires_in: int,
    conditions: Sequence[PolicyCondition] = (),
    fields: Mapping[str, str] | None = None,
    scheme: str = "https",
    host: str | None = None,
    url_style: UrlStyle = "path",
    bucket_bound_hostname: str | None = None,
) -> PreparedPostPolicy:
    """Build a V4 POST policy up to the string to sign.

    The conditions are, in order: ``conditions``, one exact match per field of ``fields``
    (sorted by name; ``x-ignore-*`` fields are sent but not part of the policy), then
    ``bucket``, ``key``, ``x-goog-date``, ``x-goog-credential`` and ``x-goog-algorithm``, the
    order Google's client libraries use.

    Args:
        credential_id: Service-account e-mail or HMAC access id.
        algorithm: :data:`GOOG4_RSA` or :data:`GOOG4_HMAC`.
        bucket: Bucket name.
        key: Object name the form uploads to.
        now: Signing time, timezone-aware.
        expires_in: Validity in seconds, 1 to 604800.
        conditions: Extra conditions (``content_length_range``, ``starts_with``...).
        fields: Extra form fields (``content-type``, ``success_action_status``,
            ``x-goog-meta-*``...).
        scheme: ``https`` or ``http``.
        host: Endpoint host (default ``storage.googleapis.com``).
        url_style: ``path``, ``virtual`` or ``bucket_bound``.
        bucket_bound_hostname: Host serving the bucket, for ``bucket_bound``.

    Raises:
        SigningError: bad expiry, naive ``now`` or a ``bucket_bound`` style without hostname.
    """
    check_expiry(expires_in)
    url_host, _ = _location(
        bucket=bucket,
        blob=None,
        host=host,
        url_style=url_style,
        bucket_bound_hostname=bucket_bound_hostname,
    )
    url_path = f"/{bucket}/" if url_style == "path" else "/"
    timestamp, date = format_amz_date(now)
    credential = f"{credential_id}/{credential_scope(date)}"
    policy_conditions: list[Any] = list(conditions)
    form: dict[str, str] = {}
    for name, value in sorted((fields or {}).items()):
        form[name] = value
        if not name.startswith("x-ignore-"):
            policy_conditions.append({name: value})
    policy_conditions += [
        {"bucket": bucket},
        {"key": key},
        {"x-goog-date": timestamp},
        {"x-goog-credential": credential},
        {"x-goog-algorithm": algorithm},
    ]
    policy = post_policy_document(add_seconds(now, expires_in), policy_conditions)
    form.update(
        {
            "key": key,
            "x-goog-algorithm": algorithm,
            "x-goog-credential": credential,
            "x-goog-date": timestamp,
            "policy": policy,
        }
    )
    return PreparedPostPolicy(
        url=f"{scheme}://{url_host}{url_path}", fields=form, string_to_sign=policy
    )


def finish_post_policy(
    prepared: PreparedPostPolicy, signature: bytes | str
) -> tuple[str, dict[str, str]]:
    """Return ``(url, fields)`` with ``x-goog-signature`` (hex) added to the prepared fields."""
    fields = dict(prepared.fields)
    fields["x-goog-signature"] = signature.hex() if isinstance(signature, bytes) else signature
    return prepared.url, fields


def generate_signed_post_policy(
    credentials: GcsServiceAccount | GcsHmacKey,
    *,
    bucket: str,
    key: str,
    now: datetime,
    expires_in: int,
    conditions: Sequence[PolicyCondition] = (),
    fields: Mapping[str, str] | None = None,
    scheme: str = "https",
    host: str | None = None,
    url_style: UrlStyle = "path",
    bucket_bound_hostname: str | None = None,
) -> tuple[str, dict[str, str]]:
    """Sign a V4 POST policy with a local key; see :func:`prepare_post_policy`.

    Returns:
        ``(url, fields)`` for an HTML form upload.
    """
    algorithm, credential_id = _algorithm_and_id(credentials)
    prepared = prepare_post_policy(
        credential_id=credential_id,
        algorithm=algorithm,
        bucket=bucket,
        key=key,
        now=now,
        expires_in=expires_in,
        conditions=conditions,
        fields=fields,
        scheme=scheme,
        host=host,
        url_style=url_style,
        bucket_bound_hostname=bucket_bound_hostname,
    )
    date = format_amz_date(now)[1]
    return finish_post_policy(
        prepared, sign_string(credentials, prepared.string_to_sign, date=date)
    )


# --- OAuth2 service-account assertion ----------------------------------------------------------


def jwt_claims(
    account: GcsServiceAccount,
    *,
    scopes: str | Sequence[str],
    now: datetime,
    lifetime: int = MAX_JWT_LIFETIME,
    subject: str | None = None,
    audience: str | None = None,
) -> dict[str, Any]:
    """The claim set of a service-account JWT assertion.

    ``iss`` is the account e-mail, ``scope`` the space-separated scopes, ``aud`` the token
    endpoint, ``iat``/``exp`` seconds since the epoch from ``now`` and ``lifetime``, and
    ``sub`` the impersonated user for domain-wide delegation (when given).

    Raises:
        SigningError: ``lifetime`` is not in 1..3600 seconds, no scope is given or ``now`` is
            naive.
    """
    if isinstance(lifetime, bool) or not 1 <= lifetime <= MAX_JWT_LIFETIME:
        raise SigningError(f"JWT lifetime must be between 1 and {MAX_JWT_LIFETIME} seconds")
    scope = scopes if isinstance(scopes, str) else " ".join(scopes)
    if not scope:
        raise SigningError("a JWT assertion needs at least one scope")
    issued = int(require_utc(now).timestamp())
    claims: dict[str, Any] = {
        "iss": account.client_email,
        "scope": scope,
        "aud": audience or account.token_uri,
        "iat": issued,
        "exp": issued + lifetime,
    }
    if subject is not None:
        claims["sub"] = subject
    return claims


def jwt_assertion(
    account: GcsServiceAccount,
    *,
    scopes: str | Sequence[str],
    now: datetime,
    lifetime: int = MAX_JWT_LIFETIME,
    subject: str | None = None,
    audience: str | None = None,
) -> str:
    """The signed (RS256) JWT assertion for the OAuth2 token request.

    The header carries ``kid`` (the key id) when the account has one. RSASSA-PKCS1-v1_5 is
    deterministic, so the assertion is a pure function of its inputs.

    Raises:
        SigningError: see :func:`jwt_claims`; also an unusable key or a missing ``pyjwt``.
    """
    claims = jwt_claims(
        account, scopes=scopes, now=now, lifetime=lifetime, subject=subject, audience=audience
    )
    try:
        import jwt
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise SigningError("JWT assertions need `pyjwt` (install litestar-storages[gcs])") from exc
    headers = {"kid": account.private_key_id} if account.private_key_id else None
    token: str = jwt.encode(claims, account.private_key(), algorithm="RS256", headers=headers)
    return token


def token_request_body(assertion: str) -> str:
    """The ``application/x-www-form-urlencoded`` body that exchanges an assertion for a token."""
    return urlencode({"grant_type": JWT_BEARER_GRANT, "assertion": assertion})
