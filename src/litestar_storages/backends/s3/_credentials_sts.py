"""Credentials from AWS STS: web identity (IRSA) and assume-role profiles.

**Web identity** ("IAM roles for service accounts", ``AssumeRoleWithWebIdentity``): the OIDC
token in ``AWS_WEB_IDENTITY_TOKEN_FILE`` (read again for every request: the kubelet rotates it)
is exchanged for the credentials of ``AWS_ROLE_ARN``, in session ``AWS_ROLE_SESSION_NAME``.
The request is not signed (the token is the proof). A profile's ``web_identity_token_file`` /
``role_arn`` / ``role_session_name`` work the same way.

**Assume role** (a profile with ``role_arn``, "Use an IAM role in the AWS CLI"): the
credentials of ``source_profile`` (its static keys, its ``credential_process``, or its own
role, recursively) or of ``credential_source`` (``Environment``, ``Ec2InstanceMetadata``,
``EcsContainer``) sign an ``AssumeRole`` request (SigV4, service ``sts``) with the profile's
``external_id``, ``duration_seconds`` and ``role_session_name``. ``mfa_serial`` needs a person
at a prompt and is refused.

Both are form POSTs to STS (Query API, version 2011-06-15) answered with XML whose
``Credentials`` element holds ``AccessKeyId``, ``SecretAccessKey``, ``SessionToken`` and
``Expiration``. The endpoint is regional when a region is known (``sts.<region>.amazonaws.com``,
the SDKs' default since 2024), else the global ``sts.amazonaws.com``; ``AWS_ENDPOINT_URL_STS``
(or ``AWS_ENDPOINT_URL``) replaces it, and must be https except to a loopback address.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

import anyio

from litestar_storages._http.credentials import Expiring
from litestar_storages._http.request import HttpRequest
from litestar_storages.backends.s3._credentials_http import AwsHttp
from litestar_storages.exceptions import (
    StorageConfigurationError,
    StorageConnectionError,
    StorageError,
    StoragePermissionError,
    StorageServerError,
)
from litestar_storages.signing.sigv4 import AwsCredentials

if TYPE_CHECKING:
    import httpx

    from litestar_storages._http.auth import Signer
    from litestar_storages._http.errors import ProviderError
    from litestar_storages.backends.s3.credentials import (
        CredentialSource,
        ProcessRunner,
        Profile,
        SharedProfile,
    )

__all__ = [
    "STS_VERSION",
    "AssumeRoleSource",
    "WebIdentitySource",
    "assume_role_request",
    "assume_role_with_web_identity_request",
    "parse_sts_credentials",
    "parse_sts_error",
    "sts_endpoint",
]

STS_VERSION = "2011-06-15"
_FORM = "application/x-www-form-urlencoded; charset=utf-8"
_MAX_ROLE_CHAIN = 8


def _error(message: str) -> StorageConfigurationError:
    return StorageConfigurationError(message, backend="s3")


def sts_endpoint(environ: Mapping[str, str], region: str | None) -> str:
    """STS's origin for ``region`` (see the module docstring)."""
    override = environ.get("AWS_ENDPOINT_URL_STS") or environ.get("AWS_ENDPOINT_URL")
    if override:
        return override.strip().rstrip("/")
    if not region:
        return "https://sts.amazonaws.com"
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://sts.{region}.{suffix}"


def _session_name(name: str | None) -> str:
    # botocore names sessions "botocore-session-<unix time>"; ours say who we are.
    return name or f"litestar-storages-{int(time.time())}"


def _form(origin: str, fields: Mapping[str, str], operation: str) -> HttpRequest:
    parts = urlsplit(origin)
    return HttpRequest(
        method="POST",
        origin=f"{parts.scheme}://{parts.netloc}",
        path=parts.path or "/",
        headers={"content-type": _FORM},
        body=urlencode(fields).encode("ascii"),
        operation=operation,
        idempotent=True,  # asking again only mints other temporary credentials
    )


def assume_role_request(
    origin: str,
    *,
    role_arn: str,
    session_name: str | None,
    external_id: str | None = None,
    duration_seconds: int | None = None,
) -> HttpRequest:
    """An ``AssumeRole`` request (to be signed with the source credentials)."""
    fields = {
        "Action": "AssumeRole",
        "Version": STS_VERSION,
        "RoleArn": role_arn,
        "RoleSessionName": _session_name(session_name),
    }
    if external_id:
        fields["ExternalId"] = external_id
    if duration_seconds:
        fields["DurationSeconds"] = str(duration_seconds)
    return _form(origin, fields, "sts AssumeRole")


def assume_role_with_web_identity_request(
    origin: str,
    *,
    role_arn: str,
    session_name: str | None,
    token: str,
    duration_seconds: int | None = None,
) -> HttpRequest:
    """An ``AssumeRoleWithWebIdentity`` request (unsigned: the token is the proof)."""
    fields = {
        "Action": "AssumeRoleWithWebIdentity",
        "Version": STS_VERSION,
        "RoleArn": role_arn,
        "RoleSessionName": _session_name(session_name),
        "WebIdentityToken": token,
    }
    if duration_seconds:
        fields["DurationSeconds"] = str(duration_seconds)
    return _form(origin, fields, "sts AssumeRoleWithWebIdentity")


