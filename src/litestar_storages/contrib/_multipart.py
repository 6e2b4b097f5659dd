"""A pull-style reader of ``multipart/form-data`` over the push parser Litestar already uses.

Litestar parses forms with the ``multipart`` package's ``PushMultipartParser``, a sans-I/O
parser: feed it a chunk, it returns the events that chunk completes (a part's headers, slices of
its body, the end of the part). Uploads need the opposite direction: ``storage.put`` *pulls* a
part's body from an async iterator. :class:`MultipartReader` turns one into the other, reading
the request only when the events of the previous chunk are used up, so at most one network chunk
is held in memory, whatever the size of the files.

Nothing here knows about Litestar: the reader takes any async iterator of ``bytes``.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import unquote

__all__ = ["MultipartFormatError", "MultipartLimitError", "MultipartReader", "PartHeaders"]

_END = object()
"""Marks the end of the multipart stream in the event queue."""

# RFC 5987 ext-value: charset'language'percent-encoded-bytes
_FILENAME_STAR = re.compile(
    r""";\s*filename\*\s*=\s*([A-Za-z0-9!#$%&+^_`{}~-]+)'[^']*'([^;\s]+)""", re.IGNORECASE
)


class MultipartFormatError(ValueError):
    """The body is not valid ``multipart/form-data`` (or ended before its closing boundary)."""


class MultipartLimitError(ValueError):
    """A parser limit was reached (too many parts, oversized part headers)."""


@dataclass(frozen=True)
class PartHeaders:
    """The headers of one part.

    Attributes:
        name: The form field name (``""`` when the client sent none).
        filename: The client's filename; ``None`` for a plain form value. ``filename*``
            (RFC 5987, RFC 7578 section 4.2 discourages but permits it) wins over ``filename``.
        content_type: The part's media type, lower-cased, without parameters, or ``None``.
        charset: The ``charset`` parameter of the part's ``Content-Type``, if any.
    """

    name: str
    filename: str | None
    content_type: str | None
    charset: str | None


def _import_parser() -> Any:
    try:
        import multipart  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - installed with Litestar >= 2.14
        raise ImportError(
            "upload handling needs the 'multipart' package (a dependency of Litestar >= 2.14): "
            "pip install 'multipart>=1.2'"
        ) from exc
    return multipart


def _filename_star(headerlist: list[tuple[str, str]]) -> str | None:
    for name, value in headerlist:
        if name.lower() == "content-disposition":
            match = _FILENAME_STAR.search(value)
            if match is None:
                return None
            try:
                return unquote(match.group(2), encoding=match.group(1), errors="strict")
            except (LookupError, UnicodeDecodeError):
                return None
    return None


class MultipartReader:
    """Reads parts one after the other: ``next_part()``, then ``read_chunk()`` until ``None``.

    Args:
        chunks: The request body.
        boundary: The ``boundary`` parameter of the request's ``Content-Type``.
        max_parts: Most parts accepted; more is a :class:`MultipartLimitError`.
    """

    def __init__(self, chunks: AsyncIterator[bytes], boundary: str, *, max_parts: int) -> None:
        multipart = _import_parser()
        self._module = multipart
        self._chunks = chunks
        try:
            self._parser = multipart.PushMultipartParser(boundary, max_segment_count=max_parts)
        except multipart.MultipartError as exc:
            raise MultipartFormatError(f"invalid multipart boundary: {exc}") from None
        self._events: deque[object] = deque()
        self._in_part = False
        self._finished = False

    async def _next_event(self) -> object:
        module = self._module
        while not self._events:
            if self._finished:
                return _END
            chunk = await anext(self._chunks, None)
            if chunk is not None and not chunk:
                continue  # an empty chunk is not the end: only exhaustion is
            try:
                # parse() is a generator that must be exhausted before the next chunk.
                self._events.extend(self._parser.parse(chunk or b""))
            except module.ParserLimitReached as exc:
                raise MultipartLimitError(str(exc)) from None
            except module.MultipartError as exc:
                raise MultipartFormatError(str(exc)) from None
            if self._parser.closed:
                self._finished = True
        return self._events.popleft()

    async def next_part(self) -> PartHeaders | None:
        """Skip what is left of the current part and return the next part's headers.

        Returns ``None`` after the closing boundary.
        """
        while self._in_part:
            await self.read_chunk()
        event = await self._next_event()
        if event is _END:
            return None
        if not isinstance(event, self._module.MultipartSegment):  # pragma: no cover - parser bug
            raise MultipartFormatError("part body without headers")
        self._in_part = True
        filename = _filename_star(event.headerlist)
        return PartHeaders(
            name=event.name or "",
            filename=filename if filename is not None else event.filename,
            content_type=event.content_type or None,
            charset=event.charset or None,
        )

    async def read_chunk(self) -> bytes | None:
        """The next slice of the current part's body; ``None`` at its end (and after it)."""
        if not self._in_part:
            return None
        event = await self._next_event()
        if event is None:
            self._in_part = False
            return None
        if event is _END or isinstance(event, self._module.MultipartSegment):
            self._in_part = False  # pragma: no cover - the parser ends parts before both
            raise MultipartFormatError("multipart body ended inside a part")  # pragma: no cover
        return bytes(cast("bytes | bytearray | memoryview", event))
