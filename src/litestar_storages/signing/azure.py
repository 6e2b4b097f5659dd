"""Azure Blob Storage: SharedKey request signing and shared access signatures (SAS).

Pure functions: the time is an argument, keys are frozen values, and the outputs are headers or
query parameters. Stages are public so tests can pin each one:

* SharedKey: :func:`canonicalized_headers`, :func:`canonicalized_resource`,
  :func:`shared_key_string_to_sign`, :func:`hmac_signature`, :func:`shared_key_authorization`,
  and :func:`sign_shared_key` for the whole request.
* SAS: the string to sign is a function of the SAS query parameters (keyed by their query
  names, ``sp``, ``st``, ``se``...) and the canonicalised resource;
  :func:`service_sas_string_to_sign`, :func:`user_delegation_sas_string_to_sign` and
  :func:`account_sas_string_to_sign` choose the field layout from ``sv``; :func:`hmac_signature`
  signs it; :func:`blob_sas`, :func:`container_sas`, :func:`account_sas` and
  :func:`user_delegation_sas` return the full token as unencoded pairs, and :func:`encode_sas`
  encodes them.

Specifications (Azure Storage REST reference): "Authorize with Shared Key", "Create a service
SAS", "Create an account SAS", "Create a user delegation SAS".
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from litestar_storages.signing._canonical import (
    HeadersInput,
    QueryInput,
    SigningError,
    b64encode,
    fold_whitespace,
    format_http_date,
    format_iso8601,
    header_pairs,
    hmac_sha256,
    mask,
    query_pairs,
    uri_encode,
)

__all__ = [
    "ACCOUNT_PERMISSIONS",
    "BLOB_PERMISSIONS",
    "DEFAULT_VERSION",
    "LATEST_USER_DELEGATION_LAYOUT",
    "STANDARD_HEADERS",
    "AzureSharedKey",
    "UserDelegationKey",
    "account_sas",
    "account_sas_string_to_sign",
    "blob_sas",
    "canonical_permissions",
    "canonicalized_headers",
    "canonicalized_resource",
    "canonicalized_sas_resource",
    "container_sas",
    "encode_sas",
    "hmac_signature",
    "service_sas_string_to_sign",
    "shared_key_authorization",
    "shared_key_string_to_sign",
    "sign_shared_key",
    "user_delegation_sas",
    "user_delegation_sas_string_to_sign",
]

DEFAULT_VERSION = "2025-11-05"
"""The ``x-ms-version`` (and SAS ``sv``) sent by default. Azurite 3.35 accepts it."""

LATEST_USER_DELEGATION_LAYOUT = "2025-11-05"
"""Newest ``sv`` whose user-delegation string-to-sign layout this module knows.

