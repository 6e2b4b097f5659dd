"""Request plumbing shared by the Blob service operations in ``client.py``.

Where the container is (:class:`BlobLocation`, which also appends a SAS to every request), the
response head parsers read (:class:`ResponseHead`), the error parser the shared send loop calls,
metadata headers, and the block ids of multipart uploads. Pure; httpx is only a type here.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from litestar_storages._http.request import HttpRequest, encode_query
from litestar_storages._wire import parse_http_date, unquote_etag
from litestar_storages.exceptions import StorageConfigurationError
from litestar_storages.signing._canonical import uri_encode

if TYPE_CHECKING:
    import httpx

    from litestar_storages._http.errors import ProviderError

__all__ = [
    "DEFAULT_CONTENT_TYPE",
    "BlobLocation",
    "ResponseHead",
    "block_id",
    "head_of",
    "header_int",
    "metadata_from",
    "metadata_headers",
    "parse_block_id",
    "parse_error",
    "parse_http_date",
    "unquote_etag",
]

DEFAULT_CONTENT_TYPE = "application/octet-stream"
"""What the service stores when a write names no content type ("Put Blob": Content-Type)."""

_META = "x-ms-meta-"
_UNRESERVED = re.compile(r"[A-Za-z0-9._~/-]*\Z")  # RFC 3986 unreserved characters and "/"


# "Naming and referencing containers, blobs, and metadata": metadata names are C# identifiers.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class BlobLocation:
    """Where the container is and how every request to it is authorised by query string.

    Attributes:
        origin: ``scheme://host[:port]``.
        base_path: The account path of path-style endpoints (``/devstoreaccount1``), else ``""``.
        container: The container name.
        auth_query: SAS pairs appended to every request (empty with SharedKey).
    """

    origin: str
    base_path: str
    container: str
    auth_query: tuple[tuple[str, str], ...] = ()

    @property
    def container_path(self) -> str:
        """``/[account/]container``."""
        return f"{self.base_path}/{self.container}"

    def blob_path(self, name: str) -> str:
        """The wire path of a blob: the name percent-encoded once, ``/`` kept ("Naming and
        referencing containers, blobs, and metadata": reserved URL characters are escaped)."""
        if _UNRESERVED.match(name):  # nothing to escape (most names): skip the encoder
            return f"{self.container_path}/{name}"
        return f"{self.container_path}/{uri_encode(name, safe='/')}"

    def blob_url(self, name: str, query: Sequence[tuple[str, str]] = ()) -> str:
        """The blob's URL, with ``query`` (already unencoded pairs) appended."""
        url = f"{self.origin}{self.blob_path(name)}"
        return f"{url}?{encode_query(list(query))}" if query else url

    def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        key: str | None,
        query: Iterable[tuple[str, str]] = (),
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        idempotent: bool | None = None,
    ) -> HttpRequest:
        """An ``HttpRequest`` on this account, with the SAS (if any) appended to its query."""
        all_headers = dict(headers or {})
        if body is not None:
            # SharedKey signs Content-Length, so it is set here rather than left to httpx.
            all_headers["content-length"] = str(len(body))
        return HttpRequest(
            method=method,
            origin=self.origin,
            path=path,
            query=[*query, *self.auth_query],
            headers=all_headers,
            body=body,
            operation=operation,
            key=key,
            idempotent=idempotent,
        )


@dataclass(frozen=True)
class ResponseHead:
    """A response's status and headers (names as sent, looked up case-insensitively)."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()

    def get(self, name: str) -> str | None:
        """The first value of header ``name``."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None


def head_of(response: httpx.Response) -> ResponseHead:
    """The :class:`ResponseHead` of an httpx response, keeping header names' case."""
    return ResponseHead(
        response.status_code,
        tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw),
    )


def parse_error(status: int, headers: httpx.Headers, body: bytes) -> ProviderError | None:
    """The Blob service's ``ErrorParser`` for the shared send loop.

    The code comes from the ``<Error>`` body, or from ``x-ms-error-code`` for bodiless answers
    (HEAD); ``x-ms-request-id`` identifies the request ("Status and error codes").
    """
    from litestar_storages._http.errors import ProviderError

    if status < 300:
        return None
    from litestar_storages.backends.azure._xml import parse_error_body

    parsed = parse_error_body(body)
    code = (parsed.code if parsed else None) or headers.get("x-ms-error-code")
    return ProviderError(
        status,
        code,
        parsed.message if parsed else None,
        request_id=headers.get("x-ms-request-id"),
        details=parsed.details if parsed else None,
    )


# --------------------------------------------------------------------------- shared pieces
def metadata_headers(metadata: Mapping[str, str] | None, *, key: str | None) -> dict[str, str]:
    """``x-ms-meta-<name>`` headers, checked against the service's rules.

    Raises:
        StorageConfigurationError: A name is not a C# identifier, or a value is not printable
            ASCII (HTTP header values cannot carry it unencoded).
    """
    headers = {}
    for name, value in (metadata or {}).items():
        if not isinstance(name, str) or not _IDENTIFIER.match(name):
            raise StorageConfigurationError(
                f"metadata name {name!r} is not allowed on Azure (letters, digits and '_', "
                "not starting with a digit)",
                key=key,
                backend="azure",
            )
        if not isinstance(value, str) or not all(" " <= ch <= "~" for ch in value):
            raise StorageConfigurationError(
                f"metadata value of {name!r} must be printable ASCII on Azure",
                key=key,
                backend="azure",
            )
        headers[f"{_META}{name}"] = value
    return headers


def metadata_from(head: ResponseHead) -> dict[str, str]:
    return {k[len(_META) :]: v for k, v in head.headers if k.lower().startswith(_META)}


def header_int(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


def block_id(upload_id: str, part_number: int) -> str:
    """The block id of one part: base64 of ``<upload id>:<part, 5 digits>``.

    "Put Block": an id is base64 of at most 64 bytes, and all ids of one blob have the same
    length. The fixed-width form (38 bytes, 52 base64 characters) keeps every id of every
    upload equally long, and the upload id keeps concurrent uploads to one blob apart.

    Raises:
        StorageConfigurationError: ``upload_id`` is not one of ours, or the part is out of range.
    """
    if not _UPLOAD_ID.match(upload_id):
        raise StorageConfigurationError(
            f"not an Azure upload id of this library: {upload_id!r}", backend="azure"
        )
    if not 1 <= part_number <= 99_999:
        raise StorageConfigurationError(f"part number {part_number} out of range", backend="azure")
    return base64.b64encode(f"{upload_id}:{part_number:05d}".encode("ascii")).decode("ascii")


def parse_block_id(value: str) -> tuple[str, int] | None:
    """``(upload id, part number)`` of a block id made by :func:`block_id`, else ``None``."""
    try:
        raw = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    upload_id, sep, number = raw.partition(":")
    if not sep or not _UPLOAD_ID.match(upload_id) or len(number) != 5 or not number.isdigit():
        return None
    return upload_id, int(number)
