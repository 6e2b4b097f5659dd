"""Azure credentials: the ordered chain of sources and the values they produce.

The chain (:data:`DEFAULT_CHAIN`) is tried in order and the first source that applies wins:

1. **connection string**: its ``AccountKey`` (SharedKey), else its ``SharedAccessSignature``;
2. **account key**: ``account_key`` / ``AZURE_STORAGE_KEY`` (SharedKey);
3. **SAS token**: ``sas_token``, a query string on ``account_url``, or
   ``AZURE_STORAGE_SAS_TOKEN`` (appended to every request);
4. **service principal**: ``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID`` and ``AZURE_CLIENT_SECRET``
   (or the config's fields): Microsoft Entra ID client credentials;
5. **workload identity**: ``AZURE_FEDERATED_TOKEN_FILE`` with tenant and client id: the file's
   Kubernetes token is the client assertion;
6. **managed identity**: App Service's ``IDENTITY_ENDPOINT``/``IDENTITY_HEADER``, else the
   Instance Metadata Service (``AZURE_CLIENT_ID`` picks a user-assigned identity).

4-6 are azure-identity's ``DefaultAzureCredential`` order (environment, workload identity,
managed identity; its developer-tool sources are not implemented), after the storage-specific
sources of 1-3. Managed identity is the last resort and always applies: an ``AzureConfig`` with
only an account URL means "the platform's identity", as with the Azure SDKs. Entra ID tokens
(``bearer``) are sent as ``Authorization: Bearer`` with ``x-ms-version`` 2017-11-09 or later,
and SAS URLs are then user delegation SAS.

A source is a plain function of the resolved settings returning a :class:`CredentialSource`
or ``None``. Choosing one is pure (no I/O); fetching its value goes through the shared
``CredentialCache`` at request time (``_credentials_tokens``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from litestar_storages._http.clock import Clock, system_clock
from litestar_storages.backends.azure._identity import IdentitySettings
from litestar_storages.backends.azure.config import AzureSettings, split_sas_token
from litestar_storages.exceptions import StorageConfigurationError
from litestar_storages.signing import SigningError
from litestar_storages.signing._canonical import format_http_date
from litestar_storages.signing.azure import AzureSharedKey, sign_shared_key

if TYPE_CHECKING:
    from litestar_storages._http.credentials import CredentialCache
    from litestar_storages._http.request import HttpRequest

__all__ = [
    "DEFAULT_CHAIN",
    "MIN_BEARER_VERSION",
    "AzureCredential",
    "AzureSigner",
    "CredentialSource",
    "EntraCredential",
    "SasToken",
    "from_account_key",
    "from_connection_string",
    "from_managed_identity",
    "from_sas_token",
    "from_service_principal",
    "from_workload_identity",
    "resolve_credential",
]

MIN_BEARER_VERSION = "2017-11-09"
"""The first ``x-ms-version`` that accepts Entra ID bearer tokens ("Authorize with Microsoft
Entra ID": "requests must use version 2017-11-09 or later")."""


@dataclass(frozen=True, repr=False)
class SasToken:
    """A SAS token as unencoded query pairs; ``repr`` shows which fields it has, never ``sig``.

    Attributes:
        pairs: ``(name, value)`` pairs, in the order given.
    """

    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, token: str) -> SasToken:
        """Parse a percent-encoded token such as ``sv=...&sp=r&sig=...``."""
        return cls(tuple(split_sas_token(token)))

    @property
    def permissions(self) -> str | None:
        """The ``sp`` field: what the token allows."""
        return dict(self.pairs).get("sp")

    def __repr__(self) -> str:
        return f"SasToken(fields={[name for name, _ in self.pairs if name != 'sig']})"


EntraFlow = Literal["client_secret", "workload_identity", "app_service", "imds"]


@dataclass(frozen=True)
class EntraCredential:
    """How to obtain Entra ID tokens; the tokens themselves come through the credential cache.

    Attributes:
        flow: ``client_secret`` (service principal), ``workload_identity`` (federated token
            file), ``app_service`` (``IDENTITY_ENDPOINT``) or ``imds`` (managed identity).
        identity: The settings the flow uses (its ``repr`` hides the secrets).
    """

    flow: EntraFlow
    identity: IdentitySettings


