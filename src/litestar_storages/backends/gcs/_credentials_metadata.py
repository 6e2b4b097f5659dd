"""The metadata server of GCE, GKE and Cloud Run: where it is, what to ask, what it says. Pure.

"About VM metadata" and "Authenticate workloads using service accounts" (Compute Engine):

* every request carries ``Metadata-Flavor: Google``; the server refuses requests without it
  (a guard against SSRF through software that fetches arbitrary URLs) and puts the same header
  on its answers, which is how google-auth tells the real server from anything else that
  happens to answer on the address;
* ``GET /computeMetadata/v1/instance/service-accounts/default/token`` answers
  ``{"access_token": ..., "expires_in": 3599, "token_type": "Bearer"}`` (the same shape as the
  OAuth2 token endpoint, parsed by ``credentials.parse_token_response``);
* ``GET /computeMetadata/v1/instance/service-accounts/default/email`` answers the attached
  service account's e-mail as plain text (needed to sign URLs through ``signBlob``).

The address: ``GCE_METADATA_HOST`` (google-auth and the Go client), its older name
``GCE_METADATA_ROOT``, else ``GCE_METADATA_IP``, else ``169.254.169.254``. The IP rather than
``metadata.google.internal`` is the Go client's choice: off Google Cloud there is no DNS
lookup to wait for. ``NO_GCE_CHECK=true`` (google-auth's switch) leaves the server out.
"""

from __future__ import annotations

from collections.abc import Mapping

from litestar_storages._http.request import HttpRequest
from litestar_storages.exceptions import StorageConfigurationError, StoragePermissionError

__all__ = [
    "DEFAULT_METADATA_IP",
    "EMAIL_PATH",
    "FLAVOR",
    "TOKEN_PATH",
    "email_request",
    "metadata_disabled",
    "metadata_origin",
    "parse_email",
    "token_request",
]

DEFAULT_METADATA_IP = "169.254.169.254"
"""The metadata server's documented link-local address."""

TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token"
EMAIL_PATH = "/computeMetadata/v1/instance/service-accounts/default/email"

FLAVOR = "Google"
"""The value of ``Metadata-Flavor`` on requests to, and answers from, the metadata server."""
_ENV_NAMES = ("GCE_METADATA_HOST", "GCE_METADATA_ROOT", "GCE_METADATA_IP")


def metadata_disabled(env: Mapping[str, str]) -> bool:
    """Whether ``NO_GCE_CHECK`` asks to leave the metadata server out (google-auth's switch)."""
    return env.get("NO_GCE_CHECK", "").strip().lower() in ("1", "true", "yes")


def metadata_origin(env: Mapping[str, str]) -> tuple[str, str]:
    """``(origin, where it came from)`` of the metadata server.

    Raises:
        StorageConfigurationError: The variable holds a URL with a path, or an https URL (the
            server speaks plain http on a link-local address).
    """
    for name in _ENV_NAMES:
        value = env.get(name, "").strip()
        if value:
            host = value.removeprefix("http://").rstrip("/")
            if not host or "/" in host or "://" in host:
                raise StorageConfigurationError(
                    f"{name} must be host[:port], not {value!r}", backend="gcs"
                )
            return f"http://{host}", name
    return f"http://{DEFAULT_METADATA_IP}", "default address"


def _get(origin: str, path: str, operation: str) -> HttpRequest:
    return HttpRequest(
        method="GET",
        origin=origin,
        path=path,
        headers={"metadata-flavor": FLAVOR},
        operation=operation,
    )


def token_request(origin: str) -> HttpRequest:
    """The request for the default service account's access token."""
    return _get(origin, TOKEN_PATH, "metadata token")


def email_request(origin: str) -> HttpRequest:
    """The request for the default service account's e-mail."""
    return _get(origin, EMAIL_PATH, "metadata email")


def parse_email(body: bytes) -> str:
    """The service account's e-mail from the ``email`` answer.

    Raises:
        StoragePermissionError: The answer is not an e-mail (no service account attached).
    """
    email = body.decode("utf-8", "replace").strip()
    if "@" not in email or any(c.isspace() for c in email):
        raise StoragePermissionError(
            "the metadata server named no service account e-mail (is one attached?)",
            backend="gcs",
        )
    return email