Later versions add fields (signed request headers and query parameters); signing them with an
older layout would produce a signature the service rejects, so they are refused.
"""

STANDARD_HEADERS = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)
"""The positional standard headers of the SharedKey string to sign, in order."""

BLOB_PERMISSIONS = "racwdxyltfmeopi"
"""Canonical order of service/user-delegation SAS permissions ("Create a service SAS":
read, add, create, write, delete, delete version, permanent delete, list, tags, filter by
tags, move, execute, ownership, permissions, set immutability policy)."""

ACCOUNT_PERMISSIONS = "rwdxylacuptfi"
"""Canonical order of account SAS permissions ("Create an account SAS")."""

_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")


def _decode_key(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SigningError(f"{what} is not valid base64") from exc


@dataclass(frozen=True, repr=False)
class AzureSharedKey:
    """A storage account name and its base64 access key; ``repr`` hides the key.

    Raises:
        SigningError: the key is not valid base64.
    """

    account_name: str
    account_key_b64: str
    key: bytes = field(init=False, compare=False)
    _mac: Any = field(init=False, compare=False)

    def __post_init__(self) -> None:
        # Decode once, and key an HMAC once: each signature then copies it (no key schedule).
        key = _decode_key(self.account_key_b64, "the account key")
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "_mac", hmac.new(key, digestmod=hashlib.sha256))

    def sign(self, string_to_sign: str) -> str:
        """Base64 HMAC-SHA256 of ``string_to_sign`` under the account key."""
        return _sign_with(self._mac, string_to_sign)

    def __repr__(self) -> str:
        return (
            f"AzureSharedKey(account_name={self.account_name!r}, "
            f"account_key_b64={mask(self.account_key_b64)})"
        )


@dataclass(frozen=True, repr=False)
class UserDelegationKey:
    """A user delegation key, as returned by Get User Delegation Key.

    The ``signed_*`` values are kept as the exact strings the service returned, because they
    are signed verbatim. ``value`` (the base64 key) is hidden by ``repr``.

    Raises:
        SigningError: ``value`` is not valid base64.
    """

    signed_oid: str
    signed_tid: str
    signed_start: str
    signed_expiry: str
    signed_service: str
    signed_version: str
    value: str
    signed_delegated_user_tid: str | None = None
    key: bytes = field(init=False, compare=False)
    _mac: Any = field(init=False, compare=False)

    def __post_init__(self) -> None:
        key = _decode_key(self.value, "the user delegation key")
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "_mac", hmac.new(key, digestmod=hashlib.sha256))

    def sign(self, string_to_sign: str) -> str:
        """Base64 HMAC-SHA256 of ``string_to_sign`` under the delegation key."""
        return _sign_with(self._mac, string_to_sign)

    def __repr__(self) -> str:
        return (
            f"UserDelegationKey(signed_oid={self.signed_oid!r}, signed_tid={self.signed_tid!r}, "
            f"signed_start={self.signed_start!r}, signed_expiry={self.signed_expiry!r}, "
            f"signed_service={self.signed_service!r}, signed_version={self.signed_version!r}, "
            f"value={mask(self.value)})"
        )


def _sign_with(mac: Any, string_to_sign: str) -> str:
    keyed = mac.copy()
    keyed.update(string_to_sign.encode("utf-8"))
    return b64encode(keyed.digest())


def hmac_signature(key: bytes, string_to_sign: str) -> str:
    """Base64 HMAC-SHA256 of the UTF-8 string to sign: SharedKey and SAS signatures."""
    return b64encode(hmac_sha256(key, string_to_sign))


# --- SharedKey ---------------------------------------------------------------------------------

# Azure sorts the x-ms-* headers the way .NET's invariant culture compares strings (the SDKs
# for Python and JavaScript reproduce it): "-" and "'" are ignored at first and only break ties,
# and "_" and other punctuation sort before digits and letters. Plain byte order differs for
# names such as ``x-ms-meta-a_b`` / ``x-ms-meta-a1`` or ``x-ms-meta-a-c`` / ``x-ms-meta-ab``.
_PRIMARY = {c: i + 2 for i, c in enumerate("!#$%&*.^_`|~+0123456789abcdefghijklmnopqrstuvwxyz")}
_PRIMARY.update({c.upper(): _PRIMARY[c] for c in "abcdefghijklmnopqrstuvwxyz"})
_IGNORABLE = {"'": 0, "-": 0}
_TIEBREAK = {"'": 2, "-": 3}
_END = 1


def _check_name(name: str) -> None:
    for ch in name:
        if ch not in _PRIMARY and ch not in _IGNORABLE:
            raise SigningError(f"header name {name!r} has a character not allowed in a token")


def _compare_names(lhs: str, rhs: str) -> int:
    """Three-way comparison of two header names in Azure's order (see the note above)."""
    _check_name(lhs)
    _check_name(rhs)
    # Level 1: the non-ignorable characters decide.
    primary_l = [_PRIMARY[c] for c in lhs if c in _PRIMARY]
    primary_r = [_PRIMARY[c] for c in rhs if c in _PRIMARY]
    if primary_l != primary_r:
        return -1 if primary_l < primary_r else 1
    # Level 2: walk both names again; only "-" and "'" weigh. Where one name has an ignorable
    # character and the other a regular one, the name that reached it later sorts first.
    i = j = 0
    while True:
        if i != j:
            return -1 if i > j else 1
        w1 = _TIEBREAK.get(lhs[i], 0) if i < len(lhs) else _END
        w2 = _TIEBREAK.get(rhs[j], 0) if j < len(rhs) else _END
        if w1 == _END and w2 == _END:
            return 0
        if w1 == w2:
            i += 1
            j += 1
        elif w1 == 0:
            i += 1
        elif w2 == 0:
            j += 1
        else:
            return -1 if w1 < w2 else 1