AzureCredential = AzureSharedKey | SasToken | EntraCredential
"""What authorises a request: the account key (SharedKey), a SAS token appended to it, or
Entra ID bearer tokens."""


@dataclass(frozen=True)
class CredentialSource:
    """A credential chosen from the chain.

    Attributes:
        kind: ``shared_key``, ``sas`` or ``bearer`` (Entra ID tokens).
        source: Where it came from, for diagnostics (``connection string
            (AZURE_STORAGE_CONNECTION_STRING)``, ``account key (config.account_key)``,
            ``managed identity (IMDS http://169.254.169.254)``...); never the secret.
        credential: The value. Static sources have it at once; ``bearer`` sources say how to
            fetch tokens, which then come through the credential cache.
    """

    kind: Literal["shared_key", "sas", "bearer"]
    source: str
    credential: AzureCredential

    def describe(self) -> str:
        """``"<kind> from <source>"``, safe to log."""
        return f"{self.kind} from {self.source}"


ChainLink = Callable[[AzureSettings], "CredentialSource | None"]
"""One source of the chain: returns a credential when it applies, ``None`` otherwise."""


def _shared_key(settings: AzureSettings, key: str, source: str) -> CredentialSource:
    try:
        value = AzureSharedKey(settings.account_name, key)
    except SigningError as exc:
        raise StorageConfigurationError(f"{source}: {exc}", backend="azure") from None
    return CredentialSource("shared_key", source, value)


def from_connection_string(settings: AzureSettings) -> CredentialSource | None:
    """The connection string's ``AccountKey``, else its ``SharedAccessSignature``."""
    cs = settings.connection_string
    if cs is None:
        return None
    source = f"connection string ({settings.sources.get('connection_string', 'config')})"
    if cs.account_key:
        return _shared_key(settings, cs.account_key, source)
    if cs.sas_token:
        return CredentialSource("sas", source, SasToken.parse(cs.sas_token))
    return None


def from_account_key(settings: AzureSettings) -> CredentialSource | None:
    """``account_key`` or ``AZURE_STORAGE_KEY``."""
    if not settings.account_key:
        return None
    source = f"account key ({settings.sources.get('account_key', 'config.account_key')})"
    return _shared_key(settings, settings.account_key, source)


def from_sas_token(settings: AzureSettings) -> CredentialSource | None:
    """``sas_token``, the account URL's query string, or ``AZURE_STORAGE_SAS_TOKEN``."""
    if not settings.sas_token:
        return None
    source = f"SAS token ({settings.sources.get('sas_token', 'config.sas_token')})"
    return CredentialSource("sas", source, SasToken.parse(settings.sas_token))


def _bearer(flow: EntraFlow, settings: AzureSettings, source: str) -> CredentialSource:
    return CredentialSource("bearer", source, EntraCredential(flow, settings.identity))


def from_service_principal(settings: AzureSettings) -> CredentialSource | None:
    """Tenant id, client id and client secret (azure-identity's ``EnvironmentCredential``)."""
    identity = settings.identity
    if identity.client_certificate and not identity.client_secret:
        # Not a user-assigned managed identity with the application's id: say so.
        raise StorageConfigurationError(
            "Microsoft Entra ID client certificates (AZURE_CLIENT_CERTIFICATE_PATH) are not "
            "supported; use a client secret, workload identity or managed identity",
            backend="azure",
        )
    if not (identity.tenant_id and identity.client_id and identity.client_secret):
        return None
    where = identity.source_of("tenant_id", "client_id", "client_secret")
    return _bearer("client_secret", settings, f"service principal ({where})")


def from_workload_identity(settings: AzureSettings) -> CredentialSource | None:
    """A federated token file with tenant and client id (``WorkloadIdentityCredential``)."""
    identity = settings.identity
    if not (identity.federated_token_file and identity.tenant_id and identity.client_id):
        return None
    where = identity.source_of("federated_token_file")
    return _bearer("workload_identity", settings, f"workload identity ({where})")


