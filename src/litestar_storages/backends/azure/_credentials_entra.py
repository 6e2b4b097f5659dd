"""Entra ID token requests and answers: client credentials, workload identity, managed
identity. Pure: builders return :class:`HttpRequest`, parsers take bytes.

* **Client credentials** ("Microsoft identity platform and the OAuth 2.0 client credentials
  flow"): ``POST {authority}/{tenant}/oauth2/v2.0/token`` with the form fields ``grant_type=
  client_credentials``, ``client_id``, ``scope=https://storage.azure.com/.default`` and either
  ``client_secret`` or, for workload identity, ``client_assertion_type=urn:ietf:params:oauth:
  client-assertion-type:jwt-bearer`` with ``client_assertion`` = the federated token (the
  Kubernetes service-account token the AKS webhook projects into the file). The answer is
  ``{"token_type": "Bearer", "expires_in": 3599, "access_token": ...}``; errors are
  ``{"error": "invalid_client", "error_description": "AADSTS7000215: ...", ...}``.
* **Managed identity, IMDS** ("How to use managed identities for Azure resources on an Azure VM
  to acquire an access token"): ``GET /metadata/identity/oauth2/token?api-version=2018-02-01
  &resource=https://storage.azure.com[&client_id=...]`` with ``Metadata: true`` (IMDS refuses
  requests without it, and any carrying ``X-Forwarded-For``: its SSRF guard).
* **Managed identity, App Service** (``IDENTITY_ENDPOINT``, api-version 2019-08-01): the same
  query on the given endpoint, with ``X-IDENTITY-HEADER: $IDENTITY_HEADER``.

Managed identity answers carry ``expires_on`` (seconds since the epoch, as a string) and
``expires_in`` (seconds, as a string).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from litestar_storages._http.credentials import Expiring
from litestar_storages._http.request import HttpRequest
from litestar_storages.backends.azure._identity import (
    STORAGE_RESOURCE,
    STORAGE_SCOPE,
    IdentitySettings,
)
from litestar_storages.exceptions import StorageConfigurationError, StoragePermissionError

if TYPE_CHECKING:
    from litestar_storages._http.errors import ProviderError

__all__ = [
    "APP_SERVICE_API_VERSION",
    "CLIENT_ASSERTION_TYPE",
    "IMDS_API_VERSION",
    "IMDS_PATH",
    "app_service_request",
    "client_assertion_request",
    "client_secret_request",
    "imds_request",
    "parse_oauth_error",
    "parse_token",
    "token_endpoint",
]

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
IMDS_PATH = "/metadata/identity/oauth2/token"
IMDS_API_VERSION = "2018-02-01"
APP_SERVICE_API_VERSION = "2019-08-01"


def token_endpoint(identity: IdentitySettings) -> str:
    """``{authority}/{tenant}/oauth2/v2.0/token``."""
    return f"{identity.authority_host}/{identity.tenant_id}/oauth2/v2.0/token"


def _form(url: str, fields: Mapping[str, str], operation: str) -> HttpRequest:
    parts = urlsplit(url)
    return HttpRequest(
        method="POST",
        origin=f"{parts.scheme}://{parts.netloc}",
        path=parts.path,
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=urlencode(fields).encode("ascii"),
        operation=operation,
        idempotent=True,  # asking for a token twice changes nothing
    )


def client_secret_request(identity: IdentitySettings) -> HttpRequest:
    """The client credentials grant of a service principal with a secret."""
    if not (identity.tenant_id and identity.client_id and identity.client_secret):
        raise StorageConfigurationError(
            "a service principal needs tenant_id, client_id and client_secret", backend="azure"
        )
    fields = {
        "grant_type": "client_credentials",
        "client_id": identity.client_id,
        "client_secret": identity.client_secret,
        "scope": STORAGE_SCOPE,
    }
    return _form(token_endpoint(identity), fields, "entra token")


def client_assertion_request(identity: IdentitySettings, assertion: str) -> HttpRequest:
    """The client credentials grant with a client assertion (workload identity)."""
    if not (identity.tenant_id and identity.client_id):
        raise StorageConfigurationError(
            "workload identity needs tenant_id and client_id", backend="azure"
        )
    fields = {
        "grant_type": "client_credentials",
        "client_id": identity.client_id,
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion,
        "scope": STORAGE_SCOPE,
    }
    return _form(token_endpoint(identity), fields, "entra token")


def _identity_query(identity: IdentitySettings, api_version: str) -> list[tuple[str, str]]:
    query = [("api-version", api_version), ("resource", STORAGE_RESOURCE)]
    if identity.client_id:
        query.append(("client_id", identity.client_id))
    return query


def imds_request(identity: IdentitySettings) -> HttpRequest:
    """The Instance Metadata Service's token request."""
    return HttpRequest(
        method="GET",
        origin=identity.imds_origin,
        path=IMDS_PATH,
        query=_identity_query(identity, IMDS_API_VERSION),
        headers={"metadata": "true"},
        operation="managed identity token",
    )


def app_service_request(identity: IdentitySettings) -> HttpRequest:
    """App Service's (Functions', Container Apps') managed identity token request."""
    endpoint, header = identity.identity_endpoint, identity.identity_header
    if not endpoint or not header:
        raise StorageConfigurationError(
            "App Service managed identity needs IDENTITY_ENDPOINT and IDENTITY_HEADER",
            backend="azure",
        )
    parts = urlsplit(endpoint)
    return HttpRequest(
        method="GET",
        origin=f"{parts.scheme}://{parts.netloc}",
        path=parts.path or "/",
        query=_identity_query(identity, APP_SERVICE_API_VERSION),
        headers={"x-identity-header": header},
        operation="managed identity token",
    )


def _seconds(value: object) -> int | None:
    try:
        return int(float(str(value)))
    except (TypeError, ValueError):
        return None


def parse_token(body: bytes, now: datetime) -> Expiring[str]:
    """The access token and its expiry from any of the three answers.

    ``expires_on`` (absolute) is preferred to ``expires_in`` (relative to when the answer was
    written, which a slow answer makes a little optimistic).

    Raises:
        StoragePermissionError: The answer carries no token.
    """
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not document.get("access_token"):
        raise StoragePermissionError(
            "the Entra ID token endpoint answered without an access_token", backend="azure"
        )
    expires_on = _seconds(document.get("expires_on"))
    if expires_on is not None:
        expires = datetime.fromtimestamp(expires_on, tz=timezone.utc)
    else:
        lifetime = _seconds(document.get("expires_in"))
        expires = now + timedelta(seconds=3600 if lifetime is None else lifetime)
    return Expiring(str(document["access_token"]), expires)


def parse_oauth_error(status: int, headers: Mapping[str, str], body: bytes) -> ProviderError | None:
    """The ``ErrorParser`` of token endpoints: ``error`` is the code, the description (an
    ``AADSTS`` number and sentence, never a secret) the message."""
    from litestar_storages._http.errors import ProviderError

    if status < 300:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return ProviderError(status)
    error = document.get("error")
    if isinstance(error, dict):  # App Service: {"error": {"code": ..., "message": ...}}
        return ProviderError(status, str(error.get("code") or "") or None, error.get("message"))
    description = document.get("error_description")
    return ProviderError(
        status,
        str(error) if error else None,
        str(description).splitlines()[0] if description else None,
        request_id=headers.get("x-ms-request-id"),
    )