def canonicalized_headers(headers: HeadersInput | None) -> str:
    """The CanonicalizedHeaders part: every ``x-ms-*`` header as ``name:value\\n``.

    Names are lower-cased and sorted in Azure's order; values are trimmed with runs of
    whitespace folded to one space; a repeated name has its values joined with ``,``.

    Raises:
        SigningError: a header name contains a character that is not allowed in a token.
    """
    grouped: dict[str, list[str]] = {}
    for name, value in header_pairs(headers):
        lname = name.strip().lower()
        if lname.startswith("x-ms-"):
            grouped.setdefault(lname, []).append(fold_whitespace(value))
    names = sorted(grouped, key=functools.cmp_to_key(_compare_names))
    return "".join(f"{n}:{','.join(grouped[n])}\n" for n in names)


def canonicalized_resource(account_name: str, path: str, query: QueryInput | None) -> str:
    """The CanonicalizedResource part (SharedKey, version 2009-09-19 and later).

    ``/account/path`` with the path exactly as sent (encoded), then for each query parameter,
    by lower-cased name in ascending order, ``\\nname:value`` with the unencoded values of a
    repeated parameter sorted and joined with ``,``.

    Args:
        account_name: Storage account name. Emulators repeat it in the URL path: Azurite's
            ``/devstoreaccount1/c`` gives ``/devstoreaccount1/devstoreaccount1/c``.
        path: Wire path of the request.
        query: Unencoded query pairs.
    """
    grouped: dict[str, list[str]] = {}
    for name, value in query_pairs(query):
        grouped.setdefault(name.lower(), []).append(value)
    resource = f"/{account_name}{path or '/'}"
    return resource + "".join(f"\n{n}:{','.join(sorted(grouped[n]))}" for n in sorted(grouped))


def shared_key_string_to_sign(
    method: str,
    *,
    account_name: str,
    path: str,
    query: QueryInput | None,
    headers: HeadersInput | None,
) -> str:
    """The SharedKey string to sign for the Blob service.

    ``VERB``, then the eleven standard headers in their fixed positions (empty when absent),
    then the canonicalised ``x-ms-*`` headers and the canonicalised resource. A
    ``Content-Length`` of ``0`` is signed as empty from ``x-ms-version`` 2015-02-21 on.

    Args:
        method: HTTP method.
        account_name: Storage account name.
        path: Wire path of the request.
        query: Unencoded query pairs.
        headers: The request's headers, including ``x-ms-date`` and ``x-ms-version``.
    """
    pairs = header_pairs(headers)
    standard: dict[str, list[str]] = {}
    version = ""
    for name, value in pairs:
        lname = name.strip().lower()
        if lname in STANDARD_HEADERS:
            standard.setdefault(lname, []).append(value.strip())
        elif lname == "x-ms-version":
            version = value.strip()
    values = [",".join(standard.get(h, ())) for h in STANDARD_HEADERS]
    if values[2] == "0" and version >= "2015-02-21":
        values[2] = ""
    return (
        f"{method.upper()}\n"
        + "".join(f"{v}\n" for v in values)
        + canonicalized_headers(pairs)
        + canonicalized_resource(account_name, path, query)
    )


def shared_key_authorization(account_name: str, signature: str) -> str:
    """The ``Authorization`` header value: ``SharedKey account:signature``."""
    return f"SharedKey {account_name}:{signature}"