def from_managed_identity(settings: AzureSettings) -> CredentialSource | None:
    """App Service's identity endpoint, else the Instance Metadata Service (the last resort).

    Raises:
        StorageConfigurationError: The environment is a managed identity flavour this library
            does not implement (Azure Arc, Service Fabric, Cloud Shell).
    """
    identity = settings.identity
    if identity.unsupported is not None:
        raise StorageConfigurationError(
            f"no Azure credential: managed identity on {identity.unsupported} is not "
            "supported; give a connection string, an account key, a SAS token or a service "
            "principal (AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET)",
            backend="azure",
        )
    user = " user-assigned AZURE_CLIENT_ID" if identity.client_id else ""
    if identity.identity_endpoint is not None:
        return _bearer("app_service", settings, f"managed identity{user} (IDENTITY_ENDPOINT)")
    return _bearer("imds", settings, f"managed identity{user} (IMDS {identity.imds_origin})")


DEFAULT_CHAIN: tuple[ChainLink, ...] = (
    from_connection_string,
    from_account_key,
    from_sas_token,
    from_service_principal,
    from_workload_identity,
    from_managed_identity,
)
"""The sources tried, in order."""


def resolve_credential(
    settings: AzureSettings, chain: Sequence[ChainLink] = DEFAULT_CHAIN
) -> CredentialSource:
    """The first credential the chain yields.

    Raises:
        StorageConfigurationError: No source applies (the message lists what was tried).
    """
    for link in chain:
        found = link(settings)
        if found is not None:
            return found
    raise StorageConfigurationError(
        "no Azure credential: give a connection string with AccountKey or "
        "SharedAccessSignature, account_key (AZURE_STORAGE_KEY), sas_token "
        "(AZURE_STORAGE_SAS_TOKEN) or Microsoft Entra ID settings (AZURE_TENANT_ID, "
        "AZURE_CLIENT_ID, AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE)",
        backend="azure",
    )


class AzureSigner:
    """Signs each attempt of a request: the shared send loop's ``Signer``.

    With SharedKey: ``x-ms-date``, ``x-ms-version`` and ``Authorization`` from
    ``signing.azure.sign_shared_key``, with the clock the send loop read for this attempt. With a
    SAS (already in the query, see ``BlobLocation``): only the date and version. With Entra ID:
    ``Authorization: Bearer`` with a token from ``bearer`` (the shared credential cache), the
    date and the version.

    Args:
        source: The credential the chain chose.
        version: ``x-ms-version`` to send.
        clock: The cache's clock.
        bearer: Returns a valid Entra ID token (for ``bearer`` sources).

    Raises:
        StorageConfigurationError: A ``bearer`` source with a version older than 2017-11-09, or
            without ``bearer``.
    """

    __slots__ = ("_bearer", "_cache", "_clock", "_source", "_version")

    def __init__(
        self,
        source: CredentialSource,
        *,
        version: str,
        clock: Clock = system_clock,
        bearer: Callable[[], Awaitable[str]] | None = None,
    ):
        if source.kind == "bearer":
            if version < MIN_BEARER_VERSION:
                raise StorageConfigurationError(
                    f"Microsoft Entra ID tokens need api_version {MIN_BEARER_VERSION} or "
                    f"later, not {version}",
                    backend="azure",
                )
            if bearer is None:
                raise StorageConfigurationError("no token source for Entra ID", backend="azure")
        self._source = source
        self._version = version
        self._clock = clock
        self._bearer = bearer
        self._cache: CredentialCache[Any] | None = None

    async def __call__(self, request: HttpRequest, now: datetime) -> Mapping[str, str]:
        """The headers to add to this attempt."""
        if self._bearer is not None:
            token = await self._bearer()
            return {
                "authorization": f"Bearer {token}",
                "x-ms-date": format_http_date(now),
                "x-ms-version": self._version,
            }
        if self._cache is None:
            from litestar_storages._http.credentials import CredentialCache, Expiring

            value = self._source.credential
            self._cache = CredentialCache(lambda: Expiring(value), clock=self._clock)
        credential = await self._cache.get()
        if isinstance(credential, AzureSharedKey):
            return sign_shared_key(
                request.method,
                credentials=credential,
                path=request.path,
                query=request.query,
                headers=request.headers,
                now=now,
                version=self._version,
            )
        return {"x-ms-date": format_http_date(now), "x-ms-version": self._version}
