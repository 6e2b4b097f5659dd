"""Pure request builders and parsers of resumable upload sessions ("Perform resumable uploads").

A session is started with ``objects.insert?uploadType=resumable`` (metadata and preconditions
fixed there), answered with the session URI in ``Location``; chunks are ``PUT`` to that URI
with a ``Content-Range``, and the same URI answers status queries and cancellation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from litestar_storages._http.request import HttpRequest
from litestar_storages.backends.gcs._wire import bucket_path, metadata_resource, precondition

__all__ = [
    "build_resumable_cancel",
    "build_resumable_chunk",
    "build_resumable_query",
    "build_resumable_start",
    "committed_bytes",
    "session_location",
]


def build_resumable_start(
    origin: str,
    bucket: str,
    name: str,
    *,
    content_type: str | None,
    metadata: Mapping[str, str] | None,
    if_generation_match: int | None = None,
    size: int | None = None,
) -> HttpRequest:
    """Start a resumable upload session ("Perform resumable uploads", step "Initiate").

    The session URI comes back in ``Location``; the object's metadata and preconditions are
    fixed here.
    """
    headers = {"content-type": "application/json; charset=UTF-8"}
    if content_type:
        headers["x-upload-content-type"] = content_type
    if size is not None:
        headers["x-upload-content-length"] = str(size)
    resource = metadata_resource(name=name, content_type=content_type, metadata=metadata)
    return HttpRequest(
        method="POST",
        origin=origin,
        path=bucket_path(bucket, upload=True),
        query=[("uploadType", "resumable"), *precondition(if_generation_match)],
        headers=headers,
        body=json.dumps(resource, separators=(",", ":")).encode(),
        operation="objects.insert (resumable start)",
        key=name,
        idempotent=True,  # an unused session simply expires
    )


def session_location(headers: Mapping[str, str]) -> str:
    """The session URI from the ``Location`` header of a session start.

    Raises:
        ValueError: The header is missing or not an http(s) URL.
    """
    location = headers.get("location") or ""
    parts = urlsplit(location)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("resumable upload start answered without a session Location")
    return location


def _split_url(url: str) -> tuple[str, str]:
    # The session URI is used exactly as given (its query carries the upload id), so the
    # whole "path?query" travels as the request path.
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    return f"{parts.scheme}://{parts.netloc}", target


def build_resumable_chunk(
    session_url: str,
    body: bytes,
    *,
    offset: int,
    total: int | None,
    content_type: str | None = None,
    name: str | None = None,
) -> HttpRequest:
    """Upload ``body`` at ``offset`` of a session; ``total`` is known on the last chunk only.

    ``Content-Range: bytes {first}-{last}/{total or *}``; a last chunk that is empty (the data
    ended on a chunk boundary) is ``bytes */{total}``. The answer is 308 with the committed
    ``Range`` for intermediate chunks, 200/201 with the resource for the last one. Chunk
    requests are not retried by the send loop: after a failure the committed offset is asked
    for and the upload resumes from there.
    """
    origin, path = _split_url(session_url)
    total_text = "*" if total is None else str(total)
    if body:
        content_range = f"bytes {offset}-{offset + len(body) - 1}/{total_text}"
    else:
        content_range = f"bytes */{total_text}"
    headers = {"content-range": content_range}
    if content_type:
        # Ignored by GCS for chunks; some emulators take the object's type from each chunk.
        headers["content-type"] = content_type
    return HttpRequest(
        method="PUT",
        origin=origin,
        path=path,
        headers=headers,
        body=body,
        operation="objects.insert (resumable chunk)",
        key=name,
        idempotent=False,
        ok_statuses=frozenset({308}),
    )


def build_resumable_query(
    session_url: str, *, total: int | None = None, name: str | None = None
) -> HttpRequest:
    """Ask a session how much it has committed: an empty PUT with ``bytes */{total or *}``."""
    origin, path = _split_url(session_url)
    return HttpRequest(
        method="PUT",
        origin=origin,
        path=path,
        headers={"content-range": f"bytes */{'*' if total is None else total}"},
        body=b"",
        operation="objects.insert (resumable status)",
        key=name,
        idempotent=True,
        ok_statuses=frozenset({308}),
    )


def build_resumable_cancel(session_url: str, *, name: str | None = None) -> HttpRequest:
    """Cancel a session: ``DELETE`` answers 499 (and 404/410 if it is already gone)."""
    origin, path = _split_url(session_url)
    return HttpRequest(
        method="DELETE",
        origin=origin,
        path=path,
        operation="objects.insert (resumable cancel)",
        key=name,
        ok_statuses=frozenset({404, 410, 499}),
    )


def committed_bytes(headers: Mapping[str, str]) -> int:
    """Bytes a session has persisted, from a 308's ``Range: bytes=0-N`` (none: 0)."""
    value = headers.get("range") or ""
    match = re.fullmatch(r"\s*bytes=0-(\d+)\s*", value)
    return int(match.group(1)) + 1 if match else 0