def sign_shared_key(
    method: str,
    *,
    credentials: AzureSharedKey,
    path: str,
    query: QueryInput | None,
    headers: HeadersInput | None,
    now: datetime,
    version: str = DEFAULT_VERSION,
) -> dict[str, str]:
    """Sign a Blob service request with SharedKey.

    Args:
        method: HTTP method.
        credentials: Account name and key.
        path: Wire path (``/container/blob``, encoded once; for Azurite
            ``/devstoreaccount1/container/blob``).
        query: Unencoded query pairs.
        headers: The request's headers (standard and ``x-ms-*``). ``x-ms-date`` and
            ``x-ms-version`` given here are replaced by the signer's.
        now: Request time, timezone-aware (sent as ``x-ms-date``).
        version: ``x-ms-version`` to send.

    Returns:
        The headers to add: ``x-ms-date``, ``x-ms-version`` and ``authorization``.
    """
    added = {"x-ms-date": format_http_date(now), "x-ms-version": version}
    pairs = [(n, v) for n, v in header_pairs(headers) if n.strip().lower() not in added]
    pairs.extend(added.items())
    sts = shared_key_string_to_sign(
        method, account_name=credentials.account_name, path=path, query=query, headers=pairs
    )
    added["authorization"] = shared_key_authorization(
        credentials.account_name, credentials.sign(sts)
    )
    return added


# --- SAS ---------------------------------------------------------------------------------------

_CR = "<canonicalized resource>"

# Service SAS layouts, by first version ("Create a service SAS", "Version 2020-12-06 and later"
# etc.). Each name is the SAS query parameter whose value fills the line; ``snapshot`` is the
# signed snapshot time (or version id).
_SERVICE_LAYOUTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "2020-12-06",
        ("sp", "st", "se", _CR, "si", "sip", "spr", "sv", "sr", "snapshot", "ses",
         "rscc", "rscd", "rsce", "rscl", "rsct"),
    ),
    (
        "2018-11-09",
        ("sp", "st", "se", _CR, "si", "sip", "spr", "sv", "sr", "snapshot",
         "rscc", "rscd", "rsce", "rscl", "rsct"),
    ),
    (
        "2015-04-05",
        ("sp", "st", "se", _CR, "si", "sip", "spr", "sv", "rscc", "rscd", "rsce", "rscl", "rsct"),
    ),
)  # fmt: skip

# User delegation SAS layouts ("Create a user delegation SAS").
_UDK_LAYOUTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "2025-07-05",
        ("sp", "st", "se", _CR, "skoid", "sktid", "skt", "ske", "sks", "skv",
         "saoid", "suoid", "scid", "skdutid", "sduoid", "sip", "spr", "sv", "sr", "snapshot",
         "ses", "rscc", "rscd", "rsce", "rscl", "rsct"),
    ),
    (
        "2020-12-06",
        ("sp", "st", "se", _CR, "skoid", "sktid", "skt", "ske", "sks", "skv",
         "saoid", "suoid", "scid", "sip", "spr", "sv", "sr", "snapshot", "ses",
         "rscc", "rscd", "rsce", "rscl", "rsct"),
    ),
    (
        "2020-02-10",
        ("sp", "st", "se", _CR, "skoid", "sktid", "skt", "ske", "sks", "skv",
         "saoid", "suoid", "scid", "sip", "spr", "sv", "sr", "snapshot",
         "rscc", "rscd", "rsce", "rscl", "rsct"),
    ),
    (
        "2018-11-09",
        ("sp", "st", "se", _CR, "skoid", "sktid", "skt", "ske", "sks", "skv",
         "sip", "spr", "sv", "sr", "snapshot", "rscc", "rscd", "rsce", "rscl", "rsct"),
    ),
)  # fmt: skip

# Account SAS: every field is followed by a newline, including the last.
_ACCOUNT_LAYOUTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("2020-12-06", ("sp", "ss", "srt", "st", "se", "sip", "spr", "sv", "ses")),
    ("2015-04-05", ("sp", "ss", "srt", "st", "se", "sip", "spr", "sv")),
)


def _unsigned_by(
    layouts: tuple[tuple[str, tuple[str, ...]], ...],
) -> dict[tuple[str, ...], frozenset[str]]:
    # For each layout, the fields that some other version signs but this one does not. ``sr``
    # is exempt: it is a query parameter of every service SAS, signed only since 2018-11-09.
    every = {f for _, fields in layouts for f in fields}
    return {fields: frozenset(every - set(fields) - {"sr"}) for _, fields in layouts}


