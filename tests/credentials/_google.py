"""A fake of Google's credential endpoints (and a sliver of the JSON API), on one local port.

It checks what the real services check:

* **metadata server** (``/computeMetadata/v1/...``): ``Metadata-Flavor: Google`` is required
  (403 "Missing Metadata-Flavor:Google header." otherwise), requests carrying
  ``X-Forwarded-For`` are refused (the real server's anti-proxy rule), every answer carries
  ``Metadata-Flavor: Google``;
* **OAuth2 token endpoint** (``POST /token``): the JWT bearer grant's assertion is verified
  (RS256 signature with the service account's public key, ``aud`` = the token URI, ``iss`` a
  known account, ``iat`` within a minute of now, ``exp - iat`` at most an hour, a ``scope``);
  the refresh-token grant checks client id, secret and refresh token;
* **IAM Credentials** (``POST /v1/projects/-/serviceAccounts/{email}:generateAccessToken`` and
  ``:signBlob``): a live bearer token with the ``cloud-platform`` scope, held by the account
  itself or one allowed to impersonate it ("Service Account Token Creator"), delegates written
  ``projects/-/serviceAccounts/...``, a lifetime of at most 3600 s; ``signBlob`` signs with the
  account's own (Google-managed) RSA key;
* **JSON API** (``GET /storage/v1/b/{bucket}/o/{name}``): a live bearer token with a storage or
  cloud-platform scope.

Tokens are random, remembered with their account, scopes and expiry (the fake's clock is the
test's), so an expired or unknown token is refused with 401.
"""

from __future__ import annotations

import base64
import itertools
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ._fake_server import FakeEndpoint, Hang, Reply, Request

