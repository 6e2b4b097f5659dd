"""``GCSConfig``: what a ``GCSStorage`` talks to and how, and the endpoint rules derived from it.

Nothing here does I/O or reads the environment by itself: :func:`resolve_endpoint` takes the
environment as an argument, so the rules are tested as plain data.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from litestar_storages._http.settings import HttpTransport, check_http_settings
from litestar_storages.exceptions import StorageConfigurationError

__all__ = [
    "DEFAULT_API_ROOT",
    "DEFAULT_UPLOAD_CHUNK_SIZE",
    "RESUMABLE_CHUNK_QUANTUM",
    "Endpoint",
    "GCSConfig",
    "MultipartStrategy",
    "resolve_endpoint",
]

DEFAULT_API_ROOT = "https://storage.googleapis.com"
"""Google's endpoint for both the JSON API (``/storage/v1``) and the XML API (``/bucket/...``)."""

RESUMABLE_CHUNK_QUANTUM = 256 * 1024
"""Resumable uploads: every chunk but the last must be a multiple of 256 KiB
("Perform resumable uploads", section "Upload in multiple chunks")."""

DEFAULT_UPLOAD_CHUNK_SIZE = 8 * 1024 * 1024
"""Google recommends chunks of at least 8 MiB for resumable uploads."""

MultipartStrategy = Literal["auto", "xml", "compose"]
"""How ``start_multipart_upload`` and friends map onto GCS.

``xml``: the XML API multipart upload (S3-compatible; parallel parts, any order).
``compose``: each part is a temporary object under a hidden per-upload prefix, combined with
``objects.compose`` (32 at a time, recursively) and deleted afterwards.
``auto``: ``xml`` on Google's own endpoints (``*.googleapis.com``), ``compose`` elsewhere
(emulators such as fake-gcs-server have no XML multipart API).
"""

_BACKEND = "gcs"