_UNSIGNED_BY = {
    **_unsigned_by(_SERVICE_LAYOUTS),
    **_unsigned_by(_UDK_LAYOUTS),
    **_unsigned_by(_ACCOUNT_LAYOUTS),
}

# Order of the parameters in a token built here (the order is not signed). These names need no
# percent-encoding.
_RANK = {
    name: rank
    for rank, name in enumerate((
        "sv", "ss", "srt", "sp", "st", "se", "sip", "spr", "sr", "sdd", "snapshot", "si", "ses",
        "skoid", "sktid", "skt", "ske", "sks", "skv", "skdutid", "saoid", "suoid", "scid",
        "sduoid", "rscc", "rscd", "rsce", "rscl", "rsct", "sig",
    ))
}  # fmt: skip


def _layout(
    layouts: tuple[tuple[str, tuple[str, ...]], ...], params: Mapping[str, str], kind: str
) -> tuple[str, ...]:
    version = _version(params)
    if not _VERSION.fullmatch(version):
        raise SigningError(f"sv {version!r} is not a service version (YYYY-MM-DD)")
    usable = [fields for first, fields in layouts if version >= first]
    if not usable:
        raise SigningError(f"{kind} with sv {version} is not supported (oldest {layouts[-1][0]})")
    fields = usable[0]
    # A field this version does not sign would be sent unsigned and rejected by the service
    # (for example ``ses`` before 2020-12-06): refuse it rather than produce a bad token.
    stray = sorted(f for f in _UNSIGNED_BY[fields] if params.get(f))
    if stray:
        raise SigningError(f"{kind} with sv {version} cannot carry {', '.join(stray)}")
    return fields


def _version(params: Mapping[str, str]) -> str:
    try:
        return params["sv"]
    except KeyError:
        raise SigningError("SAS parameters need sv (the signed version)") from None


def service_sas_string_to_sign(params: Mapping[str, str], *, canonicalized_resource: str) -> str:
    """String to sign of a service SAS signed with the account key, laid out for ``sv``.

    Args:
        params: The SAS query parameters by name (``sp``, ``st``, ``se``, ``si``, ``sip``,
            ``spr``, ``sv``, ``sr``, ``snapshot``, ``ses``, ``rscc``...); absent ones sign as
            empty lines. ``sdd`` (directory depth) is not signed.
        canonicalized_resource: ``/blob/account/container[/blob]``
            (see :func:`canonicalized_sas_resource`).

    Raises:
        SigningError: ``sv`` is missing, malformed or older than 2015-04-05.
    """
    fields = _layout(_SERVICE_LAYOUTS, params, "a service SAS")
    return "\n".join(canonicalized_resource if f == _CR else params.get(f, "") for f in fields)


def user_delegation_sas_string_to_sign(
    params: Mapping[str, str], *, canonicalized_resource: str
) -> str:
    """String to sign of a user delegation SAS, laid out for ``sv``.

    ``params`` also holds the delegation key's fields as their query names (``skoid``,
    ``sktid``, ``skt``, ``ske``, ``sks``, ``skv``, ``skdutid``) and the optional ``saoid``,
    ``suoid``, ``scid``, ``sduoid``.

    Raises:
        SigningError: ``sv`` is missing, older than 2018-11-09, or newer than
            :data:`LATEST_USER_DELEGATION_LAYOUT`.
    """
    version = _version(params)
    fields = _layout(_UDK_LAYOUTS, params, "a user delegation SAS")
    if version > LATEST_USER_DELEGATION_LAYOUT:
        raise SigningError(
            f"the user delegation SAS layout of sv {version} is not known "
            f"(newest supported {LATEST_USER_DELEGATION_LAYOUT})"
        )
    return "\n".join(canonicalized_resource if f == _CR else params.get(f, "") for f in fields)


