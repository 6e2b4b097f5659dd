"""One function per S3 REST operation, each a pure request builder, one awaited send and a pure
response parser. Names follow the Amazon S3 API Reference so its pages can be searched.

Builders take the :class:`~.config.S3Endpoint` and the *full* object key (storage prefix
included) and return an :class:`~litestar_storages._http.request.HttpRequest`; the path is
percent-encoded once with ``uri_encode_path`` and that exact string is both sent and signed
(SigV4 for S3 signs the path as sent and does not normalise it, so ``a//b`` and ``a/./b`` stay
distinct keys). The payload hash is computed by the caller (possibly in a worker thread) and
passed in ``x-amz-content-sha256``.

This module does not import httpx at run time: the ``Sender`` is handed in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from litestar_storages._http.request import HttpRequest
from litestar_storages._wire import parse_http_date, unquote_etag
from litestar_storages.backends.s3._wire import (
    META,
    REQUEST_ID_HEADERS,
    decode_metadata_value,
    encode_metadata_value,
    metadata_headers,
    parse_s3_error,
)
from litestar_storages.exceptions import StorageError
from litestar_storages.signing._canonical import EMPTY_SHA256
from litestar_storages.signing.sigv4 import uri_encode_path

if TYPE_CHECKING:
    from litestar_storages._http.send import ResponseBody, Sender
    from litestar_storages.backends._s3_xml import CopyResult, ListPage, PartsPage
    from litestar_storages.backends.s3.config import S3Endpoint

__all__ = [
    "REQUEST_ID_HEADERS",
    "ObjectHead",
    "PutResult",
    "abort_multipart_upload",
    "build_abort_multipart_upload",
    "build_complete_multipart_upload_request",
    "build_copy_object",
    "copy_source",
    "build_create_multipart_upload",
    "build_delete_object",
    "build_get_object",
    "build_head_object",
    "build_list_objects_v2",
    "build_list_parts",
    "build_put_object",
    "build_upload_part",
    "build_upload_part_copy",
    "complete_multipart_upload",
    "copy_object",
    "create_multipart_upload",
    "decode_metadata_value",
    "delete_object",
    "encode_metadata_value",
    "get_object",
    "head_object",
    "list_objects_v2",
    "list_parts",
    "parse_head_object",
    "parse_put_object",
    "parse_s3_error",
    "put_object",
    "upload_part",
    "upload_part_copy",
]

T = TypeVar("T")

_BACKEND = "s3"


# ---------------------------------------------------------------------- requests
def _object_request(
    ep: S3Endpoint,
    method: str,
    key: str,
    *,
    operation: str,
    query: list[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    **options: object,
) -> HttpRequest:
    return HttpRequest(
        method,
        ep.origin,
        ep.path(uri_encode_path(key)),
        query=query or [],
        headers=headers or {},
        body=body,
        operation=operation,
        key=key,
        **options,  # type: ignore[arg-type]
    )


def build_put_object(
    ep: S3Endpoint,
    key: str,
    body: bytes,
    *,
    payload_sha256: str,
    content_type: str | None = None,
    metadata: Mapping[str, str] | None = None,
    if_none_match: bool = False,
    checksum_sha256: str | None = None,
) -> HttpRequest:
    """PutObject: ``PUT /key`` with the body, its SHA-256 and optional create-only condition.

    ``If-None-Match: *`` makes the write fail with 412 when the key exists (S3 conditional
    writes); ``checksum_sha256`` is the base64 digest S3 verifies and stores.
    """
    headers = {"x-amz-content-sha256": payload_sha256, **metadata_headers(metadata)}
    if content_type:
        headers["content-type"] = content_type
    if if_none_match:
        headers["if-none-match"] = "*"
    if checksum_sha256:
        headers["x-amz-checksum-sha256"] = checksum_sha256
    return _object_request(ep, "PUT", key, operation="PutObject", headers=headers, body=body)


@dataclass(frozen=True)
class PutResult:
    """What PutObject (or UploadPart) answered."""

    etag: str | None
    date: datetime | None
    server_side_encryption: str | None = None
    sse_customer: bool = False


def parse_put_object(headers: Mapping[str, str]) -> PutResult:
    """The ETag and date of a PutObject/UploadPart response."""

    return PutResult(
        etag=unquote_etag(headers.get("etag")),
        date=parse_http_date(headers.get("date")),
        server_side_encryption=headers.get("x-amz-server-side-encryption"),
        sse_customer="x-amz-server-side-encryption-customer-algorithm" in headers,
    )


async def put_object(
    sender: Sender,
    ep: S3Endpoint,
    key: str,
    body: bytes,
    *,
    payload_sha256: str,
    content_type: str | None = None,
    metadata: Mapping[str, str] | None = None,
    if_none_match: bool = False,
    checksum_sha256: str | None = None,
) -> PutResult:
    """PutObject."""
    request = build_put_object(
        ep,
        key,
        body,
        payload_sha256=payload_sha256,
        content_type=content_type,
        metadata=metadata,
        if_none_match=if_none_match,
        checksum_sha256=checksum_sha256,
    )
    response = await sender.send(request)
    return parse_put_object(response.headers)


def build_get_object(
    ep: S3Endpoint, key: str, *, byte_range: str | None = None, checksum_mode: bool = False
) -> HttpRequest:
    """GetObject: ``GET /key``, optionally with a ``Range`` (416 is returned, not raised)."""
    headers = {"x-amz-content-sha256": EMPTY_SHA256}
    if byte_range:
        headers["range"] = byte_range
    if checksum_mode:
        # S3 returns x-amz-checksum-* only when asked (GetObject, "ChecksumMode").
        headers["x-amz-checksum-mode"] = "ENABLED"
    return _object_request(
        ep, "GET", key, operation="GetObject", headers=headers, ok_statuses=frozenset({416})
    )


async def get_object(
    sender: Sender,
    ep: S3Endpoint,
    key: str,
    *,
    byte_range: str | None = None,
    checksum_mode: bool = False,
) -> ResponseBody:
    """GetObject; returns the open body, which the caller must close."""
    from litestar_storages._http.send import ResponseBody

    request = build_get_object(ep, key, byte_range=byte_range, checksum_mode=checksum_mode)
    response = await sender.open(request)
    return ResponseBody(response, request, backend=_BACKEND)


@dataclass(frozen=True)
class ObjectHead:
    """What HeadObject says about an object."""

    size: int
    content_type: str | None
    etag: str | None
    last_modified: datetime | None
    metadata: dict[str, str] = field(default_factory=dict)
    checksum_sha256: str | None = None


def build_head_object(ep: S3Endpoint, key: str) -> HttpRequest:
    """HeadObject: ``HEAD /key`` (404 is returned, not raised)."""
    return _object_request(
        ep,
        "HEAD",
        key,
        operation="HeadObject",
        headers={"x-amz-content-sha256": EMPTY_SHA256},
        ok_statuses=frozenset({404}),
    )


def parse_head_object(headers: Mapping[str, str]) -> ObjectHead:
    """The object's size, type, ETag, date and user metadata from response headers."""

    length = headers.get("content-length") or "0"
    metadata = {
        name[len(META) :]: decode_metadata_value(value)
        for name, value in headers.items()
        if name.lower().startswith(META)
    }
    return ObjectHead(
        size=int(length) if length.isdigit() else 0,
        content_type=headers.get("content-type") or None,
        etag=unquote_etag(headers.get("etag")),
        last_modified=parse_http_date(headers.get("last-modified")),
        metadata=metadata,
        checksum_sha256=headers.get("x-amz-checksum-sha256"),
    )


