"""SAS URLs computed locally: permissions chosen from the intended use, times, and checks.

Pure: the time is an argument and signing is ``signing.azure``'s. The rules come from "Create a
service SAS" and "Best practices when using SAS": grant only the permissions the holder needs,
restrict to HTTPS where the endpoint uses it, start the token a little in the past so clocks
that run behind the service's can use it at once, and keep lifetimes finite.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from litestar_storages.exceptions import StorageConfigurationError
from litestar_storages.signing import SigningError
from litestar_storages.signing.azure import (
    BLOB_PERMISSIONS,
    AzureSharedKey,
    account_sas,
    blob_sas,
    canonical_permissions,
    container_sas,
    encode_sas,
)

__all__ = [
    "METHOD_PERMISSIONS",
    "SasWindow",
    "account_sas_query",
    "blob_sas_query",
    "container_sas_query",
    "permissions_for",
    "sas_window",
]

METHOD_PERMISSIONS = {
    "GET": "r",  # download (and HEAD)
    "HEAD": "r",
    "PUT": "cw",  # upload: create a new blob or overwrite one (Put Blob, Put Block, Block List)
    "DELETE": "d",
}
"""The least permissions a SAS URL needs for each HTTP method a holder will use."""


def permissions_for(method: str, permissions: str | None, *, key: str | None = None) -> str:
    """The permission letters for a SAS URL: ``permissions`` as given, else those of ``method``.

    Raises:
        StorageConfigurationError: Unknown method or permission letter.
    """
    if permissions is not None:
        try:
            chosen = canonical_permissions(permissions, BLOB_PERMISSIONS)
        except SigningError as exc:
            raise StorageConfigurationError(str(exc), key=key, backend="azure") from None
        if not chosen:
            raise StorageConfigurationError(
                "permissions must not be empty", key=key, backend="azure"
            )
        return chosen
    try:
        return METHOD_PERMISSIONS[method.upper()]
    except KeyError:
        raise StorageConfigurationError(
            f"no SAS permissions for method {method!r}: use GET, HEAD, PUT or DELETE, or pass "
            "permissions=",
            key=key,
            backend="azure",
        ) from None


@dataclass(frozen=True)
class SasWindow:
    """When a SAS token is valid: ``st`` and ``se``."""

    start: datetime
    expiry: datetime


def sas_window(
    now: datetime, expires_in: timedelta, *, skew: timedelta, key: str | None = None
) -> SasWindow:
    """Start ``skew`` before ``now``, expire ``expires_in`` after it.

    Raises:
        StorageConfigurationError: ``expires_in`` is not a positive ``timedelta``.
    """
    if not isinstance(expires_in, timedelta):
        raise StorageConfigurationError(
            f"expires_in must be a timedelta, not {type(expires_in).__name__}",
            key=key,
            backend="azure",
        )
    if expires_in <= timedelta(0):
        raise StorageConfigurationError("expires_in must be positive", key=key, backend="azure")
    # Seconds are the finest unit a SAS time carries ("Create a service SAS": ISO 8601 UTC).
    now = now.replace(microsecond=0)
    return SasWindow(start=now - skew, expiry=now + expires_in)


def _config_error(exc: SigningError, key: str | None) -> StorageConfigurationError:
    return StorageConfigurationError(str(exc), key=key, backend="azure")


def blob_sas_query(
    credential: AzureSharedKey,
    *,
    container: str,
    blob: str,
    permissions: str,
    window: SasWindow,
    protocol: str | None,
    version: str,
    content_disposition: str | None = None,
    content_type: str | None = None,
    key: str | None = None,
) -> str:
    """The encoded query string of a service SAS for one blob.

    Raises:
        StorageConfigurationError: The signer refused the inputs.
    """
    try:
        pairs = blob_sas(
            credential,
            container=container,
            blob=blob,
            permissions=permissions,
            start=window.start,
            expiry=window.expiry,
            protocol=protocol,
            version=version,
            content_disposition=content_disposition,
            content_type=content_type,
        )
    except SigningError as exc:
        raise _config_error(exc, key) from None
    return encode_sas(pairs)


def container_sas_query(
    credential: AzureSharedKey,
    *,
    container: str,
    permissions: str,
    window: SasWindow,
    protocol: str | None,
    version: str,
) -> str:
    """The encoded query string of a service SAS for the container.

    Raises:
        StorageConfigurationError: The signer refused the inputs.
    """
    try:
        pairs = container_sas(
            credential,
            container=container,
            permissions=permissions,
            start=window.start,
            expiry=window.expiry,
            protocol=protocol,
            version=version,
        )
    except SigningError as exc:
        raise _config_error(exc, None) from None
    return encode_sas(pairs)


def account_sas_query(
    credential: AzureSharedKey,
    *,
    services: str,
    resource_types: str,
    permissions: str,
    window: SasWindow,
    protocol: str | None,
    version: str,
) -> str:
    """The encoded query string of an account SAS.

    Raises:
        StorageConfigurationError: The signer refused the inputs (unknown letters...).
    """
    try:
        pairs = account_sas(
            credential,
            services=services,
            resource_types=resource_types,
            permissions=permissions,
            start=window.start,
            expiry=window.expiry,
            protocol=protocol,
            version=version,
        )
    except SigningError as exc:
        raise _config_error(exc, None) from None
    return encode_sas(pairs)
