"""Azure SAS tokens: service (blob, container), account and user delegation SAS.

Each builder returns the full token as unencoded ``(name, value)`` pairs ending with ``sig``;
:func:`encode_sas` encodes them for the URL. :func:`sas_window` chooses when a token is valid.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from litestar_storages.signing._canonical import SigningError, format_iso8601, uri_encode
from litestar_storages.signing.azure._keys import (
    DEFAULT_VERSION,
    AzureSharedKey,
    UserDelegationKey,
)
from litestar_storages.signing.azure._sas_layouts import (
    account_sas_string_to_sign,
    canonicalized_sas_resource,
    service_sas_string_to_sign,
    user_delegation_sas_string_to_sign,
)

__all__ = [
    "ACCOUNT_PERMISSIONS",
    "BLOB_PERMISSIONS",
    "SasWindow",
    "account_sas",
    "blob_sas",
    "canonical_permissions",
    "container_sas",
    "encode_sas",
    "sas_window",
    "user_delegation_sas",
]

BLOB_PERMISSIONS = "racwdxyltfmeopi"
"""Canonical order of service/user-delegation SAS permissions ("Create a service SAS":
read, add, create, write, delete, delete version, permanent delete, list, tags, filter by
tags, move, execute, ownership, permissions, set immutability policy)."""

ACCOUNT_PERMISSIONS = "rwdxylacuptfi"
"""Canonical order of account SAS permissions ("Create an account SAS")."""

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


@dataclass(frozen=True)
class SasWindow:
    """When a SAS token is valid: ``st`` and ``se``."""

    start: datetime
    expiry: datetime


def sas_window(now: datetime, expires_in: timedelta, *, skew: timedelta) -> SasWindow:
    """Start ``skew`` before ``now``, expire ``expires_in`` after it.

    Starting a little in the past lets clocks that run behind the service's use the token at
    once ("Best practices when using SAS").

    Raises:
        SigningError: ``expires_in`` is not a positive ``timedelta``.
    """
    if not isinstance(expires_in, timedelta):
        raise SigningError(f"expires_in must be a timedelta, not {type(expires_in).__name__}")
    if expires_in <= timedelta(0):
        raise SigningError("expires_in must be positive")
    # Seconds are the finest unit a SAS time carries ("Create a service SAS": ISO 8601 UTC).
    now = now.replace(microsecond=0)
    return SasWindow(start=now - skew, expiry=now + expires_in)


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
