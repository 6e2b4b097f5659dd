"""``GCSStorage``: Google Cloud Storage over its JSON and XML REST APIs, no Google SDK.

A thin store over ``client.GCSClient`` (one method per REST operation). Importing this module
or building a storage imports neither httpx nor cryptography: the HTTP layer loads on the first
request, ``cryptography`` on the first RSA signature.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import os
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import anyio.to_thread

from litestar_storages._chunks import (
    CHUNK_SIZE,
    PutData,
    aiter_chunks,
    check_data,
    data_length,
    is_bytes_like,
)
from litestar_storages._http.clock import Clock, system_clock
from litestar_storages._protocol import BaseStorage, PartsArg
from litestar_storages._stream import ByteStream
from litestar_storages._types import (
    DEFAULT_PART_SIZE,
    MultipartUpload,
    StoredFile,
    validate_key,
    validate_prefix,
)
from litestar_storages.backends.gcs import _signed
from litestar_storages.backends.gcs._credentials_iam import IAM_ENDPOINT
from litestar_storages.backends.gcs._integrity import md5_b64
from litestar_storages.backends.gcs._multipart import HIDDEN_PREFIX, is_compose_upload, is_hidden
from litestar_storages.backends.gcs._wire import GCSStoredFile, stored_file
from litestar_storages.backends.gcs.config import GCSConfig, resolve_endpoint
from litestar_storages.backends.gcs.credentials import (
    ChainContext,
    CredentialSource,
    ResolvedCredentials,
    resolve_request,
    resolve_signing,
)
from litestar_storages.exceptions import (
    StorageConfigurationError,
    StorageFileExistsError,
    StorageFileNotFoundError,
    StoragePreconditionFailedError,
)
from litestar_storages.progress import ProgressCallback, ProgressReporter
from litestar_storages.retry import RetryConfig

if TYPE_CHECKING:
    import httpx

    from litestar_storages.backends.gcs._multipart import ComposeMultipart, XmlMultipart
    from litestar_storages.backends.gcs.client import GCSClient

__all__ = ["GCSStorage"]

_MAX_PAGE = 1000  # objects.list returns at most 1000 items per page
_HASH_IN_THREAD = 1024 * 1024  # hash bigger bodies off the event loop


class GCSStorage(BaseStorage):
    """Google Cloud Storage, spoken over its JSON API (and XML API for multipart uploads).

    Differences from the contract and additions:

    * ``info``/``put``/``list`` return :class:`GCSStoredFile` (a ``StoredFile`` with
      ``generation``, ``metageneration``, ``md5_hash``, ``crc32c``, ``storage_class``); the
      ``etag`` is the JSON API's.
    * ``put`` sends bodies up to ``upload_chunk_size`` in one request and streams larger ones
      through a resumable upload that survives dropped connections; ``put_large`` and the
      multipart API use the XML multipart upload or compose (see ``multipart_strategy``).
    * ``url`` signs V4 URLs locally (RSA key or HMAC key); it also takes ``method``, ``headers``
      and response-header overrides; ``signed_post_policy`` signs browser form uploads.
    * ``get`` takes ``start``/``end`` (a byte range) and ``progress_callback``; full downloads
      are checked against ``x-goog-hash``.
    * ``list_with_prefixes`` lists one "directory" level (objects and common prefixes).

    Args:
        config: What to talk to and how.
        retry_config: Retry policy of every request (default ``RetryConfig()``).
        http_client: An ``httpx.AsyncClient`` to send through instead of the shared pool
            (never closed by the storage).
    """

    backend_name = "gcs"
    min_part_size = 1  # compose parts have no minimum; the XML strategy checks its 5 MiB

    clock: Clock
    """Current time for signing and token expiry (replace it before first use in tests)."""

    def __init__(
        self,
        config: GCSConfig,
        *,
        retry_config: RetryConfig | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if not isinstance(config, GCSConfig):
            raise StorageConfigurationError(
                f"GCSStorage takes a GCSConfig, not {type(config).__name__}", backend="gcs"
            )
        self.config = config
        self.retry_config = retry_config
        self._http_client = http_client
        self.clock = system_clock
        self._env = dict(os.environ)
        self.endpoint = resolve_endpoint(config, self._env)
        self.project = config.project or self._env.get("GOOGLE_CLOUD_PROJECT") or None
        self.multipart_strategy = config.multipart_strategy
        if self.multipart_strategy == "auto":
            self.multipart_strategy = "xml" if self.endpoint.google else "compose"
        self._prefix = config.key_prefix
        self._request_credentials: ResolvedCredentials | None = None
        self._signing_credentials: ResolvedCredentials | None = None
        self._client: GCSClient | None = None

    def __repr__(self) -> str:
        return (
            f"GCSStorage(bucket={self.config.bucket!r}, prefix={self._prefix!r}, "
            f"endpoint={self.endpoint.origin!r})"
        )

    # ------------------------------------------------------------------ plumbing
    def _context(self) -> ChainContext:
        return ChainContext(config=self.config, env=self._env, endpoint=self.endpoint)

    @property
    def credential_source(self) -> CredentialSource:
        """Which credentials authorise requests (resolved on first use; no secrets).

        The metadata server's account is named once known (keyless signing asks for it).

        Raises:
            StorageConfigurationError: No credentials were found.
        """
        if self._request_credentials is None:
            self._request_credentials = resolve_request(self._context())
        source = self._request_credentials.source
        auth = self._client.auth if self._client is not None else None
        if auth is not None and source.principal is None and auth.principal is not None:
            source = dataclasses.replace(source, principal=auth.principal)
        return source

    @property
    def signing_source(self) -> CredentialSource:
        """What signs URLs (resolved on first use; no secrets).

        Raises:
            StorageConfigurationError: Nothing that can sign was found.
        """
        signer = self._signer()
        source = signer.source
        if signer.keyless and source.principal is None and self._client is not None:
            principal = self._client.signing_auth(signer).principal
            if principal is not None:
                source = dataclasses.replace(source, principal=principal)
        return source

    def _signer(self) -> ResolvedCredentials:
        if self._signing_credentials is None:
            self._signing_credentials = resolve_signing(self._context())
        return self._signing_credentials

    def _api(self) -> GCSClient:
        # No await in here: two tasks making their first request cannot build two clients.
        if self._client is None:
            from litestar_storages._http.pool import ClientHandle, PoolOptions
            from litestar_storages.backends.gcs.client import GCSClient

            self.credential_source  # noqa: B018 - resolve (and fail) before building anything
            assert self._request_credentials is not None
            options = PoolOptions.from_settings(self.config)
            self._client = GCSClient(
                endpoint=self.endpoint,
                bucket=self.config.bucket,
                prefix=self._prefix,
                credentials=self._request_credentials,
                handle=ClientHandle(options, client=self._http_client),
                retry=self.retry_config,
                clock=self.clock,
                metadata_timeout=self.config.metadata_timeout,
                iam_origin=self.config.iam_endpoint or IAM_ENDPOINT,
            )
        return self._client

    def _multipart(self, compose: bool) -> ComposeMultipart | XmlMultipart:
        from litestar_storages.backends.gcs._multipart import ComposeMultipart, XmlMultipart

        if compose:
            return ComposeMultipart(self._api(), concurrency=self.multipart_concurrency)
        return XmlMultipart(self._api())

    @staticmethod
    def _exists_error(key: str, cause: BaseException) -> StorageFileExistsError:
        error = StorageFileExistsError(f"file exists: {key}", key=key, backend="gcs", status=412)
        error.__cause__ = cause
        return error

    async def close(self) -> None:
        """Release this storage's hold on the shared connection pool. Idempotent."""
        if self._client is not None:
            await self._client.release()
        else:
            await anyio.lowlevel.checkpoint()

    # ------------------------------------------------------------------ put
    async def put(
        self,
        key: str,
        data: PutData,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        progress_callback: ProgressCallback | None = None,
        overwrite: bool = True,
    ) -> GCSStoredFile:
        """Store ``data``: one request up to ``upload_chunk_size``, a resumable upload above.

        Raises:
            StorageFileExistsError: ``overwrite=False`` and the key exists.
            StorageIntegrityError: The stored MD5 differs from the data sent.
            StorageInvalidKeyError: The key is invalid.
            TypeError: ``data`` is of an unsupported type (before any I/O).
        """
        validate_key(key, backend="gcs")
        check_data(data)
        reporter = ProgressReporter(
            progress_callback, key=key, operation="upload", total_bytes=data_length(data)
        )
        await reporter.start()
        limit = self.config.upload_chunk_size
        options: dict[str, Any] = {
            "content_type": content_type,
            "metadata": metadata,
            "overwrite": overwrite,
            "reporter": reporter,
        }
        try:
            if is_bytes_like(data) and (data_length(data) or 0) <= limit:
                body = data if isinstance(data, bytes) else bytes(data)  # type: ignore[arg-type]
                return await self._put_one(key, body=body, **options)
            chunks = aiter_chunks(data, min(CHUNK_SIZE, limit))
            async with contextlib.aclosing(chunks):
                first = bytearray()
                async for chunk in chunks:
                    first += chunk
                    if len(first) > limit:
                        return await self._put_resumable(key, bytes(first), chunks, **options)
                return await self._put_one(key, body=bytes(first), **options)
        except StoragePreconditionFailedError as exc:
            if overwrite:
                raise
            raise self._exists_error(key, exc) from exc

    async def _put_one(
        self,
        key: str,
        *,
        body: bytes,
        content_type: str | None,
        metadata: Mapping[str, str] | None,
        overwrite: bool,
        reporter: ProgressReporter,
    ) -> GCSStoredFile:
        md5 = None
        if self.config.verify_checksums:
            # "Supplying an MD5 hash" makes GCS refuse a body corrupted on the way.
            if len(body) > _HASH_IN_THREAD:
                md5 = await anyio.to_thread.run_sync(md5_b64, body)
            else:
                md5 = md5_b64(body)
        stored = await self._api().objects_insert(
            key,
            body,
            content_type=content_type,
            metadata=metadata,
            if_generation_match=None if overwrite else 0,
            md5=md5,
        )
        await reporter.advance(len(body))
        return stored

    async def _put_resumable(
        self,
        key: str,
        first: bytes,
        rest: AsyncIterator[bytes],
        *,
        content_type: str | None,
        metadata: Mapping[str, str] | None,
        overwrite: bool,
        reporter: ProgressReporter,
    ) -> GCSStoredFile:
        from litestar_storages.backends.gcs._resumable import ResumableUpload

        api = self._api()
        if not overwrite and await api.objects_get(key, missing_ok=True) is not None:
            # Fail before sending the body; the session's ifGenerationMatch=0 still decides.
            raise StorageFileExistsError(f"file exists: {key}", key=key, backend="gcs")
        upload = ResumableUpload(
            client=api,
            key=key,
            chunk_size=self.config.upload_chunk_size,
            content_type=content_type,
            metadata=metadata,
            if_generation_match=None if overwrite else 0,
            retry=self.retry_config,
            verify_md5=self.config.verify_checksums,
        )
        return await upload.run(first, rest, reporter)

    # ------------------------------------------------------------------ get
    def get(
        self,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> ByteStream:
        """Stream the object; ``start``/``end`` select the byte range [start, end).

        Nothing is requested until the first chunk is awaited. A full download is checked
        against the object's ``x-goog-hash`` (MD5; CRC32C with ``google-crc32c``).

        Raises:
            StorageFileNotFoundError: On the first chunk, when the key does not exist.
            StorageIntegrityError: The body was truncated or does not match its hash.
        """
        validate_key(key, backend="gcs")
        from litestar_storages.backends.gcs._download import Download

        byte_range = _range_header(start, end)
        reporter = ProgressReporter(progress_callback, key=key, operation="download")
        source = Download(self._api, key, byte_range, reporter, verify=self.config.verify_checksums)
        return ByteStream(source, progress=reporter)

    # ------------------------------------------------------------------ the rest
    async def delete(self, key: str) -> None:
        """Delete ``key``; a missing key is not an error."""
        validate_key(key, backend="gcs")
        await self._api().objects_delete(key)

    async def exists(self, key: str) -> bool:
        """Whether ``key`` exists (other failures raise)."""
        validate_key(key, backend="gcs")
        return await self._api().objects_get(key, missing_ok=True) is not None

    async def info(self, key: str) -> GCSStoredFile:
        """The object's metadata (``objects.get``).

        Raises:
            StorageFileNotFoundError: The key does not exist.
        """
        validate_key(key, backend="gcs")
        stored = await self._api().objects_get(key)
        assert stored is not None  # missing_ok is False: a 404 raised
        return stored

    def _limit(self, limit: int | None) -> None:
        if limit is not None and limit < 0:
            raise StorageConfigurationError("limit must not be negative", backend="gcs")

    async def list(
        self, prefix: str = "", *, limit: int | None = None
    ) -> AsyncIterator[GCSStoredFile]:
        """Objects under ``prefix`` in key order, fetched lazily page by page."""
        async for item in self._listing(prefix, limit=limit, delimiter=None):
            if isinstance(item, StoredFile):
                yield item

    async def list_with_prefixes(
        self, prefix: str = "", *, delimiter: str = "/", limit: int | None = None
    ) -> AsyncIterator[GCSStoredFile | str]:
        """One level below ``prefix``: objects, and common prefixes (``"dir/"``) as ``str``.

        Both kinds come in key order; ``limit`` counts both.
        """
        if not delimiter:
            raise StorageConfigurationError("delimiter must not be empty", backend="gcs")
        async for item in self._listing(prefix, limit=limit, delimiter=delimiter):
            yield item

    async def _listing(
        self, prefix: str, *, limit: int | None, delimiter: str | None
    ) -> AsyncIterator[GCSStoredFile | str]:
        validate_prefix(prefix, backend="gcs")
        self._limit(limit)
        if limit == 0:
            return
        api = self._api()
        strip = len(self._prefix)
        remaining = limit
        token: str | None = None
        while True:
            page = await api.objects_list(
                prefix,
                page_token=token,
                max_results=_MAX_PAGE if remaining is None else min(_MAX_PAGE, remaining),
                delimiter=delimiter,
            )
            entries: builtins.list[tuple[str, GCSStoredFile | str]] = []
            for resource in page.items:
                key = str(resource.get("name", ""))[strip:]
                if not is_hidden(key):
                    entries.append((key, stored_file(resource, key)))
            for name in page.prefixes:
                key = name[strip:]
                if key != HIDDEN_PREFIX:
                    entries.append((key, key))
            entries.sort(key=lambda entry: entry[0])
            for _, entry in entries:
                yield entry
                if remaining is not None:
                    remaining -= 1
                    if remaining == 0:
                        return
            token = page.next_page_token
            if not token:
                return

    async def copy(self, source: str, destination: str) -> GCSStoredFile:
        """Server-side copy with ``objects.rewrite``, looping on ``rewriteToken``.

        Raises:
            StorageFileNotFoundError: ``source`` does not exist.
        """
        validate_key(source, backend="gcs")
        validate_key(destination, backend="gcs")
        api = self._api()
        token: str | None = None
        while True:
            progress = await api.objects_rewrite(source, destination, rewrite_token=token)
            if progress.done and progress.resource is not None:
                return stored_file(progress.resource, destination)
            if not progress.rewrite_token:
                raise StorageFileNotFoundError(
                    f"rewrite of {source!r} answered without a result or a token",
                    key=source,
                    backend="gcs",
                )
            token = progress.rewrite_token

    async def move(self, source: str, destination: str) -> GCSStoredFile:
        """Move: rewrite, then delete the source (GCS has no atomic rename for flat buckets)."""
        stored = await super().move(source, destination)
        assert isinstance(stored, GCSStoredFile)
        return stored

    # ------------------------------------------------------------------ signed URLs
    async def url(
        self,
        key: str,
        *,
        expires_in: timedelta | None = None,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        response_content_type: str | None = None,
        response_content_disposition: str | None = None,
    ) -> str:
        """A V4 signed URL, fetchable with any HTTP client.

        With a service-account or HMAC key it is computed locally (no request). Without a key
        (metadata server, impersonation) the string to sign is signed by the IAM Credentials
        ``signBlob`` API: one request per URL, plus the token and e-mail once.

        Args:
            key: The object.
            expires_in: Validity (default ``presigned_expiry``); 1 second to 7 days.
            method: The HTTP method the URL is for (``GET``, ``PUT``, ``DELETE``, ...).
            headers: Headers the user of the URL must send (signed), e.g. ``content-type``.
            query: Extra query parameters to sign (``generation``, ...).
            response_content_type: Overrides ``Content-Type`` of the response.
            response_content_disposition: Overrides ``Content-Disposition`` (e.g.
                ``attachment; filename="report.pdf"``).

        Raises:
            StorageConfigurationError: No signing key, or ``expires_in`` out of range.
        """
        validate_key(key, backend="gcs")
        await anyio.lowlevel.checkpoint()
        params = dict(query or {})
        if response_content_type is not None:
            params["response-content-type"] = response_content_type
        if response_content_disposition is not None:
            params["response-content-disposition"] = response_content_disposition
        signer = self._signer()
        arguments: dict[str, Any] = {
            "bucket": self.config.bucket,
            "name": f"{self._prefix}{key}",
            "method": method,
            "expires_in": self.config.presigned_expiry if expires_in is None else expires_in,
            "headers": headers,
            "query": params,
        }
        if not signer.keyless:
            return _signed.signed_url(signer, self.endpoint, now=self.clock(), **arguments)
        auth = self._api().signing_auth(signer)
        return await _signed.keyless_url(auth, self.endpoint, clock=self.clock, **arguments)

    async def signed_post_policy(
        self,
        key: str,
        *,
        expires_in: timedelta | None = None,
        conditions: builtins.list[Any] | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> tuple[str, dict[str, str]]:
        """A signed V4 POST policy for an HTML form upload of ``key``.

        Args:
            key: The object the form uploads to.
            expires_in: Validity (default ``presigned_expiry``); 1 second to 7 days.
            conditions: Extra policy conditions, e.g. ``["content-length-range", 0, 10485760]``.
            fields: Extra form fields (``content-type``, ``x-goog-meta-*``...), each also made
                an exact-match condition.

        Returns:
            ``(url, fields)``: post the fields, then the file as the last field ``file``.

        Raises:
            StorageConfigurationError: No signing key, or ``expires_in`` out of range.
        """
        validate_key(key, backend="gcs")
        await anyio.lowlevel.checkpoint()
        signer = self._signer()
        arguments: dict[str, Any] = {
            "bucket": self.config.bucket,
            "name": f"{self._prefix}{key}",
            "expires_in": self.config.presigned_expiry if expires_in is None else expires_in,
            "conditions": conditions or [],
            "fields": fields,
        }
        if not signer.keyless:
            return _signed.signed_post_policy(signer, self.endpoint, now=self.clock(), **arguments)
        auth = self._api().signing_auth(signer)
        return await _signed.keyless_post_policy(auth, self.endpoint, clock=self.clock, **arguments)

    # ------------------------------------------------------------------ multipart
    async def start_multipart_upload(
        self,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> MultipartUpload:
        """Begin a multipart upload (XML API or compose, per ``multipart_strategy``)."""
        validate_key(key, backend="gcs")
        self._check_part_size(part_size, key)
        strategy = self._multipart(self.multipart_strategy == "compose")
        return await strategy.start(
            key, content_type=content_type, metadata=metadata, part_size=part_size
        )

    async def upload_part(
        self, upload: MultipartUpload, part_number: int, data: bytes | bytearray | memoryview
    ) -> str:
        """Upload one part (any order, concurrently) and return its ETag."""
        self._check_part_number(upload, part_number)
        strategy = self._multipart(is_compose_upload(upload))
        etag = await strategy.upload_part(upload, part_number, bytes(data))
        upload.add_part(part_number, etag)
        return etag

    async def complete_multipart_upload(
        self, upload: MultipartUpload, parts: PartsArg = None, *, overwrite: bool = True
    ) -> GCSStoredFile:
        """Assemble the parts into the object; the upload's parts are then gone.

        Raises:
            StorageFileExistsError: ``overwrite=False`` and the key exists.
            StorageFileNotFoundError: The upload was aborted, completed, or a part is missing.
        """
        strategy = self._multipart(is_compose_upload(upload))
        try:
            return await strategy.complete(
                upload, self._resolve_parts(upload, parts), overwrite=overwrite
            )
        except StoragePreconditionFailedError as exc:
            if overwrite or exc.status != 412:
                raise
            raise self._exists_error(upload.key, exc) from exc

    async def abort_multipart_upload(self, upload: MultipartUpload) -> None:
        """Abandon the upload and delete every part uploaded so far. Idempotent."""
        await self._multipart(is_compose_upload(upload)).abort(upload)


def _range_header(start: int | None, end: int | None) -> str | None:
    """The ``Range`` value for [start, end): ``None`` for everything, ``""`` for nothing."""
    if start is None and end is None:
        return None
    first = start or 0
    if first < 0 or (end is not None and end < 0):
        raise ValueError("start and end must not be negative")
    if end is None:
        return f"bytes={first}-" if first else None
    if end <= first:
        return ""
    return f"bytes={first}-{end - 1}"
