"""``AzureConfig``, connection strings, and the settings resolved from them and the environment.

Everything here is pure and cheap (no httpx, no I/O): building an ``AzureStorage`` and computing
a SAS URL must stay fast. The environment is an argument (a mapping), so tests pass a dict.

Where each setting comes from, first match wins:

* endpoint: ``account_url`` > the connection string's blob endpoint > ``AZURE_STORAGE_ACCOUNT_URL``;
* account name: ``account_name`` > the connection string's ``AccountName`` > the endpoint
  (``<name>.blob.<suffix>``, or the first path segment of a path-style URL) >
  ``AZURE_STORAGE_ACCOUNT_NAME``;
* the connection string itself: ``connection_string``, else ``AZURE_STORAGE_CONNECTION_STRING``
  when the config names no endpoint and no credential of its own (an explicit config is never
  mixed with another account's connection string from the environment);
* the account key: ``account_key`` > ``AZURE_STORAGE_KEY``; the SAS token: ``sas_token`` > a
  query string on ``account_url`` > ``AZURE_STORAGE_SAS_TOKEN``;
* Microsoft Entra ID: each of ``tenant_id``, ``client_id``, ``client_secret``,
  ``federated_token_file``, ``authority_host`` > its ``AZURE_*`` variable; managed identity
  endpoints from the environment only (``_identity``).

Which credential is used is decided by the chain in ``credentials.py``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote, unquote, urlsplit

from litestar_storages._http.settings import HttpTransport, check_http_settings
from litestar_storages.backends.azure._identity import IdentitySettings, resolve_identity
from litestar_storages.exceptions import StorageConfigurationError
from litestar_storages.signing.azure import DEFAULT_VERSION

__all__ = [
    "DEVELOPMENT_ACCOUNT_KEY",
    "DEVELOPMENT_ACCOUNT_NAME",
    "DEVELOPMENT_BLOB_ENDPOINT",
    "ENV_ACCOUNT_KEY",
    "ENV_ACCOUNT_NAME",
    "ENV_ACCOUNT_URL",
    "ENV_CONNECTION_STRING",
    "ENV_SAS_TOKEN",
    "AzureConfig",
    "AzureSettings",
    "ConnectionString",
    "parse_connection_string",
    "resolve_settings",
    "split_sas_token",
]

ENV_CONNECTION_STRING = "AZURE_STORAGE_CONNECTION_STRING"
ENV_ACCOUNT_URL = "AZURE_STORAGE_ACCOUNT_URL"
ENV_ACCOUNT_NAME = "AZURE_STORAGE_ACCOUNT_NAME"
ENV_ACCOUNT_KEY = "AZURE_STORAGE_KEY"
ENV_SAS_TOKEN = "AZURE_STORAGE_SAS_TOKEN"

DEVELOPMENT_ACCOUNT_NAME = "devstoreaccount1"
"""The emulator's well-known account ("Use the Azurite emulator", "Connection strings")."""

DEVELOPMENT_ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
"""The emulator's well-known, published key. Not a secret."""

DEVELOPMENT_BLOB_ENDPOINT = "http://127.0.0.1:10000/devstoreaccount1"
"""What ``UseDevelopmentStorage=true`` means for the Blob service (fixed host and port)."""

_DEVELOPMENT_BLOB_PORT = 10000

# "Naming and referencing containers": 3-63 characters, lowercase letters, digits and single
# hyphens, starting with a letter or digit; "$root", "$web" and "$logs" are special containers.
_CONTAINER = re.compile(r"^(?:[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}|\$root|\$web|\$logs)$")

# Connection string keys ("Configure Azure Storage connection strings"), compared
# case-insensitively as the SDKs do. Endpoints of the other services are accepted and ignored.
_CS_KEYS = {
    "defaultendpointsprotocol": "DefaultEndpointsProtocol",
    "accountname": "AccountName",
    "accountkey": "AccountKey",
    "endpointsuffix": "EndpointSuffix",
    "blobendpoint": "BlobEndpoint",
    "sharedaccesssignature": "SharedAccessSignature",
    "usedevelopmentstorage": "UseDevelopmentStorage",
    "developmentstorageproxyuri": "DevelopmentStorageProxyUri",
}
_CS_IGNORED = {
    f"{service}{kind}endpoint"
    for service in ("queue", "table", "file", "dfs", "blob")
    for kind in ("", "secondary")
} - {"blobendpoint"}


