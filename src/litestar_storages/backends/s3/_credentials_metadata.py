"""Credentials from the compute platform: EC2 instance metadata (IMDSv2) and ECS/EKS container
credential endpoints.

**IMDSv2** ("Use the Instance Metadata Service to access instance metadata"):

1. ``PUT /latest/api/token`` with ``X-aws-ec2-metadata-token-ttl-seconds: 21600`` returns a
   session token (kept for its lifetime, asked again after a 401);
2. ``GET /latest/meta-data/iam/security-credentials/`` with ``X-aws-ec2-metadata-token``
   names the instance profile's role (404: no role attached);
3. ``GET .../security-credentials/<role>`` returns ``{"Code": "Success", "AccessKeyId",
   "SecretAccessKey", "Token", "Expiration"}``.

IMDSv1 (the same GETs without a token) is used only when ``S3Config.ec2_metadata_v1`` asks for
it and the token request is refused (403/404/405) or times out; botocore falls back by default,
but a v1 request is what SSRF attacks on instance credentials exploit, so here it is opt-in.
``AWS_EC2_METADATA_DISABLED=true`` leaves IMDS out; ``AWS_EC2_METADATA_SERVICE_ENDPOINT`` (or
``..._ENDPOINT_MODE=IPv6``) moves it. An instance without IMDS is "no credentials here" (the
chain goes on), as with botocore; once IMDS has answered, its failures are errors (the cache
keeps the old credentials through the advisory window).

**Container credentials** ("Amazon ECS task IAM role", "EKS Pod Identity"):
``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` is a path on ``http://169.254.170.2``;
``AWS_CONTAINER_CREDENTIALS_FULL_URI`` a whole URL, which must be https, or http to a loopback
address or to the ECS/EKS agents' addresses (``169.254.170.2``, ``169.254.170.23``,
``fd00:ec2::23``): botocore's rule, since the request may carry an authorization token. That
token is the contents of ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`` (read for every request:
EKS rotates it) or ``AWS_CONTAINER_AUTHORIZATION_TOKEN``, sent as ``Authorization``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

import anyio

from litestar_storages._http.credentials import Expiring
from litestar_storages._http.request import HttpRequest
from litestar_storages.backends.s3._credentials_http import (
    CONTAINER_ATTEMPTS,
    CONTAINER_TIMEOUT,
    AwsHttp,
)
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

__all__ = [
    "CONTAINER_HOST",
    "IMDS_ENDPOINT",
    "ContainerSource",
    "InstanceMetadataSource",
    "container_url",
    "imds_endpoint",
    "parse_credentials",
]

logger = logging.getLogger("litestar_storages.s3")

IMDS_ENDPOINT = "http://169.254.169.254"
IMDS_ENDPOINT_IPV6 = "http://[fd00:ec2::254]"
CONTAINER_HOST = "http://169.254.170.2"
TOKEN_TTL = 21600  # seconds: the longest IMDSv2 session token (6 hours)
_CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/"
_REGION_PATH = "/latest/meta-data/placement/region"
_CONTAINER_HOSTS = frozenset({"169.254.170.2", "169.254.170.23", "fd00:ec2::23"})
_STATIC_STABILITY = timedelta(minutes=5)


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def imds_endpoint(environ: Mapping[str, str]) -> str:
    """The IMDS origin: ``AWS_EC2_METADATA_SERVICE_ENDPOINT``, the IPv6 address when
    ``AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6``, else ``http://169.254.169.254``."""
    endpoint = environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT", "").strip().rstrip("/")
    if endpoint:
        return endpoint
    mode = environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "").strip().lower()
    return IMDS_ENDPOINT_IPV6 if mode == "ipv6" else IMDS_ENDPOINT


