"""``AzureStorage``: the storage contract over the Azure Blob REST API.

A thin layer over ``client.py``: key prefixing and validation, the streamed/multipart upload
orchestration inherited from ``BaseStorage``, download integrity, copy waiting, SAS URLs and the
multipart abort semantics. The HTTP stack is imported on the first request, so importing this
module, building a storage and computing SAS URLs never import httpx.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import anyio

from litestar_storages._chunks import PutData, check_data, is_bytes_like
from litestar_storages._http.clock import Clock, system_clock
from litestar_storages._protocol import BaseStorage, PartsArg
from litestar_storages._stream import ByteStream
from litestar_storages._types import (
    DEFAULT_PART_SIZE,
    MultipartUpload,
    StoredFile,
    prefixed_key,
)
from litestar_storages.backends.azure import client
from litestar_storages.backends.azure._connection import Connection
from litestar_storages.backends.azure._download import BlobDownload
from litestar_storages.backends.azure._listing import iter_entries
from litestar_storages.backends.azure._multipart import (
    ABORTED_PREFIX,
    discard_uncommitted_blocks,
    exists_error,
    live_upload_id,
)
from litestar_storages.backends.azure._sas import (
    BlobSasSigner,
    SasWindow,
    account_sas_query,
    container_sas_query,
    permissions_for,
    sas_window,
)
from litestar_storages.backends.azure._wire import (
    BlobLocation,
    block_id,
    metadata_headers,
)
from litestar_storages.backends.azure.config import AzureConfig, AzureSettings, resolve_settings
from litestar_storages.backends.azure.credentials import (
    MIN_BEARER_VERSION,
    CredentialSource,
    EntraCredential,
    SasToken,
    resolve_credential,
)
from litestar_storages.exceptions import (
    StorageConfigurationError,
    StorageFileExistsError,
    StorageFileNotFoundError,
    StoragePreconditionFailedError,
)
from litestar_storages.progress import ProgressCallback, ProgressReporter
from litestar_storages.signing.azure import AzureSharedKey

if TYPE_CHECKING:
    import httpx

    from litestar_storages._http.send import Sender
    from litestar_storages.retry import RetryConfig

__all__ = ["AzureStorage"]

STREAM_PART_SIZE = 8 * 1024 * 1024
"""Streamed ``put``: bodies up to this size go in one Put Blob, larger ones in blocks of it."""

MAX_BLOCK_SIZE = 4000 * 1024 * 1024
"""Largest Put Block body (4000 MiB from version 2019-12-12, "Put Block": remarks)."""


class AzureStorage(BaseStorage):
    """Azure Blob Storage (block blobs) over the REST API, authorised by SharedKey, a SAS, or
    Microsoft Entra ID tokens (service principal, workload identity, managed identity).

    Differences from the contract:

    * ``abort_multipart_upload`` discards the upload's blocks only when the blob does not exist
      (it commits an empty block list create-only, then deletes that empty blob); when the blob
      exists, the service offers no way to drop uncommitted blocks without rewriting or
      deleting it, so they are left to be discarded by the blob's next write or by the service
      after 7 days (see ``docs/backends/azure.md``).
    * ``upload_part`` returns the part's block id, not an MD5 ETag.
    * ``url()`` returns a SAS URL: a service SAS with the account key, a user delegation SAS
      with Entra ID credentials (one Get User Delegation Key request per week); with a
      SAS-token-only configuration the blob URL with the configured token
      (``method``/``permissions`` overrides need a key).
    * ``list()`` reports content type and metadata; a delimiter listing and ``list_prefixes``
      are additions.

    Args:
        config: Where and how to connect.
        retry_config: Retry policy for every request (default: ``RetryConfig()``).
        http_client: An application-owned ``httpx.AsyncClient`` to send through (never closed
            here); by default the library's shared pool is used.

    Raises:
        StorageConfigurationError: No endpoint, account name or credential can be resolved.
    """

    backend_name = "azure"

    def __init__(
        self,
        config: AzureConfig,
        *,
        retry_config: RetryConfig | None = None,
        http_client: httpx.AsyncClient | None = None,
        clock: Clock = system_clock,
    ) -> None:
        if not isinstance(config, AzureConfig):
            raise StorageConfigurationError(
                f"AzureStorage needs an AzureConfig, not {type(config).__name__}", backend="azure"
            )
        self.config = config
        self.settings: AzureSettings = resolve_settings(config, os.environ)
        self.credential: CredentialSource = resolve_credential(self.settings)
        if self.credential.kind == "bearer" and config.api_version < MIN_BEARER_VERSION:
            raise StorageConfigurationError(
                f"{self.credential.describe()} needs api_version {MIN_BEARER_VERSION} or later",
                backend="azure",
            )
        self.multipart_concurrency = config.max_concurrency
        self._clock = clock
        parts = urlsplit(self.settings.account_url)
        auth_query: tuple[tuple[str, str], ...] = ()
        if isinstance(self.credential.credential, SasToken):
            auth_query = self.credential.credential.pairs
        self.location = BlobLocation(
            origin=f"{parts.scheme}://{parts.netloc}",
            base_path=parts.path,
            container=config.container,
            auth_query=auth_query,
        )
        self._connection = Connection(
            config=config,
            account_name=self.settings.account_name,
            credential=self.credential,
            location=self.location,
            http_client=http_client,
            retry=retry_config,
            clock=clock,
        )
        self._sas_signer: BlobSasSigner | None = None

    def __repr__(self) -> str:
        return (
            f"AzureStorage(account={self.settings.account_name!r}, "
            f"container={self.config.container!r}, prefix={self.config.key_prefix!r}, "
            f"credential={self.credential.describe()!r})"
        )

    @property
    def credential_source(self) -> str:
        """Which credential the chain chose and where it came from (no secrets)."""
        return self.credential.describe()

    # ------------------------------------------------------------------ plumbing
    def _sender(self) -> Sender:
        return self._connection.sender()

    def _name(self, key: str) -> str:
        return prefixed_key(self.config.key_prefix, key, backend="azure")

    def _key(self, name: str) -> str:
        return name[len(self.config.key_prefix) :]

    async def close(self) -> None:
        """Release this storage's hold on the connection pool. Idempotent."""
        await self._connection.release()
        await anyio.lowlevel.checkpoint()

    # ------------------------------------------------------------------ writes
    async def put(
        self,
        key: str,
        data: PutData,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        progress_callback: ProgressCallback | None = None,
        overwrite: bool = True,
    ) -> StoredFile:
        """Store ``data``: one Put Blob up to 8 MiB, parallel blocks above (bounded memory).

        Raises:
            StorageFileExistsError: ``overwrite=False`` and the key exists.
        """
        self._name(key)
        check_data(data)
        metadata_headers(metadata, key=key)  # refuse bad metadata before sending any byte
        if not overwrite and not is_bytes_like(data) and await self.exists(key):
            # The commit is conditional anyway; checking first spares uploading a whole stream
            # only to be refused (and leaving its blocks behind, see abort_multipart_upload).
            raise StorageFileExistsError(f"file exists: {key}", key=key, backend="azure")
        return await self._put_streamed(
            key,
            data,
            content_type=content_type,
            metadata=metadata,
            progress_callback=progress_callback,
            overwrite=overwrite,
            part_size=STREAM_PART_SIZE,
        )

    async def _put_object(
        self,
        key: str,
        body: bytes,
        *,
        content_type: str | None,
        metadata: Mapping[str, str] | None,
        overwrite: bool,
    ) -> StoredFile:
        try:
            return await client.put_blob(
                self._sender(),
                self.location,
                self._name(key),
                body,
                key=key,
                content_type=content_type,
                metadata=metadata,
                overwrite=overwrite,
            )
        except StoragePreconditionFailedError as exc:
            raise exists_error(exc, key, overwrite) from exc

    # ------------------------------------------------------------------ reads
    def get(
        self,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> ByteStream:
        """Stream the blob, or the byte range [start, end).

        A full download is checked against the blob's ``Content-MD5`` when the service returns
        one, and every download against its ``Content-Length``.

        Raises:
            StorageFileNotFoundError: On the first chunk, when the key does not exist.
            StorageIntegrityError: The body was short or its MD5 differs.
        """
        name = self._name(key)
        for value in (start, end):
            if value is not None and (not isinstance(value, int) or value < 0):
                raise StorageConfigurationError(
                    "start and end must be non-negative integers", key=key, backend="azure"
                )
        reporter = ProgressReporter(progress_callback, key=key, operation="download")
        source = BlobDownload(
            self._sender,
            self.location,
            name,
            key=key,
            start=start,
            end=end,
            reporter=reporter,
            check_exists=lambda: self.info(key),
        )
        return ByteStream(source, progress=reporter)

    async def info(self, key: str) -> StoredFile:
        """The blob's properties and metadata (Get Blob Properties).

        Raises:
            StorageFileNotFoundError: The key does not exist.
        """
        properties = await client.get_blob_properties(
            self._sender(), self.location, self._name(key), key=key
        )
        return properties.stored

    async def exists(self, key: str) -> bool:
        """Whether the blob exists (an upload in progress does not make it exist)."""
        try:
            await self.info(key)
        except StorageFileNotFoundError:
            return False
        return True

    async def delete(self, key: str) -> None:
        """Delete the blob and its snapshots; a missing key is not an error."""
        await client.delete_blob(self._sender(), self.location, self._name(key), key=key)

    async def list(
        self, prefix: str = "", *, limit: int | None = None, delimiter: str | None = None
    ) -> AsyncIterator[StoredFile]:
        """Blobs under ``prefix`` in key order, one List Blobs page at a time.

        Args:
            prefix: Only keys starting with it.
            limit: At most this many (``0`` yields nothing).
            delimiter: Only the blobs directly "in" ``prefix`` (``"/"``: one folder level);
                the sub-folders are listed by :meth:`list_prefixes`.
        """
        entries = iter_entries(
            self._sender,
            self.location,
            key_prefix=self.config.key_prefix,
            prefix=prefix,
            limit=limit,
            delimiter=delimiter,
            page_size=self.config.list_page_size,
        )
        async for blob, _ in entries:
            if blob is not None:
                yield blob

    async def list_prefixes(self, prefix: str = "", *, delimiter: str = "/") -> AsyncIterator[str]:
        """The "folders" directly under ``prefix``: keys up to and including the next
        ``delimiter`` (List Blobs' ``BlobPrefix``), in order, each once."""
        entries = iter_entries(
            self._sender,
            self.location,
            key_prefix=self.config.key_prefix,
            prefix=prefix,
            limit=None,
            delimiter=delimiter,
            page_size=self.config.list_page_size,
        )
        async for _, folder in entries:
            if folder is not None:
                yield folder

    # ------------------------------------------------------------------ copy
    async def copy(self, source: str, destination: str) -> StoredFile:
        """Server-side Copy Blob, returning once the copy has finished (not merely started).

        Raises:
            StorageFileNotFoundError: ``source`` does not exist.
            StorageTimeoutError: The copy was still pending after ``config.copy_timeout``.
        """
        source_name = self._name(source)
        destination_name = self._name(destination)
        sender = self._sender()
        # Same account: the source is authorised by our SharedKey; with a SAS, by the same SAS.
        source_url = self.location.blob_url(source_name, self.location.auth_query)
        try:
            state = await client.copy_blob(
                sender, self.location, destination_name, key=destination, source_url=source_url
            )
        except StorageFileNotFoundError as exc:
            if exc.code == "ContainerNotFound":
                raise
            error = StorageFileNotFoundError(
                f"file not found: {source}", key=source, backend="azure", code=exc.code
            )
            raise error from exc
        properties = await client.wait_for_copy(
            sender,
            self.location,
            destination_name,
            key=destination,
            state=state,
            timeout=self.config.copy_timeout,
            sleep=anyio.sleep,
        )
        return properties.stored

    # ------------------------------------------------------------------ SAS URLs
    def _shared_key(self, what: str, key: str | None = None) -> AzureSharedKey:
        credential = self.credential.credential
        if isinstance(credential, AzureSharedKey):
            return credential
        raise StorageConfigurationError(
            f"{what} needs the account key (SharedKey); this storage is authorised by "
            f"{self.credential.describe()}",
            key=key,
            backend="azure",
        )

    def _protocol(self) -> str | None:
        # Least privilege: an https endpoint gets https-only tokens ("Create a service SAS": spr).
        return "https" if self.location.origin.startswith("https:") else None

    def _window(self, expires_in: timedelta | None, key: str | None = None) -> SasWindow:
        lifetime = self.config.presigned_expiry if expires_in is None else expires_in
        return sas_window(self._clock(), lifetime, skew=self.config.sas_start_skew, key=key)

    async def url(
        self,
        key: str,
        *,
        expires_in: timedelta | None = None,
        method: str = "GET",
        permissions: str | None = None,
        content_disposition: str | None = None,
        content_type: str | None = None,
    ) -> str:
        """A SAS URL for the blob, computed locally (with Entra ID credentials, signed with a
        cached user delegation key, fetched when none covers the URL's lifetime).

        Args:
            key: The blob.
            expires_in: Lifetime (default ``config.presigned_expiry``); must be positive.
            method: What the holder will do: ``GET``/``HEAD`` (read), ``PUT`` (create and
                write), ``DELETE`` (delete). Only that permission is granted.
            permissions: Explicit SAS permission letters instead (``"rw"``...).
            content_disposition: Served as ``Content-Disposition`` on download (``rscd``).
            content_type: Served as ``Content-Type`` on download (``rsct``).

        Raises:
            StorageConfigurationError: Bad expiry or permissions, or a SAS-token-only storage
                asked for something its token cannot express.
        """
        name = self._name(key)
        # A cancellation point but not a trip through the event loop: signing is a few
        # microseconds of CPU, and a full checkpoint would cost several times that.
        await anyio.lowlevel.checkpoint_if_cancelled()
        chosen = permissions_for(method, permissions, key=key)
        lifetime = self.config.presigned_expiry if expires_in is None else expires_in
        credential = self.credential.credential
        if isinstance(credential, SasToken):
            self._window(lifetime, key)  # checked even though the token's own expiry applies
            if (
                permissions is not None
                or method.upper() not in ("GET", "HEAD")
                or content_disposition
                or content_type
            ):
                self._shared_key("a SAS URL with permissions or header overrides", key)
            # The configured token is all we have: hand it on (its own expiry applies).
            return self.location.blob_url(name, credential.pairs)
        if isinstance(credential, EntraCredential):
            query = await self._connection.delegation_sas(
                self._window(lifetime, key),
                name,
                permissions=chosen,
                content_disposition=content_disposition,
                content_type=content_type,
                key=key,
            )
            return f"{self.location.origin}{self.location.blob_path(name)}?{query}"
        signer = self._sas_signer
        if signer is None:
            signer = self._sas_signer = BlobSasSigner(
                self._shared_key("a SAS URL", key),
                container=self.config.container,
                version=self.config.api_version,
                protocol=self._protocol(),
            )
        query = signer.query(
            name,
            permissions=chosen,
            now=self._clock(),
            expires_in=lifetime,
            skew=self.config.sas_start_skew,
            content_disposition=content_disposition,
            content_type=content_type,
            key=key,
        )
        return f"{self.location.origin}{self.location.blob_path(name)}?{query}"

    async def container_url(
        self, *, expires_in: timedelta | None = None, permissions: str = "rl"
    ) -> str:
        """A container SAS URL (default: read and list): a service SAS with the account key, a
        user delegation SAS with Entra ID credentials.

        Raises:
            StorageConfigurationError: Neither an account key nor Entra ID, bad expiry or
                permissions.
        """
        await anyio.lowlevel.checkpoint()
        if isinstance(self.credential.credential, EntraCredential):
            query = await self._connection.delegation_sas(
                self._window(expires_in), None, permissions=permissions_for("GET", permissions)
            )
            return f"{self.location.origin}{self.location.container_path}?{query}"
        query = container_sas_query(
            self._shared_key("a container SAS"),
            container=self.config.container,
            permissions=permissions_for("GET", permissions),
            window=self._window(expires_in),
            protocol=self._protocol(),
            version=self.config.api_version,
        )
        return f"{self.location.origin}{self.location.container_path}?{query}"

    async def account_sas(
        self,
        *,
        expires_in: timedelta | None = None,
        permissions: str = "rl",
        resource_types: str = "sco",
        services: str = "b",
    ) -> str:
        """An account SAS token (query string, without ``?``), computed locally.

        Raises:
            StorageConfigurationError: No account key, bad expiry, permissions or letters.
        """
        await anyio.lowlevel.checkpoint()
        return account_sas_query(
            self._shared_key("an account SAS"),
            services=services,
            resource_types=resource_types,
            permissions=permissions,
            window=self._window(expires_in),
            protocol=self._protocol(),
            version=self.config.api_version,
        )

    # ------------------------------------------------------------------ multipart
    async def start_multipart_upload(
        self,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> MultipartUpload:
        """Begin a block upload. Azure needs no request for this: the upload id is local and
        goes into every block id, so concurrent uploads to one blob never mix."""
        self._name(key)
        self._check_part_size(part_size, key)
        if part_size > MAX_BLOCK_SIZE:
            raise StorageConfigurationError(
                f"part_size above Azure's block limit of {MAX_BLOCK_SIZE} bytes",
                key=key,
                backend="azure",
            )
        metadata_headers(metadata, key=key)
        await anyio.lowlevel.checkpoint()
        return MultipartUpload(
            upload_id=os.urandom(16).hex(),
            key=key,
            part_size=part_size,
            content_type=content_type,
            metadata=dict(metadata or {}),
        )

    async def upload_part(
        self, upload: MultipartUpload, part_number: int, data: bytes | bytearray | memoryview
    ) -> str:
        """Put Block for one part; returns its block id (the "ETag" to complete with)."""
        self._check_part_number(upload, part_number)
        block = block_id(live_upload_id(upload), part_number)
        body = bytes(data)
        name = self._name(upload.key)
        await client.put_block(
            self._sender(), self.location, name, key=upload.key, block=block, body=body
        )
        upload.add_part(part_number, block)
        return block

    async def complete_multipart_upload(
        self, upload: MultipartUpload, parts: PartsArg = None, *, overwrite: bool = True
    ) -> StoredFile:
        """Put Block List: commit the parts in part order with the upload's content type and
        metadata (``If-None-Match: *`` when ``overwrite=False``).

        Raises:
            StoragePreconditionFailedError: No parts, a part not uploaded, or an ETag that is
                not this upload's block id.
            StorageFileExistsError: ``overwrite=False`` and the blob exists.
        """
        upload_id = live_upload_id(upload)
        chosen = self._resolve_parts(upload, parts)
        if not chosen:
            raise StoragePreconditionFailedError(
                "a multipart upload needs at least one part", key=upload.key, backend="azure"
            )
        blocks = []
        for number, etag in chosen:
            expected = block_id(upload_id, number)
            if etag.strip('"') != expected:
                raise StoragePreconditionFailedError(
                    f"part {number} was not uploaded with ETag {etag!r}",
                    key=upload.key,
                    backend="azure",
                    code="InvalidPart",
                )
            blocks.append(expected)
        sender = self._sender()
        name = self._name(upload.key)
        try:
            await client.put_block_list(
                sender,
                self.location,
                name,
                key=upload.key,
                blocks=blocks,
                content_type=upload.content_type,
                metadata=upload.metadata,
                overwrite=overwrite,
                size=0,
            )
        except StoragePreconditionFailedError as exc:
            raise exists_error(exc, upload.key, overwrite) from exc
        # Put Block List reports no size: read the committed blob's properties.
        properties = await client.get_blob_properties(sender, self.location, name, key=upload.key)
        return properties.stored

    async def abort_multipart_upload(self, upload: MultipartUpload) -> None:
        """Discard the upload's uncommitted blocks where the service allows it.

        Azure cannot delete uncommitted blocks on their own. When the blob does not exist they
        are discarded (an empty create-only commit, then a conditional delete of that empty
        blob); when it exists, or another upload to it is in progress, they are left to the
        blob's next write or the service's 7-day collection, and this is logged. See
        ``_multipart.discard_uncommitted_blocks``. The upload is then marked aborted: parts
        and completes with it fail with ``NoSuchUpload``. Aborting twice is not an error.
        """
        upload_id = upload.upload_id.removeprefix(ABORTED_PREFIX)
        await discard_uncommitted_blocks(
            self._sender(),
            self.location,
            self._name(upload.key),
            key=upload.key,
            upload_id=upload_id,
        )
        # The service keeps no upload state, so the upload itself remembers that it was
        # aborted (it survives to_dict): later parts and completes fail like S3's NoSuchUpload.
        upload.upload_id = f"{ABORTED_PREFIX}{upload_id}"
        upload.parts = []