def _elements(body: bytes) -> dict[str, str]:
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(body.strip())
    except ET.ParseError:
        return {}
    return {element.tag.rsplit("}", 1)[-1]: (element.text or "").strip() for element in root.iter()}


def parse_sts_credentials(body: bytes) -> Expiring[AwsCredentials]:
    """The credentials of an ``AssumeRole*Response``.

    Raises:
        StoragePermissionError: The answer holds no credentials.
    """
    from litestar_storages.backends._s3_xml import parse_iso8601  # loads with the answer

    fields = _elements(body)
    key_id, secret = fields.get("AccessKeyId"), fields.get("SecretAccessKey")
    if not key_id or not secret:
        raise StoragePermissionError("STS answered without credentials", backend="s3")
    expires = parse_iso8601(fields.get("Expiration"))
    return Expiring(AwsCredentials(key_id, secret, fields.get("SessionToken") or None), expires)


def parse_sts_error(status: int, headers: Mapping[str, str], body: bytes) -> ProviderError | None:
    """STS's ``<ErrorResponse><Error><Code>...`` as a ``ProviderError``."""
    from litestar_storages._http.errors import ProviderError

    if status < 300:
        return None
    fields = _elements(body)
    return ProviderError(
        status,
        fields.get("Code") or None,
        fields.get("Message") or None,
        request_id=fields.get("RequestId") or headers.get("x-amzn-requestid"),
    )


async def _send_sts(
    http: AwsHttp, request: HttpRequest, what: str, signer: Signer | None = None
) -> httpx.Response:
    from litestar_storages._http.endpoint import is_loopback

    if request.scheme != "https" and not is_loopback(request.origin):
        raise _error(
            f"the STS endpoint must be https (plain http only to a loopback address): "
            f"{request.origin}"
        )
    try:
        return await http.sts(parse_sts_error, signer=signer).send(request)
    except (StorageConnectionError, StorageServerError):
        raise
    except StorageError as exc:
        # AccessDenied, InvalidIdentityToken, ExpiredTokenException: refused.
        raise StoragePermissionError(
            f"STS refused {what} ({exc.code or exc.status})",
            backend="s3",
            status=exc.status,
            code=exc.code,
        ) from exc


async def _read_token(path: str, what: str) -> str:
    try:
        token = (await anyio.Path(path).read_text(encoding="utf-8")).strip()
    except OSError as exc:
        raise _error(f"cannot read {what} ({path}): {exc.strerror or exc}") from None
    if not token:
        raise _error(f"{what} ({path}) is empty")
    return token


def _duration(profile: Profile) -> int | None:
    value = profile.get("duration_seconds")
    if value is None:
        return None
    try:
        seconds = int(value)
    except ValueError:
        raise _error(f"profile {profile.name!r}: duration_seconds must be a number") from None
    if not 900 <= seconds <= 43200:  # STS: 15 minutes to 12 hours
        raise _error(f"profile {profile.name!r}: duration_seconds must be 900 to 43200")
    return seconds


# ---------------------------------------------------------------------- web identity
class WebIdentitySource:
    """``AssumeRoleWithWebIdentity`` with the token file of the environment or the profile.

    Args:
        http: The storage's credential senders.
        environ: ``AWS_WEB_IDENTITY_TOKEN_FILE``, ``AWS_ROLE_ARN``, ``AWS_ROLE_SESSION_NAME``.
        profile: The shared profile (its ``web_identity_token_file`` and ``role_arn``).
        region: The configured region (for the regional STS endpoint).
    """

    name = "web-identity"

    def __init__(
        self,
        http: AwsHttp,
        environ: Mapping[str, str],
        profile: SharedProfile,
        region: str | None,
    ) -> None:
        self.http = http
        self.environ = environ
        self.profile = profile
        self.region = region

    async def load(self) -> Expiring[AwsCredentials] | None:
        """Exchange the token for the role's credentials; ``None`` when not configured."""
        env = self.environ
        token_file, role_arn = env.get("AWS_WEB_IDENTITY_TOKEN_FILE"), env.get("AWS_ROLE_ARN")
        session = env.get("AWS_ROLE_SESSION_NAME")
        region = self.region
        if not (token_file and role_arn):
            profile = await self.profile.get()
            if profile is None or not profile.get("web_identity_token_file"):
                return None
            token_file, role_arn = profile.get("web_identity_token_file"), profile.get("role_arn")
            session = profile.get("role_session_name")
            region = region or profile.get("region")
            if not role_arn:
                raise _error(f"profile {profile.name!r}: web_identity_token_file needs role_arn")
        assert token_file is not None
        token = await _read_token(token_file, "the web identity token file")
        request = assume_role_with_web_identity_request(
            sts_endpoint(env, region), role_arn=role_arn, session_name=session, token=token
        )
        response = await _send_sts(self.http, request, f"the web identity for {role_arn}")
        return parse_sts_credentials(response.content)


