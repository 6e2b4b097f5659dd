"""SAS URLs computed locally: permissions chosen from the intended use, times, and checks.

Pure: the time is an argument, and signing (the SAS builders, the time window and the fast
``BlobSasSigner``) is ``signing.azure``'s; this module adds the backend's choices and errors
(``StorageConfigurationError`` carrying the key). The rules come from "Create a service SAS"
and "Best practices when using SAS": grant only the permissions the holder needs, restrict to
HTTPS where the endpoint uses it, start the token a little in the past so clocks that run
behind the service's can use it at once, and keep lifetimes finite.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from litestar_storages.exceptions import StorageConfigurationError
from litestar_storages.signing import SigningError
from litestar_storages.signing import azure as azure_signing
from litestar_storages.signing.azure import (
    BLOB_PERMISSIONS,
    AzureSharedKey,
    SasWindow,
    UserDelegationKey,
    account_sas,
    canonical_permissions,
    container_sas,
    encode_sas,
    user_delegation_sas,
)

__all__ = [
    "METHOD_PERMISSIONS",
    "BlobSasSigner",
    "SasWindow",
    "account_sas_query",
    "container_sas_query",
    "permissions_for",
    "sas_window",
    "user_delegation_sas_query",
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


def sas_window(
    now: datetime, expires_in: timedelta, *, skew: timedelta, key: str | None = None
) -> SasWindow:
    """Start ``skew`` before ``now``, expire ``expires_in`` after it (``signing.azure``'s rule).

    Raises:
        StorageConfigurationError: ``expires_in`` is not a positive ``timedelta``.
    """
    try:
        return azure_signing.sas_window(now, expires_in, skew=skew)
    except SigningError as exc:
        raise _config_error(exc, key) from None


def _config_error(exc: SigningError, key: str | None) -> StorageConfigurationError:
    return StorageConfigurationError(str(exc), key=key, backend="azure")


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


def user_delegation_sas_query(
    delegation_key: UserDelegationKey,
    *,
    account_name: str,
    container: str,
    blob: str | None,
    permissions: str,
    window: SasWindow,
    protocol: str | None,
    version: str,
    content_disposition: str | None = None,
    content_type: str | None = None,
    key: str | None = None,
) -> str:
    """The encoded query string of a user delegation SAS for a blob (or, with ``blob=None``,
    the container), signed with a key from Get User Delegation Key.

    Raises:
        StorageConfigurationError: The signer refused the inputs.
    """
    try:
        pairs = user_delegation_sas(
            delegation_key,
            account_name=account_name,
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


class BlobSasSigner(azure_signing.BlobSasSigner):
    """``signing.azure.BlobSasSigner`` (blob SAS query strings for one container, fast), its
    refusals raised as ``StorageConfigurationError`` carrying the key."""

    __slots__ = ()

    def query(
        self,
        blob: str,
        *,
        permissions: str,
        now: datetime,
        expires_in: timedelta,
        skew: timedelta,
        content_disposition: str | None = None,
        content_type: str | None = None,
        key: str | None = None,
    ) -> str:
        """The encoded query string of a read/write/... SAS for ``blob`` (see ``sas_window``).

        Raises:
            StorageConfigurationError: Bad expiry, or the signer refused the inputs.
        """
        try:
            # The base class by name rather than super(): a presign's hot path, measurably cheaper.
            return azure_signing.BlobSasSigner.query(
                self,
                blob,
                permissions=permissions,
                now=now,
                expires_in=expires_in,
                skew=skew,
                content_disposition=content_disposition,
                content_type=content_type,
            )
        except SigningError as exc:
            raise _config_error(exc, key) from None
