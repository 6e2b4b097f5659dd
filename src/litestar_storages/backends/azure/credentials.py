"""Azure credentials: the ordered chain of sources and the values they produce.

The chain (:data:`DEFAULT_CHAIN`) is tried in order and the first source that applies wins:

1. **connection string**: its ``AccountKey`` (SharedKey), else its ``SharedAccessSignature``;
2. **account key**: ``account_key`` / ``AZURE_STORAGE_KEY`` (SharedKey);
3. **SAS token**: ``sas_token``, a query string on ``account_url``, or
   ``AZURE_STORAGE_SAS_TOKEN`` (appended to every request).

A source is a plain function of the resolved settings returning a :class:`CredentialSource`
or ``None``. Choosing one is pure (no I/O); fetching its value goes through the shared
``CredentialCache`` at request time, so sources whose values expire (Microsoft Entra ID tokens,
managed identity: a later addition) slot in as one more function in the chain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from litestar_storages._http.clock import Clock, system_clock
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
    "AzureCredential",
    "AzureSigner",
    "CredentialSource",
    "SasToken",
    "from_account_key",
    "from_connection_string",
    "from_sas_token",
    "resolve_credential",
]


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


AzureCredential = AzureSharedKey | SasToken
"""What signs a request: the account key (SharedKey) or a SAS token appended to it."""


@dataclass(frozen=True)
class CredentialSource:
    """A credential chosen from the chain.

    Attributes:
        kind: ``shared_key`` or ``sas``.
        source: Where it came from, for diagnostics (``connection string
            (AZURE_STORAGE_CONNECTION_STRING)``, ``account key (config.account_key)``...);
            never the secret.
        credential: The value. Static sources have it at once; sources whose values expire
            will fetch theirs through the credential cache instead.
    """

    kind: Literal["shared_key", "sas"]
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


DEFAULT_CHAIN: tuple[ChainLink, ...] = (from_connection_string, from_account_key, from_sas_token)
"""The sources tried, in order. Microsoft Entra ID / managed identity will be appended here."""


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
        "SharedAccessSignature, account_key (AZURE_STORAGE_KEY) or sas_token "
        "(AZURE_STORAGE_SAS_TOKEN); Microsoft Entra ID credentials are not supported yet",
        backend="azure",
    )


class AzureSigner:
    """Signs each attempt of a request: the shared send loop's ``Signer``.

    With SharedKey: ``x-ms-date``, ``x-ms-version`` and ``Authorization`` from
    ``signing.azure.sign_shared_key``, with the clock the send loop read for this attempt. With a
    SAS (already in the query, see ``BlobLocation``): only the date and version. The credential
    comes through the shared ``CredentialCache``, so sources whose values expire fit unchanged.

    Args:
        source: The credential the chain chose.
        version: ``x-ms-version`` to send.
        clock: The cache's clock.
    """

    __slots__ = ("_cache", "_clock", "_source", "_version")

    def __init__(self, source: CredentialSource, *, version: str, clock: Clock = system_clock):
        self._source = source
        self._version = version
        self._clock = clock
        self._cache: CredentialCache[Any] | None = None

    async def __call__(self, request: HttpRequest, now: datetime) -> Mapping[str, str]:
        """The headers to add to this attempt."""
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
