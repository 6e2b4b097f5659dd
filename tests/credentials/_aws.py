"""A fake of the AWS credential endpoints (and a sliver of S3), on one local port.

It checks what the real services check:

* **EC2 IMDSv2**: ``PUT /latest/api/token`` needs ``X-aws-ec2-metadata-token-ttl-seconds``
  between 1 and 21600 and is refused (403) with ``X-Forwarded-For``; every ``GET
  /latest/meta-data/...`` needs a live ``X-aws-ec2-metadata-token`` (401 otherwise), unless
  the instance allows IMDSv1 (``http_tokens="optional"``);
* **container credentials** (``GET /v2/credentials/...`` and ``/creds``): the
  ``Authorization`` header must be the agent's token when one is set;
* **STS** (``POST /``, Query API 2011-06-15): ``AssumeRoleWithWebIdentity`` verifies the OIDC
  token (RS256 with the identity provider's key, ``aud`` = ``sts.amazonaws.com``, the issuer,
  not expired) and the role's trust in its subject; ``AssumeRole`` verifies the SigV4
  signature (service ``sts``) with the caller's secret, written out independently of
  ``litestar_storages.signing``, the role's trust in the caller, ``ExternalId`` when the role
  requires one and ``DurationSeconds`` (900 to 43200);
* **S3** (``GET``/``HEAD /bucket/key``): a SigV4 signature (service ``s3``) by issued,
  unexpired credentials, with their ``x-amz-security-token``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from ._fake_server import FakeEndpoint, Hang, Reply, Request

OIDC_ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/CLUSTER"
OIDC_AUDIENCE = "sts.amazonaws.com"
IRSA_SUBJECT = "system:serviceaccount:default:uploader"
ACCOUNT = "123456789012"


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Issued:
    """Temporary credentials the fake handed out."""

    principal: str
    secret: str
    token: str | None
    expires: datetime | None


def _uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")


def sigv4_problem(request: Request, secret: str, *, service: str, now: datetime) -> str | None:
    """Why ``request``'s SigV4 ``Authorization`` is wrong, or ``None`` (AWS's "Signature
    Version 4 signing process", computed here without the library's signer)."""
    auth = request.headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "not SigV4"
    fields = dict(
        part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 ") :].split(",")
    )
    scope = fields["Credential"].split("/", 1)[1]
    date, region, scope_service, terminal = scope.split("/")
    if scope_service != service or terminal != "aws4_request":
        return f"scope {scope}"
    amz_date = request.headers.get("x-amz-date", "")
    signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    if abs(signed_at - now) > timedelta(minutes=15) or not amz_date.startswith(date):
        return "request time too skewed"
    signed = fields["SignedHeaders"].split(";")
    if "host" not in signed:
        return "host not signed"
    headers = "".join(f"{name}:{' '.join(request.headers[name].split())}\n" for name in signed)
    query = "&".join(f"{_uri_encode(k)}={_uri_encode(v)}" for k, v in sorted(request.query.items()))
    payload = (
        request.headers.get("x-amz-content-sha256") or hashlib.sha256(request.body).hexdigest()
    )
    path = request.path  # as sent: S3 keys are encoded once, STS posts to "/"
    canonical = "\n".join([request.method, path, query, headers, fields["SignedHeaders"], payload])
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, fields["Signature"]) else "signature mismatch"


def sts_error(code: str, message: str, status: int = 403) -> Reply:
    body = (
        f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
        f"<Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>req-sts-1</RequestId></ErrorResponse>"
    )
    return Reply(status, body.encode(), {"content-type": "text/xml"})


