"""The I/O of Azure's Entra ID credentials: tokens and user delegation keys, each behind the
shared credential cache (lazy, single-flight, advisory and mandatory windows).

* :class:`EntraTokens` fetches bearer tokens for one :class:`EntraCredential`: client
  credentials and workload identity from the Entra ID token endpoint, through the storage's
  pool (an application's client and proxy apply; plain ``http`` only to loopback addresses);
  managed identity from IMDS or App Service's endpoint through the library's own pool, with
  short timeouts under a total deadline (``_http.endpoint``). An IMDS that never answered means
  "not on Azure" and is reported as missing credentials, not as a network failure.
* :class:`DelegationKeys` fetches user delegation keys (Get User Delegation Key) for SAS URLs
  without an account key, valid for the longest time the service allows (7 days), kept until
  close to their expiry, and replaced early when a URL would outlive the cached one.

The pure halves (request builders, answer parsers) are in ``_credentials_entra``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import anyio

from litestar_storages._http.clock import Clock
from litestar_storages._http.credentials import CredentialCache, Expiring
from litestar_storages._http.endpoint import is_loopback, local_sender, send_within
from litestar_storages._http.send import Sender
from litestar_storages.backends.azure import _credentials_entra as entra
from litestar_storages.backends.azure.credentials import EntraCredential
from litestar_storages.exceptions import (
    StorageConfigurationError,
    StorageConnectionError,
    StorageError,
    StoragePermissionError,
    StorageServerError,
)

if TYPE_CHECKING:
    import httpx

    from litestar_storages._http.request import HttpRequest
    from litestar_storages.backends.azure._wire import BlobLocation
    from litestar_storages.signing.azure import UserDelegationKey

__all__ = ["BearerSender", "DelegationKeys", "EntraTokens"]

MANAGED_ADVISORY = timedelta(minutes=5)
"""Managed identity tokens live about a day and the endpoint caches them; azure-identity
refreshes 5 minutes before expiry."""

MANAGED_MANDATORY = timedelta(minutes=2)
_LOCAL_ATTEMPTS = 3

KEY_LIFETIME = timedelta(days=7)
"""The longest a user delegation key may be valid ("Get User Delegation Key": within 7 days
of the current time)."""


class EntraTokens:
    """Entra ID access tokens for one credential source (a provider of the token cache).

    Args:
        credential: How to obtain tokens.
        service: Sends to the Entra ID token endpoint (the storage's pool, no signer).
        clock: Current time.
    """

    def __init__(self, credential: EntraCredential, *, service: Sender, clock: Clock) -> None:
        self.credential = credential
        self._service = service
        self._clock = clock
        self._local: Sender | None = None
        self._answered = False
        if credential.flow in ("imds", "app_service"):
            self.cache: CredentialCache[str] = CredentialCache(
                self._fetch, clock=clock, advisory=MANAGED_ADVISORY, mandatory=MANAGED_MANDATORY
            )
        else:
            self.cache = CredentialCache(self._fetch, clock=clock)

    async def token(self) -> str:
        """A valid access token (cached; refreshed in the caller's task)."""
        return await self.cache.get()

    async def release(self) -> None:
        """Give back the managed identity sender's hold on the pool."""
        if self._local is not None:
            await self._local.handle.release()

    # ------------------------------------------------------------------ the flows
    async def _fetch(self) -> Expiring[str]:
        identity = self.credential.identity
        flow = self.credential.flow
        now = self._clock()
        if flow == "client_secret":
            response = await self._ask_entra(entra.client_secret_request(identity))
        elif flow == "workload_identity":
            assertion = await self._federated_token()
            response = await self._ask_entra(entra.client_assertion_request(identity, assertion))
        elif flow == "app_service":
            response = await self._ask_managed(entra.app_service_request(identity), "App Service")
        else:
            response = await self._ask_managed(entra.imds_request(identity), "IMDS")
        return entra.parse_token(response.content, now)

    async def _federated_token(self) -> str:
        # Read for every token: the kubelet rotates the projected token in place.
        path = self.credential.identity.federated_token_file or ""
        try:
            text = await anyio.Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise StorageConfigurationError(
                f"cannot read the federated token file {path}: {exc.strerror or exc}",
                backend="azure",
            ) from None
        if not text.strip():
            raise StorageConfigurationError(
                f"the federated token file {path} is empty", backend="azure"
            )
        return text.strip()

    async def _ask_entra(self, request: HttpRequest) -> httpx.Response:
        url = f"{request.origin}{request.path}"
        if not request.origin.startswith("https://") and not is_loopback(url):
            raise StorageConfigurationError(
                f"the Entra ID authority must be https (plain http only to a loopback "
                f"address): {request.origin}",
                backend="azure",
            )
        try:
            return await self._service.send(request)
        except (StorageConnectionError, StorageServerError):
            raise
        except StorageError as exc:
            # invalid_client (a wrong or expired secret), unauthorized_client, invalid_request
            # (an assertion the federated credential does not match): refused.
            raise StoragePermissionError(
                f"Microsoft Entra ID refused the {self.credential.flow.replace('_', ' ')} "
                f"credentials ({exc.code or exc.status}: {_detail(exc)})",
                backend="azure",
                status=exc.status,
                code=exc.code,
            ) from exc

    async def _ask_managed(self, request: HttpRequest, where: str) -> httpx.Response:
        identity = self.credential.identity
        if self._local is None:
            self._local = local_sender(
                backend="azure",
                timeout=identity.timeout,
                attempts=_LOCAL_ATTEMPTS,
                error_parser=entra.parse_oauth_error,
                request_id_headers=("x-ms-request-id",),
                clock=self._clock,
            )
        what = f"the managed identity endpoint ({where} {request.origin})"
        try:
            response = await send_within(
                self._local, request, deadline=identity.timeout * _LOCAL_ATTEMPTS, what=what
            )
        except StorageConnectionError as exc:
            if self._answered:
                raise  # it answered before: transient (the cache may ride it out)
            raise StorageConfigurationError(
                f"no Azure credential: the chain fell back to managed identity, and {what} is "
                f"not reachable ({exc.message}). Off Azure, give a connection string, an "
                "account key, a SAS token or a service principal (AZURE_TENANT_ID, "
                "AZURE_CLIENT_ID, AZURE_CLIENT_SECRET).",
                backend="azure",
            ) from exc
        except StorageServerError:
            raise
        except StorageError as exc:
            raise StoragePermissionError(
                f"managed identity refused a token ({exc.code or exc.status}: {_detail(exc)}); "
                "is an identity assigned (and AZURE_CLIENT_ID right for a user-assigned one)?",
                backend="azure",
                status=exc.status,
                code=exc.code,
            ) from exc
        self._answered = True
        return response


def _detail(exc: StorageError) -> str:
    cause = exc.__cause__
    message = getattr(cause, "message", None)
    return str(message) if message else "no detail"


class BearerSender(Sender):
    """The Blob service sender with Entra ID tokens: a 401 answer (a token revoked, or expired
    before its time) drops the cached token and resends once with a new one, when the body
    can be sent again."""

    def __init__(self, *args: Any, tokens: EntraTokens, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tokens = tokens

    async def send(self, request: HttpRequest) -> httpx.Response:
        """See :meth:`Sender.send`; a 401 refreshes the token and resends once."""
        try:
            return await super().send(request)
        except StoragePermissionError as exc:
            if exc.status != 401 or not request.replayable:
                raise
        self.tokens.cache.invalidate()
        return await super().send(request)

    async def open(self, request: HttpRequest) -> httpx.Response:
        """See :meth:`Sender.open`; a 401 refreshes the token and resends once."""
        try:
            return await super().open(request)
        except StoragePermissionError as exc:
            if exc.status != 401 or not request.replayable:
                raise
        self.tokens.cache.invalidate()
        return await super().open(request)


class DelegationKeys:
    """User delegation keys for SAS URLs signed without the account key.

    Args:
        sender: The storage's sender (its signer adds the bearer token).
        location: The account and container.
        clock: Current time.
        skew: ``AzureConfig.sas_start_skew``: keys start this far back and end this far short
            of the 7-day limit, so clocks that differ from the service's still agree.
    """

    def __init__(
        self, *, sender: Sender, location: BlobLocation, clock: Clock, skew: timedelta
    ) -> None:
        self._sender = sender
        self._location = location
        self._clock = clock
        self._skew = max(skew, timedelta(minutes=5))
        self.cache: CredentialCache[UserDelegationKey] = CredentialCache(
            self._fetch,
            clock=clock,
            advisory=timedelta(days=1),
            mandatory=timedelta(hours=1),
        )

    async def covering(self, until: datetime) -> UserDelegationKey:
        """A key valid at least until ``until`` (a SAS may not outlive its key).

        Raises:
            StorageConfigurationError: ``until`` is further away than any key can last.
            StoragePermissionError: The identity may not obtain delegation keys.
        """
        key = await self.cache.get()
        if self._expiry() < until:
            self.cache.invalidate()  # an older key: a fresh one lasts the full 7 days
            key = await self.cache.get()
        if self._expiry() < until:
            raise StorageConfigurationError(
                "a user delegation SAS cannot outlive its delegation key, which lasts at most "
                f"{KEY_LIFETIME.days} days (minus {self._skew}); ask for a shorter expires_in",
                backend="azure",
            )
        return key

    def _expiry(self) -> datetime:
        current = self.cache.current
        assert current is not None
        assert current.expires_at is not None
        return current.expires_at

    async def _fetch(self) -> Expiring[UserDelegationKey]:
        from litestar_storages.backends.azure.client import get_user_delegation_key

        now = self._clock().replace(microsecond=0)
        start, expiry = now - self._skew, now + KEY_LIFETIME - self._skew
        key = await get_user_delegation_key(
            self._sender, self._location, start=start, expiry=expiry
        )
        return Expiring(key, min(expiry, _parse_iso(key.signed_expiry) or expiry))


def _parse_iso(value: str) -> datetime | None:
    # The service echoes the times it was sent: "2026-01-09T03:04:05Z" (maybe with a fraction).
    try:
        parsed = datetime.strptime(value.partition(".")[0].rstrip("Z"), "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    return parsed.replace(tzinfo=timezone.utc)