def account_sas_string_to_sign(params: Mapping[str, str], *, account_name: str) -> str:
    """String to sign of an account SAS: the account name, then one line per field.

    Raises:
        SigningError: ``sv`` is missing, malformed or older than 2015-04-05.
    """
    fields = _layout(_ACCOUNT_LAYOUTS, params, "an account SAS")
    return f"{account_name}\n" + "".join(f"{params.get(f, '')}\n" for f in fields)


def canonicalized_sas_resource(
    account_name: str, container: str, blob: str | None = None, *, service: str = "blob"
) -> str:
    """``/blob/account/container`` or ``/blob/account/container/blob`` (unencoded names)."""
    resource = f"/{service}/{account_name}/{container}"
    return resource if blob is None else f"{resource}/{blob}"


@functools.lru_cache(maxsize=256)
def canonical_permissions(permissions: str, order: str = BLOB_PERMISSIONS) -> str:
    """Return ``permissions`` rewritten in the canonical order the service requires.

    Raises:
        SigningError: a letter is not a permission of this kind of SAS.
    """
    unknown = set(permissions) - set(order)
    if unknown:
        raise SigningError(f"unknown SAS permission(s): {''.join(sorted(unknown))}")
    return "".join(p for p in order if p in permissions)


def encode_sas(pairs: Iterable[tuple[str, str]]) -> str:
    """Percent-encode SAS ``(name, value)`` pairs into a query string (RFC 3986)."""
    return "&".join([f"{k if k in _RANK else uri_encode(k)}={uri_encode(v)}" for k, v in pairs])


def _pairs(params: Mapping[str, str], signature: str) -> list[tuple[str, str]]:
    ordered = sorted(
        ((k, v) for k, v in params.items() if v), key=lambda kv: _RANK.get(kv[0], len(_RANK))
    )
    ordered.append(("sig", signature))
    return ordered


def _common(
    *,
    permissions: str,
    order: str,
    expiry: datetime | None,
    start: datetime | None,
    ip: str | None,
    protocol: str | None,
    version: str,
) -> dict[str, str]:
    params = {"sv": version, "sp": canonical_permissions(permissions, order)}
    if start is not None:
        params["st"] = format_iso8601(start)
    if expiry is not None:
        params["se"] = format_iso8601(expiry)
    if ip:
        params["sip"] = ip
    if protocol:
        if protocol not in ("https", "https,http"):
            raise SigningError("protocol must be 'https' or 'https,http'")
        params["spr"] = protocol
    return params


def _overrides(
    params: dict[str, str],
    *,
    cache_control: str | None,
    content_disposition: str | None,
    content_encoding: str | None,
    content_language: str | None,
    content_type: str | None,
) -> None:
    # Response-header overrides: returned instead of the blob's stored properties.
    for name, value in (
        ("rscc", cache_control),
        ("rscd", content_disposition),
        ("rsce", content_encoding),
        ("rscl", content_language),
        ("rsct", content_type),
    ):
        if value:
            params[name] = value


