"""Serving stored objects from Litestar handlers: streamed downloads and presigned redirects.

``file_response`` answers a ``GET``/``HEAD`` the way a static file server would (RFC 9110):
``Content-Type``, ``Content-Length``, a quoted ``ETag``, ``Last-Modified``,
``Content-Disposition`` (RFC 6266, ``filename*`` for non-ASCII names), ``Accept-Ranges``;
``If-None-Match`` / ``If-Modified-Since`` give 304; one ``Range`` gives 206 with
``Content-Range`` (read with the backend's ranged ``get(key, start=, end=)`` when it has one),
an unsatisfiable one 416; ``If-Range`` falls back to the whole object when it no longer matches.

The body is streamed from the storage and the download stream is closed deterministically when
the response ends, fails or the client disconnects, so no connection or file handle waits for
garbage collection.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import unicodedata
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import quote

import anyio
from litestar.response import Redirect, Response, Stream
from litestar.response.streaming import ASGIStreamingResponse

from litestar_storages import Storage, StorageIntegrityError, StoredFile

if TYPE_CHECKING:
    from litestar import Litestar, Request
    from litestar.background_tasks import BackgroundTask, BackgroundTasks
    from litestar.datastructures import Cookie
    from litestar.enums import MediaType
    from litestar.response.base import ASGIResponse
    from litestar.types import Receive, Scope, Send, TypeEncodersMap

__all__ = ["content_disposition", "file_response", "parse_range", "presigned_redirect"]

Disposition = Literal["attachment", "inline"]

_RFC5987_SAFE = "!#$&+-.^_`|~"
"""attr-char of RFC 5987 besides letters and digits: left unescaped in ``filename*``."""


class Unsatisfiable(Exception):
    """The ``Range`` header asks only for bytes the object does not have (416)."""


# --------------------------------------------------------------------------- pure helpers
def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The single byte range a ``Range`` header asks for, as ``(first, last)`` inclusive.

    ``None`` means "send the whole object": no header, another unit, a syntax error or several
    ranges (RFC 9110 section 14.2 lets a server ignore ``Range``; multipart/byteranges
    responses are not produced). ``last`` is clamped to the object's end.

    Raises:
        Unsatisfiable: Every requested range starts beyond the end (or the object is empty).
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    first_text, last_text = first_text.strip(), last_text.strip()
    if not dash or not _is_digits(first_text or "0") or not _is_digits(last_text or "0"):
        return None
    if not first_text:  # suffix range: the last N bytes
        if not last_text:
            return None
        length = int(last_text)
        if length == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - length), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # invalid range-spec: ignored like any other syntax error
    if first >= size:
        raise Unsatisfiable
    last = int(last_text) if last_text else size - 1
    return first, min(last, size - 1)


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def content_disposition(disposition: Disposition, filename: str) -> str:
    """A ``Content-Disposition`` value: an ASCII ``filename`` plus RFC 6266 ``filename*``."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = "".join(
        "_" if char in '"\\' or not char.isprintable() else char for char in fallback
    ).strip()
    value = f'{disposition}; filename="{fallback or "download"}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe=_RFC5987_SAFE)}"
    return value


def http_date(moment: datetime) -> str:
    """An IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``)."""
    return format_datetime(moment.astimezone(timezone.utc), usegmt=True)


def _parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def _entity_tags(header: str) -> Iterable[str]:
    for item in header.split(","):
        tag = item.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        yield tag.strip('"')


def _not_modified(headers: Mapping[str, str], file: StoredFile) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match wins; If-Modified-Since only without it."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        return file.etag is not None and file.etag in set(_entity_tags(if_none_match))
    since = _parse_http_date(headers.get("if-modified-since"))
    if since is None or file.last_modified is None:
        return False
    return file.last_modified.replace(microsecond=0) <= since


def _range_still_valid(headers: Mapping[str, str], file: StoredFile) -> bool:
    """If-Range (RFC 9110 section 13.1.5): a strong ETag or the exact Last-Modified date."""
    if_range = headers.get("if-range")
    if if_range is None:
        return True
    if_range = if_range.strip()
    if if_range.startswith('"'):
        return file.etag is not None and if_range == f'"{file.etag}"'
    if if_range.startswith("W/"):
        return False  # weak validators never match If-Range
    date = _parse_http_date(if_range)
    return (
        date is not None
        and file.last_modified is not None
        and file.last_modified.replace(microsecond=0) == date
    )


