"""``GCSClient``: one method per GCS REST operation, each a pure builder, one send, a pure parser.

The builders and parsers live in ``_wire`` (JSON API) and ``_xml`` (XML API multipart); this
module adds the sending: the shared pool's :class:`~litestar_storages._http.send.Sender`, the
bearer-token signer fed by the shared :class:`~litestar_storages._http.credentials.CredentialCache`,
the GCS error parser, and "a 401 is answered by one token refresh and one resend".

Importing this module imports httpx; ``GCSStorage`` imports it on its first network request.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from litestar_storages._http.clock import Clock, system_clock
from litestar_storages._http.credentials import CredentialCache
from litestar_storages._http.errors import ProviderError
from litestar_storages._http.pool import ClientHandle
from litestar_storages._http.request import HttpRequest
from litestar_storages._http.send import ResponseBody, Sender
from litestar_storages._types import prefixed_key
from litestar_storages.backends.gcs import _sessions, _wire, _xml
from litestar_storages.backends.gcs._credentials_auth import AuthContext, GcsAuth
from litestar_storages.backends.gcs._credentials_iam import IAM_ENDPOINT
from litestar_storages.backends.gcs._wire import GCSStoredFile, ListPage, RewriteProgress
from litestar_storages.backends.gcs.config import Endpoint
from litestar_storages.backends.gcs.credentials import ResolvedCredentials
from litestar_storages.exceptions import StorageError, StoragePermissionError, StorageServerError
from litestar_storages.retry import RetryConfig

__all__ = ["REQUEST_ID_HEADERS", "GCSClient", "parse_error"]

REQUEST_ID_HEADERS = ("x-guploader-uploadid",)
"""GCS's per-request id (quote it in support cases)."""


def parse_error(status: int, headers: httpx.Headers, body: bytes) -> ProviderError | None:
    """Read a GCS error body: JSON API, OAuth2 token endpoint, or XML API.

    * JSON API: ``{"error": {"code": 404, "message": ..., "errors": [{"reason": "notFound"}]}}``
      ("HTTP status and error codes for JSON"); the first ``reason`` is the code.
    * OAuth2: ``{"error": "invalid_grant", "error_description": ...}`` (RFC 6749, 5.2).
    * XML API: ``<Error><Code>NoSuchUpload</Code><Message>...</Message></Error>``.
    """
    if status < 300:
        return None
    text = body.lstrip()
    if text.startswith(b"{"):
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if isinstance(document, dict):
            error = document.get("error")
            if isinstance(error, dict):
                reasons = [
                    item.get("reason")
                    for item in error.get("errors") or []
                    if isinstance(item, dict) and item.get("reason")
                ]
                return ProviderError(
                    status,
                    str(reasons[0]) if reasons else None,
                    str(error.get("message") or "") or None,
                )
            if isinstance(error, str):
                description = document.get("error_description")
                return ProviderError(status, error, str(description) if description else None)
    if text.startswith(b"<"):
        code, message, details = _xml.parse_xml_error(text)
        if code is not None or message is not None:
            return ProviderError(status, code, message, details=details)
    return ProviderError(status)


def _boundary() -> str:
    return f"litestar-storages-{uuid.uuid4().hex}"