async def head_object(sender: Sender, ep: S3Endpoint, key: str) -> ObjectHead | None:
    """HeadObject; ``None`` when the key does not exist."""
    response = await sender.send(build_head_object(ep, key))
    return None if response.status_code == 404 else parse_head_object(response.headers)


def build_delete_object(ep: S3Endpoint, key: str) -> HttpRequest:
    """DeleteObject: ``DELETE /key``. S3 answers 204 whether or not the key existed; some
    compatible servers answer 404, which is success too (delete is idempotent)."""
    return _object_request(
        ep,
        "DELETE",
        key,
        operation="DeleteObject",
        headers={"x-amz-content-sha256": EMPTY_SHA256},
        ok_statuses=frozenset({404}),
    )


async def delete_object(sender: Sender, ep: S3Endpoint, key: str) -> None:
    """DeleteObject."""
    await sender.send(build_delete_object(ep, key))


def build_list_objects_v2(
    ep: S3Endpoint,
    *,
    prefix: str = "",
    delimiter: str | None = None,
    max_keys: int = 1000,
    continuation_token: str | None = None,
) -> HttpRequest:
    """ListObjectsV2: ``GET /?list-type=2``, keys URL-encoded in the response.

    ``encoding-type=url`` lets keys with characters XML 1.0 cannot carry come back intact.
    """
    query = [("list-type", "2"), ("encoding-type", "url"), ("max-keys", str(max_keys))]
    if prefix:
        query.append(("prefix", prefix))
    if delimiter:
        query.append(("delimiter", delimiter))
    if continuation_token:
        query.append(("continuation-token", continuation_token))
    return HttpRequest(
        "GET",
        ep.origin,
        ep.path(""),
        query=query,
        headers={"x-amz-content-sha256": EMPTY_SHA256},
        operation="ListObjectsV2",
        key=prefix or None,
    )


