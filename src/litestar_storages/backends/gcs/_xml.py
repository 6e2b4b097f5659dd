"""Pure builders and parsers of the GCS XML API multipart upload, and of XML error bodies.

The XML API multipart upload is GCS's S3-compatible one ("XML API multipart uploads"):
initiate with ``POST /bucket/object?uploads``, ``PUT ?partNumber=N&uploadId=ID`` per part (any
order, in parallel), ``POST ?uploadId=ID`` with the part list to complete, ``DELETE
?uploadId=ID`` to abort. Object names go into XML API paths raw: ``/`` stays a ``/`` and every
other reserved character is percent-encoded once. The XML documents are S3's, built and parsed
by the neutral ``backends._s3_xml`` module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

from litestar_storages._http.request import HttpRequest
from litestar_storages.backends._s3_xml import (
    build_complete_multipart_upload,
    parse_error,
    parse_initiate_multipart_upload,
)

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
    return parse_initiate_multipart_upload(body).strip()


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
    headers = {"content-type": "application/xml"}
    if if_generation_match is not None:
        headers["x-goog-if-generation-match"] = str(if_generation_match)
    return HttpRequest(
        method="POST",
        origin=origin,
        path=xml_object_path(bucket, name),
        query=[("uploadId", upload_id)],
        headers=headers,
        body=build_complete_multipart_upload(list(parts)),
        operation="multipart complete",
        key=name,
        # Completing twice answers NoSuchUpload the second time; the state is the same.
        idempotent=if_generation_match is None,
    )


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
    """``(code, message, details)`` of an XML ``<Error>`` body; ``(None, None, {})`` if not one.

    Fields that echo signed material (``StringToSign``...) are dropped by ``_s3_xml``.
    """
    fields = parse_error(body)
    if fields is None:
        return None, None, {}
    details = {k: v for k, v in fields.items() if k not in ("Code", "Message")}
    return fields.get("Code") or None, fields.get("Message") or None, details
