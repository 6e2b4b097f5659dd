"""The OAuth2 service-account assertion: a JWT signed with the account's key (RS256).

``pyjwt`` is imported only when an assertion is signed. Specification: "Using OAuth 2.0 for
Server to Server Applications".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from litestar_storages.signing._canonical import SigningError, require_utc
from litestar_storages.signing.gcs._keys import GcsServiceAccount

__all__ = [
    "JWT_BEARER_GRANT",
    "MAX_JWT_LIFETIME",
    "jwt_assertion",
    "jwt_claims",
    "token_request_body",
]

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
"""``grant_type`` of a token request made with a JWT assertion (RFC 7523)."""


MAX_JWT_LIFETIME = 3600
"""Google accepts assertions whose ``exp`` is at most one hour after ``iat``."""


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
