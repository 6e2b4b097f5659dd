"""Pure builders and parsers of the GCS XML API multipart upload, and of XML error bodies.

The XML API multipart upload is GCS's S3-compatible one ("XML API multipart uploads"):
initiate with ``POST /bucket/object?uploads``, ``PUT ?partNumber=N&uploadId=ID`` per part (any
order, in parallel), ``POST ?uploadId=ID`` with the part list to complete, ``DELETE
?uploadId=ID`` to abort. Object names go into XML API paths raw: ``/`` stays a ``/`` and every
other reserved character is percent-encoded once.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from urllib.parse import quote
from xml.sax.saxutils import escape

from litestar_storages._http.request import HttpRequest

__all__ = [
    "build_xml_abort",
    "build_xml_complete",
    "build_xml_initiate",
    "build_xml_upload_part",
    "parse_xml_error",
    "parse_xml_initiate",
    "xml_object_path",
]


def xml_object_path(bucket: str, name: str) -> str:
    """``/{bucket}/{object}``: the XML API path, ``/`` in the name kept as a separator."""
    return f"/{quote(bucket, safe='')}/{quote(name, safe='/')}"


def _local(tag: str) -> str:
    # Drop the namespace ("{http://s3.amazonaws.com/doc/2006-03-01/}UploadId" -> "UploadId").
    return tag.rsplit("}", 1)[-1]


def _children(body: bytes) -> dict[str, str]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ValueError("GCS answered with a body that is not XML") from exc
    return {_local(child.tag): (child.text or "") for child in root}


def build_xml_initiate(
    origin: str,
    bucket: str,
    name: str,
    *,
    content_type: str | None,
    metadata: Mapping[str, str] | None,
) -> HttpRequest:
    """Initiate a multipart upload; content type and ``x-goog-meta-*`` are fixed here."""
    headers = {"content-type": content_type or "application/octet-stream"}
    for meta_key, value in (metadata or {}).items():
        headers[f"x-goog-meta-{meta_key}"] = value
    return HttpRequest(
        method="POST",
        origin=origin,
        path=xml_object_path(bucket, name),
        query=[("uploads", "")],
        headers=headers,
        body=b"",
        operation="multipart initiate",
        key=name,
        idempotent=True,  # an unused upload id costs nothing
    )


def parse_xml_initiate(body: bytes) -> str:
    """The ``UploadId`` of an ``InitiateMultipartUploadResult``.

    Raises:
        ValueError: The body has no upload id.
    """
    upload_id = _children(body).get("UploadId", "").strip()
    if not upload_id:
        raise ValueError("multipart initiate answered without an UploadId")
    return upload_id


def build_xml_upload_part(
    origin: str,
    bucket: str,
    name: str,
    *,
    upload_id: str,
    part_number: int,
    body: bytes,
    md5: str | None = None,
) -> HttpRequest:
    """Upload one part; the answer's ``ETag`` header identifies it at completion.

    ``Content-MD5`` (base64), when given, makes GCS reject a part corrupted on the way.
    """
    headers = {"content-md5": md5} if md5 else {}
    return HttpRequest(
        method="PUT",
        origin=origin,
        path=xml_object_path(bucket, name),
        query=[("partNumber", str(part_number)), ("uploadId", upload_id)],
        headers=headers,
        body=body,
        operation="multipart upload part",
        key=name,
    )


def build_xml_complete(
    origin: str,
    bucket: str,
    name: str,
    *,
    upload_id: str,
    parts: Sequence[tuple[int, str]],
    if_generation_match: int | None = None,
) -> HttpRequest:
    """Complete an upload from ``(part_number, etag)`` pairs in ascending part order."""
    items = "".join(
        f"<Part><PartNumber>{number}</PartNumber><ETag>{escape(_quoted(etag))}</ETag></Part>"
        for number, etag in parts
    )
    headers = {"content-type": "application/xml"}
    if if_generation_match is not None:
        headers["x-goog-if-generation-match"] = str(if_generation_match)
    return HttpRequest(
        method="POST",
        origin=origin,
        path=xml_object_path(bucket, name),
        query=[("uploadId", upload_id)],
        headers=headers,
        body=f"<CompleteMultipartUpload>{items}</CompleteMultipartUpload>".encode(),
        operation="multipart complete",
        key=name,
        # Completing twice answers NoSuchUpload the second time; the state is the same.
        idempotent=if_generation_match is None,
    )


def _quoted(etag: str) -> str:
    etag = etag.strip()
    return etag if etag.startswith('"') else f'"{etag}"'


def build_xml_abort(origin: str, bucket: str, name: str, *, upload_id: str) -> HttpRequest:
    """Abort an upload and delete its parts; an unknown upload id (404) is not an error."""
    return HttpRequest(
        method="DELETE",
        origin=origin,
        path=xml_object_path(bucket, name),
        query=[("uploadId", upload_id)],
        operation="multipart abort",
        key=name,
        ok_statuses=frozenset({404}),
    )


def parse_xml_error(body: bytes) -> tuple[str | None, str | None, dict[str, str]]:
    """``(code, message, details)`` of an XML ``<Error>`` body; ``(None, None, {})`` if not one."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None, None, {}
    if _local(root.tag) != "Error":
        return None, None, {}
    fields = {_local(child.tag): (child.text or "").strip() for child in root}
    # StringToSign / CanonicalRequest would echo signed material back: never keep them.
    details = {
        k: v
        for k, v in fields.items()
        if k not in ("Code", "Message", "StringToSign", "CanonicalRequest", "Details")
    }
    return fields.get("Code") or None, fields.get("Message") or None, details
