"""A fake of Microsoft Entra ID, the managed identity endpoints and a sliver of the Blob
service, on one local port.

It checks what the real services check:

* **Entra ID token endpoint** (``POST /{tenant}/oauth2/v2.0/token``): a form with
  ``grant_type=client_credentials``, a known ``client_id``, ``scope`` =
  ``https://storage.azure.com/.default``, and either the application's ``client_secret``
  (``AADSTS7000215`` otherwise) or a ``client_assertion`` of type ``jwt-bearer`` that must be a
  JWT signed RS256 by the trusted Kubernetes issuer's key, whose ``iss``, ``sub`` and ``aud``
  (``api://AzureADTokenExchange``) match the application's federated credential and which has
  not expired (``AADSTS700211``/``AADSTS70021``... otherwise);
* **IMDS** (``GET /metadata/identity/oauth2/token``): ``Metadata: true`` is required, requests
  with ``X-Forwarded-For`` are refused, ``api-version`` and ``resource`` are required, a
  ``client_id`` must name an assigned identity ("Identity not found");
* **App Service** (``GET /msi/token``): ``X-IDENTITY-HEADER`` must be the process's secret,
  ``api-version=2019-08-01``;
* **Blob service** (path-style, account ``acct``): a live bearer token, ``x-ms-date``, and an
  ``x-ms-version`` of 2017-11-09 or later (2018-11-09 for Get User Delegation Key, which needs
  an Entra ID token and an expiry within 7 days).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from xml.etree.ElementTree import fromstring

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from ._fake_server import FakeEndpoint, Hang, Reply, Request

SCOPE = "https://storage.azure.com/.default"
RESOURCE = "https://storage.azure.com"
EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
ISSUER = "https://oidc.example.test/cluster-1"
SUBJECT = "system:serviceaccount:default:uploader"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


class FakeAzure(FakeEndpoint):
    """See the module docstring.

    Attributes:
        apps: ``client_id -> client secret`` of registered applications.
        federated: ``client_id`` of applications trusting the Kubernetes issuer.
        issuer_key: The Kubernetes OIDC issuer's signing key.
        identities: Client ids of the VM's user-assigned identities ("system" is assigned).
        identity_header: App Service's per-process secret.
        managed_mode: ``ok``, ``fail`` (500) or ``hang`` for IMDS and App Service.
        token_lifetime: Seconds tokens live.
        tokens: ``token -> (principal, expiry)``.
        delegation_keys: Values of the user delegation keys handed out.
    """

    def __init__(self, now: Callable[[], datetime], *, issuer_key: rsa.RSAPrivateKey) -> None:
        super().__init__()
        self.now = now
        self.issuer_key = issuer_key
        self.apps: dict[str, str] = {}
        self.federated: set[str] = set()
        self.identities: set[str] = set()
        self.identity_header = secrets.token_urlsafe(12)
        self.managed_mode = "ok"
        self.token_lifetime = 3600
        self.tokens: dict[str, tuple[str, datetime]] = {}
        self.delegation_keys: list[dict[str, str]] = []

    def issue(self, principal: str) -> tuple[str, datetime]:
        token = f"eyJ0eXAi.{secrets.token_urlsafe(24)}"
        expires = self.now() + timedelta(seconds=self.token_lifetime)
        self.tokens[token] = (principal, expires)
        return token, expires

    # ------------------------------------------------------------------ routing
    def handle(self, request: Request) -> Reply:
        if request.path == f"/{TENANT}/oauth2/v2.0/token" and request.method == "POST":
            return self.entra(request)
        if request.path == "/metadata/identity/oauth2/token":
            return self.imds(request)
        if request.path == "/msi/token":
            return self.app_service(request)
        if request.path.startswith("/acct/"):
            return self.blob(request)
        return self.refuse(404, f"no route {request.method} {request.path}")

    # ------------------------------------------------------------------ Entra ID
    def aadsts(self, code: str, number: int, why: str) -> Reply:
        description = f"AADSTS{number}: {why}\r\nTrace ID: 0000\r\nTimestamp: now"
        body = {"error": code, "error_description": description, "error_codes": [number]}
        return self.refuse(401 if code == "invalid_client" else 400, description, body)

    def entra(self, request: Request) -> Reply:
        if request.headers.get("content-type") != "application/x-www-form-urlencoded":
            return self.aadsts("invalid_request", 900144, "not a form")
        form = request.form()
        client_id = form.get("client_id", "")
        if form.get("grant_type") != "client_credentials":
            return self.aadsts("unsupported_grant_type", 70003, "grant type")
        if form.get("scope") != SCOPE:
            return self.aadsts("invalid_scope", 1002012, "scope")
        if client_id not in self.apps and client_id not in self.federated:
            return self.aadsts("unauthorized_client", 700016, "application not found")
        if "client_secret" in form:
            if self.apps.get(client_id) != form["client_secret"]:
                return self.aadsts("invalid_client", 7000215, "Invalid client secret provided.")
        elif form.get("client_assertion_type") == (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            refused = self.check_assertion(client_id, form.get("client_assertion", ""))
            if refused is not None:
                return refused
        else:
            return self.aadsts("invalid_request", 7000218, "no client_secret or assertion")
        token, _ = self.issue(client_id)
        return Reply(
            200,
            {
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "ext_expires_in": self.token_lifetime,
                "access_token": token,
            },
        )

    def check_assertion(self, client_id: str, assertion: str) -> Reply | None:
        if client_id not in self.federated:
            return self.aadsts("invalid_client", 70021, "no matching federated identity record")
        try:
            claims: dict[str, Any] = jwt.decode(
                assertion,
                self.issuer_key.public_key(),
                algorithms=["RS256"],
                audience=EXCHANGE_AUDIENCE,
                issuer=ISSUER,
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError as exc:
            return self.aadsts("invalid_client", 700211, f"assertion refused: {exc}")
        if claims.get("sub") != SUBJECT:
            return self.aadsts("invalid_client", 70021, "subject does not match")
        if claims["exp"] <= self.now().timestamp():
            return self.aadsts("invalid_client", 700024, "client assertion is expired")
        return None

    # ------------------------------------------------------------------ managed identity
    def managed_token(self, request: Request, api_version: str) -> Reply:
        if request.query.get("api-version") != api_version:
            return self.refuse(400, "api-version", {"error": "invalid_request"})
        if request.query.get("resource") != RESOURCE:
            return self.refuse(400, "resource", {"error": "invalid_resource"})
        client_id = request.query.get("client_id", "system")
        if client_id != "system" and client_id not in self.identities:
            return self.refuse(
                400,
                "identity not found",
                {"error": "invalid_request", "error_description": "Identity not found"},
            )
        if self.managed_mode == "hang":
            raise Hang
        if self.managed_mode == "fail":
            return Reply(500, {"error": "unknown_error"})
        token, expires = self.issue(f"managed:{client_id}")
        return Reply(
            200,
            {
                "access_token": token,
                "client_id": client_id,
                "expires_in": str(self.token_lifetime),
                "expires_on": str(int(expires.timestamp())),
                "resource": RESOURCE,
                "token_type": "Bearer",
            },
        )

    def imds(self, request: Request) -> Reply:
        if request.headers.get("metadata") != "true":
            return self.refuse(
                400,
                "missing Metadata: true",
                {
                    "error": "invalid_request",
                    "error_description": "Required metadata header not specified",
                },
            )
        if "x-forwarded-for" in request.headers:
            return self.refuse(400, "X-Forwarded-For", {"error": "invalid_request"})
        return self.managed_token(request, "2018-02-01")

    def app_service(self, request: Request) -> Reply:
        if request.headers.get("x-identity-header") != self.identity_header:
            return self.refuse(401, "wrong X-IDENTITY-HEADER", {"error": "unauthorized"})
        return self.managed_token(request, "2019-08-01")

    # ------------------------------------------------------------------ Blob service
    def blob(self, request: Request) -> Reply:
        version = request.headers.get("x-ms-version", "")
        if not request.headers.get("x-ms-date"):
            return self.refuse(403, "no x-ms-date")
        auth = request.headers.get("authorization", "")
        found = (
            self.tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        )
        if found is None or self.now() >= found[1]:
            return self.refuse(
                401, "InvalidAuthenticationInfo", error_xml("InvalidAuthenticationInfo")
            )
        if version < "2017-11-09":
            return self.refuse(
                400, "version too old for bearer tokens", error_xml("InvalidHeaderValue")
            )
        principal = found[0]
        if request.query.get("comp") == "userdelegationkey":
            return self.user_delegation_key(request, version)
        return Reply(
            200,
            b"",
            {
                "content-type": "text/plain",
                "etag": '"0x8D0"',
                "last-modified": "Wed, 04 Mar 2026 05:06:07 GMT",
                "x-ms-meta-readby": principal,
                "x-ms-request-id": "req-1",
            },
        )

    def user_delegation_key(self, request: Request, version: str) -> Reply:
        if request.method != "POST" or request.query.get("restype") != "service":
            return self.refuse(400, "not Get User Delegation Key")
        if version < "2018-11-09":
            return self.refuse(400, "version", error_xml("InvalidHeaderValue"))
        root = fromstring(request.body)
        start, expiry = root.findtext("Start") or "", root.findtext("Expiry") or ""
        if parse_iso(expiry) > self.now() + timedelta(days=7):
            return self.refuse(400, "expiry beyond 7 days", error_xml("InvalidXmlNodeValue"))
        key = {
            "SignedOid": "11111111-2222-3333-4444-555555555555",
            "SignedTid": TENANT,
            "SignedStart": start,
            "SignedExpiry": expiry,
            "SignedService": "b",
            "SignedVersion": version,
            "Value": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
        self.delegation_keys.append(key)
        items = "".join(f"<{name}>{value}</{name}>" for name, value in key.items())
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><UserDelegationKey>{items}</UserDelegationKey>'
        )
        return Reply(200, body.encode(), {"content-type": "application/xml"})


def error_xml(code: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
        f"<Message>{code}\nRequestId:r-1</Message></Error>"
    ).encode()
