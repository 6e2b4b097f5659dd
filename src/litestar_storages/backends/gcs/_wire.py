"""Pure request builders and response parsers of the GCS JSON API (no I/O, no httpx).

Every builder returns an :class:`~litestar_storages._http.request.HttpRequest` (plain data), and
every parser takes plain data (a status, a header mapping, bytes). ``client.py`` pairs them
with one send each. Rules cite the "Cloud Storage JSON API" reference pages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from litestar_storages._http.request import HttpRequest
from litestar_storages._types import StoredFile

__all__ = [
    "GCSStoredFile",
    "ListPage",
    "RewriteProgress",
    "build_objects_compose",
    "build_objects_delete",
    "build_objects_get",
    "build_objects_insert",
    "build_objects_list",
    "build_objects_rewrite",
    "header_values",
    "json_object_path",
    "parse_list_page",
    "parse_object",
    "parse_rfc3339",
    "parse_rewrite",
    "stored_file",
]

JSON_ROOT = "/storage/v1"
UPLOAD_ROOT = "/upload/storage/v1"


@dataclass(frozen=True)
class GCSStoredFile(StoredFile):
    """A ``StoredFile`` with the GCS fields that have no place in the common type.

    Attributes:
        generation: The object's generation (changes on every write of the data).
        metageneration: The metadata generation (changes on every metadata update).
        md5_hash: Base64 MD5 of the data; ``None`` for composite objects.
        crc32c: Base64 CRC32C of the data.
        storage_class: ``STANDARD``, ``NEARLINE``, ...
    """

    generation: int | None = None
    metageneration: int | None = None
    md5_hash: str | None = None
    crc32c: str | None = None
    storage_class: str | None = None


# ----------------------------------------------------------------------------- names and paths
def json_object_path(bucket: str, name: str, *, upload: bool = False) -> str:
    """``/storage/v1/b/{bucket}/o/{object}`` with the object name encoded as one path segment.

    "Encode URI path parts": object names go into the JSON API path percent-encoded, ``/``
    included (``a/b`` becomes ``a%2Fb``), so the name cannot be read as more path segments.
    """
    root = UPLOAD_ROOT if upload else JSON_ROOT
    return f"{root}/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}"


def bucket_path(bucket: str, *, upload: bool = False) -> str:
    root = UPLOAD_ROOT if upload else JSON_ROOT
    return f"{root}/b/{quote(bucket, safe='')}/o"


_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})?$"
)


def parse_rfc3339(value: object) -> datetime | None:
    """An RFC 3339 timestamp (``updated``) as timezone-aware UTC; ``None`` if absent or bad.

    Written out because ``datetime.fromisoformat`` on Python 3.10 rejects ``Z`` and fractions
    that are not 3 or 6 digits long (emulators write 4 or 9).
    """
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.match(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    offset = timedelta(0)
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        offset = sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            micros,
            tzinfo=timezone(offset),
        )
    except ValueError:
        return None
    return moment.astimezone(timezone.utc)


def _int(value: object) -> int | None:
    # The JSON API writes 64-bit integers as strings ("size": "5").
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _string_map(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def stored_file(resource: Mapping[str, Any], key: str) -> GCSStoredFile:
    """The ``StoredFile`` of an object resource whose name, minus the prefix, is ``key``."""
    metadata = resource.get("metadata")
    return GCSStoredFile(
        key=key,
        size=_int(resource.get("size")) or 0,
        content_type=resource.get("contentType") or None,
        etag=(str(resource["etag"]).strip('"') if resource.get("etag") else None),
        last_modified=parse_rfc3339(resource.get("updated") or resource.get("timeCreated")),
        metadata=_string_map(metadata),
        generation=_int(resource.get("generation")),
        metageneration=_int(resource.get("metageneration")),
        md5_hash=resource.get("md5Hash") or None,
        crc32c=resource.get("crc32c") or None,
        storage_class=resource.get("storageClass") or None,
    )


def _load(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body or b"{}")
    except ValueError as exc:
        raise ValueError("GCS answered with a body that is not JSON") from exc
    if not isinstance(document, dict):
        raise ValueError("GCS answered with JSON that is not an object")
    return document


def parse_object(body: bytes, *, prefix: str) -> GCSStoredFile:
    """Parse an object resource (``objects.get``, ``insert``, ``compose``...).

    Args:
        body: The JSON response body.
        prefix: The storage's key prefix, removed from the object name.
    """
    resource = _load(body)
    name = str(resource.get("name", ""))
    return stored_file(resource, name[len(prefix) :] if name.startswith(prefix) else name)


def metadata_resource(
    *,
    name: str | None = None,
    content_type: str | None,
    metadata: Mapping[str, str] | None,
    md5: str | None = None,
    crc32c: str | None = None,
) -> dict[str, Any]:
    resource: dict[str, Any] = {}
    if name is not None:
        resource["name"] = name
    if content_type:
        resource["contentType"] = content_type
    if metadata:
        resource["metadata"] = {str(k): str(v) for k, v in metadata.items()}
    if md5:
        # "Supplying an MD5 hash": the upload fails with 400 if the data does not match.
        resource["md5Hash"] = md5
    if crc32c:
        resource["crc32c"] = crc32c
    return resource


def precondition(if_generation_match: int | None) -> list[tuple[str, str]]:
    # "Request preconditions": ifGenerationMatch=0 succeeds only if no live object exists.
    return [] if if_generation_match is None else [("ifGenerationMatch", str(if_generation_match))]


# ----------------------------------------------------------------------------- objects.insert
def build_objects_insert(
    origin: str,
    bucket: str,
    name: str,
    body: bytes,
    *,
    content_type: str | None,
    metadata: Mapping[str, str] | None,
    boundary: str,
    if_generation_match: int | None = None,
    md5: str | None = None,
    crc32c: str | None = None,
) -> HttpRequest:
    """``objects.insert`` with ``uploadType=multipart``: metadata and data in one request.

    The body is ``multipart/related`` with the JSON resource first and the data second
    ("Perform a multipart upload"). ``boundary`` must not occur in ``body``; callers pass a
    random one.
    """
    resource = metadata_resource(
        name=name, content_type=content_type, metadata=metadata, md5=md5, crc32c=crc32c
    )
    head = (
        f"--{boundary}\r\n"
        "Content-Type: application/json; charset=UTF-8\r\n\r\n"
        f"{json.dumps(resource, separators=(',', ':'))}\r\n"
        f"--{boundary}\r\n"
        f"Content-Type: {content_type or 'application/octet-stream'}\r\n\r\n"
    ).encode()
    payload = b"".join((head, body, f"\r\n--{boundary}--\r\n".encode("ascii")))
    return HttpRequest(
        method="POST",
        origin=origin,
        path=bucket_path(bucket, upload=True),
        query=[("uploadType", "multipart"), *precondition(if_generation_match)],
        headers={"content-type": f'multipart/related; boundary="{boundary}"'},
        body=payload,
        operation="objects.insert",
        key=name,
        # A repeated upload of the same bytes leaves the same state.
        idempotent=True,
    )


# ----------------------------------------------------------------------------- objects.get
def build_objects_get(
    origin: str,
    bucket: str,
    name: str,
    *,
    media: bool = False,
    byte_range: str | None = None,
    ok_statuses: frozenset[int] = frozenset(),
) -> HttpRequest:
    """``objects.get``: the resource, or the data with ``alt=media`` (optionally a range).

    Args:
        byte_range: A ``Range`` header value (``bytes=0-99``), for media requests.
        ok_statuses: Statuses to return instead of raising (404 for ``exists``).
    """
    headers: dict[str, str] = {}
    if byte_range is not None:
        headers["range"] = byte_range
    if media:
        # Ask for the stored bytes: without gzip in Accept-Encoding, GCS would decompress
        # gzip-encoded objects on the fly ("Transcoding of gzip-compressed files").
        headers["accept-encoding"] = "gzip"
    return HttpRequest(
        method="GET",
        origin=origin,
        path=json_object_path(bucket, name),
        query=[("alt", "media")] if media else [],
        headers=headers,
        operation="objects.get",
        key=name,
        ok_statuses=ok_statuses,
    )


# ----------------------------------------------------------------------------- objects.delete
def build_objects_delete(
    origin: str, bucket: str, name: str, *, if_generation_match: int | None = None
) -> HttpRequest:
    """``objects.delete``; 404 is returned, not raised, so deleting is idempotent."""
    return HttpRequest(
        method="DELETE",
        origin=origin,
        path=json_object_path(bucket, name),
        query=precondition(if_generation_match),
        operation="objects.delete",
        key=name,
        ok_statuses=frozenset({404}),
    )


# ----------------------------------------------------------------------------- objects.list
@dataclass(frozen=True)
class ListPage:
    """One page of ``objects.list``.

    Attributes:
        items: The objects' resources, in name order.
        prefixes: Common prefixes (with a ``delimiter``), in name order.
        next_page_token: The token of the next page, or ``None`` on the last page.
    """

    items: list[dict[str, Any]] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    next_page_token: str | None = None


def build_objects_list(
    origin: str,
    bucket: str,
    *,
    prefix: str = "",
    page_token: str | None = None,
    max_results: int | None = None,
    delimiter: str | None = None,
) -> HttpRequest:
    """``objects.list``: at most ``max_results`` (GCS caps pages at 1000) from ``page_token``."""
    query: list[tuple[str, str]] = []
    if prefix:
        query.append(("prefix", prefix))
    if delimiter:
        query.append(("delimiter", delimiter))
    if max_results is not None:
        query.append(("maxResults", str(max_results)))
    if page_token:
        query.append(("pageToken", page_token))
    return HttpRequest(
        method="GET",
        origin=origin,
        path=bucket_path(bucket),
        query=query,
        operation="objects.list",
    )


def parse_list_page(body: bytes) -> ListPage:
    """Parse an ``objects.list`` response (``items``, ``prefixes``, ``nextPageToken``)."""
    document = _load(body)
    items = [item for item in document.get("items") or [] if isinstance(item, dict)]
    prefixes = [str(p) for p in document.get("prefixes") or []]
    token = document.get("nextPageToken") or None
    return ListPage(items=items, prefixes=prefixes, next_page_token=token)


# ----------------------------------------------------------------------------- objects.rewrite
@dataclass(frozen=True)
class RewriteProgress:
    """One ``objects.rewrite`` response.

    Attributes:
        done: Whether the copy is complete.
        rewrite_token: Pass to the next call while not done.
        resource: The destination's resource once done.
        bytes_rewritten: ``totalBytesRewritten`` so far.
        object_size: ``objectSize``.
    """

    done: bool
    rewrite_token: str | None
    resource: dict[str, Any] | None
    bytes_rewritten: int = 0
    object_size: int = 0


def build_objects_rewrite(
    origin: str,
    bucket: str,
    source: str,
    destination: str,
    *,
    rewrite_token: str | None = None,
    max_bytes_per_call: int | None = None,
) -> HttpRequest:
    """``objects.rewrite`` within one bucket; an empty body keeps the source's metadata.

    Large copies (across locations or storage classes) take several calls: repeat with the
    ``rewriteToken`` of the previous response until ``done`` ("Objects: rewrite").
    """
    query: list[tuple[str, str]] = []
    if rewrite_token:
        query.append(("rewriteToken", rewrite_token))
    if max_bytes_per_call is not None:
        query.append(("maxBytesRewrittenPerCall", str(max_bytes_per_call)))
    src = json_object_path(bucket, source)
    dst = f"/b/{quote(bucket, safe='')}/o/{quote(destination, safe='')}"
    return HttpRequest(
        method="POST",
        origin=origin,
        path=f"{src}/rewriteTo{dst}",
        query=query,
        headers={"content-type": "application/json"},
        body=b"{}",
        operation="objects.rewrite",
        key=source,
        idempotent=True,  # the destination ends up the same however often it runs
    )


def parse_rewrite(body: bytes) -> RewriteProgress:
    """Parse an ``objects.rewrite`` response."""
    document = _load(body)
    resource = document.get("resource")
    return RewriteProgress(
        done=bool(document.get("done")),
        rewrite_token=document.get("rewriteToken") or None,
        resource=resource if isinstance(resource, dict) else None,
        bytes_rewritten=_int(document.get("totalBytesRewritten")) or 0,
        object_size=_int(document.get("objectSize")) or 0,
    )


# ----------------------------------------------------------------------------- objects.compose
MAX_COMPOSE_SOURCES = 32
"""``objects.compose`` takes 1 to 32 source objects per call."""


def build_objects_compose(
    origin: str,
    bucket: str,
    destination: str,
    sources: Sequence[tuple[str, int | None]],
    *,
    content_type: str | None,
    metadata: Mapping[str, str] | None,
    if_generation_match: int | None = None,
) -> HttpRequest:
    """``objects.compose``: concatenate ``sources`` (name, expected generation) into one object.

    A source's generation, when given, becomes its ``objectPreconditions.ifGenerationMatch``,
    so a part replaced since it was uploaded fails the call instead of being used.
    """
    if not 1 <= len(sources) <= MAX_COMPOSE_SOURCES:
        raise ValueError(f"compose takes 1 to {MAX_COMPOSE_SOURCES} sources, not {len(sources)}")
    source_objects: list[dict[str, Any]] = []
    for name, generation in sources:
        item: dict[str, Any] = {"name": name}
        if generation is not None:
            item["objectPreconditions"] = {"ifGenerationMatch": str(generation)}
        source_objects.append(item)
    document = {
        "sourceObjects": source_objects,
        "destination": metadata_resource(content_type=content_type, metadata=metadata),
    }
    return HttpRequest(
        method="POST",
        origin=origin,
        path=f"{json_object_path(bucket, destination)}/compose",
        query=precondition(if_generation_match),
        headers={"content-type": "application/json"},
        body=json.dumps(document, separators=(",", ":")).encode(),
        operation="objects.compose",
        key=destination,
        # Same sources, same result; but a create-only compose that succeeded once would
        # fail its retry with 412, so it is not retried after an ambiguous failure.
        idempotent=if_generation_match is None,
    )


def header_values(headers: Any, name: str) -> Iterable[str]:
    """Every value of a (possibly repeated) header from an httpx-like or plain mapping."""
    get_list = getattr(headers, "get_list", None)
    if callable(get_list):
        return list(get_list(name))
    value = headers.get(name)
    return [] if value is None else [value]