@functools.lru_cache(maxsize=64)
def _has_ranged_get(storage_type: type) -> bool:
    get = getattr(storage_type, "get", None)
    try:
        parameters = inspect.signature(get).parameters  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return "start" in parameters and "end" in parameters


# --------------------------------------------------------------------------- the body
class _ObjectBody:
    """``length`` bytes of an object from ``start``: an async iterator with ``aclose()``.

    Uses the backend's ranged ``get(key, start=, end=)`` (``end`` exclusive, as
    ``MemoryStorage``) when it has one, else skips ``start`` bytes of the full stream. Never
    yields more than ``length`` bytes and closes the download as soon as they are sent.
    """

    def __init__(self, storage: Storage, key: str, start: int, length: int, ranged: bool) -> None:
        self._storage = storage
        self._key = key
        self._start = start
        self._remaining = length
        self._ranged = ranged
        self._to_skip = 0
        self._stream: AsyncIterator[bytes] | None = None
        self._closed = False

    def __aiter__(self) -> _ObjectBody:
        return self

    def _open(self) -> AsyncIterator[bytes]:
        if self._ranged:
            get = cast("Any", self._storage).get
            return cast(
                "AsyncIterator[bytes]",
                get(self._key, start=self._start, end=self._start + self._remaining),
            )
        self._to_skip = self._start
        return self._storage.get(self._key)

    async def __anext__(self) -> bytes:
        if self._closed or self._remaining <= 0:
            await self.aclose()
            raise StopAsyncIteration
        if self._stream is None:
            self._stream = self._open()
        while True:
            try:
                chunk = await anext(self._stream)
            except StopAsyncIteration:
                await self.aclose()
                raise StorageIntegrityError(
                    f"object ended {self._remaining} bytes before its announced size",
                    key=self._key,
                ) from None
            if self._to_skip:
                skipped = min(self._to_skip, len(chunk))
                self._to_skip -= skipped
                chunk = chunk[skipped:]
            if chunk:
                break
        chunk = chunk[: self._remaining]
        self._remaining -= len(chunk)
        if self._remaining == 0:
            await self.aclose()  # release the connection now, not after the last send
        return chunk

    async def aclose(self) -> None:
        """Close the download stream (shielded from cancellation). Idempotent."""
        if self._closed:
            return
        self._closed = True
        stream, self._stream = self._stream, None
        close = getattr(stream, "aclose", None)
        if close is not None:
            with anyio.CancelScope(shield=True):
                await close()


class _ClosingStreamingResponse(ASGIStreamingResponse):
    """Litestar's streaming ASGI response, closing the body however the response ends."""

    __slots__ = ("_body",)

    def __init__(self, *, body: _ObjectBody, **kwargs: Any) -> None:
        super().__init__(iterator=body, **kwargs)
        self._body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._body.aclose()  # HEAD, disconnect, send failure: the body may be open


class StoredObjectStream(Stream):
    """A :class:`~litestar.response.Stream` of a stored object (what ``file_response`` returns
    for 200 and 206); its ASGI response closes the download when the response ends.
    """

    def __init__(
        self, body: _ObjectBody, *, headers: dict[str, str], media_type: str, status_code: int
    ) -> None:
        super().__init__(body, headers=headers, media_type=media_type, status_code=status_code)
        self._object_body = body

    def to_asgi_response(
        self,
        app: Litestar | None,
        request: Request[Any, Any, Any],
        *,
        background: BackgroundTask | BackgroundTasks | None = None,
        cookies: Iterable[Cookie] | None = None,
        encoded_headers: Iterable[tuple[bytes, bytes]] | None = None,
        headers: dict[str, str] | None = None,
        is_head_response: bool = False,
        media_type: MediaType | str | None = None,
        status_code: int | None = None,
        type_encoders: TypeEncodersMap | None = None,
    ) -> ASGIResponse:
        """Build the ASGI response (called by Litestar)."""
        extra: dict[str, Any] = {}
        if encoded_headers is not None:  # deprecated by Litestar; passed on only when used
            extra["encoded_headers"] = encoded_headers
        return _ClosingStreamingResponse(
            body=self._object_body,
            background=self.background or background,
            cookies=itertools.chain(self.cookies, cookies or ()),
            encoding=self.encoding,
            headers={**(headers or {}), **self.headers},
            is_head_response=is_head_response,
            media_type=str(self.media_type or media_type),
            status_code=self.status_code or status_code,
            **extra,
        )