def _parse(parser: Callable[[bytes], T], body: bytes, request: HttpRequest) -> T:
    # The XML module is imported by the operations that parse a response, on first use:
    # building requests and presigning never parse XML (start-up time, see _s3_xml).
    from litestar_storages.backends._s3_xml import S3XmlError

    try:
        return parser(body)
    except S3XmlError as exc:
        raise StorageError(
            f"{request.operation}: {exc}", key=request.key, backend=_BACKEND
        ) from exc


async def list_objects_v2(
    sender: Sender,
    ep: S3Endpoint,
    *,
    prefix: str = "",
    delimiter: str | None = None,
    max_keys: int = 1000,
    continuation_token: str | None = None,
) -> ListPage:
    """One page of ListObjectsV2."""
    request = build_list_objects_v2(
        ep,
        prefix=prefix,
        delimiter=delimiter,
        max_keys=max_keys,
        continuation_token=continuation_token,
    )
    response = await sender.send(request)
    from litestar_storages.backends._s3_xml import parse_list_objects_v2

    return _parse(parse_list_objects_v2, response.content, request)


def copy_source(ep: S3Endpoint, key: str) -> str:
    """The ``x-amz-copy-source`` value: ``/bucket/key``, URL-encoded (CopyObject reference)."""
    return f"/{ep.bucket}/{uri_encode_path(key)}"


def build_copy_object(
    ep: S3Endpoint, source: str, destination: str, *, source_etag: str | None = None
) -> HttpRequest:
    """CopyObject: ``PUT /destination`` with ``x-amz-copy-source``; metadata copied.

    ``x-amz-copy-source-if-match`` pins the source version we inspected. S3 may answer 200 and
    still fail ("a 200 OK response can contain either a success or an error"), so the body is
    checked.
    """
    headers = {
        "x-amz-content-sha256": EMPTY_SHA256,
        "x-amz-copy-source": copy_source(ep, source),
        "x-amz-metadata-directive": "COPY",
    }
    if source_etag:
        headers["x-amz-copy-source-if-match"] = f'"{source_etag}"'
    return _object_request(
        ep, "PUT", destination, operation="CopyObject", headers=headers, error_in_body=True
    )


