"""The IAM Service Account Credentials API: impersonation and keyless signing. Pure.

Two methods of ``projects.serviceAccounts`` (IAM Credentials API v1 reference):

* ``generateAccessToken``: ``POST /v1/projects/-/serviceAccounts/{email}:generateAccessToken``
  with ``{"scope": [...], "lifetime": "3600s", "delegates": [...]}`` answers
  ``{"accessToken": ..., "expireTime": "2026-01-02T04:04:05Z"}``: a token of the target
  account, for a caller holding ``roles/iam.serviceAccountTokenCreator`` on it (service-account
  impersonation);
* ``signBlob``: ``POST .../{email}:signBlob`` with ``{"payload": base64, "delegates": [...]}``
  answers ``{"keyId": ..., "signedBlob": base64}``: an RSA-SHA256 signature by one of the
  account's Google-managed keys. The V4 signing string signed this way makes a
  ``GOOG4-RSA-SHA256`` URL with no key file anywhere ("V4 signing process with your own
  program": "sign the string using the IAM signBlob method").

The ``-`` in the resource name is required ("replacing it with a project ID is invalid"), and
so are the ``projects/-/serviceAccounts/`` prefixes of the delegates. The caller's token needs
the ``cloud-platform`` scope. Builders here return :class:`HttpRequest` without authorisation;
the bearer token is added per attempt by the sender's signer.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import quote

from litestar_storages._http.credentials import Expiring
from litestar_storages._http.request import HttpRequest
from litestar_storages.backends.gcs._wire import parse_rfc3339
from litestar_storages.exceptions import StoragePermissionError

__all__ = [
    "CLOUD_PLATFORM_SCOPE",
    "IAM_ENDPOINT",
    "delegate_names",
    "generate_access_token_request",
    "parse_generate_access_token",
    "parse_sign_blob",
    "sign_blob_request",
]

IAM_ENDPOINT = "https://iamcredentials.googleapis.com"
"""The IAM Credentials API's origin."""

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
"""The scope a token needs to call the IAM Credentials API."""

MAX_LIFETIME = 3600
"""Longest token ``generateAccessToken`` grants without an organisation policy (1 hour)."""


def delegate_names(delegates: Sequence[str]) -> list[str]:
    """Delegates as the API wants them: ``projects/-/serviceAccounts/<email>``."""
    prefix = "projects/-/serviceAccounts/"
    return [d if d.startswith(prefix) else f"{prefix}{d}" for d in delegates]


def _account_path(email: str, method: str) -> str:
    return f"/v1/projects/-/serviceAccounts/{quote(email, safe='@')}:{method}"


def _post(origin: str, email: str, method: str, document: dict[str, object]) -> HttpRequest:
    return HttpRequest(
        method="POST",
        origin=origin,
        path=_account_path(email, method),
        headers={"content-type": "application/json"},
        body=json.dumps(document, separators=(",", ":")).encode(),
        operation=f"iamcredentials {method}",
        idempotent=True,  # neither call changes anything: a retry just asks again
    )


def generate_access_token_request(
    origin: str,
    email: str,
    *,
    scopes: Sequence[str],
    delegates: Sequence[str] = (),
    lifetime: int = MAX_LIFETIME,
) -> HttpRequest:
    """The ``generateAccessToken`` request for a token of ``email``."""
    document: dict[str, object] = {"scope": list(scopes), "lifetime": f"{lifetime}s"}
    if delegates:
        document["delegates"] = delegate_names(delegates)
    return _post(origin, email, "generateAccessToken", document)


def parse_generate_access_token(body: bytes, now: datetime) -> Expiring[str]:
    """The token and its expiry from a ``generateAccessToken`` answer.

    Raises:
        StoragePermissionError: The answer carries no token.
    """
    document = _json(body)
    token = document.get("accessToken") if document else None
    if not isinstance(token, str) or not token:
        raise StoragePermissionError(
            "generateAccessToken answered without an accessToken", backend="gcs"
        )
    expires = parse_rfc3339(document.get("expireTime")) if document else None
    if expires is None:  # "The expiration time is always set"; be safe if it is not
        expires = now + timedelta(seconds=MAX_LIFETIME)
    return Expiring(token, expires)


def sign_blob_request(
    origin: str, email: str, payload: bytes, *, delegates: Sequence[str] = ()
) -> HttpRequest:
    """The ``signBlob`` request signing ``payload`` as ``email``."""
    document: dict[str, object] = {"payload": base64.b64encode(payload).decode("ascii")}
    if delegates:
        document["delegates"] = delegate_names(delegates)
    return _post(origin, email, "signBlob", document)


def parse_sign_blob(body: bytes) -> bytes:
    """The raw signature from a ``signBlob`` answer.

    Raises:
        StoragePermissionError: The answer carries no signature.
    """
    document = _json(body)
    signed = document.get("signedBlob") if document else None
    try:
        if not isinstance(signed, str):
            raise ValueError
        return base64.b64decode(signed, validate=True)
    except (ValueError, binascii.Error):
        raise StoragePermissionError(
            "signBlob answered without a signedBlob", backend="gcs"
        ) from None


def _json(body: bytes) -> dict[str, object] | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None
