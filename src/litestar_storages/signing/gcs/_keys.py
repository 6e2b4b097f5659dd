"""GCS keys: a service account (RSA, ``GOOG4-RSA-SHA256``) or an HMAC key (``GOOG4-HMAC-SHA256``).

Also how each signs a string locally. ``cryptography`` is imported only when an RSA key is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from litestar_storages.signing._canonical import SigningError, hmac_sha256, mask
from litestar_storages.signing.sigv4 import signing_key

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

__all__ = [
    "GOOG4_HMAC",
    "GOOG4_RSA",
    "TOKEN_URI",
    "GcsHmacKey",
    "GcsServiceAccount",
    "algorithm_and_id",
    "hmac_signing_key",
    "rsa_sign",
    "sign_string",
]

GOOG4_RSA = "GOOG4-RSA-SHA256"
"""Algorithm of URLs signed with a service-account RSA key."""

GOOG4_HMAC = "GOOG4-HMAC-SHA256"
"""Algorithm of URLs signed with an HMAC key."""

TOKEN_URI = "https://oauth2.googleapis.com/token"
"""OAuth2 token endpoint: the JWT assertion's audience."""


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


def algorithm_and_id(credentials: GcsServiceAccount | GcsHmacKey) -> tuple[str, str]:
    if isinstance(credentials, GcsHmacKey):
        return GOOG4_HMAC, credentials.access_id
    return GOOG4_RSA, credentials.client_email