async def copy_object(
    sender: Sender, ep: S3Endpoint, source: str, destination: str, *, source_etag: str | None
) -> CopyResult:
    """CopyObject."""
    request = build_copy_object(ep, source, destination, source_etag=source_etag)
    response = await sender.send(request)
    from litestar_storages.backends._s3_xml import parse_copy_result

    return _parse(parse_copy_result, response.content, request)


def build_upload_part_copy(
    ep: S3Endpoint,
    destination: str,
    source: str,
    *,
    upload_id: str,
    part_number: int,
    first_byte: int,
    last_byte: int,
    source_etag: str | None = None,
) -> HttpRequest:
    """UploadPartCopy: a byte range of ``source`` becomes part ``part_number`` (how objects
    over CopyObject's 5 GiB limit are copied server-side)."""
    headers = {
        "x-amz-content-sha256": EMPTY_SHA256,
        "x-amz-copy-source": copy_source(ep, source),
        "x-amz-copy-source-range": f"bytes={first_byte}-{last_byte}",
    }
    if source_etag:
        headers["x-amz-copy-source-if-match"] = f'"{source_etag}"'
    return _object_request(
        ep,
        "PUT",
        destination,
        operation="UploadPartCopy",
        query=[("partNumber", str(part_number)), ("uploadId", upload_id)],
        headers=headers,
        error_in_body=True,
    )


async def upload_part_copy(
    sender: Sender,
    ep: S3Endpoint,
    destination: str,
    source: str,
    *,
    upload_id: str,
    part_number: int,
    first_byte: int,
    last_byte: int,
    source_etag: str | None = None,
) -> CopyResult:
    """UploadPartCopy."""
    request = build_upload_part_copy(
        ep,
        destination,
        source,
        upload_id=upload_id,
        part_number=part_number,
        first_byte=first_byte,
        last_byte=last_byte,
        source_etag=source_etag,
    )
    response = await sender.send(request)
    from litestar_storages.backends._s3_xml import parse_copy_result

    return _parse(parse_copy_result, response.content, request)