class FakeAws(FakeEndpoint):
    """See the module docstring.

    Attributes:
        keys: ``access key id -> Issued`` (long-term keys have no expiry).
        roles: ``role ARN -> trusted principals`` (access key ids or OIDC subjects).
        external_ids: ``role ARN -> the ExternalId it requires``.
        instance_role: The EC2 instance profile's role name (``None``: no role).
        http_tokens: ``required`` (IMDSv2 only) or ``optional`` (v1 allowed).
        imds_v2: Whether the token endpoint exists at all.
        imds_mode: ``ok``, ``fail`` (500) or ``hang``.
        container_token: The container agent's authorization token (``None``: not checked).
        lifetime: Lifetime of issued credentials.
    """

    def __init__(self, now: Callable[[], datetime], *, oidc_key: rsa.RSAPrivateKey) -> None:
        super().__init__()
        self.now = now
        self.oidc_key = oidc_key
        self.keys: dict[str, Issued] = {}
        self.roles: dict[str, set[str]] = {}
        self.external_ids: dict[str, str] = {}
        self.instance_role: str | None = "app-instance-role"
        self.http_tokens = "required"
        self.imds_v2 = True
        self.imds_mode = "ok"
        self.imds_tokens: dict[str, datetime] = {}
        self.container_token: str | None = None
        self.lifetime = timedelta(hours=1)
        self.region = "eu-west-1"

    # ------------------------------------------------------------------ credentials
    def long_term(self, principal: str) -> tuple[str, str]:
        key_id = f"AKIA{secrets.token_hex(8).upper()}"
        secret = secrets.token_urlsafe(30)
        self.keys[key_id] = Issued(principal, secret, None, None)
        return key_id, secret

    def temporary(self, principal: str) -> dict[str, Any]:
        key_id = f"ASIA{secrets.token_hex(8).upper()}"
        issued = Issued(
            principal,
            secrets.token_urlsafe(30),
            f"FwoG{secrets.token_urlsafe(40)}",
            self.now() + self.lifetime,
        )
        self.keys[key_id] = issued
        return {
            "AccessKeyId": key_id,
            "SecretAccessKey": issued.secret,
            "SessionToken": issued.token,
            "Expiration": iso(issued.expires) if issued.expires else None,
        }

    def caller(self, request: Request, service: str) -> Issued | Reply:
        auth = request.headers.get("authorization", "")
        try:
            key_id = auth.split("Credential=", 1)[1].split("/", 1)[0]
        except IndexError:
            return self.refuse(403, "no SigV4 credential")
        issued = self.keys.get(key_id)
        if issued is None:
            return self.refuse(403, "InvalidAccessKeyId")
        if issued.expires is not None and self.now() >= issued.expires:
            return self.refuse(403, "ExpiredToken")
        if issued.token != request.headers.get("x-amz-security-token"):
            return self.refuse(403, "InvalidToken")
        problem = sigv4_problem(request, issued.secret, service=service, now=self.now())
        if problem is not None:
            return self.refuse(403, f"SignatureDoesNotMatch: {problem}")
        return issued

    # ------------------------------------------------------------------ routing
    def handle(self, request: Request) -> Reply:
        if request.path.startswith("/latest/"):
            return self.imds(request)
        if request.path.startswith(("/v2/credentials/", "/creds")):
            return self.container(request)
        if request.path == "/" and request.method == "POST":
            return self.sts(request)
        if request.path.startswith("/bkt/"):
            return self.s3(request)
        return self.refuse(404, f"no route {request.method} {request.path}")

    # ------------------------------------------------------------------ IMDS
    def imds(self, request: Request) -> Reply:
        if self.imds_mode == "hang":
            raise Hang
        if self.imds_mode == "fail":
            return Reply(500, "")
        if request.path == "/latest/api/token":
            if not self.imds_v2:
                return Reply(404, "")  # an IMDSv1-only service knows no tokens
            if request.method != "PUT" or "x-forwarded-for" in request.headers:
                return self.refuse(403, "token request refused", "")
            ttl = request.headers.get("x-aws-ec2-metadata-token-ttl-seconds", "")
            if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return self.refuse(400, "bad token TTL", "")
            token = f"AQAEA{secrets.token_urlsafe(24)}"
            self.imds_tokens[token] = self.now() + timedelta(seconds=int(ttl))
            return Reply(200, token, {"x-aws-ec2-metadata-token-ttl-seconds": ttl})
        session = request.headers.get("x-aws-ec2-metadata-token")
        if session is None and self.http_tokens == "required":
            return self.refuse(401, "IMDSv1 request", "")
        if session is not None and self.imds_tokens.get(session, self.now()) <= self.now():
            return self.refuse(401, "stale IMDS token", "")
        base = "/latest/meta-data/iam/security-credentials/"
        if request.path == "/latest/meta-data/placement/region":
            return Reply(200, self.region)
        if self.instance_role is None or not request.path.startswith(base):
            return Reply(404, "")
        if request.path == base:
            return Reply(200, self.instance_role)
        if request.path != base + self.instance_role:
            return Reply(404, "")
        document = {
            "Code": "Success",
            "LastUpdated": iso(self.now()),
            "Type": "AWS-HMAC",
            **self.temporary(f"instance:{self.instance_role}"),
        }
        document["Token"] = document.pop("SessionToken")
        return Reply(200, json.dumps(document), {"content-type": "text/plain"})

    # ------------------------------------------------------------------ containers
    def container(self, request: Request) -> Reply:
        expected = self.container_token
        if expected is not None and request.headers.get("authorization") != expected:
            return self.refuse(401, "container authorization", {"message": "denied"})
        document = self.temporary("container:task-role")
        document["Token"] = document.pop("SessionToken")
        document["RoleArn"] = f"arn:aws:iam::{ACCOUNT}:role/task-role"
        return Reply(200, document)

    # ------------------------------------------------------------------ STS
    def sts(self, request: Request) -> Reply:
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return self.refuse(400, "not a form", "")
        form = request.form()
        if form.get("Version") != "2011-06-15":
            return sts_error("InvalidAction", "version", 400)
        role = form.get("RoleArn", "")
        if role not in self.roles:
            return sts_error("AccessDenied", f"no such role {role}")
        duration = int(form.get("DurationSeconds", "3600"))
        if not 900 <= duration <= 43200:
            return sts_error("ValidationError", "DurationSeconds", 400)
        if not form.get("RoleSessionName"):
            return sts_error("ValidationError", "RoleSessionName", 400)
        action = form.get("Action")
        if action == "AssumeRoleWithWebIdentity":
            try:
                claims: Mapping[str, Any] = jwt.decode(
                    form.get("WebIdentityToken", ""),
                    self.oidc_key.public_key(),
                    algorithms=["RS256"],
                    audience=OIDC_AUDIENCE,
                    issuer=OIDC_ISSUER,
                    options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
                )
            except jwt.PyJWTError as exc:
                return sts_error(
                    "InvalidIdentityToken", f"token refused: {type(exc).__name__}", 400
                )
            if claims["exp"] <= self.now().timestamp():
                return sts_error("ExpiredTokenException", "token expired", 400)
            caller = str(claims["sub"])
        elif action == "AssumeRole":
            issued = self.caller(request, "sts")
            if isinstance(issued, Reply):
                return sts_error("SignatureDoesNotMatch", self.refusals[-1])
            caller = issued.principal
            required = self.external_ids.get(role)
            if required is not None and form.get("ExternalId") != required:
                return sts_error("AccessDenied", "ExternalId")
        else:
            return sts_error("InvalidAction", str(action), 400)
        if caller not in self.roles[role]:
            return sts_error("AccessDenied", f"{caller} may not assume {role}")
        saved = self.lifetime
        self.lifetime = timedelta(seconds=duration)
        credentials = self.temporary(f"{role}/{form['RoleSessionName']}")
        self.lifetime = saved
        items = "".join(f"<{k}>{v}</{k}>" for k, v in credentials.items())
        body = (
            f'<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            f"<{action}Result><Credentials>{items}</Credentials></{action}Result>"
            f"<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></{action}Response>"
        )
        return Reply(200, body.encode(), {"content-type": "text/xml"})

    # ------------------------------------------------------------------ S3
    def s3(self, request: Request) -> Reply:
        issued = self.caller(request, "s3")
        if isinstance(issued, Reply):
            return Reply(403, b"<Error><Code>AccessDenied</Code></Error>")
        return Reply(
            200,
            b"hello",
            {
                "content-type": "text/plain",
                "etag": '"5d41402abc4b2a76b9719d911017c592"',
                "last-modified": "Wed, 04 Mar 2026 05:06:07 GMT",
                "x-amz-meta-readby": issued.principal,
            },
        )

    # ------------------------------------------------------------------ helpers
    def web_identity_token(self, *, subject: str = IRSA_SUBJECT) -> str:
        now = int(self.now().timestamp())
        claims = {"iss": OIDC_ISSUER, "sub": subject, "aud": OIDC_AUDIENCE, "iat": now}
        claims["exp"] = now + 86400
        return jwt.encode(claims, self.oidc_key, algorithm="RS256", headers={"kid": "eks-1"})