def parse_credentials(body: bytes, where: str, now: datetime) -> Expiring[AwsCredentials]:
    """The credentials in an IMDS or container endpoint answer (the same JSON shape).

    An ``Expiration`` already past is pushed a few minutes ahead, as botocore does: during an
    outage of the credential service, IMDS keeps serving the last credentials, which AWS keeps
    accepting for a while ("static stability"); refusing them would only turn the outage into
    ours.

    Raises:
        StoragePermissionError: The answer holds no usable credentials.
    """
    from litestar_storages.backends._s3_xml import parse_iso8601  # loads with the answer

    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if not isinstance(document, dict) or document.get("Code", "Success") != "Success":
        code = document.get("Code") if isinstance(document, dict) else None
        raise StoragePermissionError(
            f"{where} answered without credentials{f' ({code})' if code else ''}", backend="s3"
        )
    key_id, secret = document.get("AccessKeyId"), document.get("SecretAccessKey")
    if not isinstance(key_id, str) or not isinstance(secret, str) or not key_id or not secret:
        raise StoragePermissionError(f"{where} answered without an access key", backend="s3")
    token = document.get("Token")
    expiration = document.get("Expiration")
    expires_at = parse_iso8601(expiration) if isinstance(expiration, str) else None
    if expires_at is not None and expires_at <= now:
        logger.warning("%s returned expired credentials; using them a few more minutes", where)
        expires_at = now + _STATIC_STABILITY
    return Expiring(
        AwsCredentials(key_id, secret, token if isinstance(token, str) else None), expires_at
    )


class _Unavailable(Exception):
    """IMDS did not give what was asked (refused, or not there at all)."""


