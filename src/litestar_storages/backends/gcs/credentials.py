"""Where GCS credentials come from: an ordered chain of providers, and pure OAuth2 token steps.

Requests are authorised by the first provider of :data:`REQUEST_CHAIN` that finds something:

1. ``anonymous=True`` in the config: no ``Authorization`` at all;
2. ``token``: an access token sent as is (never refreshed, never impersonated);
3. ``STORAGE_EMULATOR_HOST`` set: anonymous, as Google's own clients do (the emulator checks
   nothing, and a key given only to sign URLs must not make every request fetch a token);
4. ``impersonate_service_account`` (or ``GOOGLE_IMPERSONATE_SERVICE_ACCOUNT``): the credentials
   that 5-8 find obtain tokens of that account (IAM Credentials ``generateAccessToken``);
5. ``service_account_info`` / ``service_file``: an RS256 JWT assertion exchanged for a token;
6. ``GOOGLE_APPLICATION_CREDENTIALS``: a ``service_account``, ``authorized_user`` or
   ``impersonated_service_account`` file;
7. the gcloud application-default file (``$CLOUDSDK_CONFIG`` or
   ``~/.config/gcloud/application_default_credentials.json``): same three types;
8. the metadata server of GCE, GKE and Cloud Run (``GCE_METADATA_HOST``; left out with
   ``NO_GCE_CHECK=true``), asked for a token at the first request.

6-8 are Application Default Credentials in google-auth's order (key file variable, gcloud
file, metadata server).

Signed URLs use the first of :data:`SIGNING_CHAIN`: ``hmac_access_id``/``hmac_secret``; the
impersonated account (keyless, through ``signBlob``); the first service-account key of 5-7
(signed locally); the metadata server's account (keyless; not with an emulator).

Resolution reads small local files and does no network I/O; the metadata server is chosen
without being asked (google-auth pings it; here the first token fetch does, under a short
deadline, see ``_credentials_auth``). Fetching a token is split into pure request builders
(:func:`token_request` and the ``_credentials_metadata``/``_credentials_iam`` modules), one
request done by ``_credentials_auth``, and pure parsers (:func:`parse_token_response`). Nothing
here reaches ``repr`` or an error message with a secret.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlencode

from litestar_storages._http.credentials import Expiring
from litestar_storages.backends.gcs._credentials_iam import IAM_ENDPOINT
from litestar_storages.backends.gcs._credentials_metadata import (
    metadata_disabled,
    metadata_origin,
)
from litestar_storages.backends.gcs.config import Endpoint, GCSConfig
from litestar_storages.exceptions import StorageConfigurationError, StoragePermissionError
from litestar_storages.signing.gcs import TOKEN_URI, GcsHmacKey, GcsServiceAccount

__all__ = [
    "ADC_FILE",
    "REQUEST_CHAIN",
    "SCOPES",
    "SIGNING_CHAIN",
    "ENV_IMPERSONATE",
    "ChainContext",
    "CredentialSource",
    "Impersonation",
    "ResolvedCredentials",
    "parse_token_response",
    "resolve_request",
    "resolve_signing",
    "token_request",
]

SCOPES = ("https://www.googleapis.com/auth/devstorage.read_write",)
"""OAuth2 scope of the tokens we ask for: read and write objects, no ACL administration."""

ADC_FILE = "application_default_credentials.json"
"""Name of the file ``gcloud auth application-default login`` writes."""

ENV_IMPERSONATE = "GOOGLE_IMPERSONATE_SERVICE_ACCOUNT"
"""The variable naming a service account to impersonate (the Terraform provider's name)."""

Kind = Literal[
    "anonymous",
    "access_token",
    "service_account",
    "authorized_user",
    "hmac",
    "metadata",
    "impersonated",
]


@dataclass(frozen=True)
class CredentialSource:
    """Which credentials were resolved, for diagnostics; never a secret.

    Attributes:
        kind: ``anonymous``, ``access_token``, ``service_account``, ``authorized_user``,
            ``hmac``, ``metadata`` (the metadata server's attached account) or
            ``impersonated``.
        origin: Where they came from (``config token``, ``GOOGLE_APPLICATION_CREDENTIALS
            (/path/key.json)``, ``metadata server (http://169.254.169.254)``, ...); for
            ``impersonated``, also the source (``... via service_account robot@... from ...``).
        principal: The service-account e-mail or HMAC access id, when known (the metadata
            server's account is known once it has been asked).
    """

    kind: Kind
    origin: str
    principal: str | None = None

    def __str__(self) -> str:
        who = f" {self.principal}" if self.principal else ""
        return f"{self.kind}{who} from {self.origin}"


@dataclass(frozen=True, repr=False)
class Impersonation:
    """Tokens of ``target``, obtained with ``source``'s (``generateAccessToken``).

    Attributes:
        target: The impersonated service account's e-mail.
        source: The credentials that call the IAM Credentials API.
        delegates: The delegation chain (e-mails), possibly empty.
        iam_origin: Origin of the IAM Credentials API.
    """

    target: str
    source: ResolvedCredentials
    delegates: tuple[str, ...] = ()
    iam_origin: str = IAM_ENDPOINT

    def __repr__(self) -> str:
        return f"Impersonation({self.target} via {self.source.source})"


@dataclass(frozen=True, repr=False)
class ResolvedCredentials:
    """What a provider found: the source, and what is needed to get a token or sign.

    Attributes:
        source: The non-secret description.
        token: A fixed access token (``access_token``).
        account: A service-account key (``service_account``).
        refresh: ``client_id``, ``client_secret``, ``refresh_token`` and ``token_uri`` of an
            ``authorized_user`` file.
        hmac: An HMAC key (signing only).
        project_id: The project named by the key file, if any.
        metadata_origin: The metadata server (``metadata``).
        impersonation: The impersonation (``impersonated``).
    """

    source: CredentialSource
    token: str | None = None
    account: GcsServiceAccount | None = None
    refresh: Mapping[str, str] = field(default_factory=dict)
    hmac: GcsHmacKey | None = None
    project_id: str | None = None
    metadata_origin: str | None = None
    impersonation: Impersonation | None = None

    def __repr__(self) -> str:
        return f"ResolvedCredentials({self.source})"

    @property
    def needs_token(self) -> bool:
        """Whether requests need an OAuth2 token fetched from somewhere (it expires)."""
        kinds = ("service_account", "authorized_user", "metadata", "impersonated")
        return self.source.kind in kinds

    @property
    def keyless(self) -> bool:
        """Whether URLs are signed remotely, through the IAM Credentials ``signBlob`` API."""
        return self.source.kind in ("metadata", "impersonated")


@dataclass(frozen=True)
class ChainContext:
    """The inputs of the chain: config, environment, endpoint (files are read on demand)."""

    config: GCSConfig
    env: Mapping[str, str]
    endpoint: Endpoint


Provider = Callable[[ChainContext], "ResolvedCredentials | None"]
"""One link of a chain: returns credentials, or ``None`` to let the next one try."""


# ----------------------------------------------------------------------------- key files
def _read_json(path: str | os.PathLike[str], origin: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise StorageConfigurationError(
            f"cannot read the GCS credentials file named by {origin}: {exc.strerror or exc}",
            backend="gcs",
        ) from None
    try:
        document = json.loads(text)
    except ValueError:
        raise StorageConfigurationError(
            f"the GCS credentials file named by {origin} is not JSON", backend="gcs"
        ) from None
    if not isinstance(document, dict):
        raise StorageConfigurationError(
            f"the GCS credentials file named by {origin} is not a JSON object", backend="gcs"
        )
    return document


def from_info(info: Mapping[str, Any], origin: str) -> ResolvedCredentials:
    """Credentials from a parsed key file (``service_account`` or ``authorized_user``).

    Raises:
        StorageConfigurationError: Another type, or a required field is missing.
    """
    kind = info.get("type", "service_account")
    project = info.get("project_id") or info.get("quota_project_id")
    if kind == "service_account":
        try:
            account = GcsServiceAccount.from_info(info)
        except ValueError as exc:
            raise StorageConfigurationError(f"{origin}: {exc}", backend="gcs") from None
        source = CredentialSource("service_account", origin, account.client_email)
        return ResolvedCredentials(source=source, account=account, project_id=project)
    if kind == "authorized_user":
        missing = [k for k in ("client_id", "client_secret", "refresh_token") if not info.get(k)]
        if missing:
            raise StorageConfigurationError(
                f"{origin}: authorized_user credentials lack {', '.join(missing)}", backend="gcs"
            )
        refresh = {k: str(info[k]) for k in ("client_id", "client_secret", "refresh_token")}
        refresh["token_uri"] = str(info.get("token_uri") or TOKEN_URI)
        source = CredentialSource("authorized_user", origin, None)
        return ResolvedCredentials(source=source, refresh=refresh, project_id=project)
    if kind == "impersonated_service_account":
        return _impersonated_file(info, origin)
    raise StorageConfigurationError(
        f"{origin}: credentials of type {kind!r} are not supported "
        "(use a service_account, authorized_user or impersonated_service_account file, or "
        "pass a token)",
        backend="gcs",
    )


def _impersonated_file(info: Mapping[str, Any], origin: str) -> ResolvedCredentials:
    # What `gcloud auth application-default login --impersonate-service-account` writes:
    # {"type": "impersonated_service_account", "service_account_impersonation_url":
    #  "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/SA:generateAccessToken",
    #  "source_credentials": {authorized_user or service_account}, "delegates": [...]}
    url = str(info.get("service_account_impersonation_url") or "")
    match = _IMPERSONATION_URL.match(url)
    source_info = info.get("source_credentials")
    if match is None or not isinstance(source_info, Mapping):
        raise StorageConfigurationError(
            f"{origin}: impersonated_service_account credentials need "
            "service_account_impersonation_url (...:generateAccessToken) and source_credentials",
            backend="gcs",
        )
    if source_info.get("type") == "impersonated_service_account":
        raise StorageConfigurationError(
            f"{origin}: nested impersonation is not supported (use delegates)", backend="gcs"
        )
    source = from_info(source_info, f"{origin} source_credentials")
    delegates = tuple(str(d) for d in info.get("delegates") or ())
    return _impersonating(
        unquote(match["email"]), source, delegates, origin=origin, iam_origin=match["origin"]
    )


_IMPERSONATION_URL = re.compile(
    r"^(?P<origin>https?://[^/]+)/v1/projects/-/serviceAccounts/(?P<email>[^/:]+)"
    r":generateAccessToken$"
)


def _impersonating(
    target: str,
    source: ResolvedCredentials,
    delegates: Sequence[str],
    *,
    origin: str,
    iam_origin: str,
) -> ResolvedCredentials:
    described = CredentialSource("impersonated", f"{origin} via {source.source}", target)
    impersonation = Impersonation(
        target=target, source=source, delegates=tuple(delegates), iam_origin=iam_origin
    )
    return ResolvedCredentials(
        source=described, impersonation=impersonation, project_id=source.project_id
    )


# ----------------------------------------------------------------------------- providers
def config_anonymous(ctx: ChainContext) -> ResolvedCredentials | None:
    """``anonymous=True``."""
    if ctx.config.anonymous:
        return ResolvedCredentials(CredentialSource("anonymous", "config anonymous=True"))
    return None


def config_token(ctx: ChainContext) -> ResolvedCredentials | None:
    """An access token given in the config."""
    if ctx.config.token:
        return ResolvedCredentials(
            CredentialSource("access_token", "config token"), token=ctx.config.token
        )
    return None


def emulator_anonymous(ctx: ChainContext) -> ResolvedCredentials | None:
    """``STORAGE_EMULATOR_HOST`` is set and is the endpoint in use."""
    if ctx.endpoint.emulator:
        return ResolvedCredentials(CredentialSource("anonymous", "STORAGE_EMULATOR_HOST"))
    return None


def config_service_account(ctx: ChainContext) -> ResolvedCredentials | None:
    """``service_account_info``, then ``service_file``."""
    if ctx.config.service_account_info is not None:
        return from_info(ctx.config.service_account_info, "config service_account_info")
    if ctx.config.service_file:
        origin = f"config service_file ({os.fspath(ctx.config.service_file)})"
        return from_info(_read_json(ctx.config.service_file, origin), origin)
    return None


def application_credentials(ctx: ChainContext) -> ResolvedCredentials | None:
    """The file named by ``GOOGLE_APPLICATION_CREDENTIALS``."""
    path = ctx.env.get("GOOGLE_APPLICATION_CREDENTIALS")
    if not path:
        return None
    origin = f"GOOGLE_APPLICATION_CREDENTIALS ({path})"
    return from_info(_read_json(path, origin), origin)


def adc_path(env: Mapping[str, str]) -> Path | None:
    """Where gcloud keeps application-default credentials (``None``: no home directory)."""
    if env.get("CLOUDSDK_CONFIG"):
        return Path(env["CLOUDSDK_CONFIG"]) / ADC_FILE
    if os.name == "nt" and env.get("APPDATA"):
        return Path(env["APPDATA"]) / "gcloud" / ADC_FILE
    home = env.get("HOME")
    return Path(home) / ".config" / "gcloud" / ADC_FILE if home else None


def gcloud_application_default(ctx: ChainContext) -> ResolvedCredentials | None:
    """``gcloud auth application-default login``'s file, when it exists."""
    path = adc_path(ctx.env)
    if path is None or not path.is_file():
        return None
    origin = f"gcloud application-default credentials ({path})"
    return from_info(_read_json(path, origin), origin)


def metadata_server(ctx: ChainContext) -> ResolvedCredentials | None:
    """The metadata server of GCE, GKE and Cloud Run (not asked here; see the module doc)."""
    if metadata_disabled(ctx.env):
        return None
    origin, where = metadata_origin(ctx.env)
    place = origin if where == "default address" else f"{origin}, {where}"
    return ResolvedCredentials(
        CredentialSource("metadata", f"metadata server ({place})"), metadata_origin=origin
    )


def metadata_signer(ctx: ChainContext) -> ResolvedCredentials | None:
    """The metadata server's account, signing through ``signBlob``; never for an emulator
    (an emulator run must not wait for a metadata server to be told it cannot sign)."""
    return None if ctx.endpoint.emulator else metadata_server(ctx)


def impersonation_target(ctx: ChainContext) -> str | None:
    """``impersonate_service_account``, else ``GOOGLE_IMPERSONATE_SERVICE_ACCOUNT``."""
    return ctx.config.impersonate_service_account or ctx.env.get(ENV_IMPERSONATE) or None


def configured_impersonation(ctx: ChainContext) -> ResolvedCredentials | None:
    """Impersonation of the configured account, with the rest of the chain as its source."""
    target = impersonation_target(ctx)
    if target is None:
        return None
    source = _first(IMPERSONATION_SOURCES, ctx)
    if source is None:
        return None
    if source.impersonation is not None:  # an impersonated_service_account file
        source = source.impersonation.source
    where = (
        "config impersonate_service_account"
        if ctx.config.impersonate_service_account
        else ENV_IMPERSONATE
    )
    return _impersonating(
        target,
        source,
        ctx.config.impersonation_delegates,
        origin=where,
        iam_origin=(ctx.config.iam_endpoint or IAM_ENDPOINT).rstrip("/"),
    )


def config_hmac(ctx: ChainContext) -> ResolvedCredentials | None:
    """An HMAC key given in the config (signed URLs only)."""
    access_id, secret = ctx.config.hmac_access_id, ctx.config.hmac_secret
    if access_id and secret:
        key = GcsHmacKey(access_id=access_id, secret=secret)
        return ResolvedCredentials(CredentialSource("hmac", "config hmac", access_id), hmac=key)
    return None


IMPERSONATION_SOURCES: tuple[Provider, ...] = (
    config_service_account,
    application_credentials,
    gcloud_application_default,
    metadata_server,
)
"""What may obtain the impersonated account's tokens, in order (Application Default
Credentials' order)."""

REQUEST_CHAIN: tuple[Provider, ...] = (
    config_anonymous,
    config_token,
    emulator_anonymous,
    configured_impersonation,
    *IMPERSONATION_SOURCES,
)
"""Providers consulted, in order, for the credentials that authorise requests."""

SIGNING_CHAIN: tuple[Provider, ...] = (
    config_hmac,
    configured_impersonation,
    config_service_account,
    application_credentials,
    gcloud_application_default,
    metadata_signer,
)
"""Providers consulted, in order, for what signs URLs and POST policies."""


def _first(chain: Sequence[Provider], ctx: ChainContext) -> ResolvedCredentials | None:
    for provider in chain:
        found = provider(ctx)
        if found is not None:
            return found
    return None


def resolve_request(
    ctx: ChainContext, chain: Sequence[Provider] = REQUEST_CHAIN
) -> ResolvedCredentials:
    """The credentials that authorise requests.

    Raises:
        StorageConfigurationError: No provider found any, or a key file is unusable.
    """
    found = _first(chain, ctx)
    if found is None:
        raise StorageConfigurationError(
            "no GCS credentials found: pass token, service_account_info or service_file, set "
            "GOOGLE_APPLICATION_CREDENTIALS, run `gcloud auth application-default login`, run "
            "on Google Cloud (metadata server; NO_GCE_CHECK is set), or set anonymous=True "
            "(public buckets, emulators)",
            backend="gcs",
        )
    return found


def resolve_signing(
    ctx: ChainContext, chain: Sequence[Provider] = SIGNING_CHAIN
) -> ResolvedCredentials:
    """The HMAC or service-account key that signs URLs.

    Raises:
        StorageConfigurationError: No key was found (an access token or user credentials
            cannot sign), or a key file is unusable.
    """
    for provider in chain:
        found = provider(ctx)
        if found is not None and (
            found.hmac is not None or found.account is not None or found.keyless
        ):
            return found
    raise StorageConfigurationError(
        "signed URLs need a service-account key (service_account_info, service_file or "
        "GOOGLE_APPLICATION_CREDENTIALS), an HMAC key (hmac_access_id/hmac_secret), a service "
        "account to impersonate (impersonate_service_account), or the metadata server of "
        "Google Cloud (keyless signing through signBlob)",
        backend="gcs",
    )


# ----------------------------------------------------------------------------- token exchange
@dataclass(frozen=True, repr=False)
class TokenRequest:
    """A token request to POST: ``url`` and an ``application/x-www-form-urlencoded`` body."""

    url: str
    body: bytes

    def __repr__(self) -> str:
        return f"TokenRequest(url={self.url!r})"


def token_request(
    credentials: ResolvedCredentials, now: datetime, *, scopes: Sequence[str] = SCOPES
) -> TokenRequest:
    """The token request for ``credentials`` at ``now``. Pure.

    ``scopes`` apply to service-account assertions (a refresh token keeps the scopes it was
    granted with).

    Service accounts send an RS256 JWT assertion ("Using OAuth 2.0 for Server to Server
    Applications"); ``authorized_user`` files send their refresh token (RFC 6749, section 6).

    Raises:
        StorageConfigurationError: The credentials do not use tokens, or the key is unusable.
    """
    if credentials.account is not None:
        from litestar_storages.signing.gcs import jwt_assertion, token_request_body

        try:
            assertion = jwt_assertion(credentials.account, scopes=scopes, now=now)
        except ValueError as exc:
            raise StorageConfigurationError(
                f"cannot sign the token request: {exc}", backend="gcs"
            ) from None
        body = token_request_body(assertion).encode("ascii")
        return TokenRequest(url=credentials.account.token_uri, body=body)
    if credentials.refresh:
        refresh = credentials.refresh
        form = {
            "grant_type": "refresh_token",
            "client_id": refresh["client_id"],
            "client_secret": refresh["client_secret"],
            "refresh_token": refresh["refresh_token"],
        }
        return TokenRequest(url=refresh["token_uri"], body=urlencode(form).encode("ascii"))
    raise StorageConfigurationError(
        f"{credentials.source.kind} credentials need no token", backend="gcs"
    )


def parse_token_response(body: bytes, now: datetime) -> Expiring[str]:
    """The access token and its expiry from a token endpoint's JSON answer. Pure.

    Raises:
        StoragePermissionError: The answer carries no usable token.
    """
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not document.get("access_token"):
        raise StoragePermissionError(
            "the OAuth2 token endpoint answered without an access_token", backend="gcs"
        )
    expires_in = document.get("expires_in")
    try:
        lifetime = int(expires_in) if expires_in is not None else 3600
    except (TypeError, ValueError):
        lifetime = 3600
    return Expiring(
        value=str(document["access_token"]), expires_at=now + timedelta(seconds=lifetime)
    )