METADATA = "/computeMetadata/v1/instance/service-accounts/default/"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
READ_WRITE = "https://www.googleapis.com/auth/devstorage.read_write"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeGoogle(FakeEndpoint):
    """Google's credential endpoints; see the module docstring.

    Args:
        now: The current time (the test's clock).
        vm_account: The metadata server's attached service account.

    Attributes:
        keys: Private RSA keys of the service accounts: key files' keys (JWT assertions) and
            the Google-managed keys ``signBlob`` signs with.
        token_creators: ``target -> accounts`` allowed to impersonate it / sign as it.
        metadata_mode: ``ok``, ``fail`` (503) or ``hang`` (never answers).
        metadata_scopes: Scopes of the metadata server's tokens (the VM's access scopes).
        token_lifetime: Lifetime of the tokens handed out.
    """

    def __init__(self, now: Callable[[], datetime], *, vm_account: str) -> None:
        super().__init__()
        self.now = now
        self.vm_account = vm_account
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.token_creators: dict[str, set[str]] = {}
        self.metadata_mode = "ok"
        self.metadata_scopes = frozenset({CLOUD_PLATFORM})
        self.token_lifetime = 3600
        self.refresh_tokens: dict[str, tuple[str, str]] = {}  # refresh token -> (id, secret)
        self.tokens: dict[str, tuple[str, frozenset[str], datetime]] = {}

    # ------------------------------------------------------------------ tokens
    def issue(self, account: str, scopes: frozenset[str]) -> tuple[str, datetime]:
        token = f"ya29.{secrets.token_urlsafe(16)}"
        expires = self.now() + timedelta(seconds=self.token_lifetime)
        self.tokens[token] = (account, scopes, expires)
        return token, expires

    def caller(self, request: Request, *needed: str) -> str | Reply:
        """The account behind the request's bearer token, or the 401/403 reply."""
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return self.refuse(401, "no bearer token")
        found = self.tokens.get(auth[len("Bearer ") :])
        if found is None:
            return self.refuse(401, "unknown token")
        account, scopes, expires = found
        if self.now() >= expires:
            return self.refuse(401, "expired token")
        if needed and not scopes & set(needed):
            return self.refuse(403, f"token lacks the scope ({' or '.join(needed)})")
        return account

    # ------------------------------------------------------------------ routing
    def handle(self, request: Request) -> Reply:
        if request.path.startswith("/computeMetadata/"):
            return self.metadata(request)
        if request.path == "/token" and request.method == "POST":
            return self.oauth2(request)
        if request.path.startswith("/v1/projects/-/serviceAccounts/"):
            return self.iam(request)
        if request.path.startswith("/storage/v1/b/") and request.method == "GET":
            return self.objects_get(request)
        return self.refuse(404, f"no route {request.method} {request.path}")

    # ------------------------------------------------------------------ metadata server
    def metadata(self, request: Request) -> Reply:
        flavor = {"metadata-flavor": "Google"}
        if request.headers.get("metadata-flavor") != "Google":
            self.refusals.append("missing Metadata-Flavor")
            return Reply(403, "Missing Metadata-Flavor:Google header.", flavor)
        if "x-forwarded-for" in request.headers:
            self.refusals.append("X-Forwarded-For")
            return Reply(403, "X-Forwarded-For header is not allowed", flavor)
        if self.metadata_mode == "hang":
            raise Hang
        if self.metadata_mode == "fail":
            return Reply(503, "metadata server unavailable", flavor)
        if request.path == METADATA + "email":
            return Reply(200, self.vm_account, flavor)
        if request.path == METADATA + "token":
            token, _ = self.issue(self.vm_account, self.metadata_scopes)
            body = {
                "access_token": token,
                "expires_in": self.token_lifetime,
                "token_type": "Bearer",
            }
            return Reply(200, body, flavor)
        return Reply(404, "not found", flavor)

    # ------------------------------------------------------------------ OAuth2
    def oauth2(self, request: Request) -> Reply:
        if request.headers.get("content-type") != "application/x-www-form-urlencoded":
            return self.refuse(400, "not a form")
        form = request.form()
        grant = form.get("grant_type")
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self.jwt_grant(form.get("assertion", ""))
        if grant == "refresh_token":
            known = self.refresh_tokens.get(form.get("refresh_token", ""))
            if known != (form.get("client_id"), form.get("client_secret")):
                return self.refuse(400, "invalid_grant", {"error": "invalid_grant"})
            token, _ = self.issue("user@example.com", frozenset({CLOUD_PLATFORM}))
            return Reply(200, {"access_token": token, "expires_in": self.token_lifetime})
        return self.refuse(400, "unsupported_grant_type", {"error": "unsupported_grant_type"})

    def jwt_grant(self, assertion: str) -> Reply:
        invalid = {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        try:
            issuer = jwt.decode(assertion, options={"verify_signature": False})["iss"]
            key = self.keys[issuer]
            claims: dict[str, Any] = jwt.decode(
                assertion,
                key.public_key(),
                algorithms=["RS256"],
                audience=f"{self.origin}/token",
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except (KeyError, jwt.PyJWTError) as exc:
            return self.refuse(400, f"assertion refused: {type(exc).__name__}", invalid)
        now = int(self.now().timestamp())
        if abs(claims["iat"] - now) > 60 or not 0 < claims["exp"] - claims["iat"] <= 3600:
            return self.refuse(400, "assertion times", invalid)
        if not claims.get("scope"):
            return self.refuse(400, "no scope", {"error": "invalid_scope"})
        token, _ = self.issue(claims["iss"], frozenset(claims["scope"].split()))
        return Reply(200, {"access_token": token, "expires_in": self.token_lifetime})

    # ------------------------------------------------------------------ IAM Credentials
    def iam(self, request: Request) -> Reply:
        name = unquote(request.path[len("/v1/projects/-/serviceAccounts/") :])
        target, _, method = name.partition(":")
        caller = self.caller(request, CLOUD_PLATFORM)
        if isinstance(caller, Reply):
            return caller
        document = request.json()
        delegates = document.get("delegates", [])
        if any(not d.startswith("projects/-/serviceAccounts/") for d in delegates):
            return self.refuse(400, "badly written delegate")
        chain = [caller, *(d.rsplit("/", 1)[1] for d in delegates), target]
        for holder, account in itertools.pairwise(chain):
            if holder != account and holder not in self.token_creators.get(account, set()):
                return self.refuse(403, f"{holder} may not act as {account}")
        if method == "generateAccessToken":
            lifetime = document.get("lifetime", "3600s")
            if not document.get("scope") or int(lifetime.rstrip("s")) > 3600:
                return self.refuse(400, "bad scope or lifetime")
            token, expires = self.issue(target, frozenset(document["scope"]))
            return Reply(200, {"accessToken": token, "expireTime": rfc3339(expires)})
        if method == "signBlob":
            payload = base64.b64decode(document["payload"], validate=True)
            signature = self.keys[target].sign(payload, padding.PKCS1v15(), hashes.SHA256())
            return Reply(200, {"keyId": "k1", "signedBlob": base64.b64encode(signature).decode()})
        return self.refuse(404, f"no IAM method {method}")

    # ------------------------------------------------------------------ JSON API
    def objects_get(self, request: Request) -> Reply:
        caller = self.caller(request, READ_WRITE, CLOUD_PLATFORM)
        if isinstance(caller, Reply):
            return caller
        _, _, _, bucket, _, name = request.path.split("/", 5)
        resource = {
            "kind": "storage#object",
            "name": unquote(name),
            "bucket": bucket,
            "size": "5",
            "contentType": "text/plain",
            "etag": "CKih16GjycICEAE=",
            "generation": "1",
            "updated": "2026-01-02T03:04:05.678Z",
            "metadata": {"read-by": caller},
        }
        return Reply(200, resource)
