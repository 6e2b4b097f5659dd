"""The S3 wire details shared by the operations: error bodies, user metadata headers, dates.

Pure functions; the ``email`` package (RFC 2047 and HTTP dates) is imported on first use only.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from litestar_storages._http.errors import ProviderError
from litestar_storages.exceptions import StorageConfigurationError

__all__ = [
    "REQUEST_ID_HEADERS",
    "decode_metadata_value",
    "encode_metadata_value",
    "metadata_headers",
    "parse_s3_error",
]

REQUEST_ID_HEADERS = ("x-amz-request-id", "x-amz-id-2")
"""S3's request id, then its extended host id (both asked for by AWS support)."""

META = "x-amz-meta-"
_BACKEND = "s3"


# ---------------------------------------------------------------------- errors
def parse_s3_error(status: int, headers: Mapping[str, str], body: bytes) -> ProviderError | None:
    """Read an S3 error response (the ``ErrorParser`` of the S3 backend).

    HEAD responses carry no body, so only the status is known for them. For 2xx responses
    (CompleteMultipartUpload, CopyObject, UploadPartCopy) a body whose root is ``<Error>`` is an
    error; anything else means success.
    """
    from litestar_storages.backends._s3_xml import parse_error  # on the first error only

    fields = parse_error(body)
    if fields is None:
        if status < 300:
            return None
        details = {}
    else:
        details = {k: v for k, v in fields.items() if k not in ("Code", "Message", "RequestId")}
    bucket_region = headers.get("x-amz-bucket-region")
    if bucket_region:
        details["BucketRegion"] = bucket_region
    return ProviderError(
        status,
        fields.get("Code") if fields else None,
        fields.get("Message") if fields else None,
        request_id=(fields or {}).get("RequestId") or headers.get("x-amz-request-id"),
        details=details,
    )


# ---------------------------------------------------------------------- metadata
def encode_metadata_value(value: str) -> str:
    """A metadata value as an HTTP header value: non-ASCII text RFC 2047-encoded.

    S3 stores user metadata as headers; it documents that non-ASCII values are returned RFC 2047
    encoded, so that is also how they are sent.
    """
    if value.isascii() and value.isprintable():
        return value
    return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8")).decode("ascii") + "?="


def decode_metadata_value(value: str) -> str:
    """Undo :func:`encode_metadata_value` (and S3's own RFC 2047 encoding)."""
    if "=?" not in value:
        return value
    from email.header import decode_header, make_header  # rare: imported when needed

    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, binascii.Error):
        return value


def metadata_headers(metadata: Mapping[str, str] | None) -> dict[str, str]:
    headers = {}
    for name, value in (metadata or {}).items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError("metadata keys and values must be str")
        lowered = name.strip().lower()
        # Header field names are RFC 9110 tokens; S3 lower-cases them.
        if not lowered or not all(c.isascii() and (c.isalnum() or c in "-_.") for c in lowered):
            raise StorageConfigurationError(
                f"metadata key {name!r} must be ASCII letters, digits, '-', '_' or '.'",
                backend=_BACKEND,
            )
        headers[META + lowered] = encode_metadata_value(value)
    return headers
