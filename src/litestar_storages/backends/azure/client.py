"""One function per Blob service REST operation, each a pure request builder, one send and a
pure response parser.

Names follow the Azure Storage REST reference so its pages can be searched: Put Blob, Get Blob,
Get Blob Properties, Delete Blob, List Blobs, Copy Blob (and Abort Copy Blob), Put Block, Put
Block List, Get Block List, Get User Delegation Key. Builders return an ``HttpRequest`` (plain
data); parsers take a :class:`ResponseHead` or the body bytes. Only the ``async`` senders touch
the network, through the shared ``Sender``; this module never imports httpx, and imports the
XML module (and ElementTree) only when a request needs it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from litestar_storages._http.request import HttpRequest
from litestar_storages._types import StoredFile
from litestar_storages.backends.azure._integrity import md5_b64
from litestar_storages.backends.azure._wire import (
    DEFAULT_CONTENT_TYPE,
    BlobLocation,
    ResponseHead,
    head_of,
    header_int,
    metadata_from,
    metadata_headers,
    parse_http_date,
    unquote_etag,
)
from litestar_storages.exceptions import StorageError, StorageFileNotFoundError, StorageTimeoutError

if TYPE_CHECKING:
    from litestar_storages._http.send import ResponseBody, Sender
    from litestar_storages.backends.azure._xml import BlockListResult, ListBlobsPage
    from litestar_storages.signing.azure import UserDelegationKey

__all__ = [
    "BlobProperties",
    "CopyState",
    "abort_copy_blob",
    "abort_copy_blob_request",
    "copy_blob",
    "copy_blob_request",
    "delete_blob",
    "delete_blob_request",
    "get_blob",
    "get_blob_properties",
    "get_blob_properties_request",
    "get_blob_request",
    "get_block_list",
    "get_block_list_request",
    "get_user_delegation_key",
    "get_user_delegation_key_request",
    "list_blobs",
    "list_blobs_request",
    "parse_blob_properties",
    "parse_copy_state",
    "parse_write_result",
    "put_blob",
    "put_blob_request",
    "put_block",
    "put_block_list",
    "put_block_list_request",
    "put_block_request",
    "wait_for_copy",
]


# --------------------------------------------------------------------------- shared pieces
def _create_only(overwrite: bool) -> dict[str, str]:
    # "Specifying conditional headers for Blob service operations": If-None-Match: * makes a
    # write fail when the blob exists; the service answers 409 BlobAlreadyExists.
    return {} if overwrite else {"if-none-match": "*"}


def parse_write_result(
    head: ResponseHead,
    *,
    key: str,
    size: int,
    content_type: str | None,
    metadata: Mapping[str, str] | None,
) -> StoredFile:
    """The ``StoredFile`` after Put Blob / Put Block List (``ETag``, ``Last-Modified``)."""
    return StoredFile(
        key=key,
        size=size,
        content_type=content_type or DEFAULT_CONTENT_TYPE,
        etag=unquote_etag(head.get("etag")),
        last_modified=parse_http_date(head.get("last-modified")),
        metadata=dict(metadata or {}),
    )


# --------------------------------------------------------------------------- Put Blob
def put_blob_request(
    loc: BlobLocation,
    name: str,
    body: bytes,
    *,
    key: str,
    content_type: str | None,
    metadata: Mapping[str, str] | None,
    overwrite: bool,
) -> HttpRequest:
    """Put Blob: a whole block blob in one request, with a transactional ``Content-MD5``."""
    headers = {
        "x-ms-blob-type": "BlockBlob",
        "x-ms-blob-content-type": content_type or DEFAULT_CONTENT_TYPE,
        "content-md5": md5_b64(body),
        **metadata_headers(metadata, key=key),
        **_create_only(overwrite),
    }
    return loc.request(
        "PUT", loc.blob_path(name), operation="PutBlob", key=key, headers=headers, body=body
    )


async def put_blob(
    sender: Sender,
    loc: BlobLocation,
    name: str,
    body: bytes,
    *,
    key: str,
    content_type: str | None,
    metadata: Mapping[str, str] | None,
    overwrite: bool,
) -> StoredFile:
    """Send Put Blob.

    Raises:
        StorageFileExistsError: ``overwrite=False`` and the blob exists.
    """
    request = put_blob_request(
        loc, name, body, key=key, content_type=content_type, metadata=metadata, overwrite=overwrite
    )
    response = await sender.send(request)
    return parse_write_result(
        head_of(response), key=key, size=len(body), content_type=content_type, metadata=metadata
    )


# --------------------------------------------------------------------------- Get Blob
def get_blob_request(
    loc: BlobLocation, name: str, *, key: str, start: int | None = None, end: int | None = None
) -> HttpRequest:
    """Get Blob, whole or the byte range [start, end) via ``x-ms-range`` (inclusive end)."""
    headers = {}
    if start is not None or end is not None:
        first = start or 0
        last = "" if end is None else str(end - 1)
        headers["x-ms-range"] = f"bytes={first}-{last}"
    return loc.request("GET", loc.blob_path(name), operation="GetBlob", key=key, headers=headers)


async def get_blob(
    sender: Sender, loc: BlobLocation, name: str, *, key: str, start: int | None, end: int | None
) -> ResponseBody:
    """Send Get Blob and return the open body (the caller iterates and closes it)."""
    from litestar_storages._http.send import ResponseBody

    request = get_blob_request(loc, name, key=key, start=start, end=end)
    response = await sender.open(request)
    return ResponseBody(response, request, backend="azure")


# --------------------------------------------------------------------------- Get Blob Properties
@dataclass(frozen=True)
class CopyState:
    """The ``x-ms-copy-*`` properties of a blob that is (or was) a copy destination.

    Attributes:
        copy_id: ``x-ms-copy-id``.
        status: ``pending``, ``success``, ``aborted`` or ``failed``.
        description: ``x-ms-copy-status-description`` (why it failed).
    """

    copy_id: str | None
    status: str | None
    description: str | None = None


@dataclass(frozen=True)
class BlobProperties:
    """What Get Blob Properties tells: the ``StoredFile`` plus integrity and copy state."""

    stored: StoredFile
    content_md5: str | None = None
    copy: CopyState = field(default_factory=lambda: CopyState(None, None))


def parse_copy_state(head: ResponseHead) -> CopyState:
    """``x-ms-copy-id`` / ``x-ms-copy-status`` (Copy Blob's answer and Get Blob Properties)."""
    status = head.get("x-ms-copy-status")
    return CopyState(
        copy_id=head.get("x-ms-copy-id"),
        status=status.lower() if status else None,
        description=head.get("x-ms-copy-status-description"),
    )


def parse_blob_properties(head: ResponseHead, *, key: str) -> BlobProperties:
    """The properties in Get Blob Properties' (or a full Get Blob's) response headers."""
    stored = StoredFile(
        key=key,
        size=header_int(head.get("content-length")) or 0,
        content_type=head.get("content-type") or None,
        etag=unquote_etag(head.get("etag")),
        last_modified=parse_http_date(head.get("last-modified")),
        metadata=metadata_from(head),
    )
    return BlobProperties(stored, head.get("content-md5"), parse_copy_state(head))


def get_blob_properties_request(loc: BlobLocation, name: str, *, key: str) -> HttpRequest:
    """Get Blob Properties: ``HEAD`` on the blob."""
    return loc.request("HEAD", loc.blob_path(name), operation="GetBlobProperties", key=key)


async def get_blob_properties(
    sender: Sender, loc: BlobLocation, name: str, *, key: str
) -> BlobProperties:
    """Send Get Blob Properties.

    Raises:
        StorageFileNotFoundError: The blob does not exist (an uncommitted one neither).
    """
    response = await sender.send(get_blob_properties_request(loc, name, key=key))
    return parse_blob_properties(head_of(response), key=key)


# --------------------------------------------------------------------------- Delete Blob
def delete_blob_request(
    loc: BlobLocation, name: str, *, key: str, if_match: str | None = None
) -> HttpRequest:
    """Delete Blob, with its snapshots (``x-ms-delete-snapshots: include``: a blob that has
    snapshots cannot be deleted alone, "Delete Blob": request headers)."""
    headers = {"x-ms-delete-snapshots": "include"}
    if if_match is not None:
        headers["if-match"] = f'"{if_match}"'
    return loc.request(
        "DELETE", loc.blob_path(name), operation="DeleteBlob", key=key, headers=headers
    )


async def delete_blob(
    sender: Sender, loc: BlobLocation, name: str, *, key: str, if_match: str | None = None
) -> bool:
    """Send Delete Blob; returns ``False`` when there was no such blob (not an error)."""
    try:
        await sender.send(delete_blob_request(loc, name, key=key, if_match=if_match))
    except StorageFileNotFoundError:
        return False
    return True


# --------------------------------------------------------------------------- List Blobs
def list_blobs_request(
    loc: BlobLocation,
    *,
    prefix: str = "",
    marker: str | None = None,
    max_results: int | None = None,
    delimiter: str | None = None,
) -> HttpRequest:
    """List Blobs: one page, with metadata (``include=metadata``)."""
    query = [("restype", "container"), ("comp", "list"), ("include", "metadata")]
    if prefix:
        query.append(("prefix", prefix))
    if delimiter:
        query.append(("delimiter", delimiter))
    if marker:
        query.append(("marker", marker))
    if max_results is not None:
        query.append(("maxresults", str(max_results)))
    return loc.request("GET", loc.container_path, operation="ListBlobs", key=None, query=query)


async def list_blobs(
    sender: Sender,
    loc: BlobLocation,
    *,
    prefix: str = "",
    marker: str | None = None,
    max_results: int | None = None,
    delimiter: str | None = None,
) -> ListBlobsPage:
    """Send List Blobs and parse the page."""
    request = list_blobs_request(
        loc, prefix=prefix, marker=marker, max_results=max_results, delimiter=delimiter
    )
    response = await sender.send(request)
    from litestar_storages.backends.azure._xml import parse_list_blobs  # first use only

    return parse_list_blobs(response.content)


# --------------------------------------------------------------------------- Copy Blob
def copy_blob_request(loc: BlobLocation, name: str, *, key: str, source_url: str) -> HttpRequest:
    """Copy Blob: the service copies ``source_url`` (same account: authorised by our own
    SharedKey; otherwise it must carry a SAS) onto ``name``, with properties and metadata."""
    headers = {"x-ms-copy-source": source_url}
    return loc.request("PUT", loc.blob_path(name), operation="CopyBlob", key=key, headers=headers)


async def copy_blob(
    sender: Sender, loc: BlobLocation, name: str, *, key: str, source_url: str
) -> CopyState:
    """Send Copy Blob; the copy may still be ``pending`` when this returns."""
    response = await sender.send(copy_blob_request(loc, name, key=key, source_url=source_url))
    return parse_copy_state(head_of(response))


def abort_copy_blob_request(loc: BlobLocation, name: str, *, key: str, copy_id: str) -> HttpRequest:
    """Abort Copy Blob: stop a pending copy, leaving an empty destination with its metadata."""
    return loc.request(
        "PUT",
        loc.blob_path(name),
        operation="AbortCopyBlob",
        key=key,
        query=[("comp", "copy"), ("copyid", copy_id)],
        headers={"x-ms-copy-action": "abort"},
    )


async def abort_copy_blob(
    sender: Sender, loc: BlobLocation, name: str, *, key: str, copy_id: str
) -> None:
    """Send Abort Copy Blob."""
    await sender.send(abort_copy_blob_request(loc, name, key=key, copy_id=copy_id))


async def wait_for_copy(
    sender: Sender,
    loc: BlobLocation,
    name: str,
    *,
    key: str,
    state: CopyState,
    timeout: timedelta,
    sleep: Callable[[float], Awaitable[None]],
    clock: Callable[[], float] | None = None,
) -> BlobProperties:
    """Poll Get Blob Properties until the copy is no longer ``pending`` ("Copy Blob": remarks).

    Delays grow from 0.1 s to 5 s. After ``timeout`` the copy is aborted (so the destination
    does not change later, behind the caller's back) and a timeout is raised.

    Raises:
        StorageError: The copy failed or was aborted by someone else.
        StorageTimeoutError: It was still pending after ``timeout``.
    """
    clock = clock or time.monotonic
    deadline = clock() + timeout.total_seconds()
    delay = 0.1
    status = state.status
    while True:
        if status == "pending":
            if clock() >= deadline:
                if state.copy_id:
                    await abort_copy_blob(sender, loc, name, key=key, copy_id=state.copy_id)
                raise StorageTimeoutError(
                    f"copy to {key!r} still pending after {timeout.total_seconds():g} s; "
                    "it was aborted",
                    key=key,
                    backend="azure",
                )
            await sleep(delay)
            delay = min(delay * 2, 5.0)
        properties = await get_blob_properties(sender, loc, name, key=key)
        current = properties.copy
        if current.copy_id is not None and current.copy_id != state.copy_id:
            return properties  # a later copy replaced ours, so ours has finished
        status = current.status or "success"
        if status == "success":
            return properties
        if status != "pending":
            raise StorageError(
                f"copy to {key!r} {status}: {current.description or 'no reason given'}",
                key=key,
                backend="azure",
                code=f"Copy{status.capitalize()}",
            )


# --------------------------------------------------------------------------- blocks
def put_block_request(
    loc: BlobLocation, name: str, *, key: str, block: str, body: bytes
) -> HttpRequest:
    """Put Block: stage one uncommitted block, with a transactional ``Content-MD5``."""
    return loc.request(
        "PUT",
        loc.blob_path(name),
        operation="PutBlock",
        key=key,
        query=[("comp", "block"), ("blockid", block)],
        headers={"content-md5": md5_b64(body)},
        body=body,
    )


async def put_block(
    sender: Sender, loc: BlobLocation, name: str, *, key: str, block: str, body: bytes
) -> None:
    """Send Put Block."""
    await sender.send(put_block_request(loc, name, key=key, block=block, body=body))


def put_block_list_request(
    loc: BlobLocation,
    name: str,
    *,
    key: str,
    blocks: Sequence[str],
    content_type: str | None,
    metadata: Mapping[str, str] | None,
    overwrite: bool,
) -> HttpRequest:
    """Put Block List: commit ``blocks`` in order as the blob, setting its content type and
    metadata (which replace the old ones: "Put Block List", remarks)."""
    from litestar_storages.backends.azure._xml import build_block_list

    body = build_block_list(list(blocks))
    headers = {
        "content-type": "application/xml",
        "content-md5": md5_b64(body),
        "x-ms-blob-content-type": content_type or DEFAULT_CONTENT_TYPE,
        **metadata_headers(metadata, key=key),
        **_create_only(overwrite),
    }
    return loc.request(
        "PUT",
        loc.blob_path(name),
        operation="PutBlockList",
        key=key,
        query=[("comp", "blocklist")],
        headers=headers,
        body=body,
    )


async def put_block_list(
    sender: Sender,
    loc: BlobLocation,
    name: str,
    *,
    key: str,
    blocks: Sequence[str],
    content_type: str | None,
    metadata: Mapping[str, str] | None,
    overwrite: bool,
    size: int,
) -> StoredFile:
    """Send Put Block List.

    Raises:
        StorageFileExistsError: ``overwrite=False`` and a committed blob exists.
        StoragePreconditionFailedError: A block is missing (``InvalidBlockList``).
    """
    request = put_block_list_request(
        loc,
        name,
        key=key,
        blocks=blocks,
        content_type=content_type,
        metadata=metadata,
        overwrite=overwrite,
    )
    response = await sender.send(request)
    return parse_write_result(
        head_of(response), key=key, size=size, content_type=content_type, metadata=metadata
    )


def get_block_list_request(
    loc: BlobLocation, name: str, *, key: str, list_type: str = "all"
) -> HttpRequest:
    """Get Block List (``committed``, ``uncommitted`` or ``all``)."""
    return loc.request(
        "GET",
        loc.blob_path(name),
        operation="GetBlockList",
        key=key,
        query=[("comp", "blocklist"), ("blocklisttype", list_type)],
    )


async def get_block_list(
    sender: Sender, loc: BlobLocation, name: str, *, key: str, list_type: str = "all"
) -> BlockListResult | None:
    """Send Get Block List; ``None`` when the blob has neither committed nor uncommitted
    blocks (the service answers 404 ``BlobNotFound``)."""
    try:
        response = await sender.send(
            get_block_list_request(loc, name, key=key, list_type=list_type)
        )
    except StorageFileNotFoundError:
        return None
    from litestar_storages.backends.azure._xml import parse_block_list

    return parse_block_list(response.content)


# ------------------------------------------------------------------ Get User Delegation Key
def get_user_delegation_key_request(
    loc: BlobLocation, *, start: datetime, expiry: datetime
) -> HttpRequest:
    """Get User Delegation Key: ``POST /?restype=service&comp=userdelegationkey`` on the account
    with a ``<KeyInfo>`` body; only Entra ID bearer tokens may ask (version 2018-11-09 on).

    The expiry must be within 7 days of the service's current time.
    """
    from litestar_storages.backends.azure._xml import build_key_info

    body = build_key_info(_iso_utc(start), _iso_utc(expiry))
    return loc.request(
        "POST",
        f"{loc.base_path}/",
        operation="GetUserDelegationKey",
        key=None,
        query=[("restype", "service"), ("comp", "userdelegationkey")],
        headers={"content-type": "application/xml"},
        body=body,
        idempotent=True,  # each call mints a new key; asking again is harmless
    )


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


async def get_user_delegation_key(
    sender: Sender, loc: BlobLocation, *, start: datetime, expiry: datetime
) -> UserDelegationKey:
    """Send Get User Delegation Key and parse the key (kept as the exact strings sent, since
    they are signed verbatim).

    Raises:
        StoragePermissionError: The identity lacks ``generateUserDelegationKey`` (e.g. no
            "Storage Blob Delegator" or data role), or the request was not bearer-authorised.
    """
    from litestar_storages.backends.azure._xml import parse_user_delegation_key
    from litestar_storages.signing.azure import UserDelegationKey

    response = await sender.send(get_user_delegation_key_request(loc, start=start, expiry=expiry))
    fields = parse_user_delegation_key(response.content)
    return UserDelegationKey(
        signed_oid=fields["SignedOid"],
        signed_tid=fields["SignedTid"],
        signed_start=fields["SignedStart"],
        signed_expiry=fields["SignedExpiry"],
        signed_service=fields["SignedService"],
        signed_version=fields["SignedVersion"],
        value=fields["Value"],
        signed_delegated_user_tid=fields.get("SignedDelegatedUserTid") or None,
    )