@dataclass(frozen=True, repr=False)
class AzureConfig:
    """Configuration of :class:`~litestar_storages.backends.azure.AzureStorage`.

    Give one way to reach the account: a connection string, an account URL with an account key
    or a SAS token, or nothing and let the environment variables named below supply it. The
    ``repr`` hides the key, the SAS token and the connection string.

    Example:
        >>> AzureConfig(container="uploads", connection_string="UseDevelopmentStorage=true")
    """

    container: str
    """The blob container. Required; it must already exist."""

    account_url: str | None = None
    """The Blob service endpoint, ``https://<account>.blob.core.windows.net`` or a path-style
    emulator URL such as ``http://127.0.0.1:10000/devstoreaccount1``. A SAS token may be appended
    as its query string. Environment: ``AZURE_STORAGE_ACCOUNT_URL``."""

    account_key: str | None = None
    """The base64 storage account key (SharedKey signing and SAS URLs).
    Environment: ``AZURE_STORAGE_KEY``."""

    connection_string: str | None = None
    """A connection string: ``AccountName``/``AccountKey``, ``DefaultEndpointsProtocol``,
    ``EndpointSuffix``, ``BlobEndpoint``, ``SharedAccessSignature``, or
    ``UseDevelopmentStorage=true`` (the local emulator). Environment:
    ``AZURE_STORAGE_CONNECTION_STRING``."""

    prefix: str = ""
    """Prepended to every key (``"uploads"`` and ``"uploads/"`` both mean the ``uploads/``
    folder); listings strip it again."""

    presigned_expiry: timedelta = field(default_factory=lambda: timedelta(hours=1))
    """Lifetime of SAS URLs when ``url()`` is called without ``expires_in``."""

    sas_token: str | None = None
    """A SAS token (``sv=...&sig=...``, with or without the leading ``?``) sent with every
    request when no account key is available. Environment: ``AZURE_STORAGE_SAS_TOKEN``."""

    account_name: str | None = None
    """The storage account name, needed only when it cannot be read from the endpoint (custom
    domains). Environment: ``AZURE_STORAGE_ACCOUNT_NAME``."""

    api_version: str = DEFAULT_VERSION
    """The ``x-ms-version`` sent with every request and the ``sv`` of SAS tokens."""

    list_page_size: int = 5000
    """``maxresults`` of each List Blobs request (the service's maximum and default: 5000)."""

    max_concurrency: int = 4
    """Blocks uploaded at once by ``put_large`` and streamed ``put``."""

    max_pool_connections: int = 10
    """Most connections open at once to the endpoint."""

    verify_ssl: bool | str = True
    """Verify TLS certificates (``True``), skip it (``False``) or use this CA bundle path."""

    sas_start_skew: timedelta = field(default_factory=lambda: timedelta(minutes=15))
    """SAS tokens start this far in the past, so a client whose clock is behind the service's
    can use them at once ("Best practices when using SAS": set the start 15 minutes back)."""

    copy_timeout: timedelta = field(default_factory=lambda: timedelta(minutes=10))
    """How long ``copy()`` waits for a pending server-side copy before giving up."""

    tenant_id: str | None = None
    """The Microsoft Entra tenant of a service principal or workload identity.
    Environment: ``AZURE_TENANT_ID``."""

    client_id: str | None = None
    """The application (client) id of a service principal or workload identity, or of a
    user-assigned managed identity. Environment: ``AZURE_CLIENT_ID``."""

    client_secret: str | None = None
    """A service principal's client secret (with ``tenant_id`` and ``client_id``).
    Environment: ``AZURE_CLIENT_SECRET``."""

    federated_token_file: str | None = None
    """A file holding a Kubernetes service-account token, exchanged for an Entra ID token
    (workload identity; the file is read again for every token). Environment:
    ``AZURE_FEDERATED_TOKEN_FILE``."""

    authority_host: str | None = None
    """The Entra ID authority (sovereign clouds: ``https://login.microsoftonline.us``...).
    Environment: ``AZURE_AUTHORITY_HOST``; default ``https://login.microsoftonline.com``."""

    identity_timeout: float = 2.0
    """Seconds allowed to connect to, and for each read from, the managed identity endpoint
    (IMDS, or App Service's); a whole token request gets three times this. Environment: none
    (the endpoints: ``IDENTITY_ENDPOINT``/``IDENTITY_HEADER``, else
    ``AZURE_POD_IDENTITY_AUTHORITY_HOST``, else ``http://169.254.169.254``)."""

    connect_timeout: float = 10.0
    """Seconds to connect (DNS, TCP and TLS)."""

    read_timeout: float = 60.0
    """Seconds to wait for each read (and write, and for a free connection)."""

    http2: bool = False
    """Use HTTP/2 (httpx's transport) when the ``h2`` package is installed."""

    proxy_url: str | None = field(default=None, repr=False)
    """HTTP(S) proxy for every request, through httpx's stock transport (proxy environment
    variables are not read). Hidden from ``repr``: it may hold a password."""

    http_transport: HttpTransport | None = None
    """``"fast"`` (the library's HTTP/1.1 transport) or ``"httpx"`` (httpx's stock transport).
    Environment: ``LITESTAR_STORAGES_HTTP_TRANSPORT`` when unset; default ``"fast"``."""

    def __post_init__(self) -> None:
        problems = check_http_settings(self)
        if problems:
            raise StorageConfigurationError("; ".join(problems), backend="azure")
        if not isinstance(self.container, str) or not _CONTAINER.match(self.container):
            raise StorageConfigurationError(
                f"invalid container name {self.container!r}: 3-63 lowercase letters, digits "
                "and single hyphens, starting with a letter or digit",
                backend="azure",
            )
        checks = (
            (self.presigned_expiry <= timedelta(0), "presigned_expiry must be positive"),
            (self.sas_start_skew < timedelta(0), "sas_start_skew must not be negative"),
            (self.copy_timeout <= timedelta(0), "copy_timeout must be positive"),
            (not 1 <= self.list_page_size <= 5000, "list_page_size must be between 1 and 5000"),
            (self.max_concurrency < 1, "max_concurrency must be at least 1"),
            (not re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.api_version), "bad api_version"),
            (not self.identity_timeout > 0, "identity_timeout must be positive"),
        )
        for failed, message in checks:
            if failed:
                raise StorageConfigurationError(message, backend="azure")

    @property
    def key_prefix(self) -> str:
        """The normalised prefix: empty, or ending in exactly one ``/``."""
        prefix = self.prefix.strip("/")
        return f"{prefix}/" if prefix else ""

    def __repr__(self) -> str:
        def hidden(value: str | None) -> str:
            return "None" if value is None else "'***'"

        return (
            f"AzureConfig(container={self.container!r}, account_url={_redact(self.account_url)!r}, "
            f"account_name={self.account_name!r}, account_key={hidden(self.account_key)}, "
            f"connection_string={hidden(self.connection_string)}, "
            f"sas_token={hidden(self.sas_token)}, prefix={self.prefix!r}, "
            f"tenant_id={self.tenant_id!r}, client_id={self.client_id!r}, "
            f"client_secret={hidden(self.client_secret)})"
        )


