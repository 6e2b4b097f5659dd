"""SAS URLs computed locally: permissions chosen from the intended use, times, and checks.

Pure: the time is an argument and signing is ``signing.azure``'s. The rules come from "Create a
service SAS" and "Best practices when using SAS": grant only the permissions the holder needs,
restrict to HTTPS where the endpoint uses it, start the token a little in the past so clocks
that run behind the service's can use it at once, and keep lifetimes finite.
"""

from __future__ import annotations

import hashlib
from binascii import b2a_base64
from dataclasses import dataclass
from datetime import datetime, timedelta

from litestar_storages.exceptions import StorageConfigurationError
from litestar_storages.signing import SigningError
from litestar_storages.signing.azure import (
    BLOB_PERMISSIONS,
    AzureSharedKey,
    UserDelegationKey,
    account_sas,
    blob_sas,
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
    "blob_sas_query",
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


# The service SAS string-to-sign of "Create a service SAS", versions 2020-12-06 and later:
# sp, st, se, canonicalized resource, si, sip, spr, sv, sr, snapshot, ses, rscc, rscd, rsce,
# rscl, rsct, one per line. The fast signer below writes it directly for the common case.
_FAST_LAYOUT_SINCE = "2020-12-06"


def _iso(moment: datetime) -> str:
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )


def _b64_to_query(signature: str) -> str:
    # base64's "+", "/" and "=" percent-encoded: what encode_sas (RFC 3986) writes.
    return signature.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")


class _HmacSha256:
    """HMAC-SHA256 with a fixed key, its two padded-key hash states computed once (RFC 2104).

    ``hmac.HMAC.copy()`` rebuilds a Python wrapper object on every call; copying the two
    ``hashlib`` states costs a third of that. Checked against ``signing.azure`` by the tests.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        block = 64  # SHA-256's block size
        if len(key) > block:
            key = hashlib.sha256(key).digest()
        key = key.ljust(block, b"\0")
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


class BlobSasSigner:
    """Blob SAS query strings for one container, as fast as Python allows.

    Produces exactly what :func:`blob_sas_query` produces (``signing.azure.blob_sas`` then
    ``encode_sas``; a unit test compares them) for the common case (no header overrides, a
    version with the 2020-12-06 layout), with the per-storage parts prepared once (the HMAC key
    schedule, the canonicalised resource prefix) and the per-second parts cached.
    Other cases go through :func:`blob_sas_query`.
    """

    __slots__ = ("_cached", "_credential", "_hmac", "_prefix", "_protocol", "_version", "container")

    def __init__(
        self, credential: AzureSharedKey, *, container: str, version: str, protocol: str | None
    ) -> None:
        self._credential = credential
        self._hmac = _HmacSha256(credential.key)
        self._prefix = f"/blob/{credential.account_name}/{container}/"
        self._protocol = protocol
        self._version = version
        self.container = container
        self._cached: tuple[object, str, str, str] = (None, "", "", "")

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
        if content_disposition or content_type or self._version < _FAST_LAYOUT_SINCE:
            return blob_sas_query(
                self._credential,
                container=self.container,
                blob=blob,
                permissions=permissions,
                window=sas_window(now, expires_in, skew=skew, key=key),
                protocol=self._protocol,
                version=self._version,
                content_disposition=content_disposition,
                content_type=content_type,
                key=key,
            )
        # Within one second, for one lifetime and one set of permissions, everything but the
        # blob name is the same: both the string-to-sign around it and the query are cached.
        cache_key = (int(now.timestamp()), expires_in, skew, permissions)
        cached = self._cached
        if cached[0] != cache_key:
            window = sas_window(now, expires_in, skew=skew, key=key)
            start, expiry = _iso(window.start), _iso(window.expiry)
            protocol = self._protocol or ""
            spr = f"&spr={protocol.replace(',', '%2C')}" if protocol else ""
            cached = (
                cache_key,
                f"{permissions}\n{start}\n{expiry}\n{self._prefix}",
                f"\n\n\n{protocol}\n{self._version}\nb\n\n\n\n\n\n\n",
                f"sv={self._version}&sp={permissions}&st={start.replace(':', '%3A')}"
                f"&se={expiry.replace(':', '%3A')}{spr}&sr=b&sig=",
            )
            self._cached = cached
        mac = self._hmac.digest(f"{cached[1]}{blob}{cached[2]}".encode())
        return cached[3] + _b64_to_query(b2a_base64(mac, newline=False).decode("ascii"))