# --------------------------------------------------------------------------- public helpers
async def file_response(
    storage: Storage,
    key: str,
    request: Request[Any, Any, Any] | None = None,
    *,
    filename: str | None = None,
    disposition: Disposition | None = "attachment",
    content_type: str | None = None,
    cache_control: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[Any]:
    """Stream a stored object as the response, honouring ``Range`` and conditional requests.

    Args:
        storage: Where the object is.
        key: Its key.
        request: The current request; without it, ``Range`` and ``If-None-Match`` are ignored
            (they are also ignored for methods other than ``GET`` and ``HEAD``).
        filename: Name offered to the browser; defaults to the key's last segment.
        disposition: ``"attachment"`` (download), ``"inline"`` (display) or ``None`` (no
            ``Content-Disposition`` header). ``attachment`` is the safe default for files
            users uploaded: an HTML or SVG upload shown inline runs in your origin.
        content_type: Overrides the stored content type.
        cache_control: A ``Cache-Control`` value, e.g. ``"private, max-age=3600"``.
        headers: More response headers.

    Returns:
        200 or 206 with the streamed body; 304 (not modified) or 416 (range not satisfiable)
        without one.

    Raises:
        StorageFileNotFoundError: The key does not exist (404 with the plugin's handlers).
    """
    file = await storage.info(key)
    size = file.size
    common: dict[str, str] = {}
    if file.etag:
        common["ETag"] = f'"{file.etag}"'
    if file.last_modified is not None:
        common["Last-Modified"] = http_date(file.last_modified)
    if cache_control:
        common["Cache-Control"] = cache_control

    conditional = request is not None and request.method in ("GET", "HEAD")
    request_headers: Mapping[str, str] = request.headers if request is not None else {}
    if conditional and _not_modified(request_headers, file):
        return Response(b"", status_code=304, headers={**common, **(headers or {})})

    response_headers = {
        **common,
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
    }
    if disposition is not None:
        name = filename if filename is not None else key.rsplit("/", 1)[-1]
        response_headers["Content-Disposition"] = content_disposition(disposition, name)
    response_headers.update(headers or {})

    byte_range = None
    if conditional and _range_still_valid(request_headers, file):
        try:
            byte_range = parse_range(request_headers.get("range"), size)
        except Unsatisfiable:
            response_headers["Content-Range"] = f"bytes */{size}"
            return Response(b"", status_code=416, headers=response_headers, media_type="text/plain")

    media_type = content_type or file.content_type or "application/octet-stream"
    ranged_get = _has_ranged_get(type(storage))
    if byte_range is None:
        start, length, status = 0, size, 200
    else:
        first, last = byte_range
        start, length, status = first, last - first + 1, 206
        response_headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    # Set explicitly so Litestar appends no "; charset=utf-8" to a stored text/* type.
    response_headers["Content-Type"] = media_type
    response_headers["Content-Length"] = str(length)
    body = _ObjectBody(storage, key, start, length, ranged=ranged_get and status == 206)
    return StoredObjectStream(
        body, headers=response_headers, media_type=media_type, status_code=status
    )


async def presigned_redirect(
    storage: Storage,
    key: str,
    *,
    expires_in: timedelta | None = None,
    status_code: Literal[302, 303, 307] = 307,
) -> Redirect:
    """Redirect the client to ``await storage.url(key, expires_in=...)``.

    The object is then downloaded from the provider, not through the application. The
    redirect is temporary and marked ``Cache-Control: no-store``, because the URL expires.

    Args:
        storage: Where the object is (a cloud backend, for a URL a browser can fetch).
        key: Its key.
        expires_in: Lifetime of the presigned URL; the backend's default when ``None``.
        status_code: 307 (default, keeps the method), 302 or 303.
    """
    if status_code not in (302, 303, 307):
        raise ValueError("status_code must be 302, 303 or 307: presigned URLs are temporary")
    url = await storage.url(key, expires_in=expires_in)
    return Redirect(url, status_code=status_code, headers={"Cache-Control": "no-store"})
