"""Streamed uploads through a resumable upload session, in bounded memory.

"Perform resumable uploads": start a session, then PUT chunks whose sizes are multiples of
256 KiB (the last excepted); each intermediate chunk is answered 308 with the persisted range.
GCS may persist fewer bytes than were sent, and a connection may drop mid-chunk: in both cases
the upload continues from the committed offset the session reports (``Content-Range: bytes
*/*``), so a failure costs at most one chunk, never a restart from zero.

Memory holds at most one chunk plus one read from the source. The MD5 of the whole stream is
computed as it is read and compared with the object's ``md5Hash`` at the end.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from litestar_storages.backends.gcs._wire import GCSStoredFile
from litestar_storages.exceptions import StorageError, StorageIntegrityError
from litestar_storages.progress import ProgressReporter
from litestar_storages.retry import Decision, RetryConfig, backoff, classify_exception

if TYPE_CHECKING:
    from litestar_storages.backends.gcs.client import GCSClient

__all__ = ["ResumableUpload"]


@dataclass
class ResumableUpload:
    """One streamed upload.

    Attributes:
        client: Sends the requests.
        key: The destination key.
        chunk_size: Bytes per chunk, a multiple of 256 KiB.
        content_type: The object's content type.
        metadata: The object's user metadata.
        if_generation_match: ``0`` for a create-only write.
        retry: Bounds consecutive failed attempts without progress.
        verify_md5: Compare the stored ``md5Hash`` with the stream's MD5.
        rng: Backoff jitter.
        sleep: How to wait between attempts.
    """

    client: GCSClient
    key: str
    chunk_size: int
    content_type: str | None = None
    metadata: Mapping[str, str] | None = None
    if_generation_match: int | None = None
    retry: RetryConfig | None = None
    verify_md5: bool = True
    rng: random.Random | None = None
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep

    async def run(
        self, first: bytes, rest: AsyncIterator[bytes], reporter: ProgressReporter
    ) -> GCSStoredFile:
        """Upload ``first`` then everything ``rest`` yields; cancel the session on failure.

        Raises:
            StorageError: The upload failed (the session is cancelled first).
        """
        session = await self.client.resumable_start(
            self.key,
            content_type=self.content_type,
            metadata=self.metadata,
            if_generation_match=self.if_generation_match,
        )
        try:
            return await self._upload(session, first, rest, reporter)
        except BaseException:
            # An abandoned session would expire on its own after a week; cancel it now.
            with anyio.CancelScope(shield=True), contextlib.suppress(StorageError):
                await self.client.resumable_cancel(session, key=self.key)
            raise

    async def _upload(
        self,
        session: str,
        first: bytes,
        rest: AsyncIterator[bytes],
        reporter: ProgressReporter,
    ) -> GCSStoredFile:
        digest = hashlib.md5(first, usedforsecurity=False)
        pending = bytearray(first)  # the bytes from `offset` on, not yet committed
        offset = 0
        eof = False
        failures = 0
        while True:
            # Read one byte past a chunk so we know whether this chunk is the last one.
            while not eof and len(pending) <= self.chunk_size:
                chunk = await anext(rest, None)
                if chunk is None:
                    eof = True
                else:
                    digest.update(chunk)
                    pending += chunk
            if eof:
                body, total = bytes(pending), offset + len(pending)
            else:
                # Through a view: slicing the bytearray itself would copy the chunk twice.
                with memoryview(pending) as view:
                    body, total = bytes(view[: self.chunk_size]), None
            try:
                committed, done = await self.client.resumable_upload_chunk(
                    session,
                    body,
                    key=self.key,
                    offset=offset,
                    total=total,
                    content_type=self.content_type,
                )
            except StorageError as exc:
                failures += 1
                committed, done = await self._recover(session, exc, failures, total)
            del body
            if committed < offset:
                raise StorageError(
                    f"resumable upload of {self.key!r} lost committed data "
                    f"({committed} < {offset} bytes)",
                    key=self.key,
                    backend="gcs",
                )
            if committed > offset:
                failures = 0
                await reporter.advance(committed - offset)
                del pending[: committed - offset]
                offset = committed
            if done is not None:
                await self._check_md5(done, md5_digest=digest.digest())
                return done

    async def _recover(
        self, session: str, exc: StorageError, failures: int, total: int | None
    ) -> tuple[int, GCSStoredFile | None]:
        """After a failed chunk: wait, then ask the session what it has committed."""
        config = self.retry or RetryConfig()
        # A chunk is safe to resend from the committed offset, so judge it as idempotent.
        if classify_exception(exc, idempotent=True) is Decision.FAIL:
            raise exc
        if failures >= config.max_attempts:
            raise exc
        await self.sleep(backoff(failures, config, self.rng))
        return await self.client.resumable_query(session, key=self.key, total=total)

    async def _check_md5(self, stored: GCSStoredFile, *, md5_digest: bytes) -> None:
        if not self.verify_md5 or stored.md5_hash is None:
            return
        ours = base64.b64encode(md5_digest).decode("ascii")
        if ours != stored.md5_hash:
            # "Hashes and ETags": discard data whose hash is wrong. Only this generation is
            # removed, never a newer write by someone else.
            # (A 412 means it was replaced meanwhile: not ours to delete.)
            with anyio.CancelScope(shield=True), contextlib.suppress(StorageError):
                await self.client.objects_delete(self.key, if_generation_match=stored.generation)
            raise StorageIntegrityError(
                f"upload of {self.key!r} was stored corrupted: md5 {stored.md5_hash} != {ours}",
                key=self.key,
                backend="gcs",
                code="md5_mismatch",
            )
