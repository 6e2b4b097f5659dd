"""Building and parsing the S3-style XML documents (also spoken by GCS's XML API).

Pure functions over bytes, using the standard library's ``xml.etree.ElementTree``. Parsing is
namespace-tolerant: S3 puts its documents in ``http://s3.amazonaws.com/doc/2006-03-01/``, some
compatible servers use no namespace, and GCS uses its own; only local tag names are compared.

Documents (Amazon S3 API Reference): ``Error`` (REST error responses), ``ListBucketResult``
(ListObjectsV2), ``InitiateMultipartUploadResult``, ``CompleteMultipartUpload`` and its result,
``CopyObjectResult``/``CopyPartResult``, and ``ListPartsResult``.

``ElementTree`` is imported on the first parse: building a storage and presigning URLs never
parse XML, and serverless start-up pays for every import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING
from urllib.parse import unquote

from litestar_storages._wire import unquote_etag

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

__all__ = [
    "CopyResult",
    "ListPage",
    "ListedObject",
    "ListedPart",
    "PartsPage",
    "S3XmlError",
    "build_complete_multipart_upload",
    "parse_complete_multipart_upload",
    "parse_copy_result",
    "parse_error",
    "parse_initiate_multipart_upload",
    "parse_iso8601",
    "parse_list_objects_v2",
    "parse_list_parts",
]


class S3XmlError(ValueError):
    """A document could not be parsed, or lacks a field the operation needs."""


# Error fields that echo what was signed (and so the presigned query, security token and the
# access key id): dropped so they can never end up in an exception or a log line.
_SECRET_ERROR_FIELDS = frozenset(
    {
        "StringToSign",
        "StringToSignBytes",
        "CanonicalRequest",
        "CanonicalRequestBytes",
        "SignatureProvided",
        "AWSAccessKeyId",
    }
)


@dataclass(frozen=True)
class ListedObject:
    """One ``Contents`` entry of a ListObjectsV2 page."""

    key: str
    size: int
    etag: str | None = None
    last_modified: datetime | None = None


@dataclass(frozen=True)
class ListPage:
    """One page of ListObjectsV2."""

    objects: list[ListedObject] = field(default_factory=list)
    common_prefixes: list[str] = field(default_factory=list)
    is_truncated: bool = False
    next_continuation_token: str | None = None


@dataclass(frozen=True)
class CopyResult:
    """``CopyObjectResult`` / ``CopyPartResult``."""

    etag: str | None
    last_modified: datetime | None


@dataclass(frozen=True)
class ListedPart:
    """One ``Part`` of ListParts."""

    part_number: int
    etag: str
    size: int


@dataclass(frozen=True)
class PartsPage:
    """One page of ListParts."""

    parts: list[ListedPart] = field(default_factory=list)
    is_truncated: bool = False
    next_part_number_marker: int | None = None


# ---------------------------------------------------------------------- helpers
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse_xml(body: bytes) -> ET.Element:
    import xml.etree.ElementTree as ET

    # Servers may send leading whitespace: S3 keeps a CompleteMultipartUpload connection alive
    # by sending spaces before the final document ("200 OK ... can contain either a success or
    # an error", CompleteMultipartUpload reference).
    try:
        return ET.fromstring(body.strip())
    except ET.ParseError as exc:
        raise S3XmlError(f"malformed XML response: {exc}") from None


def _root(body: bytes) -> ET.Element:
    return _parse_xml(body)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _text(element: ET.Element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            return child.text or ""
    return None


def _required(element: ET.Element, name: str) -> str:
    value = _text(element, name)
    if not value:
        raise S3XmlError(f"{_local(element.tag)} has no {name}")
    return value


_ISO = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$")


def parse_iso8601(value: str | None) -> datetime | None:
    """Parse the ISO 8601 timestamps of S3 XML (``2009-10-12T17:50:30.000Z``) as aware UTC."""
    if not value:
        return None
    match = _ISO.match(value.strip())
    if match is None:
        return None
    base, fraction, zone = match.groups()
    micros = int((fraction or ".0")[1:7].ljust(6, "0"))
    parsed = datetime.fromisoformat(base).replace(microsecond=micros, tzinfo=timezone.utc)
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        parsed = parsed - offset if zone[0] == "+" else parsed + offset
    return parsed


# ---------------------------------------------------------------------- Error
def parse_error(body: bytes) -> dict[str, str] | None:
    """The fields of an ``<Error>`` document, or ``None`` if ``body`` is not one.

    Fields that echo the signed request (``StringToSign``, ``CanonicalRequest``, ...) are
    dropped. Never raises: a body that is not XML is simply not an S3 error document.
    """
    if not body or b"<" not in body:
        return None
    try:
        root = _parse_xml(body)
    except S3XmlError:
        return None
    if _local(root.tag) != "Error":
        return None
    return {
        _local(child.tag): (child.text or "").strip()
        for child in root
        if _local(child.tag) not in _SECRET_ERROR_FIELDS
    }


# ---------------------------------------------------------------------- ListObjectsV2
def parse_list_objects_v2(body: bytes) -> ListPage:
    """Parse a ``ListBucketResult`` (ListObjectsV2).

    With ``encoding-type=url`` requested, S3 URL-encodes ``Key``, ``Prefix`` and the common
    prefixes; the document then says ``<EncodingType>url</EncodingType>`` and they are decoded
    here.
    """
    root = _root(body)
    if _local(root.tag) != "ListBucketResult":
        raise S3XmlError(f"expected ListBucketResult, got {_local(root.tag)}")
    encoded = (_text(root, "EncodingType") or "").lower() == "url"

    def decode(value: str) -> str:
        return unquote(value) if encoded else value

    objects = []
    for item in _children(root, "Contents"):
        size = _text(item, "Size")
        objects.append(
            ListedObject(
                key=decode(_required(item, "Key")),
                size=int(size) if size else 0,
                etag=unquote_etag(_text(item, "ETag")),
                last_modified=parse_iso8601(_text(item, "LastModified")),
            )
        )
    prefixes = [decode(_required(entry, "Prefix")) for entry in _children(root, "CommonPrefixes")]
    truncated = (_text(root, "IsTruncated") or "").lower() == "true"
    token = _text(root, "NextContinuationToken") or None
    return ListPage(objects, prefixes, truncated, token)


# ---------------------------------------------------------------------- multipart
def parse_initiate_multipart_upload(body: bytes) -> str:
    """The ``UploadId`` of an ``InitiateMultipartUploadResult``."""
    return _required(_root(body), "UploadId")


def build_complete_multipart_upload(parts: list[tuple[int, str]]) -> bytes:
    """The ``CompleteMultipartUpload`` request body for ``(part_number, etag)`` pairs.

    Parts must be in ascending order (S3 answers ``InvalidPartOrder`` otherwise); ETags are
    sent quoted, as UploadPart returned them.
    """
    items = "".join(
        f'<Part><PartNumber>{number}</PartNumber><ETag>"{_escape(etag.strip(chr(34)))}"</ETag></Part>'
        for number, etag in parts
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"{items}</CompleteMultipartUpload>"
    ).encode()


def parse_complete_multipart_upload(body: bytes) -> str | None:
    """The ETag of a ``CompleteMultipartUploadResult`` (``None`` when empty, as radosgw sends)."""
    root = _root(body)
    if _local(root.tag) != "CompleteMultipartUploadResult":
        raise S3XmlError(f"expected CompleteMultipartUploadResult, got {_local(root.tag)}")
    return unquote_etag(_text(root, "ETag"))


def parse_copy_result(body: bytes) -> CopyResult:
    """Parse ``CopyObjectResult`` (CopyObject) or ``CopyPartResult`` (UploadPartCopy)."""
    root = _root(body)
    if _local(root.tag) not in ("CopyObjectResult", "CopyPartResult"):
        raise S3XmlError(f"expected CopyObjectResult, got {_local(root.tag)}")
    return CopyResult(
        etag=unquote_etag(_text(root, "ETag")),
        last_modified=parse_iso8601(_text(root, "LastModified")),
    )


def parse_list_parts(body: bytes) -> PartsPage:
    """Parse a ``ListPartsResult``."""
    root = _root(body)
    if _local(root.tag) != "ListPartsResult":
        raise S3XmlError(f"expected ListPartsResult, got {_local(root.tag)}")
    parts = []
    for item in _children(root, "Part"):
        size = _text(item, "Size")
        parts.append(
            ListedPart(
                part_number=int(_required(item, "PartNumber")),
                etag=unquote_etag(_text(item, "ETag")) or "",
                size=int(size) if size else 0,
            )
        )
    truncated = (_text(root, "IsTruncated") or "").lower() == "true"
    marker = _text(root, "NextPartNumberMarker")
    return PartsPage(parts, truncated, int(marker) if marker else None)
