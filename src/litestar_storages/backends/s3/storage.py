"""``S3Storage``: the contract over the S3 REST API, thin over ``client``.

No SDK: requests are built by ``client``, signed per attempt with ``signing.sigv4`` and sent
through the shared pool of ``_http``, which is imported on the first request that needs the
network (building a storage and presigning URLs never import httpx).
"""

from __future__ import annotations

import base64
import builtins
import hashlib
import logging
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from litestar_storages._chunks import PutData
from litestar_storages._http.clock import Clock, SkewedClock, system_clock
from litestar_storages._http.credentials import CredentialCache, Expiring
from litestar_storages._http.errors import ProviderError
from litestar_storages._protocol import BaseStorage, PartsArg
from litestar_storages._stream import ByteStream
from litestar_storages._types import (
    DEFAULT_PART_SIZE,
    MultipartUpload,
    StoredFile,
    prefixed_key,
    validate_prefix,
)
from litestar_storages.backends.s3 import _multipart, client
from litestar_storages.backends.s3._credentials_http import AwsHttp
from litestar_storages.backends.s3._download import Download, range_header
from litestar_storages.backends.s3._presign import presign_post, presign_url
from litestar_storages.backends.s3.config import MIB, S3Config, S3Endpoint, resolve_endpoint
from litestar_storages.backends.s3.credentials import (
    CredentialChain,
    S3Signer,
    SharedProfile,
    default_chain,
)
from litestar_storages.exceptions import (
    StorageConfigurationError,
    StorageError,
    StorageFileExistsError,
    StorageFileNotFoundError,
    StorageIntegrityError,
    StoragePreconditionFailedError,
)
from litestar_storages.progress import ProgressCallback, ProgressReporter
from litestar_storages.retry import RetryConfig
from litestar_storages.signing.sigv4 import UNSIGNED_PAYLOAD, AwsCredentials, SigningKeyCache

if TYPE_CHECKING:
    import httpx

    from litestar_storages._http.pool import TransportFactory
    from litestar_storages._http.send import Sender
    from litestar_storages.backends._s3_xml import ListedPart, ListPage

__all__ = ["S3Storage"]

logger = logging.getLogger("litestar_storages.s3")

T = TypeVar("T")

COPY_OBJECT_LIMIT = 5 * 1024 * MIB
"""CopyObject copies objects up to 5 GiB; larger ones are copied part by part."""

_HASH_IN_THREAD = 1 * MIB  # hashlib releases the GIL on large buffers: hash them off the loop
_MD5_HEX = re.compile(r"^[0-9a-f]{32}$")
_REGION_CODES = frozenset(
    {"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"}
)


def _digests(body: bytes, md5: bool, sha256: bool) -> tuple[str, str, str]:
    md5_hex = hashlib.md5(body, usedforsecurity=False).hexdigest() if md5 else ""
    if not sha256:
        return UNSIGNED_PAYLOAD, md5_hex, ""
    sha = hashlib.sha256(body)
    return sha.hexdigest(), md5_hex, base64.b64encode(sha.digest()).decode("ascii")


async def payload_digests(
    body: bytes, *, md5: bool = False, unsigned: bool = False
) -> tuple[str, str, str]:
    """(``x-amz-content-sha256``, md5 hex or "", sha256 base64 or "") of ``body``, hashed in a
    worker thread when large.

    ``unsigned`` (``S3Config.unsigned_payload``): no SHA-256 at all, ``UNSIGNED-PAYLOAD`` is
    signed instead. The MD5 is only worth computing where the ETag will be compared with it
    (PutObject).
    """
    if not md5 and unsigned:
        return UNSIGNED_PAYLOAD, "", ""
    if len(body) >= _HASH_IN_THREAD:
        import anyio.to_thread

        return await anyio.to_thread.run_sync(_digests, body, md5, not unsigned)
    return _digests(body, md5, not unsigned)


