"""Azure keys: the storage account key and a user delegation key, each an HMAC-SHA256 key.

Each decodes its base64 value and keys an HMAC once; every signature then copies it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from litestar_storages.signing._canonical import SigningError, b64encode, hmac_sha256, mask

__all__ = ["DEFAULT_VERSION", "AzureSharedKey", "UserDelegationKey", "hmac_signature"]

DEFAULT_VERSION = "2025-11-05"
"""The ``x-ms-version`` (and SAS ``sv``) sent by default. Azurite 3.35 accepts it."""


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