@dataclass(frozen=True)
class GCSConfig:
    """Configuration of :class:`~litestar_storages.backends.gcs.GCSStorage`.

    Credentials are looked up in this order (see ``docs/backends/gcs.md``): ``anonymous``,
    ``token``, ``STORAGE_EMULATOR_HOST`` (anonymous, as Google's own clients do),
    ``service_account_info``, ``service_file``, ``GOOGLE_APPLICATION_CREDENTIALS``, the gcloud
    application-default credentials file, the metadata server (GCE, GKE, Cloud Run). With
    ``impersonate_service_account`` the credentials found obtain tokens of that account.
    Signed URLs use ``hmac_access_id``/``hmac_secret`` when given, else a service-account key of
    that chain, else the IAM Credentials ``signBlob`` API as the impersonated or metadata
    server's account (keyless signing).

    Attributes:
        bucket: The bucket name. Environment: none.
        project: The Google Cloud project; informational (object operations do not need it).
            Environment: ``GOOGLE_CLOUD_PROJECT`` when unset.
        service_file: Path of a service-account JSON key file. Environment:
            ``GOOGLE_APPLICATION_CREDENTIALS`` is read by the credential chain when neither this
            nor ``service_account_info`` is given.
        prefix: A key prefix applied to every key (``"uploads"`` and ``"uploads/"`` are the
            same). Environment: none.
        presigned_expiry: Default validity of ``url()``; at most 7 days. Environment: none.
        api_root: The endpoint origin, e.g. ``http://127.0.0.1:4443`` for an emulator (a
            trailing ``/storage/v1`` is accepted and ignored). Environment:
            ``STORAGE_EMULATOR_HOST`` when unset (``http://`` is assumed without a scheme);
            otherwise ``https://storage.googleapis.com``.
        service_account_info: A parsed service-account key (the JSON file as a dict).
            Environment: none.
        token: An OAuth2 access token to send as is (it is not refreshed). Environment: none.
        hmac_access_id: HMAC key id (``GOOG1...``) for ``GOOG4-HMAC-SHA256`` signed URLs.
            Environment: none.
        hmac_secret: HMAC key secret. Environment: none.
        anonymous: Send no credentials at all (public buckets, emulators). Environment: none;
            ``STORAGE_EMULATOR_HOST`` implies it unless ``token`` is given.
        multipart_strategy: See :data:`MultipartStrategy`. Environment: none.
        upload_chunk_size: Bodies up to this size are uploaded in one request; larger streams
            use a resumable upload in chunks of this size (a multiple of 256 KiB).
            Environment: none.
        verify_checksums: Check ``x-goog-hash`` (MD5, and CRC32C when ``google-crc32c`` is
            installed) on full downloads and send an MD5 with single-request uploads.
            Environment: none.
        verify_ssl: Verify TLS certificates, or the path of a CA bundle. Environment: none.
        max_pool_connections: Most connections open at once in the shared pool. Environment:
            none.
        connect_timeout: Seconds to connect (DNS, TCP and TLS). Environment: none.
        read_timeout: Seconds to wait for each read (and write, and for a free connection).
            Environment: none.
        http2: Use HTTP/2 (httpx's transport) when the ``h2`` package is installed.
            Environment: none.
        proxy_url: HTTP(S) proxy for every request, through httpx's stock transport. Hidden
            from ``repr`` (it may hold a password). Environment: none (proxy variables are
            not read).
        impersonate_service_account: E-mail of a service account whose tokens the credentials
            found obtain (IAM Credentials ``generateAccessToken``) and as which URLs are signed
            (``signBlob``). Environment: ``GOOGLE_IMPERSONATE_SERVICE_ACCOUNT`` when unset.
        impersonation_delegates: The delegation chain of the impersonation (service-account
            e-mails, each allowed to impersonate the next). Environment: none.
        iam_endpoint: Origin of the IAM Credentials API (``generateAccessToken``,
            ``signBlob``). Environment: none; default ``https://iamcredentials.googleapis.com``.
        metadata_timeout: Seconds allowed to connect to, and for each read from, the metadata
            server; a whole token fetch is bounded by three times this. Environment: none (the
            server's address: ``GCE_METADATA_HOST``, else ``GCE_METADATA_IP``, else
            ``169.254.169.254``; ``NO_GCE_CHECK=true`` leaves it out of the chain).
        http_transport: ``"fast"`` (the library's HTTP/1.1 transport) or ``"httpx"`` (httpx's
            stock transport). Environment: ``LITESTAR_STORAGES_HTTP_TRANSPORT`` when unset;
            default ``"fast"``.
    """

    bucket: str
    project: str | None = None
    service_file: str | os.PathLike[str] | None = None
    prefix: str = ""
    presigned_expiry: timedelta = timedelta(hours=1)
    api_root: str | None = None
    service_account_info: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)
    token: str | None = field(default=None, repr=False)
    hmac_access_id: str | None = None
    hmac_secret: str | None = field(default=None, repr=False)
    anonymous: bool = False
    multipart_strategy: MultipartStrategy = "auto"
    upload_chunk_size: int = DEFAULT_UPLOAD_CHUNK_SIZE
    verify_checksums: bool = True
    verify_ssl: bool | str = True
    max_pool_connections: int = 10
    impersonate_service_account: str | None = None
    impersonation_delegates: tuple[str, ...] = ()
    iam_endpoint: str | None = None
    metadata_timeout: float = 3.0
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    http2: bool = False
    proxy_url: str | None = field(default=None, repr=False)
    http_transport: HttpTransport | None = None

    def __post_init__(self) -> None:
        problems = check_http_settings(self)
        if problems:
            raise StorageConfigurationError("; ".join(problems), backend=_BACKEND)
        if not isinstance(self.bucket, str) or not self.bucket:
            raise StorageConfigurationError("GCSConfig.bucket is required", backend=_BACKEND)
        if "/" in self.bucket:
            raise StorageConfigurationError(
                f"GCSConfig.bucket must be a bucket name, not a path: {self.bucket!r}",
                backend=_BACKEND,
            )
        if self.multipart_strategy not in ("auto", "xml", "compose"):
            raise StorageConfigurationError(
                "multipart_strategy must be 'auto', 'xml' or 'compose', "
                f"not {self.multipart_strategy!r}",
                backend=_BACKEND,
            )
        size = self.upload_chunk_size
        if size < RESUMABLE_CHUNK_QUANTUM or size % RESUMABLE_CHUNK_QUANTUM:
            raise StorageConfigurationError(
                f"upload_chunk_size must be a positive multiple of 256 KiB, not {size}",
                backend=_BACKEND,
            )
        if (self.hmac_access_id is None) != (self.hmac_secret is None):
            raise StorageConfigurationError(
                "give both hmac_access_id and hmac_secret, or neither", backend=_BACKEND
            )
        if self.presigned_expiry <= timedelta(0):
            raise StorageConfigurationError("presigned_expiry must be positive", backend=_BACKEND)
        if not self.metadata_timeout > 0:
            raise StorageConfigurationError("metadata_timeout must be positive", backend=_BACKEND)
        if isinstance(self.impersonation_delegates, str):  # type: ignore[unreachable]
            raise StorageConfigurationError(
                "impersonation_delegates must be a sequence of e-mails, not a str",
                backend=_BACKEND,
            )
        if self.iam_endpoint is not None:
            parts = urlsplit(self.iam_endpoint)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
                raise StorageConfigurationError(
                    f"iam_endpoint must be an origin such as https://host, not "
                    f"{self.iam_endpoint!r}",
                    backend=_BACKEND,
                )

    @property
    def key_prefix(self) -> str:
        """``prefix`` as prepended to keys: empty, or ending in exactly one ``/``."""
        stripped = self.prefix.strip("/")
        return f"{stripped}/" if stripped else ""