class S3Storage(BaseStorage):
    """Amazon S3 and S3-compatible services (R2, B2, MinIO, Spaces, Ceph) over the REST API.

    Args:
        config: The configuration (also accepted as ``config=``).
        retry_config: Retry policy of every request (default ``RetryConfig()``).
        http_client: An application-owned ``httpx.AsyncClient`` to send through (never closed
            here); by default the library's shared pool is used.
        credential_chain: Replace the default credential chain (custom sources).
        transport_factory: Build the shared pool's transport (tests, custom transports).
        clock: Current UTC time, for signing and presigning (tests).

    Differences from the contract, and additions:

    * ``get(key, start=, end=)`` reads the byte range [start, end); ``start<0`` without
      ``end`` reads the last ``-start`` bytes.
    * ``list(prefix, delimiter="/")`` lists one level; :meth:`list_directories` yields its
      common prefixes. Listed files carry no content type or metadata (ListObjectsV2 has none).
    * User metadata keys are stored lower-case (S3 stores them as HTTP headers).
    * ``url()`` is always a SigV4 presigned URL, computed locally; any method, response
      header overrides; :meth:`presigned_post` signs browser form uploads.
    * ``overwrite=False`` uses ``If-None-Match: *`` where the provider supports it, else a
      HeadObject check first (racy; see ``S3Config.conditional_writes``).
    * Multipart uploads can be resumed with :meth:`resume_multipart_upload` (ListParts).
    * Uploads are verified: the payload SHA-256 is signed (S3 rejects a corrupted body), the
      ETag of a single-part upload must be the body's MD5 (unless SSE-KMS/SSE-C), and a
      download returning ``x-amz-checksum-sha256`` is checked against it.
    """

    backend_name = "s3"
    min_part_size = 5 * MIB

    copy_object_limit: int = COPY_OBJECT_LIMIT
    """Objects larger than this are copied with UploadPartCopy."""

    def __init__(
        self,
        config: S3Config,
        *,
        retry_config: RetryConfig | None = None,
        http_client: httpx.AsyncClient | None = None,
        credential_chain: CredentialChain | None = None,
        transport_factory: TransportFactory | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(config, S3Config):
            raise StorageConfigurationError("S3Storage needs an S3Config", backend="s3")
        self.config = config
        self.retry_config = retry_config or RetryConfig()
        self.multipart_concurrency = config.multipart_concurrency
        self._environ = os.environ
        self._endpoint = resolve_endpoint(config, self._environ)
        named = config.profile or self._environ.get("AWS_PROFILE")
        self._profile = SharedProfile(named or "default", self._environ, required=bool(named))
        self._profile_checked = self._endpoint.region_fixed
        self._imds_region_checked = self._endpoint.region_fixed
        self._clock = SkewedClock(clock or system_clock)
        self._keys = SigningKeyCache()
        self._chain: CredentialChain | None = None
        self._credentials: CredentialCache[AwsCredentials] | None = None
        if not config.anonymous:
            self._chain = credential_chain or default_chain(
                access_key_id=config.access_key_id,
                secret_access_key=config.secret_access_key,
                session_token=config.session_token,
                profile=config.profile,
                environ=self._environ,
                region=self._endpoint.region if self._endpoint.region_fixed else None,
                # STS goes through this storage's pool settings (and client); metadata
                # endpoints through a short-timeout pool of their own.
                http=AwsHttp(
                    self._environ,
                    client=http_client,
                    settings=config,
                    transport_factory=transport_factory,
                    clock=self._clock,
                ),
                ec2_metadata_v1=config.ec2_metadata_v1,
            )
            initial = None
            if credential_chain is None and config.access_key_id and config.secret_access_key:
                # Static keys need no fetch: serving them from the start keeps presigning free
                # of locks (and of loading the event loop's anyio backend).
                initial = Expiring(
                    AwsCredentials(
                        config.access_key_id, config.secret_access_key, config.session_token
                    )
                )
                self._chain.resolved = self._chain.sources[0]
            self._credentials = CredentialCache(self._chain, clock=self._clock, initial=initial)
        self._http_client = http_client
        self._transport_factory = transport_factory
        self._sender_: Sender | None = None
        self._part_sizes: dict[str, dict[int, int]] = {}

    def __repr__(self) -> str:
        ep = self._endpoint
        return (
            f"S3Storage(bucket={ep.bucket!r}, endpoint={ep.scheme}://{ep.host!r}, "
            f"region={ep.region!r}, prefix={self.config.prefix!r})"
        )

    # ------------------------------------------------------------------ plumbing
    @property
    def endpoint(self) -> S3Endpoint:
        """Where requests go (host, addressing style, region, provider traits)."""
        return self._endpoint

    @property
    def credential_source(self) -> str | None:
        """Which source supplied the credentials (``explicit``, ``environment``, ...), once
        resolved; ``anonymous`` for unsigned access. Never the credentials themselves."""
        if self._chain is None:
            return "anonymous"
        return self._chain.source_name

    async def _ready(self) -> S3Endpoint:
        if not self._profile_checked:
            # Region from the shared config profile, read once (botocore's order: env, then
            # the profile's `region`).
            profile = await self._profile.get()
            region = profile.get("region") if profile is not None else None
            if region:
                self._endpoint = resolve_endpoint(self.config, self._environ, profile_region=region)
            self._profile_checked = True
        if not self._imds_region_checked:
            self._imds_region_checked = True
            await self._region_from_instance_metadata()
        return self._endpoint

    async def _region_from_instance_metadata(self) -> None:
        # No region anywhere (config, environment, profile) and AWS's own endpoint: on EC2,
        # ask IMDS (botocore's IMDS region provider). Only when the credentials came from
        # IMDS, so a laptop without a region never waits for a metadata service.
        ep = self._endpoint
        if ep.region_fixed or not ep.aws_default_host or self._credentials is None:
            return
        from litestar_storages.backends.s3._credentials_metadata import InstanceMetadataSource

        await self._credentials.get()
        source = self._chain.resolved if self._chain is not None else None
        if isinstance(source, InstanceMetadataSource):
            region = await source.region()
            if region and ep.relocate(region):
                logger.info("bucket %r: region %s from EC2 instance metadata", ep.bucket, region)

    def _sender(self) -> Sender:
        if self._sender_ is None:
            # The HTTP stack is imported on first use only (see DESIGN.md on import costs).
            from litestar_storages._http.pool import ClientHandle, PoolOptions
            from litestar_storages._http.send import Sender

            cfg = self.config
            options = PoolOptions.from_settings(cfg, transport_factory=self._transport_factory)
            signer = None
            if self._credentials is not None:
                signer = S3Signer(self._credentials, lambda: self._endpoint.region, self._keys)
            self._sender_ = Sender(
                ClientHandle(options, client=self._http_client),
                backend="s3",
                signer=signer,
                error_parser=client.parse_s3_error,
                request_id_headers=client.REQUEST_ID_HEADERS,
                retry=self.retry_config,
                clock=self._clock,
            )
        return self._sender_

    async def _call(self, operation: Callable[[Sender, S3Endpoint], Awaitable[T]]) -> T:
        """Run one client operation; if S3 says the bucket lives in another region (and the
        region was not configured), move there and run it once more."""
        ep = await self._ready()
        sender = self._sender()
        try:
            try:
                return await operation(sender, ep)
            except StorageError as exc:
                cause = exc.__cause__
                if not isinstance(cause, ProviderError):
                    raise
                region = cause.details.get("BucketRegion") or cause.details.get("Region")
                wrong_region = cause.code in _REGION_CODES or cause.status == 301
                if not (region and wrong_region and ep.relocate(region)):
                    raise
                logger.info("bucket %r is in region %s; using it", ep.bucket, region)
                return await operation(sender, ep)
        except StorageError as exc:
            self._as_given(exc)
            raise

    def _as_given(self, exc: StorageError) -> None:
        """Name the key as the caller gave it (without the storage prefix) in an error."""
        prefix = self._prefix
        if prefix and exc.key is not None and exc.key.startswith(prefix):
            relative = exc.key[len(prefix) :]
            exc.message = exc.message.replace(repr(exc.key), repr(relative))
            exc.args = (exc.message,)
            exc.key = relative

    def _full(self, key: str) -> str:
        return prefixed_key(self._prefix, key, backend="s3")

    @property
    def _prefix(self) -> str:
        prefix = self.config.prefix
        return prefix if not prefix or prefix.endswith("/") else prefix + "/"

    def _relative(self, full_key: str) -> str:
        return full_key[len(self._prefix) :]

    def _stored(self, key: str, head: client.ObjectHead) -> StoredFile:
        return StoredFile(
            key=key,
            size=head.size,
            content_type=head.content_type,
            etag=head.etag,
            last_modified=head.last_modified,
            metadata=dict(head.metadata),
        )

    async def _head(self, full_key: str) -> client.ObjectHead | None:
        return await self._call(lambda s, ep: client.head_object(s, ep, full_key))

    async def _refuse_existing(self, key: str, enforced_by_server: bool) -> bool:
        """For ``overwrite=False``: whether the server enforces it (``If-None-Match``); if not,
        check first (racy: documented)."""
        if enforced_by_server:
            return True
        if await self._head(self._full(key)) is not None:
            raise StorageFileExistsError(f"file exists: {key}", key=key, backend="s3")
        return False

    @staticmethod
    def _exists_error(key: str, exc: StorageError) -> StorageFileExistsError:
        error = StorageFileExistsError(
            f"file exists: {key}",
            key=key,
            backend="s3",
            status=exc.status,
            code=exc.code,
            request_id=exc.request_id,
        )
        error.__cause__ = exc.__cause__
        return error

    # ------------------------------------------------------------------ contract
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
        """Store ``data``: one PutObject up to ``S3Config.part_size``, multipart above it."""
        return await self._put_streamed(
            key,
            data,
            content_type=content_type,
            metadata=metadata,
            progress_callback=progress_callback,
            overwrite=overwrite,
            part_size=self.config.part_size,
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
        full = self._full(key)
        ep = await self._ready()
        conditional = not overwrite and await self._refuse_existing(
            key, ep.traits.conditional_writes
        )
        sha_hex, md5_hex, sha_b64 = await payload_digests(
            body, md5=True, unsigned=self.config.unsigned_payload
        )
        try:
            result = await self._call(
                lambda s, ep: client.put_object(
                    s,
                    ep,
                    full,
                    body,
                    payload_sha256=sha_hex,
                    content_type=content_type,
                    metadata=metadata,
                    if_none_match=conditional,
                    checksum_sha256=sha_b64 if sha_b64 and ep.traits.checksum_sha256 else None,
                )
            )
        except StoragePreconditionFailedError as exc:
            if not conditional:
                raise
            raise self._exists_error(key, exc) from exc.__cause__
        self._check_etag(key, result, md5_hex)
        return StoredFile(
            key=key,
            size=len(body),
            content_type=content_type,
            etag=result.etag,
            last_modified=result.date,
            metadata={k.lower(): v for k, v in (metadata or {}).items()},
        )

    @staticmethod
    def _check_etag(key: str, result: client.PutResult, md5_hex: str) -> None:
        # A single-part upload's ETag is the MD5 of the body, except with SSE-KMS or SSE-C
        # ("Common Response Headers", ETag), where it is opaque.
        etag = result.etag
        kms = (result.server_side_encryption or "").startswith("aws:kms")
        if etag is None or kms or result.sse_customer or not _MD5_HEX.match(etag):
            return
        if etag != md5_hex:
            raise StorageIntegrityError(
                f"the server stored {key!r} with MD5 {etag}, but {md5_hex} was sent",
                key=key,
                backend="s3",
            )

    def get(
        self,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> ByteStream:
        """Stream the object (or the byte range [start, end)); nothing is sent until the first
        chunk is awaited."""
        full = self._full(key)
        byte_range, empty = range_header(start, end)
        reporter = ProgressReporter(progress_callback, key=key, operation="download")
        return ByteStream(
            Download(self, key, full=full, byte_range=byte_range, empty=empty, reporter=reporter),
            progress=reporter,
        )

    async def delete(self, key: str) -> None:
        """DeleteObject; a missing key is not an error."""
        full = self._full(key)
        await self._call(lambda s, ep: client.delete_object(s, ep, full))

    async def exists(self, key: str) -> bool:
        """HeadObject: ``False`` only for 404; other failures raise."""
        return await self._head(self._full(key)) is not None

    async def info(self, key: str) -> StoredFile:
        """HeadObject: size, content type, ETag, last modified and user metadata."""
        head = await self._head(self._full(key))
        if head is None:
            raise StorageFileNotFoundError(f"file not found: {key}", key=key, backend="s3")
        return self._stored(key, head)

    async def list(
        self, prefix: str = "", *, limit: int | None = None, delimiter: str | None = None
    ) -> AsyncIterator[StoredFile]:
        """ListObjectsV2, page by page, in key order; ``delimiter`` lists one level only."""
        async for item in self._listing(prefix, limit=limit, delimiter=delimiter, dirs=False):
            assert isinstance(item, StoredFile)
            yield item

    async def list_directories(
        self, prefix: str = "", *, delimiter: str = "/"
    ) -> AsyncIterator[str]:
        """The "directories" directly under ``prefix``: common prefixes ending in ``delimiter``."""
        async for item in self._listing(prefix, limit=None, delimiter=delimiter, dirs=True):
            assert isinstance(item, str)
            yield item

    async def _listing(
        self, prefix: str, *, limit: int | None, delimiter: str | None, dirs: bool
    ) -> AsyncIterator[StoredFile | str]:
        validate_prefix(prefix, backend="s3")
        if limit is not None and limit < 0:
            raise StorageConfigurationError("limit must not be negative", backend="s3")
        remaining = limit
        full_prefix = self._prefix + prefix
        token: str | None = None
        while remaining is None or remaining > 0:
            page_size = 1000 if remaining is None else min(1000, remaining)

            async def list_page(
                s: Sender, ep: S3Endpoint, t: str | None = token, n: int = page_size
            ) -> ListPage:
                return await client.list_objects_v2(
                    s, ep, prefix=full_prefix, delimiter=delimiter, max_keys=n, continuation_token=t
                )

            page = await self._call(list_page)
            entries: builtins.list[StoredFile | str]
            if dirs:
                entries = [self._relative(p) for p in page.common_prefixes]
            else:
                entries = [
                    StoredFile(
                        key=self._relative(o.key),
                        size=o.size,
                        etag=o.etag,
                        last_modified=o.last_modified,
                    )
                    for o in page.objects
                ]
            for entry in entries:
                yield entry
                if remaining is not None and not dirs:
                    remaining -= 1
                    if remaining == 0:
                        return
            if not page.is_truncated or not page.next_continuation_token:
                return
            token = page.next_continuation_token

    async def url(
        self,
        key: str,
        *,
        expires_in: timedelta | int | None = None,
        method: str = "GET",
        content_type: str | None = None,
        content_disposition: str | None = None,
        response_content_type: str | None = None,
    ) -> str:
        """A SigV4 presigned URL, computed locally (no request is sent).

        Args:
            key: The object.
            expires_in: Validity, 1 second to 7 days (default ``S3Config.presigned_expiry``).
            method: The HTTP method the URL is for (``GET``, ``PUT``, ``DELETE``, ``HEAD``).
            content_type: For ``PUT``: the ``Content-Type`` the uploader must send (signed).
            content_disposition: ``response-content-disposition`` override (download name).
            response_content_type: ``response-content-type`` override.

        Raises:
            StorageConfigurationError: The expiry is out of range or signing failed.
        """
        full = self._full(key)
        ep = await self._ready()
        credentials = None if self._credentials is None else await self._credentials.get()
        return presign_url(
            ep,
            full,
            credentials=credentials,
            now=self._clock(),
            expires_in=expires_in if expires_in is not None else self.config.presigned_expiry,
            method=method,
            content_type=content_type,
            content_disposition=content_disposition,
            response_content_type=response_content_type,
            key_cache=self._keys,
        )

    async def presigned_post(
        self,
        key: str,
        *,
        expires_in: timedelta | int | None = None,
        content_type: str | None = None,
        max_size: int | None = None,
        fields: Mapping[str, str] | None = None,
        conditions: Sequence[Any] = (),
    ) -> dict[str, Any]:
        """A presigned POST policy for browser form uploads: ``{"url": ..., "fields": {...}}``.

        A key ending in ``${filename}`` lets the browser's file name complete it.
        """
        if not key.endswith("${filename}"):
            self._full(key)
        ep = await self._ready()
        if self._credentials is None:
            raise StorageConfigurationError("presigned POST needs credentials", backend="s3")
        return presign_post(
            ep,
            self._prefix + key,
            credentials=await self._credentials.get(),
            now=self._clock(),
            expires_in=expires_in if expires_in is not None else self.config.presigned_expiry,
            content_type=content_type,
            max_size=max_size,
            fields=fields,
            conditions=conditions,
            key_cache=self._keys,
        )

    async def copy(self, source: str, destination: str) -> StoredFile:
        """Server-side copy (CopyObject; UploadPartCopy above 5 GiB), metadata included."""
        src, dst = self._full(source), self._full(destination)
        head = await self._head(src)
        if head is None:
            raise StorageFileNotFoundError(f"file not found: {source}", key=source, backend="s3")
        if src == dst:
            return self._stored(destination, head)
        if head.size > self.copy_object_limit:
            from litestar_storages.backends.s3._copy import copy_in_parts

            etag = await copy_in_parts(self, src, dst, head)
            last_modified = None
        else:
            result = await self._call(
                lambda s, ep: client.copy_object(s, ep, src, dst, source_etag=head.etag)
            )
            etag, last_modified = result.etag, result.last_modified
        return StoredFile(
            key=destination,
            size=head.size,
            content_type=head.content_type,
            etag=etag or head.etag,
            last_modified=last_modified or head.last_modified,
            metadata=dict(head.metadata),
        )

    async def close(self) -> None:
        """Release this storage's hold on the shared connection pool. Idempotent."""
        if self._sender_ is not None:
            await self._sender_.handle.release()
        if self._chain is not None:
            await self._chain.aclose()

    # ------------------------------------------------------------------ multipart
    async def start_multipart_upload(
        self,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> MultipartUpload:
        """CreateMultipartUpload (``part_size`` at least 5 MiB, checked before any request)."""
        return await _multipart.start(
            self, key, content_type=content_type, metadata=metadata, part_size=part_size
        )

    async def upload_part(
        self, upload: MultipartUpload, part_number: int, data: bytes | bytearray | memoryview
    ) -> str:
        """UploadPart; parts may be uploaded concurrently and in any order."""
        return await _multipart.upload_part(self, upload, part_number, data)

    async def complete_multipart_upload(
        self, upload: MultipartUpload, parts: PartsArg = None, *, overwrite: bool = True
    ) -> StoredFile:
        """CompleteMultipartUpload, then HeadObject for the final size and ETag."""
        return await _multipart.complete(self, upload, parts, overwrite=overwrite)

    async def abort_multipart_upload(self, upload: MultipartUpload) -> None:
        """AbortMultipartUpload: the uploaded parts are removed. Aborting twice is fine."""
        await _multipart.abort(self, upload)

    async def list_parts(self, upload: MultipartUpload) -> builtins.list[ListedPart]:
        """ListParts: the parts the server holds for ``upload``, in part order."""
        return await _multipart.list_parts(self, upload)

    async def resume_multipart_upload(self, upload: MultipartUpload) -> MultipartUpload:
        """Bring a saved ``MultipartUpload`` (``MultipartUpload.from_dict``) up to date with
        the parts the server already has, so only the missing ones need uploading."""
        return await _multipart.resume(self, upload)