def build_create_multipart_upload(
    ep: S3Endpoint,
    key: str,
    *,
    content_type: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> HttpRequest:
    """CreateMultipartUpload: ``POST /key?uploads`` with the final object's type and metadata."""
    headers = {"x-amz-content-sha256": EMPTY_SHA256, **metadata_headers(metadata)}
    if content_type:
        headers["content-type"] = content_type
    return _object_request(
        ep,
        "POST",
        key,
        operation="CreateMultipartUpload",
        query=[("uploads", "")],
        headers=headers,
    )


async def create_multipart_upload(
    sender: Sender,
    ep: S3Endpoint,
    key: str,
    *,
    content_type: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> str:
    """CreateMultipartUpload; returns the upload id."""
    request = build_create_multipart_upload(ep, key, content_type=content_type, metadata=metadata)
    response = await sender.send(request)
    from litestar_storages.backends._s3_xml import parse_initiate_multipart_upload

    return _parse(parse_initiate_multipart_upload, response.content, request)


def build_upload_part(
    ep: S3Endpoint,
    key: str,
    body: bytes,
    *,
    upload_id: str,
    part_number: int,
    payload_sha256: str,
) -> HttpRequest:
    """UploadPart: ``PUT /key?partNumber=N&uploadId=ID``. Idempotent per part number, so it
    is retried like any PUT."""
    return _object_request(
        ep,
        "PUT",
        key,
        operation="UploadPart",
        query=[("partNumber", str(part_number)), ("uploadId", upload_id)],
        headers={"x-amz-content-sha256": payload_sha256},
        body=body,
    )


async def upload_part(
    sender: Sender,
    ep: S3Endpoint,
    key: str,
    body: bytes,
    *,
    upload_id: str,
    part_number: int,
    payload_sha256: str,
) -> PutResult:
    """UploadPart; the result's ``etag`` names the part in CompleteMultipartUpload."""
    request = build_upload_part(
        ep,
        key,
        body,
        upload_id=upload_id,
        part_number=part_number,
        payload_sha256=payload_sha256,
    )
    response = await sender.send(request)
    return parse_put_object(response.headers)


def build_complete_multipart_upload_request(
    ep: S3Endpoint,
    key: str,
    upload_id: str,
    body: bytes,
    *,
    payload_sha256: str,
    if_none_match: bool = False,
) -> HttpRequest:
    """CompleteMultipartUpload: ``POST /key?uploadId=ID`` with the part list.

    Retried although it is a POST: completing the same parts again is harmless, and S3 itself
    answers some failures with 200 and an ``InternalError`` body, which its documentation says
    to retry.
    """
    headers = {"x-amz-content-sha256": payload_sha256, "content-type": "application/xml"}
    if if_none_match:
        headers["if-none-match"] = "*"
    return _object_request(
        ep,
        "POST",
        key,
        operation="CompleteMultipartUpload",
        query=[("uploadId", upload_id)],
        headers=headers,
        body=body,
        idempotent=True,
        error_in_body=True,
    )


async def complete_multipart_upload(
    sender: Sender,
    ep: S3Endpoint,
    key: str,
    upload_id: str,
    parts: list[tuple[int, str]],
    *,
    if_none_match: bool = False,
) -> str | None:
    """CompleteMultipartUpload; returns the ETag (``None`` when the server leaves it empty,
    as radosgw does)."""
    from litestar_storages.backends._s3_xml import build_complete_multipart_upload

    body = build_complete_multipart_upload(parts)
    request = build_complete_multipart_upload_request(
        ep,
        key,
        upload_id,
        body,
        payload_sha256=hashlib.sha256(body).hexdigest(),
        if_none_match=if_none_match,
    )
    response = await sender.send(request)
    from litestar_storages.backends._s3_xml import parse_complete_multipart_upload

    return _parse(parse_complete_multipart_upload, response.content, request)


def build_abort_multipart_upload(ep: S3Endpoint, key: str, upload_id: str) -> HttpRequest:
    """AbortMultipartUpload: ``DELETE /key?uploadId=ID`` (404 ``NoSuchUpload`` is success:
    aborting twice is not an error)."""
    return _object_request(
        ep,
        "DELETE",
        key,
        operation="AbortMultipartUpload",
        query=[("uploadId", upload_id)],
        headers={"x-amz-content-sha256": EMPTY_SHA256},
        ok_statuses=frozenset({404}),
    )


async def abort_multipart_upload(sender: Sender, ep: S3Endpoint, key: str, upload_id: str) -> None:
    """AbortMultipartUpload."""
    await sender.send(build_abort_multipart_upload(ep, key, upload_id))


def build_list_parts(
    ep: S3Endpoint, key: str, upload_id: str, *, part_number_marker: int | None = None
) -> HttpRequest:
    """ListParts: ``GET /key?uploadId=ID`` (1,000 parts per page)."""
    query = [("uploadId", upload_id)]
    if part_number_marker:
        query.append(("part-number-marker", str(part_number_marker)))
    return _object_request(
        ep,
        "GET",
        key,
        operation="ListParts",
        query=query,
        headers={"x-amz-content-sha256": EMPTY_SHA256},
    )


async def list_parts(
    sender: Sender,
    ep: S3Endpoint,
    key: str,
    upload_id: str,
    *,
    part_number_marker: int | None = None,
) -> PartsPage:
    """One page of ListParts."""
    request = build_list_parts(ep, key, upload_id, part_number_marker=part_number_marker)
    response = await sender.send(request)
    from litestar_storages.backends._s3_xml import parse_list_parts

    return _parse(parse_list_parts, response.content, request)