@dataclass(frozen=True)
class Endpoint:
    """Where requests go, derived from the config and the environment.

    Attributes:
        origin: ``scheme://host[:port]`` of both APIs (JSON under ``/storage/v1``, uploads
            under ``/upload/storage/v1``, the XML API at ``/bucket/object``).
        emulator: The origin came from ``STORAGE_EMULATOR_HOST``.
        google: The host is one of Google's (``*.googleapis.com``).
    """

    origin: str
    emulator: bool = False
    google: bool = True

    @property
    def scheme(self) -> str:
        """``https`` or ``http``."""
        return self.origin.split("://", 1)[0]

    @property
    def netloc(self) -> str:
        """``host[:port]`` as written in the origin."""
        return self.origin.split("://", 1)[1]

    @property
    def hostname(self) -> str:
        """The host without its port."""
        return urlsplit(self.origin).hostname or ""


def _origin(raw: str, what: str) -> str:
    text = raw.strip()
    if "://" not in text:
        # STORAGE_EMULATOR_HOST is often given as host:port (gcloud-aio accepts it so).
        text = f"http://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StorageConfigurationError(f"{what} is not an http(s) URL: {raw!r}", backend=_BACKEND)
    path = parts.path.rstrip("/")
    if path not in ("", "/storage/v1"):
        raise StorageConfigurationError(
            f"{what} must be an origin such as https://host:port, not {raw!r}", backend=_BACKEND
        )
    return f"{parts.scheme}://{parts.netloc}"


def resolve_endpoint(config: GCSConfig, env: Mapping[str, str]) -> Endpoint:
    """The endpoint for ``config``: ``api_root``, else ``STORAGE_EMULATOR_HOST``, else Google.

    Raises:
        StorageConfigurationError: The URL is not an http(s) origin.
    """
    if config.api_root:
        origin = _origin(config.api_root, "api_root")
        emulator = False
    elif env.get("STORAGE_EMULATOR_HOST"):
        origin = _origin(env["STORAGE_EMULATOR_HOST"], "STORAGE_EMULATOR_HOST")
        emulator = True
    else:
        origin, emulator = DEFAULT_API_ROOT, False
    host = urlsplit(origin).hostname or ""
    google = host == "googleapis.com" or host.endswith(".googleapis.com")
    return Endpoint(origin=origin, emulator=emulator, google=google)
