"""The XML documents of the Blob service: error bodies, List Blobs pages and block lists.

Pure functions over bytes with the standard library's ``xml.etree.ElementTree``, imported on
the first parse: building a storage or a SAS URL never needs it. Azure uses no XML namespace, but
only local tag names are compared so a proxy adding one does no harm.

Documents (Azure Storage REST reference): "Status and error codes" (``Error``), "List Blobs"
(``EnumerationResults``), "Put Block List" and "Get Block List" (``BlockList``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import unquote

from litestar_storages.backends.azure._wire import parse_http_date, unquote_etag

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

__all__ = [
    "AzureXmlError",
    "BlobItem",
    "BlockListResult",
    "ErrorBody",
    "ListBlobsPage",
    "build_block_list",
    "parse_block_list",
    "parse_error_body",
    "parse_http_date",
    "parse_list_blobs",
    "unquote_etag",
]


class AzureXmlError(ValueError):
    """A document could not be parsed or lacks a field the operation needs."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _root(body: bytes, expected: str) -> Element:
    from xml.etree.ElementTree import ParseError, fromstring

    try:
        root = fromstring(body)
    except ParseError as exc:
        raise AzureXmlError(f"malformed {expected} document: {exc}") from None
    if _local(root.tag) != expected:
        raise AzureXmlError(f"expected <{expected}>, got <{_local(root.tag)}>")
    return root


def _child(element: Element, name: str) -> Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _children(element: Element | None, name: str) -> list[Element]:
    if element is None:
        return []
    return [child for child in element if _local(child.tag) == name]


def _text(element: Element, name: str) -> str | None:
    child = _child(element, name)
    if child is None or child.text is None:
        return None
    return child.text