def _redact(url: str | None) -> str | None:
    return url.split("?", 1)[0] + "?<redacted>" if url and "?" in url else url


# --------------------------------------------------------------------------- connection strings
@dataclass(frozen=True, repr=False)
class ConnectionString:
    """A parsed connection string (only what the Blob service needs).

    Attributes:
        blob_endpoint: The Blob endpoint: ``BlobEndpoint``, or built from
            ``DefaultEndpointsProtocol``, ``AccountName`` and ``EndpointSuffix``.
        account_name: ``AccountName``.
        account_key: ``AccountKey`` (base64).
        sas_token: ``SharedAccessSignature`` without a leading ``?``.
        development: Whether it was ``UseDevelopmentStorage=true``.
    """

    blob_endpoint: str | None
    account_name: str | None = None
    account_key: str | None = None
    sas_token: str | None = None
    development: bool = False

    def __repr__(self) -> str:
        return (
            f"ConnectionString(blob_endpoint={self.blob_endpoint!r}, "
            f"account_name={self.account_name!r}, "
            f"account_key={'***' if self.account_key else None}, "
            f"sas_token={'***' if self.sas_token else None}, development={self.development})"
        )


def _cs_error(message: str) -> StorageConfigurationError:
    # Never quote the string itself: it holds the account key.
    return StorageConfigurationError(f"invalid connection string: {message}", backend="azure")


def _cs_pairs(text: str) -> dict[str, str]:
    settings: dict[str, str] = {}
    for segment in text.split(";"):
        if not segment.strip():
            continue  # a trailing ";" is customary
        name, sep, value = segment.partition("=")
        name = name.strip()
        if not sep or not name:
            raise _cs_error("every part must look like Name=value")
        lowered = name.lower()
        if lowered in _CS_IGNORED:
            continue
        if lowered not in _CS_KEYS:
            raise _cs_error(f"unknown setting {name!r}")
        canonical = _CS_KEYS[lowered]
        if canonical in settings:
            raise _cs_error(f"{canonical} is given twice")
        settings[canonical] = value.strip()
    if not settings:
        raise _cs_error("it is empty")
    return settings