class InstanceMetadataSource:
    """The EC2 instance profile's role credentials, from IMDSv2.

    Args:
        http: The storage's credential senders.
        environ: ``AWS_EC2_METADATA_*`` settings.
        v1_fallback: Allow IMDSv1 when the token request is refused or unanswered.
    """

    name = "instance-metadata"

    def __init__(
        self, http: AwsHttp, environ: Mapping[str, str], *, v1_fallback: bool = False
    ) -> None:
        self.http = http
        self.origin = imds_endpoint(environ)
        self.disabled = _true(environ.get("AWS_EC2_METADATA_DISABLED"))
        self.v1_fallback = v1_fallback
        self.answered = False
        self._token: tuple[str | None, datetime] | None = None

    async def _exchange(self, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
        from litestar_storages._http.endpoint import send_within
        from litestar_storages._http.errors import parse_generic_error

        http = self.http
        sender = http.local(
            timeout=http.imds_timeout, attempts=http.imds_attempts, error_parser=parse_generic_error
        )
        request = HttpRequest(method, self.origin, path, headers=headers, operation="EC2 IMDS")
        # Refusals come back here to be told apart from absence (see load()).
        request.ok_statuses = frozenset(range(400, 500))
        try:
            return await send_within(
                sender,
                request,
                deadline=http.imds_timeout * (http.imds_attempts + 1),
                what=f"EC2 IMDS at {self.origin}",
            )
        except StorageConnectionError as exc:
            raise _Unavailable(exc.message) from exc

    async def _session_token(self, *, renew: bool = False) -> str | None:
        now = self.http.clock()
        if self._token is not None and not renew and now < self._token[1]:
            return self._token[0]
        ttl = {"x-aws-ec2-metadata-token-ttl-seconds": str(TOKEN_TTL)}
        try:
            response = await self._exchange("PUT", "/latest/api/token", ttl)
        except _Unavailable:
            if not self.v1_fallback:
                raise
            token = None  # some containers drop the PUT's answer (hop limit): v1, as asked
        else:
            if response.status_code == 200 and response.content.strip():
                token = response.content.decode("ascii", "replace").strip()
            elif self.v1_fallback and response.status_code in (403, 404, 405):
                token = None
            else:
                raise _Unavailable(
                    f"EC2 IMDS refused a session token (HTTP {response.status_code}); IMDSv1 "
                    "is only used with S3Config(ec2_metadata_v1=True)"
                )
        # Renewed a minute early; the token itself is only ever sent to IMDS.
        self._token = (token, now + timedelta(seconds=TOKEN_TTL - 60))
        return token

    async def _get(self, path: str) -> httpx.Response | None:
        """GET ``path`` with the session token; ``None`` for 404."""
        token = await self._session_token()
        response = await self._exchange("GET", path, _token_header(token))
        if response.status_code == 401:  # the session token expired: a new one, once
            token = await self._session_token(renew=True)
            response = await self._exchange("GET", path, _token_header(token))
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise _Unavailable(f"EC2 IMDS refused {path} (HTTP {response.status_code})")
        return response

    async def load(self) -> Expiring[AwsCredentials] | None:
        """The role credentials; ``None`` when IMDS is disabled, not there, or has no role.

        Raises:
            StoragePermissionError: IMDS answered before and refuses now.
            StorageConnectionError: IMDS answered before and is unreachable now.
        """
        if self.disabled:
            return None
        try:
            listing = await self._get(_CREDENTIALS_PATH)
            roles = listing.content.decode("utf-8", "replace").split() if listing else []
            if not roles:
                return None  # no instance profile attached
            now = self.http.clock()
            answer = await self._get(f"{_CREDENTIALS_PATH}{roles[0]}")
        except _Unavailable as exc:
            if not self.answered:
                logger.debug("no EC2 IMDS credentials at %s: %s", self.origin, exc)
                return None
            cause = exc.__cause__
            if isinstance(cause, StorageConnectionError):
                raise cause from None
            raise StoragePermissionError(str(exc), backend="s3") from None
        if answer is None:
            return None
        self.answered = True
        return parse_credentials(answer.content, "EC2 IMDS", now)

    async def region(self) -> str | None:
        """The instance's region (``placement/region``), or ``None`` if IMDS cannot say."""
        if self.disabled:
            return None
        try:
            answer = await self._get(_REGION_PATH)
        except _Unavailable as exc:
            logger.debug("no region from EC2 IMDS: %s", exc)
            return None
        text = answer.content.decode("ascii", "replace").strip() if answer is not None else ""
        return text or None


def _token_header(token: str | None) -> dict[str, str]:
    return {"x-aws-ec2-metadata-token": token} if token else {}


# ---------------------------------------------------------------------- container credentials
def container_url(environ: Mapping[str, str]) -> str | None:
    """The container credentials URL, or ``None`` when neither variable is set.

    Raises:
        StorageConfigurationError: A full URI that is neither https nor to an allowed host.
    """
    relative = environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "").strip()
    if relative:
        return f"{CONTAINER_HOST}/{relative.lstrip('/')}"
    full = environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI", "").strip()
    if not full:
        return None
    parts = urlsplit(full)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https":
        return full
    if parts.scheme == "http" and (host in _CONTAINER_HOSTS or _loopback(host)):
        return full
    raise StorageConfigurationError(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback address or "
        f"the ECS/EKS agent ({', '.join(sorted(_CONTAINER_HOSTS))}); not {parts.scheme}://{host}",
        backend="s3",
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ContainerSource:
    """ECS task role or EKS Pod Identity credentials from the container agent.

    Args:
        http: The storage's credential senders.
        environ: The ``AWS_CONTAINER_*`` variables.
    """

    name = "container"

    def __init__(self, http: AwsHttp, environ: Mapping[str, str]) -> None:
        self.http = http
        self.environ = environ

    async def _authorization(self) -> str | None:
        path = self.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "").strip()
        if path:
            try:
                token = (await anyio.Path(path).read_text(encoding="utf-8")).strip()
            except OSError as exc:
                raise StorageConfigurationError(
                    f"cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE ({path}): "
                    f"{exc.strerror or exc}",
                    backend="s3",
                ) from None
        else:
            token = self.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN", "").strip()
        if "\r" in token or "\n" in token:
            raise StorageConfigurationError(
                "the container authorization token contains a line break", backend="s3"
            )
        return token or None

    async def load(self) -> Expiring[AwsCredentials] | None:
        """The container's role credentials; ``None`` when no container endpoint is set.

        Raises:
            StorageError: The endpoint is configured but fails or refuses (a configured source
                that fails is an error, not a reason to try the next one).
        """
        url = container_url(self.environ)
        if url is None:
            return None
        from litestar_storages._http.endpoint import send_within
        from litestar_storages._http.errors import parse_generic_error

        parts = urlsplit(url)
        headers = {"accept": "application/json"}
        authorization = await self._authorization()
        if authorization is not None:
            headers["authorization"] = authorization
        request = HttpRequest(
            "GET",
            f"{parts.scheme}://{parts.netloc}",
            parts.path or "/",
            query=parse_qsl(parts.query, keep_blank_values=True),
            headers=headers,
            operation="container credentials",
        )
        sender = self.http.local(
            timeout=CONTAINER_TIMEOUT, attempts=CONTAINER_ATTEMPTS, error_parser=parse_generic_error
        )
        now = self.http.clock()
        where = f"the container credentials endpoint ({parts.scheme}://{parts.netloc})"
        deadline = CONTAINER_TIMEOUT * (CONTAINER_ATTEMPTS + 1)
        try:
            response = await send_within(sender, request, deadline=deadline, what=where)
        except (StorageConnectionError, StorageServerError):
            raise
        except StorageError as exc:
            raise StoragePermissionError(
                f"{where} refused the credential request ({exc.code or exc.status})",
                backend="s3",
                status=exc.status,
                code=exc.code,
            ) from exc
        return parse_credentials(response.content, where, now)