def escape(text: str) -> str:
    """XML character data: ``&``, ``<`` and ``>`` escaped (``xml.sax.saxutils.escape`` would
    import urllib.request and the whole HTTP client stack)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------- errors
@dataclass(frozen=True)
class ErrorBody:
    """The ``<Error>`` document of a failed request.

    Attributes:
        code: ``<Code>`` (``BlobNotFound``, ``AuthorizationFailure``...).
        message: The first line of ``<Message>`` (the rest repeats the request id and time).
        details: Other child elements, except ``AuthenticationErrorDetail``, which quotes the
            string the server signed and so is never kept.
    """

    code: str | None
    message: str | None
    details: dict[str, str] = field(default_factory=dict)


_UNSAFE_ERROR_FIELDS = frozenset({"AuthenticationErrorDetail"})


def parse_error_body(body: bytes) -> ErrorBody | None:
    """Parse an ``<Error>`` document; ``None`` when the body is empty or not one (HEAD)."""
    if not body.strip():
        return None
    try:
        root = _root(body, "Error")
    except AzureXmlError:
        return None
    message = _text(root, "Message")
    details = {
        _local(child.tag): (child.text or "").strip()
        for child in root
        if _local(child.tag) not in {"Code", "Message", *_UNSAFE_ERROR_FIELDS}
    }
    return ErrorBody(
        code=_text(root, "Code"),
        message=message.strip().splitlines()[0] if message and message.strip() else None,
        details=details,
    )


# --------------------------------------------------------------------------- List Blobs
@dataclass(frozen=True)
class BlobItem:
    """One ``<Blob>`` of a List Blobs page.

    Attributes:
        name: The full blob name (decoded when the service sent it ``Encoded``).
        size: ``Content-Length``.
        content_type: ``Content-Type``, when one is stored.
        etag: The ETag without quotes.
        last_modified: ``Last-Modified`` as aware UTC.
        content_md5: ``Content-MD5`` (base64), when stored.
        metadata: User metadata (``include=metadata``).
    """

    name: str
    size: int
    content_type: str | None = None
    etag: str | None = None
    last_modified: datetime | None = None
    content_md5: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ListBlobsPage:
    """One page of List Blobs.

    Attributes:
        blobs: The blobs, in the service's (lexicographic) order.
        prefixes: ``<BlobPrefix>`` names, for delimiter listings.
        next_marker: ``<NextMarker>``; ``None`` on the last page.
    """

    blobs: list[BlobItem] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    next_marker: str | None = None


def _name(element: Element) -> str:
    child = _child(element, "Name")
    if child is None:
        raise AzureXmlError("a List Blobs entry has no <Name>")
    text = child.text or ""
    # From 2020-04-08 the service percent-encodes names holding characters that XML 1.0 cannot
    # carry and marks them Encoded="true" ("List Blobs", response body).
    return unquote(text) if child.get("Encoded", "").lower() == "true" else text


def _blob(element: Element) -> BlobItem:
    props = _child(element, "Properties")
    if props is None:
        raise AzureXmlError("a <Blob> has no <Properties>")
    length = _text(props, "Content-Length")
    try:
        size = int(length) if length is not None else 0
    except ValueError:
        raise AzureXmlError(f"bad <Content-Length> {length!r}") from None
    found = _child(element, "Metadata")
    metadata = {} if found is None else {_local(child.tag): child.text or "" for child in found}
    return BlobItem(
        name=_name(element),
        size=size,
        content_type=_text(props, "Content-Type") or None,
        etag=unquote_etag(_text(props, "Etag")),
        last_modified=parse_http_date(_text(props, "Last-Modified")),
        content_md5=_text(props, "Content-MD5") or None,
        metadata=metadata,
    )


def parse_list_blobs(body: bytes) -> ListBlobsPage:
    """Parse an ``<EnumerationResults>`` page of List Blobs.

    Raises:
        AzureXmlError: The document is malformed.
    """
    root = _root(body, "EnumerationResults")
    container = _child(root, "Blobs")
    blobs = [_blob(item) for item in _children(container, "Blob")]
    prefixes = [_name(item) for item in _children(container, "BlobPrefix")]
    marker = _text(root, "NextMarker")
    return ListBlobsPage(blobs=blobs, prefixes=prefixes, next_marker=marker or None)


# --------------------------------------------------------------------------- block lists
_XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'


def build_block_list(block_ids: list[str], *, list_type: str = "Latest") -> bytes:
    """The ``<BlockList>`` body of Put Block List, committing ``block_ids`` in order.

    ``Latest`` takes the most recent upload of each id, uncommitted first ("Put Block List",
    request body), so resending the same list after a lost response commits the same blob.
    """
    if list_type not in ("Latest", "Committed", "Uncommitted"):
        raise ValueError(f"unknown block list type {list_type!r}")
    items = "".join(f"<{list_type}>{escape(block_id)}</{list_type}>" for block_id in block_ids)
    return f"{_XML_DECLARATION}<BlockList>{items}</BlockList>".encode()


@dataclass(frozen=True)
class BlockListResult:
    """Get Block List: ``(block id, size)`` pairs of each list."""

    committed: list[tuple[str, int]] = field(default_factory=list)
    uncommitted: list[tuple[str, int]] = field(default_factory=list)


def _blocks(element: Element | None) -> list[tuple[str, int]]:
    blocks = []
    for block in _children(element, "Block"):
        name = _text(block, "Name")
        size = _text(block, "Size")
        if name is None:
            raise AzureXmlError("a <Block> has no <Name>")
        try:
            blocks.append((name, int(size or 0)))
        except ValueError:
            raise AzureXmlError(f"bad block <Size> {size!r}") from None
    return blocks


def parse_block_list(body: bytes) -> BlockListResult:
    """Parse the ``<BlockList>`` answer of Get Block List.

    Raises:
        AzureXmlError: The document is malformed.
    """
    root = _root(body, "BlockList")
    return BlockListResult(
        committed=_blocks(_child(root, "CommittedBlocks")),
        uncommitted=_blocks(_child(root, "UncommittedBlocks")),
    )


# --------------------------------------------------------------------------- user delegation
def build_key_info(start: str, expiry: str) -> bytes:
    """The ``<KeyInfo>`` body of Get User Delegation Key (ISO 8601 UTC times)."""
    return (
        f"{_XML_DECLARATION}<KeyInfo><Start>{escape(start)}</Start>"
        f"<Expiry>{escape(expiry)}</Expiry></KeyInfo>"
    ).encode()


def parse_user_delegation_key(body: bytes) -> dict[str, str]:
    """The fields of a ``<UserDelegationKey>`` answer, by element name (``SignedOid``,
    ``SignedTid``, ``SignedStart``, ``SignedExpiry``, ``SignedService``, ``SignedVersion``,
    ``Value``, and from 2025-07-05 ``SignedDelegatedUserTid``), exactly as sent.

    Raises:
        AzureXmlError: The document is malformed or lacks a field the signature needs.
    """
    root = _root(body, "UserDelegationKey")
    fields = {_local(child.tag): (child.text or "").strip() for child in root}
    required = (
        "SignedOid",
        "SignedTid",
        "SignedStart",
        "SignedExpiry",
        "SignedService",
        "SignedVersion",
        "Value",
    )
    missing = [name for name in required if not fields.get(name)]
    if missing:
        raise AzureXmlError(f"<UserDelegationKey> lacks {', '.join(missing)}")
    return fields