def _development(settings: dict[str, str]) -> ConnectionString:
    # "UseDevelopmentStorage=true" stands for the emulator's fixed endpoints and account; only a
    # proxy URI may accompany it ("Connect to the emulator account using the shortcut").
    if settings.pop("UseDevelopmentStorage").lower() != "true":
        raise _cs_error("UseDevelopmentStorage must be 'true' when present")
    proxy = settings.pop("DevelopmentStorageProxyUri", None)
    if settings:
        raise _cs_error(f"UseDevelopmentStorage cannot be combined with {', '.join(settings)}")
    endpoint = DEVELOPMENT_BLOB_ENDPOINT
    if proxy:
        parts = urlsplit(proxy)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _cs_error("DevelopmentStorageProxyUri must be an http(s) URL")
        endpoint = (
            f"{parts.scheme}://{parts.hostname}:{_DEVELOPMENT_BLOB_PORT}/{DEVELOPMENT_ACCOUNT_NAME}"
        )
    return ConnectionString(
        blob_endpoint=endpoint,
        account_name=DEVELOPMENT_ACCOUNT_NAME,
        account_key=DEVELOPMENT_ACCOUNT_KEY,
        development=True,
    )


def parse_connection_string(text: str) -> ConnectionString:
    """Parse an Azure Storage connection string.

    ``Name=value`` pairs separated by ``;`` (names case-insensitive, values may contain ``=``).
    Endpoints of the queue, table and file services are ignored; unknown names are errors, so a
    typo such as ``AcountKey`` does not silently drop the key.

    Raises:
        StorageConfigurationError: The string is malformed, contradictory or incomplete. The
            message never contains the string (it holds secrets).
    """
    if not isinstance(text, str):
        raise _cs_error("it must be a str")
    settings = _cs_pairs(text)
    if "UseDevelopmentStorage" in settings:
        return _development(settings)
    if "DevelopmentStorageProxyUri" in settings:
        raise _cs_error("DevelopmentStorageProxyUri needs UseDevelopmentStorage=true")
    name = settings.get("AccountName") or None
    key = settings.get("AccountKey") or None
    if key is not None:
        _check_key(key, "AccountKey")
        if name is None:
            raise _cs_error("AccountKey needs AccountName")
    sas = settings.get("SharedAccessSignature") or None
    if sas is not None:
        sas = sas.lstrip("?")
    endpoint = settings.get("BlobEndpoint") or None
    if endpoint is None and name is not None:
        protocol = settings.get("DefaultEndpointsProtocol", "https").lower()
        if protocol not in ("http", "https"):
            raise _cs_error("DefaultEndpointsProtocol must be http or https")
        suffix = settings.get("EndpointSuffix", "core.windows.net").strip(".")
        endpoint = f"{protocol}://{name}.blob.{suffix}"
    if endpoint is None:
        raise _cs_error("it names no account: give AccountName or BlobEndpoint")
    return ConnectionString(
        blob_endpoint=endpoint, account_name=name, account_key=key, sas_token=sas
    )


def _check_key(key: str, what: str) -> None:
    try:
        base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raise StorageConfigurationError(f"{what} is not valid base64", backend="azure") from None


def split_sas_token(token: str) -> list[tuple[str, str]]:
    """A SAS token (``?sv=...&sig=...``, percent-encoded) as unencoded ``(name, value)`` pairs.

    ``+`` is kept as ``+`` (a raw base64 signature), unlike form decoding, which would turn it
    into a space.

    Raises:
        StorageConfigurationError: The token is empty or has no ``sig``.
    """
    pairs = []
    for part in token.strip().lstrip("?").split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote(name), unquote(value)))
    if not any(name == "sig" for name, _ in pairs):
        raise StorageConfigurationError("the SAS token has no sig parameter", backend="azure")
    return pairs


# --------------------------------------------------------------------------- resolution
@dataclass(frozen=True, repr=False)
class AzureSettings:
    """Where the account is and the secrets that may authorise requests to it.

    Attributes:
        account_name: The storage account name.
        account_url: The endpoint without a trailing ``/``; for path-style endpoints (emulators,
            IP addresses) it ends with ``/<account>``.
        path_style: Whether the account name is the first path segment.
        connection_string: The connection string in effect, parsed.
        account_key: The account key from ``account_key`` or ``AZURE_STORAGE_KEY``.
        sas_token: The SAS token from ``sas_token``, the account URL or
            ``AZURE_STORAGE_SAS_TOKEN``.
        sources: For each resolved setting, where it came from (``config.account_url``,
            ``AZURE_STORAGE_CONNECTION_STRING``...); never the value.
        identity: Microsoft Entra ID and managed identity settings (``_identity``).
    """

    account_name: str
    account_url: str
    path_style: bool
    connection_string: ConnectionString | None = None
    account_key: str | None = None
    sas_token: str | None = None
    sources: Mapping[str, str] = field(default_factory=dict)
    identity: IdentitySettings = field(default_factory=IdentitySettings)

    def __repr__(self) -> str:
        return (
            f"AzureSettings(account_name={self.account_name!r}, "
            f"account_url={self.account_url!r}, sources={dict(self.sources)!r})"
        )