# ---------------------------------------------------------------------- assume role
class AssumeRoleSource:
    """``AssumeRole`` for a profile with ``role_arn`` (and ``source_profile`` or
    ``credential_source``).

    Args:
        http: The storage's credential senders.
        environ: Where the shared files and environment credentials are.
        profile: The shared profile in use.
        region: The configured region (for the regional STS endpoint).
        base_sources: The sources ``credential_source`` names (``Environment``,
            ``Ec2InstanceMetadata``, ``EcsContainer``).
        run: Runs a source profile's ``credential_process``.
    """

    name = "assume-role"

    def __init__(
        self,
        http: AwsHttp,
        environ: Mapping[str, str],
        profile: SharedProfile,
        region: str | None,
        *,
        base_sources: Mapping[str, CredentialSource],
        run: ProcessRunner | None = None,
    ) -> None:
        self.http = http
        self.environ = environ
        self.profile = profile
        self.region = region
        self.base_sources = base_sources
        self.run = run

    async def load(self) -> Expiring[AwsCredentials] | None:
        """The role's credentials; ``None`` when the profile assumes no role."""
        profile = await self.profile.get()
        if profile is None or not profile.get("role_arn"):
            return None
        if profile.get("web_identity_token_file"):
            return None  # WebIdentitySource's
        return await self._assume(profile, [profile.name])

    async def _assume(self, profile: Profile, seen: Sequence[str]) -> Expiring[AwsCredentials]:
        if profile.get("mfa_serial"):
            raise _error(
                f"profile {profile.name!r} needs an MFA code (mfa_serial), which a library "
                "cannot prompt for; use credentials without MFA"
            )
        source = await self._source_credentials(profile, seen)
        role_arn = profile.get("role_arn") or ""
        region = self.region or profile.get("region")
        request = assume_role_request(
            sts_endpoint(self.environ, region),
            role_arn=role_arn,
            session_name=profile.get("role_session_name"),
            external_id=profile.get("external_id"),
            duration_seconds=_duration(profile),
        )
        signer = _StsSigner(source.value, region or "us-east-1")
        response = await _send_sts(self.http, request, f"the role {role_arn}", signer)
        return parse_sts_credentials(response.content)

    async def _source_credentials(
        self, profile: Profile, seen: Sequence[str]
    ) -> Expiring[AwsCredentials]:
        source_profile = profile.get("source_profile")
        credential_source = profile.get("credential_source")
        if bool(source_profile) == bool(credential_source):
            raise _error(
                f"profile {profile.name!r} has role_arn: give exactly one of source_profile "
                "and credential_source"
            )
        if credential_source:
            base = self.base_sources.get(credential_source)
            if base is None:
                raise _error(
                    f"profile {profile.name!r}: credential_source must be one of "
                    f"{', '.join(sorted(self.base_sources))}, not {credential_source!r}"
                )
            found = await base.load()
            if found is None:
                raise _error(f"profile {profile.name!r}: {credential_source} has no credentials")
            return found
        assert source_profile is not None
        return await self._from_profile(source_profile, profile, seen)

    async def _from_profile(
        self, name: str, child: Profile, seen: Sequence[str]
    ) -> Expiring[AwsCredentials]:
        from litestar_storages.backends.s3.credentials import (
            ProcessSource,
            SharedProfile,
            load_profile,
        )

        if len(seen) > _MAX_ROLE_CHAIN or (name in seen and name != seen[-1]):
            raise _error(f"profile {child.name!r}: source_profile {name!r} makes a cycle")
        import anyio.to_thread

        source = await anyio.to_thread.run_sync(load_profile, name, self.environ)
        if source is None:
            raise _error(f"profile {child.name!r}: source_profile {name!r} is not defined")
        key_id = source.get("aws_access_key_id")
        secret = source.get("aws_secret_access_key")
        if name != child.name and source.get("role_arn"):
            return await self._assume(source, [*seen, name])
        if key_id and secret:
            return Expiring(AwsCredentials(key_id, secret, source.get("aws_session_token")))
        if source.get("credential_process"):
            shared = SharedProfile(name, self.environ, required=True)
            process = ProcessSource(shared, run=self.run) if self.run else ProcessSource(shared)
            found = await process.load()
            if found is not None:
                return found
        raise _error(f"profile {child.name!r}: source_profile {name!r} has no credentials")


class _StsSigner:
    """Signs each attempt of an ``AssumeRole`` request with SigV4 (service ``sts``), with the
    clock the send loop read for that attempt."""

    def __init__(self, credentials: AwsCredentials, region: str) -> None:
        self._credentials = credentials
        self._region = region

    async def __call__(self, request: HttpRequest, now: datetime) -> Mapping[str, str]:
        from litestar_storages.signing.sigv4 import sign_headers

        body = request.body if isinstance(request.body, bytes) else b""
        return sign_headers(
            request.method,
            host=request.host,
            path=request.path,
            query=request.query,
            headers=request.headers,
            payload_hash=hashlib.sha256(body).hexdigest(),
            credentials=self._credentials,
            region=self._region,
            service="sts",
            now=now,
            s3=False,
        )
