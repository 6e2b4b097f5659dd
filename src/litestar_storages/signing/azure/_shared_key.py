"""Azure SharedKey: the ``Authorization`` header of a Blob service request.

Stages: :func:`canonicalized_headers`, :func:`canonicalized_resource`,
:func:`shared_key_string_to_sign`, :func:`shared_key_authorization`, and :func:`sign_shared_key`
for the whole request. Specification: "Authorize with Shared Key".
"""

from __future__ import annotations

import functools
from datetime import datetime

from litestar_storages.signing._canonical import (
    HeadersInput,
    QueryInput,
    SigningError,
    fold_whitespace,
    format_http_date,
    header_pairs,
    query_pairs,
)
from litestar_storages.signing.azure._keys import DEFAULT_VERSION, AzureSharedKey

__all__ = [
    "STANDARD_HEADERS",
    "canonicalized_headers",
    "canonicalized_resource",
    "shared_key_authorization",
    "shared_key_string_to_sign",
    "sign_shared_key",
]

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
