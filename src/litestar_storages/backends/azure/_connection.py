"""The network side of an ``AzureStorage``, built on first use: the hold on the shared pool,
the signed sender, and for Entra ID credentials the token source and the user delegation keys
that sign SAS URLs without an account key.

Nothing here runs when a storage is built or a SAS URL is signed with the account key: the HTTP
stack is imported by :meth:`Connection.sender`, on the first request that needs the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar_storages._http.clock import Clock
from litestar_storages.backends.azure._sas import SasWindow, user_delegation_sas_query
from litestar_storages.backends.azure._wire import BlobLocation, parse_error
from litestar_storages.backends.azure.config import AzureConfig
from litestar_storages.backends.azure.credentials import (
    AzureSigner,
    CredentialSource,
    EntraCredential,
)

if TYPE_CHECKING:
    import httpx

    from litestar_storages._http.pool import ClientHandle
    from litestar_storages._http.send import Sender
    from litestar_storages.backends.azure._credentials_tokens import DelegationKeys, EntraTokens
    from litestar_storages.retry import RetryConfig

__all__ = ["REQUEST_ID_HEADERS", "Connection"]

REQUEST_ID_HEADERS = ("x-ms-request-id",)


class Connection:
    """One storage's senders and Entra ID state.

    Args:
        config: The storage's config.
        account_name: The storage account.
        credential: The credential the chain chose.
        location: The account and container.
        http_client: An application's client, used for the Blob service and Entra ID (never
            for managed identity endpoints, see ``_http.endpoint``).
        retry: The retry policy.
        clock: Current time.
    """

    def __init__(
        self,
        *,
        config: AzureConfig,
        account_name: str,
        credential: CredentialSource,
        location: BlobLocation,
        http_client: httpx.AsyncClient | None,
        retry: RetryConfig | None,
        clock: Clock,
    ) -> None:
        self.config = config
        self.account_name = account_name
        self.credential = credential
        self.location = location
        self._http_client = http_client
        self._retry = retry
        self._clock = clock
        self.handle: ClientHandle | None = None
        self._sender: Sender | None = None
        self.tokens: EntraTokens | None = None
        self._keys: DelegationKeys | None = None

    def sender(self) -> Sender:
        """The signed sender of Blob service requests (created on first use, no await)."""
        if self._sender is None:
            # The HTTP stack is imported here, on the first request that needs the network.
            from litestar_storages._http.pool import ClientHandle, PoolOptions
            from litestar_storages._http.send import Sender

            options = PoolOptions.from_settings(self.config)
            self.handle = ClientHandle(options, client=self._http_client)
            common: dict[str, Any] = {
                "backend": "azure",
                "request_id_headers": REQUEST_ID_HEADERS,
                "retry": self._retry,
                "clock": self._clock,
            }
            version = self.config.api_version
            if isinstance(self.credential.credential, EntraCredential):
                from litestar_storages.backends.azure._credentials_entra import parse_oauth_error
                from litestar_storages.backends.azure._credentials_tokens import (
                    BearerSender,
                    EntraTokens,
                )

                service = Sender(self.handle, error_parser=parse_oauth_error, **common)
                tokens = EntraTokens(self.credential.credential, service=service, clock=self._clock)
                self.tokens = tokens
                signer = AzureSigner(
                    self.credential, version=version, clock=self._clock, bearer=tokens.token
                )
                self._sender = BearerSender(
                    self.handle, tokens=tokens, signer=signer, error_parser=parse_error, **common
                )
            else:
                signer = AzureSigner(self.credential, version=version, clock=self._clock)
                self._sender = Sender(
                    self.handle, signer=signer, error_parser=parse_error, **common
                )
        return self._sender

    def delegation_keys(self) -> DelegationKeys:
        """The user delegation keys (Entra ID credentials only)."""
        if self._keys is None:
            from litestar_storages.backends.azure._credentials_tokens import DelegationKeys

            self._keys = DelegationKeys(
                sender=self.sender(),
                location=self.location,
                clock=self._clock,
                skew=self.config.sas_start_skew,
            )
        return self._keys

    async def delegation_sas(
        self,
        window: SasWindow,
        blob: str | None,
        *,
        permissions: str,
        content_disposition: str | None = None,
        content_type: str | None = None,
        key: str | None = None,
    ) -> str:
        """The query string of a user delegation SAS for ``blob`` (``None``: the container),
        signed with a delegation key valid at least until the SAS expires.

        Raises:
            StorageConfigurationError: Bad inputs, or an expiry beyond any key's.
            StoragePermissionError: The identity may not obtain delegation keys.
        """
        delegation_key = await self.delegation_keys().covering(window.expiry)
        return user_delegation_sas_query(
            delegation_key,
            account_name=self.account_name,
            container=self.config.container,
            blob=blob,
            permissions=permissions,
            window=window,
            # Least privilege: an https endpoint gets https-only tokens (as the storage's).
            protocol="https" if self.location.origin.startswith("https:") else None,
            version=self.config.api_version,
            content_disposition=content_disposition,
            content_type=content_type,
            key=key,
        )

    async def release(self) -> None:
        """Give back every hold on the shared pools. Idempotent."""
        if self.handle is not None:
            await self.handle.release()
        if self.tokens is not None:
            await self.tokens.release()