_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def _is_ip_or_local(host: str) -> bool:
    # "localhost", a bare service name such as "azurite" in Docker Compose, an IPv6 literal
    # (urlsplit strips its brackets) or an IPv4 address: the account goes in the path.
    return host == "localhost" or "." not in host or ":" in host or bool(_IPV4.match(host))


def _name_from_url(url: str) -> str | None:
    parts = urlsplit(url)
    segment = parts.path.strip("/").split("/", 1)[0]
    if segment:
        return unquote(segment)  # path-style: /<account>
    host = (parts.hostname or "").lower()
    # "<account>.blob.core.windows.net" and the sovereign clouds' equivalents; a custom domain
    # says nothing about the account.
    labels = host.split(".")
    if len(labels) > 2 and labels[1] == "blob":
        return labels[0].removesuffix("-secondary")
    return None


def _first(*candidates: tuple[str | None, str]) -> tuple[str | None, str | None]:
    for value, source in candidates:
        if value:
            return value, source
    return None, None


def resolve_settings(config: AzureConfig, environ: Mapping[str, str]) -> AzureSettings:
    """Combine ``config``, its connection string and the environment (see the module docstring).

    Raises:
        StorageConfigurationError: No endpoint, no account name, or a malformed value.
    """
    explicit = any(
        (config.connection_string, config.account_url, config.account_key, config.sas_token)
    )
    cs_text, cs_source = _first(
        (config.connection_string, "config.connection_string"),
        (None if explicit else environ.get(ENV_CONNECTION_STRING), ENV_CONNECTION_STRING),
    )
    cs = parse_connection_string(cs_text) if cs_text else None
    sources: dict[str, str] = {}
    if cs is not None and cs_source is not None:
        sources["connection_string"] = cs_source

    url, url_source = _first(
        (config.account_url, "config.account_url"),
        (cs.blob_endpoint if cs else None, cs_source or ""),
        (environ.get(ENV_ACCOUNT_URL), ENV_ACCOUNT_URL),
    )
    if url is None or url_source is None:
        raise StorageConfigurationError(
            "no Azure Blob endpoint: set connection_string or account_url (or the "
            f"{ENV_CONNECTION_STRING} / {ENV_ACCOUNT_URL} environment variables)",
            backend="azure",
        )
    url, _, url_sas = url.strip().partition("?")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StorageConfigurationError(
            f"account URL must be http(s)://host[/account], not {url!r}", backend="azure"
        )
    sources["account_url"] = url_source

    name, name_source = _first(
        (config.account_name, "config.account_name"),
        (cs.account_name if cs else None, cs_source or ""),
        (_name_from_url(url), url_source),
        (environ.get(ENV_ACCOUNT_NAME), ENV_ACCOUNT_NAME),
    )
    if name is None or name_source is None:
        raise StorageConfigurationError(
            f"cannot tell the storage account name from {url!r}: set account_name "
            f"(or {ENV_ACCOUNT_NAME})",
            backend="azure",
        )
    sources["account_name"] = name_source

    path = parts.path.rstrip("/")
    path_style = bool(path) or _is_ip_or_local((parts.hostname or "").lower())
    if path_style and not path:
        # Emulators and IP endpoints address the account in the path ("Azurite: URL styles").
        path = "/" + quote(name, safe="")
    account_url = f"{parts.scheme}://{parts.netloc}{path}"

    key, key_source = _first(
        (config.account_key, "config.account_key"), (environ.get(ENV_ACCOUNT_KEY), ENV_ACCOUNT_KEY)
    )
    if key is not None and key_source is not None:
        _check_key(key, key_source)
        sources["account_key"] = key_source
    sas, sas_source = _first(
        (config.sas_token, "config.sas_token"),
        (url_sas, url_source),
        (environ.get(ENV_SAS_TOKEN), ENV_SAS_TOKEN),
    )
    if sas is not None and sas_source is not None:
        sources["sas_token"] = sas_source
    return AzureSettings(
        account_name=name,
        account_url=account_url,
        path_style=path_style,
        connection_string=cs,
        account_key=key,
        sas_token=sas.lstrip("?") if sas else None,
        sources=sources,
        identity=resolve_identity(config, environ),
    )
