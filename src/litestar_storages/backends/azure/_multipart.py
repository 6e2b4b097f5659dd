"""Discarding the blocks of an abandoned upload: as much as the Blob service allows.

Azure has no operation that deletes uncommitted blocks. They disappear only when:

* the blob is committed: Put Block List keeps the listed blocks and permanently deletes every
  other block, committed or not ("Put Block List"; .NET ``CommitBlockList``: "Any blocks not
  specified in the block list are permanently deleted"), and Put Blob garbage-collects them
  all ("Put Block List", remarks);
* the blob is deleted (Delete Blob on a name that has only uncommitted blocks removes them:
  Azure/azure-storage-node#350; the storage SDK team's advice in Azure/azure-sdk-for-cpp#3911
  is "delete the blob, or Get Block List then Commit Block List");
* a week passes with no Put Block or Put Block List on the blob ("Put Block", remarks).

Each of these changes the blob itself, so what can be discarded depends on whether it exists.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from litestar_storages._types import MultipartUpload
from litestar_storages.backends.azure import client
from litestar_storages.backends.azure._wire import BlobLocation, parse_block_id
from litestar_storages.exceptions import (
    StorageError,
    StorageFileExistsError,
    StorageFileNotFoundError,
    StoragePreconditionFailedError,
)

if TYPE_CHECKING:
    from litestar_storages._http.send import Sender

__all__ = [
    "ABORTED_PREFIX",
    "AbortOutcome",
    "discard_uncommitted_blocks",
    "exists_error",
    "live_upload_id",
]

logger = logging.getLogger("litestar_storages")

AbortOutcome = str
"""``nothing-staged``, ``discarded``, ``left:blob-exists`` or ``left:other-upload``."""


def _upload_of(block: str) -> str | None:
    parsed = parse_block_id(block)
    return parsed[0] if parsed else None


async def discard_uncommitted_blocks(
    sender: Sender, loc: BlobLocation, name: str, *, key: str, upload_id: str
) -> AbortOutcome:
    """Discard the uncommitted blocks of upload ``upload_id`` to blob ``name``, if possible.

    1. Get Block List. No blob and no block (404), or none of ours: nothing to do.
    2. Committed blocks, or uncommitted blocks of another upload: leave ours. Committing would
       rewrite the existing blob (new ETag, its properties and metadata replaced, a new version
       where versioning is on) or destroy the other upload's blocks; deleting would delete it.
    3. Otherwise commit an empty block list with ``If-None-Match: *``: it succeeds only if no
       blob exists (a blob written by Put Blob lists no blocks, so this is the check), and
       discards every uncommitted block. Then delete that empty blob with ``If-Match`` on its
       ETag, so a blob someone commits in between is never deleted.

    Returns:
        What happened (see :data:`AbortOutcome`); "left" outcomes are also logged at INFO.
    """
    listed = await client.get_block_list(sender, loc, name, key=key)
    if listed is None:
        return "nothing-staged"
    ours = sum(1 for block, _ in listed.uncommitted if _upload_of(block) == upload_id)
    if not ours:
        return "nothing-staged"
    if listed.committed:
        return _left_behind(key, ours, "blob-exists")
    if len(listed.uncommitted) > ours:
        return _left_behind(key, ours, "other-upload")
    try:
        empty = await client.put_block_list(
            sender,
            loc,
            name,
            key=key,
            blocks=[],
            content_type=None,
            metadata=None,
            overwrite=False,
            size=0,
        )
    except (StorageFileExistsError, StoragePreconditionFailedError):
        return _left_behind(key, ours, "blob-exists")
    with contextlib.suppress(StoragePreconditionFailedError):
        # 412: someone committed the blob after our empty commit; theirs stays.
        await client.delete_blob(sender, loc, name, key=key, if_match=empty.etag)
    return "discarded"


def _left_behind(key: str, count: int, reason: str) -> AbortOutcome:
    logger.info(
        "abort of a multipart upload to %r left %d uncommitted block(s) on Azure (%s): the "
        "blob's next write or the service's 7-day collection discards them",
        key,
        count,
        "the blob exists" if reason == "blob-exists" else "another upload to it is in progress",
    )
    return f"left:{reason}"


ABORTED_PREFIX = "aborted:"
"""Put before the upload id of an aborted upload. The service keeps no upload state, so the
upload itself remembers that it was aborted (``to_dict`` keeps it)."""


def live_upload_id(upload: MultipartUpload) -> str:
    """The upload id, unless the upload was aborted.

    Raises:
        StorageFileNotFoundError: It was aborted (code ``NoSuchUpload``, as on S3).
    """
    if upload.upload_id.startswith(ABORTED_PREFIX):
        raise StorageFileNotFoundError(
            f"the multipart upload to {upload.key!r} was aborted",
            key=upload.key,
            backend="azure",
            code="NoSuchUpload",
        )
    return upload.upload_id


def exists_error(exc: StoragePreconditionFailedError, key: str, overwrite: bool) -> StorageError:
    """The error to raise for a refused conditional write.

    A create-only write may also be refused with 412 ``ConditionNotMet`` ("Specifying
    conditional headers for Blob service operations"): to the caller, that is "the file
    exists". Other 412s stay what they are.
    """
    if overwrite:
        return exc
    return StorageFileExistsError(
        f"file exists: {key}", key=key, backend="azure", status=exc.status, code=exc.code
    )
