"""The I/O of GCS credentials: token providers behind the shared cache, and keyless signing.

Each kind of credentials becomes a provider (a dumb async callable returning a token and its
expiry) behind one :class:`~litestar_storages._http.credentials.CredentialCache`:

* ``access_token``: the configured token, which never expires as far as we know;
* ``service_account`` / ``authorized_user``: one POST to the OAuth2 token endpoint
  (``credentials.token_request``);
* ``metadata``: one GET to the metadata server, through the library's own pool with short
  timeouts and under a total deadline (``_http.endpoint``); the answer must carry
  ``Metadata-Flavor: Google``. A server that never answered means "not on Google Cloud", and is
  reported as missing credentials rather than as a network failure;
* ``impersonated``: the source's token (``cloud-platform`` scope, its own cache) sent to
  ``generateAccessToken``.

Keyless signing (:meth:`GcsAuth.sign_blob`) calls ``signBlob`` as the metadata server's account
(its e-mail asked once) with the metadata token, or as the impersonated account with the
source's token, as google-auth's ``iam.Signer`` does.

Token services on the internet go through the storage's sender (an application's client and
its proxy apply); plain ``http`` is refused for them except on loopback addresses, since the
requests carry assertions, refresh tokens or bearer tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from litestar_storages._http.clock import Clock
from litestar_storages._http.credentials import CredentialCache, Expiring
from litestar_storages._http.endpoint import is_loopback, local_sender, send_within
from litestar_storages._http.request import HttpRequest
from litestar_storages._http.send import Sender
from litestar_storages.backends.gcs import _credentials_iam as iam
from litestar_storages.backends.gcs import _credentials_metadata as metadata
from litestar_storages.backends.gcs.credentials import (
    SCOPES,
    ResolvedCredentials,
    parse_token_response,
    token_request,
)
from litestar_storages.exceptions import (
    StorageConfigurationError,
    StorageConnectionError,
    StorageError,
    StoragePermissionError,
    StorageServerError,
)

if TYPE_CHECKING:
    import httpx

    from litestar_storages._http.errors import ErrorParser

__all__ = ["AuthContext", "GcsAuth", "MetadataServer"]

METADATA_ADVISORY = timedelta(minutes=4)
"""The metadata server hands out the same token until 5 minutes before it expires ("caches
access tokens until 5 minutes before they expire"): refreshing earlier would get it again."""

METADATA_MANDATORY = timedelta(minutes=2)
_METADATA_ATTEMPTS = 3  # google-auth pings 3 times, and retries token fetches
_CLIENT_ERRORS = frozenset(range(400, 500))


def _require_tls(url: str, what: str) -> None:
    if urlsplit(url).scheme != "https" and not is_loopback(url):
        raise StorageConfigurationError(
            f"{what} must be https (plain http only to a loopback address): "
            f"{url.partition('?')[0]}",
            backend="gcs",
        )


class MetadataServer:
    """One metadata server: its sender (own pool, short timeouts) and its account's e-mail.

    Args:
        origin: ``http://host[:port]``.
        timeout: Seconds to connect and for each read; a whole request gets three times this.
        error_parser: Reads error bodies.
        clock: Current time.
    """

    def __init__(
        self, origin: str, *, timeout: float, error_parser: ErrorParser, clock: Clock
    ) -> None:
        self.origin = origin
        self.timeout = timeout
        self._error_parser = error_parser
        self._clock = clock
        self._sender: Sender | None = None
        self.answered = False
        self.email: str | None = None

    def _send_to(self) -> Sender:
        if self._sender is None:
            self._sender = local_sender(
                backend="gcs",
                timeout=self.timeout,
                attempts=_METADATA_ATTEMPTS,
                error_parser=self._error_parser,
                clock=self._clock,
            )
        return self._sender

    async def _get(self, request: HttpRequest) -> httpx.Response:
        what = f"the GCE metadata server at {self.origin}"
        # 4xx answers come back to be checked here: only an answer carrying Metadata-Flavor is
        # the metadata server's (something else may listen on the address, a proxy say).
        request.ok_statuses = _CLIENT_ERRORS
        try:
            response = await send_within(
                self._send_to(), request, deadline=self.timeout * _METADATA_ATTEMPTS, what=what
            )
        except StorageConnectionError as exc:
            if self.answered:
                raise  # it was there before: a transient failure (the cache may ride it out)
            raise self._absent(f"{what} is not reachable ({exc.message})") from exc
        if response.headers.get("metadata-flavor") != metadata.FLAVOR:
            raise self._absent(f"{what} answered without Metadata-Flavor: Google")
        self.answered = True
        if response.status_code >= 400:
            provider = self._error_parser(response.status_code, response.headers, response.content)
            code = provider.code if provider is not None else None
            error = StoragePermissionError(
                f"the GCE metadata server refused {request.operation} "
                f"(HTTP {response.status_code}{f' {code}' if code else ''}); "
                "is a service account attached?",
                backend="gcs",
                status=response.status_code,
                code=code,
            )
            error.__cause__ = provider
            raise error
        return response

    @staticmethod
    def _absent(reason: str) -> StorageConfigurationError:
        return StorageConfigurationError(
            f"no GCS credentials found: the chain fell back to the metadata server, and "
            f"{reason}. Off Google Cloud, give a service-account key (service_account_info, "
            "service_file, GOOGLE_APPLICATION_CREDENTIALS), run `gcloud auth "
            "application-default login` or pass a token; signed URLs need a service-account "
            "or HMAC key. NO_GCE_CHECK=true leaves the metadata server out.",
            backend="gcs",
        )

    async def token(self) -> Expiring[str]:
        """The attached account's access token (a provider of the token cache)."""
        now = self._clock()
        response = await self._get(metadata.token_request(self.origin))
        return parse_token_response(response.content, now)

    async def account_email(self) -> str:
        """The attached account's e-mail, asked once."""
        if self.email is None:
            response = await self._get(metadata.email_request(self.origin))
            self.email = metadata.parse_email(response.content)
        return self.email

    async def release(self) -> None:
        """Give back the sender's hold on the pool."""
        if self._sender is not None:
            await self._sender.handle.release()


class AuthContext:
    """What the providers of one storage share: the sender for token services and IAM, the
    metadata server link, the IAM origin and the clock.

    Args:
        service: Sends to token services and the IAM Credentials API (no bearer of its own).
        metadata_timeout: ``GCSConfig.metadata_timeout``.
        iam_origin: Origin of the IAM Credentials API.
        error_parser: Reads error bodies.
        clock: Current time.
    """

    def __init__(
        self,
        *,
        service: Sender,
        metadata_timeout: float,
        iam_origin: str,
        error_parser: ErrorParser,
        clock: Clock,
    ) -> None:
        self.service = service
        self.metadata_timeout = metadata_timeout
        self.iam_origin = iam_origin.rstrip("/")
        self.error_parser = error_parser
        self.clock = clock
        self._metadata: dict[str, MetadataServer] = {}

    def metadata(self, origin: str) -> MetadataServer:
        """The link to the metadata server at ``origin`` (one per storage)."""
        server = self._metadata.get(origin)
        if server is None:
            server = self._metadata[origin] = MetadataServer(
                origin,
                timeout=self.metadata_timeout,
                error_parser=self.error_parser,
                clock=self.clock,
            )
        return server

    async def release(self) -> None:
        """Release the metadata servers' pool holds."""
        for server in self._metadata.values():
            await server.release()


class GcsAuth:
    """Tokens (and keyless signatures) for one set of resolved credentials.

    Args:
        credentials: What the chain resolved.
        context: The shared senders and settings.
        scopes: Scopes of the tokens (service-account keys and impersonation ask for them).
    """

    def __init__(
        self,
        credentials: ResolvedCredentials,
        context: AuthContext,
        *,
        scopes: Sequence[str] = SCOPES,
    ) -> None:
        self.credentials = credentials
        self.context = context
        self.scopes = tuple(scopes)
        self._source: GcsAuth | None = None
        if credentials.impersonation is not None:
            # The source only calls the IAM Credentials API, which needs cloud-platform.
            self._source = GcsAuth(
                credentials.impersonation.source, context, scopes=(iam.CLOUD_PLATFORM_SCOPE,)
            )
        if credentials.metadata_origin is not None:
            self.tokens: CredentialCache[str] = CredentialCache(
                self._fetch,
                advisory=METADATA_ADVISORY,
                mandatory=METADATA_MANDATORY,
                clock=context.clock,
            )
        else:
            self.tokens = CredentialCache(self._fetch, clock=context.clock)

    @property
    def principal(self) -> str | None:
        """The service account's e-mail once known (never a secret)."""
        if self.credentials.metadata_origin is not None:
            return self.context.metadata(self.credentials.metadata_origin).email
        return self.credentials.source.principal

    # ------------------------------------------------------------------ tokens
    async def token(self) -> str:
        """A valid access token (cached; refreshed in the caller's task)."""
        return await self.tokens.get()

    async def _fetch(self) -> Expiring[str]:
        credentials = self.credentials
        if credentials.token is not None:
            return Expiring(credentials.token, None)
        if credentials.metadata_origin is not None:
            return await self.context.metadata(credentials.metadata_origin).token()
        if credentials.impersonation is not None:
            return await self._impersonated()
        return await self._oauth2()

    async def _oauth2(self) -> Expiring[str]:
        now = self.context.clock()
        request = token_request(self.credentials, now, scopes=self.scopes)
        _require_tls(request.url, "the OAuth2 token endpoint")
        parts = urlsplit(request.url)
        spec = HttpRequest(
            method="POST",
            origin=f"{parts.scheme}://{parts.netloc}",
            path=parts.path or "/",
            headers={"content-type": "application/x-www-form-urlencoded"},
            body=request.body,
            operation="oauth2 token",
            idempotent=True,
        )
        response = await self._service(spec, f"the {self.credentials.source.kind} credentials")
        return parse_token_response(response.content, now)

    async def _impersonated(self) -> Expiring[str]:
        impersonation = self.credentials.impersonation
        assert impersonation is not None
        assert self._source is not None
        _require_tls(impersonation.iam_origin, "the IAM Credentials endpoint")
        source_token = await self._source.token()
        now = self.context.clock()
        request = iam.generate_access_token_request(
            impersonation.iam_origin,
            impersonation.target,
            scopes=self.scopes,
            delegates=impersonation.delegates,
        )
        request.headers["authorization"] = f"Bearer {source_token}"
        response = await self._service(request, f"impersonation of {impersonation.target}")
        return iam.parse_generate_access_token(response.content, now)

    async def _service(self, request: HttpRequest, what: str) -> httpx.Response:
        try:
            return await self.context.service.send(request)
        except (StorageConnectionError, StorageServerError):
            raise
        except StorageError as exc:
            # invalid_grant, a revoked key, a disabled account, a missing IAM role: refused.
            raise StoragePermissionError(
                f"{request.operation} refused {what} ({exc.code or exc.status})",
                backend="gcs",
                status=exc.status,
                code=exc.code,
            ) from exc

    # ------------------------------------------------------------------ keyless signing
    async def signer_email(self) -> str:
        """The e-mail URLs are signed as (asks the metadata server once).

        Raises:
            StorageConfigurationError: These credentials cannot sign remotely.
        """
        credentials = self.credentials
        if credentials.impersonation is not None:
            return credentials.impersonation.target
        if credentials.metadata_origin is not None:
            return await self.context.metadata(credentials.metadata_origin).account_email()
        raise StorageConfigurationError(
            f"{credentials.source} cannot sign through signBlob", backend="gcs"
        )

    async def sign_blob(self, payload: bytes) -> bytes:
        """``payload`` signed (RSA-SHA256) by the account's Google-managed key.

        Raises:
            StoragePermissionError: The caller may not sign as the account (it needs
                ``iam.serviceAccounts.signBlob``, e.g. "Service Account Token Creator").
        """
        email = await self.signer_email()
        impersonation = self.credentials.impersonation
        if impersonation is not None:
            assert self._source is not None
            origin, delegates = impersonation.iam_origin, impersonation.delegates
            token = await self._source.token()
        else:
            origin, delegates = self.context.iam_origin, ()
            token = await self.token()
        _require_tls(origin, "the IAM Credentials endpoint")
        request = iam.sign_blob_request(origin, email, payload, delegates=delegates)
        request.headers["authorization"] = f"Bearer {token}"
        response = await self._service(request, f"signing as {email}")
        return iam.parse_sign_blob(response.content)
