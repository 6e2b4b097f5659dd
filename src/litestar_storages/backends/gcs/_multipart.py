"""The two ways the multipart API maps onto GCS; both real, neither buffers parts in memory.

**XML** ("XML API multipart uploads"): GCS's S3-compatible multipart upload. Parts of at least
5 MiB (the last excepted) are uploaded in parallel, in any order, and assembled by one
completion request. Used on Google's endpoints.

**Compose** ("Composite objects", "objects.compose"): each part is stored as a temporary object
``.litestar-storages-multipart/<token>/<part>`` under the storage prefix (hidden from ``list``);
a marker object ``.../<token>/upload`` records that the upload is open;
completion concatenates them with ``objects.compose``, which takes at most 32 sources per call,
so more parts are composed in a tree of intermediate objects; then every part and intermediate
is deleted. Parts have no minimum size. Used where the XML API is missing (emulators such as
fake-gcs-server answer its initiate with 400 ``invalid uploadType``).

Which one an upload uses is recorded in its ``upload_id`` (compose ids start with
``compose:``), so an upload saved with ``MultipartUpload.to_dict`` completes correctly however
the storage that resumes it is configured.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import anyio

from litestar_storages._concurrency import task_group
from litestar_storages._types import MultipartUpload
from litestar_storages.backends.gcs._integrity import md5_b64
from litestar_storages.backends.gcs._wire import MAX_COMPOSE_SOURCES, GCSStoredFile
from litestar_storages.exceptions import (
    StorageError,
    StorageFileExistsError,
    StorageFileNotFoundError,
    StoragePreconditionFailedError,
)

if TYPE_CHECKING:
    from litestar_storages.backends.gcs.client import GCSClient

__all__ = [
    "COMPOSE_PREFIX",
    "HIDDEN_PREFIX",
    "ComposeMultipart",
    "XmlMultipart",
    "is_compose_upload",
    "is_hidden",
]

logger = logging.getLogger("litestar_storages")

HIDDEN_PREFIX = ".litestar-storages-multipart/"
"""Where compose-strategy parts live, relative to the storage prefix; ``list`` skips it."""

COMPOSE_PREFIX = "compose:"
"""Upload ids of the compose strategy start with this."""

XML_MIN_PART_SIZE = 5 * 1024 * 1024
"""XML API multipart: every part but the last must be at least 5 MiB."""

MARKER = "upload"
"""Name of the marker object of a compose upload, next to its parts."""

_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def is_hidden(key: str) -> bool:
    """Whether ``key`` is a compose-strategy part (kept out of listings)."""
    return key.startswith(HIDDEN_PREFIX)


def is_compose_upload(upload: MultipartUpload) -> bool:
    """Whether ``upload`` was started by the compose strategy."""
    return upload.upload_id.startswith(COMPOSE_PREFIX)


def _no_such_upload(upload: MultipartUpload, why: str) -> StorageFileNotFoundError:
    return StorageFileNotFoundError(
        f"no such multipart upload {upload.upload_id!r}: {why}",
        key=upload.key,
        backend="gcs",
        code="NoSuchUpload",
    )


async def _exists(client: GCSClient, key: str) -> bool:
    return await client.objects_get(key, missing_ok=True) is not None


async def _refuse_existing(client: GCSClient, key: str) -> None:
    # A create-only completion is also sent with a generation-0 precondition; checking first
    # fails fast, and covers servers that do not enforce it (fake-gcs-server ignores it on
    # compose and resumable uploads).
    if await _exists(client, key):
        raise StorageFileExistsError(f"file exists: {key}", key=key, backend="gcs")


class ComposeMultipart:
    """Multipart uploads as temporary part objects combined with ``objects.compose``.

    Args:
        client: Sends the requests.
        concurrency: Compose and delete calls run at once during completion and abort.
    """

    def __init__(self, client: GCSClient, *, concurrency: int = 4) -> None:
        self.client = client
        self.concurrency = max(1, concurrency)

    @staticmethod
    def _token(upload: MultipartUpload) -> str:
        token = upload.upload_id[len(COMPOSE_PREFIX) :]
        if not is_compose_upload(upload) or not _TOKEN.match(token):
            raise _no_such_upload(upload, "not a compose upload id")
        return token

    def _part_key(self, upload: MultipartUpload, name: str) -> str:
        return f"{HIDDEN_PREFIX}{self._token(upload)}/{name}"

    async def start(
        self,
        key: str,
        *,
        content_type: str | None,
        metadata: Mapping[str, str] | None,
        part_size: int,
    ) -> MultipartUpload:
        """A new upload id and its marker object (the upload exists while the marker does)."""
        upload = MultipartUpload(
            upload_id=f"{COMPOSE_PREFIX}{uuid.uuid4().hex}",
            key=key,
            part_size=part_size,
            content_type=content_type,
            metadata=dict(metadata or {}),
        )
        await self.client.objects_insert(
            self._part_key(upload, MARKER), b"", content_type=None, metadata={"key": key}
        )
        return upload

    async def upload_part(self, upload: MultipartUpload, part_number: int, body: bytes) -> str:
        """Store the part as an object; its generation is the part's ETag.

        The marker is checked *after* the part is stored: an abort deletes the marker before
        it lists the parts, so either the abort's listing sees this part, or this check sees
        the marker gone and removes the part itself.
        """
        name = self._part_key(upload, f"part-{part_number:05d}")
        stored = await self.client.objects_insert(
            name, body, content_type=None, metadata=None, md5=md5_b64(body)
        )
        if not await _exists(self.client, self._part_key(upload, MARKER)):
            with anyio.CancelScope(shield=True):
                await self._delete_all([name])
            raise _no_such_upload(upload, "it was aborted or completed")
        return str(stored.generation)

    async def complete(
        self, upload: MultipartUpload, parts: Sequence[tuple[int, str]], *, overwrite: bool
    ) -> GCSStoredFile:
        """Compose the parts (as uploaded: each source is pinned to its generation)."""
        if not parts:
            raise StoragePreconditionFailedError(
                "a multipart upload needs at least one part", key=upload.key, backend="gcs"
            )
        sources: list[tuple[str, int | None]] = []
        for number, etag in parts:
            if not etag.strip('"').isdigit():
                raise StoragePreconditionFailedError(
                    f"part {number}: {etag!r} is not an ETag returned by upload_part",
                    key=upload.key,
                    backend="gcs",
                    code="InvalidPart",
                )
            sources.append((self._part_key(upload, f"part-{number:05d}"), int(etag.strip('"'))))
        if not await _exists(self.client, self._part_key(upload, MARKER)):
            raise _no_such_upload(upload, "it was aborted or completed")
        if not overwrite:
            await _refuse_existing(self.client, upload.key)
        intermediates: list[str] = []
        try:
            level = sources
            depth = 0
            while len(level) > MAX_COMPOSE_SOURCES:
                depth += 1
                level = await self._compose_level(upload, level, depth, intermediates)
            stored = await self.client.objects_compose(
                upload.key,
                level,
                content_type=upload.content_type,
                metadata=upload.metadata,
                if_generation_match=None if overwrite else 0,
            )
        except StorageError as exc:
            if exc.status == 404:
                raise _no_such_upload(upload, "a part is missing") from exc
            raise
        finally:
            with anyio.CancelScope(shield=True):
                await self._delete_all(intermediates)
        with anyio.CancelScope(shield=True):
            await self.abort(upload)  # the marker first, then every part
        return stored

    async def _compose_level(
        self,
        upload: MultipartUpload,
        level: Sequence[tuple[str, int | None]],
        depth: int,
        intermediates: list[str],
    ) -> list[tuple[str, int | None]]:
        """Compose groups of 32 into intermediate objects, concurrently; keep the order."""
        groups = [
            list(level[i : i + MAX_COMPOSE_SOURCES])
            for i in range(0, len(level), MAX_COMPOSE_SOURCES)
        ]
        results: list[tuple[str, int | None]] = [group[0] for group in groups]
        limiter = anyio.CapacityLimiter(self.concurrency)

        async def compose(index: int, group: list[tuple[str, int | None]]) -> None:
            name = self._part_key(upload, f"level-{depth}-{index:05d}")
            intermediates.append(name)
            async with limiter:
                stored = await self.client.objects_compose(
                    name, group, content_type=None, metadata=None
                )
            results[index] = (name, stored.generation)

        async with task_group() as tg:
            for index, group in enumerate(groups):
                if len(group) > 1:
                    tg.start_soon(compose, index, group)
        return results

    async def _delete_all(self, names: Sequence[str]) -> None:
        limiter = anyio.CapacityLimiter(self.concurrency)

        async def delete(name: str) -> None:
            async with limiter:
                try:
                    await self.client.objects_delete(name)
                except StorageError as exc:
                    logger.warning("could not delete multipart part %r on gcs: %s", name, exc)

        async with task_group() as tg:
            for name in names:
                tg.start_soon(delete, name)

    async def abort(self, upload: MultipartUpload) -> None:
        """Delete the marker, then every stored part of the upload, recorded or not."""
        await self._delete_all([self._part_key(upload, MARKER)])
        prefix = self._part_key(upload, "")
        names: list[str] = []
        token: str | None = None
        while True:
            page = await self.client.objects_list(prefix, page_token=token)
            strip = len(self.client.prefix)
            names += [str(item.get("name", ""))[strip:] for item in page.items]
            token = page.next_page_token
            if not token:
                break
        await self._delete_all(names)


class XmlMultipart:
    """Multipart uploads through the XML API (parallel parts, one completion request).

    Args:
        client: Sends the requests.
    """

    def __init__(self, client: GCSClient) -> None:
        self.client = client

    async def start(
        self,
        key: str,
        *,
        content_type: str | None,
        metadata: Mapping[str, str] | None,
        part_size: int,
    ) -> MultipartUpload:
        """Initiate the upload; content type and metadata are fixed now."""
        if part_size < XML_MIN_PART_SIZE:
            raise StoragePreconditionFailedError(
                f"part_size {part_size} is below the XML API's minimum of 5 MiB "
                "(use multipart_strategy='compose' for smaller parts)",
                key=key,
                backend="gcs",
            )
        upload_id = await self.client.xml_initiate(
            key, content_type=content_type, metadata=metadata
        )
        return MultipartUpload(
            upload_id=upload_id,
            key=key,
            part_size=part_size,
            content_type=content_type,
            metadata=dict(metadata or {}),
        )

    async def upload_part(self, upload: MultipartUpload, part_number: int, body: bytes) -> str:
        """Upload one part with its ``Content-MD5``; returns its ETag."""
        return await self.client.xml_upload_part(
            upload.key,
            upload_id=upload.upload_id,
            part_number=part_number,
            body=body,
            md5=md5_b64(body),
        )

    async def complete(
        self, upload: MultipartUpload, parts: Sequence[tuple[int, str]], *, overwrite: bool
    ) -> GCSStoredFile:
        """Complete the upload, then read the new object's metadata."""
        if not parts:
            raise StoragePreconditionFailedError(
                "a multipart upload needs at least one part", key=upload.key, backend="gcs"
            )
        if not overwrite:
            await _refuse_existing(self.client, upload.key)
        await self.client.xml_complete(
            upload.key,
            upload_id=upload.upload_id,
            parts=parts,
            if_generation_match=None if overwrite else 0,
        )
        stored = await self.client.objects_get(upload.key)
        assert stored is not None  # missing_ok is False: a 404 raised
        return stored

    async def abort(self, upload: MultipartUpload) -> None:
        """Abort the upload; GCS deletes its parts."""
        await self.client.xml_abort(upload.key, upload_id=upload.upload_id)