def blob_sas(
    credentials: AzureSharedKey,
    *,
    container: str,
    blob: str,
    permissions: str,
    expiry: datetime | None,
    start: datetime | None = None,
    ip: str | None = None,
    protocol: str | None = None,
    identifier: str | None = None,
    version: str = DEFAULT_VERSION,
    snapshot: str | None = None,
    encryption_scope: str | None = None,
    cache_control: str | None = None,
    content_disposition: str | None = None,
    content_encoding: str | None = None,
    content_language: str | None = None,
    content_type: str | None = None,
) -> list[tuple[str, str]]:
    """A service SAS for one blob (``sr=b``, or ``sr=bs`` with ``snapshot``), account-key signed.

    Args:
        credentials: Account name and key.
        container: Container name.
        blob: Blob name (unencoded).
        permissions: Permission letters (any order; rewritten in canonical order).
        expiry: End of validity (may be ``None`` when ``identifier`` names a stored policy
            that sets it).
        start: Start of validity.
        ip: Allowed address or range (``168.1.5.60-168.1.5.70``).
        protocol: ``https`` or ``https,http``.
        identifier: Stored access policy id (``si``).
        version: Signed version ``sv``; it chooses the string-to-sign layout.
        snapshot: Snapshot time, for a SAS on a snapshot.
        encryption_scope: Encryption scope (``ses``, 2020-12-06 and later).
        cache_control: ``rscc`` override.
        content_disposition: ``rscd`` override.
        content_encoding: ``rsce`` override.
        content_language: ``rscl`` override.
        content_type: ``rsct`` override.

    Returns:
        The SAS token as unencoded pairs ending with ``sig`` (see :func:`encode_sas`).

    Raises:
        SigningError: unknown permission, unsupported version, bad protocol, naive datetime.
    """
    params = _common(
        permissions=permissions,
        order=BLOB_PERMISSIONS,
        expiry=expiry,
        start=start,
        ip=ip,
        protocol=protocol,
        version=version,
    )
    params["sr"] = "bs" if snapshot else "b"
    if snapshot:
        params["snapshot"] = snapshot
    if identifier:
        params["si"] = identifier
    if encryption_scope:
        params["ses"] = encryption_scope
    _overrides(
        params,
        cache_control=cache_control,
        content_disposition=content_disposition,
        content_encoding=content_encoding,
        content_language=content_language,
        content_type=content_type,
    )
    resource = canonicalized_sas_resource(credentials.account_name, container, blob)
    sts = service_sas_string_to_sign(params, canonicalized_resource=resource)
    return _pairs(params, credentials.sign(sts))


def container_sas(
    credentials: AzureSharedKey,
    *,
    container: str,
    permissions: str,
    expiry: datetime | None,
    start: datetime | None = None,
    ip: str | None = None,
    protocol: str | None = None,
    identifier: str | None = None,
    version: str = DEFAULT_VERSION,
    encryption_scope: str | None = None,
    cache_control: str | None = None,
    content_disposition: str | None = None,
    content_encoding: str | None = None,
    content_language: str | None = None,
    content_type: str | None = None,
) -> list[tuple[str, str]]:
    """A service SAS for a container (``sr=c``), account-key signed; see :func:`blob_sas`."""
    params = _common(
        permissions=permissions,
        order=BLOB_PERMISSIONS,
        expiry=expiry,
        start=start,
        ip=ip,
        protocol=protocol,
        version=version,
    )
    params["sr"] = "c"
    if identifier:
        params["si"] = identifier
    if encryption_scope:
        params["ses"] = encryption_scope
    _overrides(
        params,
        cache_control=cache_control,
        content_disposition=content_disposition,
        content_encoding=content_encoding,
        content_language=content_language,
        content_type=content_type,
    )
    resource = canonicalized_sas_resource(credentials.account_name, container)
    sts = service_sas_string_to_sign(params, canonicalized_resource=resource)
    return _pairs(params, credentials.sign(sts))


def account_sas(
    credentials: AzureSharedKey,
    *,
    services: str,
    resource_types: str,
    permissions: str,
    expiry: datetime,
    start: datetime | None = None,
    ip: str | None = None,
    protocol: str | None = None,
    version: str = DEFAULT_VERSION,
    encryption_scope: str | None = None,
) -> list[tuple[str, str]]:
    """An account SAS.

    Args:
        credentials: Account name and key.
        services: Services letters (``b`` blob, ``q`` queue, ``t`` table, ``f`` file).
        resource_types: Resource type letters (``s`` service, ``c`` container, ``o`` object).
        permissions: Permission letters (rewritten in the canonical account order).
        expiry: End of validity.
        start: Start of validity.
        ip: Allowed address or range.
        protocol: ``https`` or ``https,http``.
        version: Signed version; it chooses the string-to-sign layout.
        encryption_scope: Encryption scope (2020-12-06 and later).

    Returns:
        The SAS token as unencoded pairs ending with ``sig``.

    Raises:
        SigningError: unknown permission, service or resource type letter; unsupported version.
    """
    if not services or set(services) - set("bqtf"):
        raise SigningError("services must be letters among b, q, t, f")
    if not resource_types or set(resource_types) - set("sco"):
        raise SigningError("resource_types must be letters among s, c, o")
    params = _common(
        permissions=permissions,
        order=ACCOUNT_PERMISSIONS,
        expiry=expiry,
        start=start,
        ip=ip,
        protocol=protocol,
        version=version,
    )
    params["ss"] = "".join(c for c in "bqtf" if c in services)
    params["srt"] = "".join(c for c in "sco" if c in resource_types)
    if encryption_scope:
        params["ses"] = encryption_scope
    sts = account_sas_string_to_sign(params, account_name=credentials.account_name)
    return _pairs(params, credentials.sign(sts))