class GCSClient:
    """Sends GCS requests for one bucket.

    Args:
        endpoint: Where requests go.
        bucket: The bucket.
        prefix: The storage's key prefix (removed from names in parsed results).
        credentials: What authorises requests (anonymous, a fixed token, or a token source).
        handle: The storage's hold on the shared HTTP pool.
        retry: The retry policy.
        clock: Current time (token expiry and signing).
        rng: Randomness for backoff jitter.
    """

    def __init__(
        self,
        *,
        endpoint: Endpoint,
        bucket: str,
        prefix: str,
        credentials: ResolvedCredentials,
        handle: ClientHandle,
        retry: RetryConfig | None = None,
        clock: Clock = system_clock,
        rng: random.Random | None = None,
        metadata_timeout: float = 3.0,
        iam_origin: str = IAM_ENDPOINT,
    ) -> None:
        self.endpoint = endpoint
        self.origin = endpoint.origin
        self.bucket = bucket
        self.prefix = prefix
        self.credentials = credentials
        self.handle = handle
        self.clock = clock
        common: dict[str, Any] = {
            "backend": "gcs",
            "error_parser": parse_error,
            "request_id_headers": REQUEST_ID_HEADERS,
            "retry": retry,
            "clock": clock,
            "rng": rng,
        }
        # Token requests, and session URIs on another host, carry no bearer token.
        self.anonymous = Sender(handle, **common)
        self.auth_context = AuthContext(
            service=self.anonymous,
            metadata_timeout=metadata_timeout,
            iam_origin=iam_origin,
            error_parser=parse_error,
            clock=clock,
        )
        self.auth: GcsAuth | None = None
        self.tokens: CredentialCache[str] | None = None
        signer = None
        if credentials.token is not None or credentials.needs_token:
            self.auth = GcsAuth(credentials, self.auth_context)
            self.tokens = self.auth.tokens
            signer = self._sign
        self.sender = Sender(handle, signer=signer, **common)
        self._signing_auth: GcsAuth | None = None

    # ------------------------------------------------------------------ auth
    async def _sign(self, request: HttpRequest, now: datetime) -> Mapping[str, str]:
        assert self.auth is not None
        return {"authorization": f"Bearer {await self.auth.token()}"}

    def signing_auth(self, credentials: ResolvedCredentials) -> GcsAuth:
        """The token source that signs URLs remotely as ``credentials`` (``signBlob``); the
        request credentials' own when they are the same, so one token serves both."""
        if self.auth is not None and credentials.source == self.credentials.source:
            return self.auth
        if self._signing_auth is None or self._signing_auth.credentials is not credentials:
            self._signing_auth = GcsAuth(credentials, self.auth_context)
        return self._signing_auth

    async def release(self) -> None:
        """Give back this client's holds on the shared pools. Idempotent."""
        await self.handle.release()
        await self.auth_context.release()

    def _sender_for(self, request: HttpRequest) -> Sender:
        # Never send our token to a host other than the configured endpoint (a session URI
        # is its own authorisation: "Resumable uploads", "Session URIs").
        return self.sender if request.origin == self.origin else self.anonymous

    async def send(self, request: HttpRequest) -> httpx.Response:
        """Send with retries; a 401 refreshes the token once and resends (replayable bodies).

        Raises:
            StorageError: The mapped failure.
        """
        sender = self._sender_for(request)
        try:
            return await sender.send(request)
        except StoragePermissionError as exc:
            if not self._may_refresh(sender, request, exc):
                raise
        assert self.tokens is not None
        self.tokens.invalidate()
        return await sender.send(request)

    async def open(self, request: HttpRequest) -> httpx.Response:
        """Like :meth:`send` with the body left unread (downloads)."""
        sender = self._sender_for(request)
        try:
            return await sender.open(request)
        except StoragePermissionError as exc:
            if not self._may_refresh(sender, request, exc):
                raise
        assert self.tokens is not None
        self.tokens.invalidate()
        return await sender.open(request)

    def _may_refresh(self, sender: Sender, request: HttpRequest, exc: StorageError) -> bool:
        return (
            exc.status == 401
            and sender is self.sender
            and self.credentials.needs_token
            and self.tokens is not None
            and request.replayable
        )

    def _name(self, key: str) -> str:
        # GCS "Object naming requirements": 1024 UTF-8 bytes for the whole name, prefix included.
        return prefixed_key(self.prefix, key, backend="gcs")

    @staticmethod
    def _about(key: str, request: HttpRequest) -> HttpRequest:
        # Errors name the caller's key, not the bucket-level name with the storage prefix.
        request.key = key
        return request

    def _parse(self, response: httpx.Response) -> GCSStoredFile:
        return _wire.parse_object(response.content, prefix=self.prefix)

    # ------------------------------------------------------------------ JSON API objects
    async def objects_insert(
        self,
        key: str,
        body: bytes,
        *,
        content_type: str | None,
        metadata: Mapping[str, str] | None,
        if_generation_match: int | None = None,
        md5: str | None = None,
    ) -> GCSStoredFile:
        """``objects.insert`` (``uploadType=multipart``): data, type and metadata at once."""
        request = _wire.build_objects_insert(
            self.origin,
            self.bucket,
            self._name(key),
            body,
            content_type=content_type,
            metadata=metadata,
            boundary=_boundary(),
            if_generation_match=if_generation_match,
            md5=md5,
        )
        return self._parse(await self.send(self._about(key, request)))

    async def objects_get(self, key: str, *, missing_ok: bool = False) -> GCSStoredFile | None:
        """``objects.get`` (metadata); ``None`` for a missing object when ``missing_ok``."""
        request = _wire.build_objects_get(
            self.origin,
            self.bucket,
            self._name(key),
            ok_statuses=frozenset({404}) if missing_ok else frozenset(),
        )
        response = await self.send(self._about(key, request))
        if response.status_code == 404:
            return None
        return self._parse(response)

    async def objects_get_media(
        self, key: str, *, byte_range: str | None = None
    ) -> tuple[httpx.Response, ResponseBody]:
        """``objects.get?alt=media``: the open response and its raw body (caller closes it)."""
        request = _wire.build_objects_get(
            self.origin,
            self.bucket,
            self._name(key),
            media=True,
            byte_range=byte_range,
            # A range starting past the end answers 416: the caller yields nothing.
            ok_statuses=frozenset({416}) if byte_range else frozenset(),
        )
        response = await self.open(self._about(key, request))
        return response, ResponseBody(response, request, backend="gcs")

    async def objects_delete(self, key: str, *, if_generation_match: int | None = None) -> bool:
        """``objects.delete``; returns whether an object was deleted (404 is not an error)."""
        request = _wire.build_objects_delete(
            self.origin, self.bucket, self._name(key), if_generation_match=if_generation_match
        )
        response = await self.send(self._about(key, request))
        return response.status_code != 404

    async def objects_list(
        self,
        prefix: str,
        *,
        page_token: str | None = None,
        max_results: int | None = None,
        delimiter: str | None = None,
    ) -> ListPage:
        """``objects.list``: one page of names starting with the storage prefix + ``prefix``."""
        request = _wire.build_objects_list(
            self.origin,
            self.bucket,
            prefix=f"{self.prefix}{prefix}",
            page_token=page_token,
            max_results=max_results,
            delimiter=delimiter,
        )
        return _wire.parse_list_page((await self.send(request)).content)

    async def objects_rewrite(
        self,
        source: str,
        destination: str,
        *,
        rewrite_token: str | None = None,
        max_bytes_per_call: int | None = None,
    ) -> RewriteProgress:
        """One ``objects.rewrite`` call (loop on ``rewrite_token`` until ``done``)."""
        request = _wire.build_objects_rewrite(
            self.origin,
            self.bucket,
            self._name(source),
            self._name(destination),
            rewrite_token=rewrite_token,
            max_bytes_per_call=max_bytes_per_call,
        )
        return _wire.parse_rewrite((await self.send(self._about(source, request))).content)

    async def objects_compose(
        self,
        destination: str,
        sources: Sequence[tuple[str, int | None]],
        *,
        content_type: str | None,
        metadata: Mapping[str, str] | None,
        if_generation_match: int | None = None,
    ) -> GCSStoredFile:
        """``objects.compose`` of up to 32 ``(key, generation)`` sources into ``destination``."""
        request = _wire.build_objects_compose(
            self.origin,
            self.bucket,
            self._name(destination),
            [(self._name(key), generation) for key, generation in sources],
            content_type=content_type,
            metadata=metadata,
            if_generation_match=if_generation_match,
        )
        return self._parse(await self.send(self._about(destination, request)))

    # ------------------------------------------------------------------ resumable uploads
    async def resumable_start(
        self,
        key: str,
        *,
        content_type: str | None,
        metadata: Mapping[str, str] | None,
        if_generation_match: int | None = None,
        size: int | None = None,
    ) -> str:
        """Start a resumable session; returns the session URI."""
        request = _sessions.build_resumable_start(
            self.origin,
            self.bucket,
            self._name(key),
            content_type=content_type,
            metadata=metadata,
            if_generation_match=if_generation_match,
            size=size,
        )
        response = await self.send(self._about(key, request))
        try:
            return _sessions.session_location(response.headers)
        except ValueError as exc:
            raise StorageServerError(str(exc), key=key, backend="gcs") from None

    async def resumable_upload_chunk(
        self,
        session_url: str,
        body: bytes,
        *,
        key: str,
        offset: int,
        total: int | None,
        content_type: str | None = None,
    ) -> tuple[int, GCSStoredFile | None]:
        """Send one chunk; returns ``(committed bytes, resource when the upload finished)``."""
        request = _sessions.build_resumable_chunk(
            session_url,
            body,
            offset=offset,
            total=total,
            content_type=content_type,
            name=self._name(key),
        )
        return self._session_state(await self.send(self._about(key, request)))

    async def resumable_query(
        self, session_url: str, *, key: str, total: int | None = None
    ) -> tuple[int, GCSStoredFile | None]:
        """Ask a session for its committed offset (and the resource if it has finished)."""
        request = _sessions.build_resumable_query(session_url, total=total, name=self._name(key))
        return self._session_state(await self.send(self._about(key, request)))

    async def resumable_cancel(self, session_url: str, *, key: str) -> None:
        """Cancel a session (already gone is fine)."""
        await self.send(
            self._about(key, _sessions.build_resumable_cancel(session_url, name=self._name(key)))
        )

    def _session_state(self, response: httpx.Response) -> tuple[int, GCSStoredFile | None]:
        if response.status_code == 308:
            return _sessions.committed_bytes(response.headers), None
        stored = self._parse(response)
        return stored.size, stored

    # ------------------------------------------------------------------ XML API multipart
    async def xml_initiate(
        self, key: str, *, content_type: str | None, metadata: Mapping[str, str] | None
    ) -> str:
        """Initiate an XML API multipart upload; returns its upload id."""
        request = _xml.build_xml_initiate(
            self.origin,
            self.bucket,
            self._name(key),
            content_type=content_type,
            metadata=metadata,
        )
        response = await self.send(self._about(key, request))
        try:
            return _xml.parse_xml_initiate(response.content)
        except ValueError as exc:
            raise StorageServerError(str(exc), key=key, backend="gcs") from None

    async def xml_upload_part(
        self, key: str, *, upload_id: str, part_number: int, body: bytes, md5: str | None
    ) -> str:
        """Upload one part; returns its ETag (without quotes)."""
        request = _xml.build_xml_upload_part(
            self.origin,
            self.bucket,
            self._name(key),
            upload_id=upload_id,
            part_number=part_number,
            body=body,
            md5=md5,
        )
        response = await self.send(self._about(key, request))
        etag = str(response.headers.get("etag", "")).strip().strip('"')
        if not etag:
            raise StorageServerError("part upload answered without an ETag", key=key, backend="gcs")
        return etag

    async def xml_complete(
        self,
        key: str,
        *,
        upload_id: str,
        parts: Sequence[tuple[int, str]],
        if_generation_match: int | None = None,
    ) -> None:
        """Complete an XML API multipart upload."""
        request = _xml.build_xml_complete(
            self.origin,
            self.bucket,
            self._name(key),
            upload_id=upload_id,
            parts=parts,
            if_generation_match=if_generation_match,
        )
        await self.send(self._about(key, request))

    async def xml_abort(self, key: str, *, upload_id: str) -> None:
        """Abort an XML API multipart upload (an unknown id is fine)."""
        request = _xml.build_xml_abort(
            self.origin, self.bucket, self._name(key), upload_id=upload_id
        )
        await self.send(self._about(key, request))