def user_delegation_sas(
    key: UserDelegationKey,
    *,
    account_name: str,
    container: str,
    blob: str | None = None,
    permissions: str,
    expiry: datetime,
    start: datetime | None = None,
    ip: str | None = None,
    protocol: str | None = None,
    version: str = DEFAULT_VERSION,
    snapshot: str | None = None,
    encryption_scope: str | None = None,
    preauthorized_agent_object_id: str | None = None,
    correlation_id: str | None = None,
    delegated_user_object_id: str | None = None,
    cache_control: str | None = None,
    content_disposition: str | None = None,
    content_encoding: str | None = None,
    content_language: str | None = None,
    content_type: str | None = None,
) -> list[tuple[str, str]]:
    """A user delegation SAS for a blob (``sr=b``/``bs``) or a container (``sr=c``).

    The delegation key is fetched elsewhere (Get User Delegation Key, with an Entra ID
    token); this function only signs with it.

    Args:
        key: The user delegation key.
        account_name: Storage account name.
        container: Container name.
        blob: Blob name, or ``None`` for a container SAS.
        permissions: Permission letters (rewritten in canonical order).
        expiry: End of validity.
        start: Start of validity.
        ip: Allowed address or range.
        protocol: ``https`` or ``https,http``.
        version: Signed version (2018-11-09 to :data:`LATEST_USER_DELEGATION_LAYOUT`).
        snapshot: Snapshot time, for a SAS on a snapshot.
        encryption_scope: Encryption scope (2020-12-06 and later).
        preauthorized_agent_object_id: ``saoid`` (2020-02-10 and later).
        correlation_id: ``scid`` (2020-02-10 and later).
        delegated_user_object_id: ``sduoid``, the only user allowed to use the SAS
            (2025-07-05 and later).
        cache_control: ``rscc`` override.
        content_disposition: ``rscd`` override.
        content_encoding: ``rsce`` override.
        content_language: ``rscl`` override.
        content_type: ``rsct`` override.

    Returns:
        The SAS token as unencoded pairs ending with ``sig``.

    Raises:
        SigningError: unknown permission, unsupported version, bad protocol, naive datetime.
    """
    params = _common(
        permissions=permissions,
        order=BLOB_PERMISSIONS,
        expiry=expiry,
        start=start,
        ip=ip,
        protocol=protocol,
        version=version,
    )
    params["sr"] = "c" if blob is None else ("bs" if snapshot else "b")
    if snapshot and blob is not None:
        params["snapshot"] = snapshot
    params.update(
        {
            "skoid": key.signed_oid,
            "sktid": key.signed_tid,
            "skt": key.signed_start,
            "ske": key.signed_expiry,
            "sks": key.signed_service,
            "skv": key.signed_version,
        }
    )
    for name, value in (
        ("skdutid", key.signed_delegated_user_tid),
        ("saoid", preauthorized_agent_object_id),
        ("scid", correlation_id),
        ("sduoid", delegated_user_object_id),
        ("ses", encryption_scope),
    ):
        if value:
            params[name] = value
    _overrides(
        params,
        cache_control=cache_control,
        content_disposition=content_disposition,
        content_encoding=content_encoding,
        content_language=content_language,
        content_type=content_type,
    )
    resource = canonicalized_sas_resource(account_name, container, blob)
    sts = user_delegation_sas_string_to_sign(params, canonicalized_resource=resource)
    return _pairs(params, key.sign(sts))
