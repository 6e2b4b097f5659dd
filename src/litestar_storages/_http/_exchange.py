"""One request and its response over one `Connection`: what h11 and httpcore did for httpx.

The request side builds the head once (rejecting CR, LF and NUL anywhere in it: header
injection and request smuggling), writes bodies framed by ``Content-Length`` or chunked, and
holds a streamed body to its declared length. ``Expect: 100-continue`` sends the head alone and
waits briefly for the go-ahead; a final status that arrives first means the body is not sent
(RFC 9110 §10.1.1). While a body is uploading, a final error status the server sends early
(413, 403...) is noticed whenever the socket stops accepting data, and a write that fails
because the server answered and closed still surfaces that answer (RFC 9112 §9.5: "A client
sending a message body SHOULD monitor the network connection for an error response").

The response side parses the head (1xx skipped, 101 refused) and hands httpx one of the body
streams of `_body`, which owns the connection until the body is complete.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from typing import Any

import anyio
import httpx

from litestar_storages._http._body import Release, RequestSource, make_response
from litestar_storages._http._connection import (
    HEAD_READ_SIZE,
    Connection,
    SendInterrupted,
)
from litestar_storages._http._h1parse import (
    ResponseHead,
    find_head_end,
    parse_head,
)

__all__ = [
    "Progress",
    "RequestHead",
    "Timeouts",
    "build_request_head",
    "exchange",
    "head_from_parts",
]

Timeouts = dict[str, float | None]

_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")
# Header names and methods already validated (they repeat from request to request).
_VALID_TOKENS: set[bytes] = set()
_VALID_TOKENS_MAX = 1024


class RequestHead:
    """The request's head bytes and the framing facts the exchange needs from its headers."""

    __slots__ = ("chunked", "close", "content_length", "data", "expect_continue", "method")

    def __init__(
        self,
        *,
        data: bytes,
        method: bytes,
        content_length: int,
        chunked: bool,
        expect_continue: bool,
        close: bool,
    ) -> None:
        self.data = data
        self.method = method
        self.content_length = content_length
        self.chunked = chunked
        self.expect_continue = expect_continue
        self.close = close


class Progress:
    """How far an exchange got, so the transport can tell whether a retry is safe.

    Attributes:
        head_sent: Some of the request reached the socket.
        body_pulled: A chunk was taken from a streamed (not replayable) body.
        response_started: A byte of the response arrived.
    """

    __slots__ = ("body_pulled", "head_sent", "response_started")

    def __init__(self) -> None:
        self.head_sent = False
        self.body_pulled = False
        self.response_started = False


def _check_token(value: bytes, what: str) -> None:
    if value in _VALID_TOKENS:
        return
    if _TOKEN.fullmatch(value) is None:
        raise httpx.LocalProtocolError(f"invalid {what}: {value[:60]!r}")
    if len(_VALID_TOKENS) < _VALID_TOKENS_MAX:
        _VALID_TOKENS.add(value)


def build_request_head(request: httpx.Request) -> RequestHead:
    """Serialise the request line and headers once, and read the framing from the headers.

    Raises:
        httpx.LocalProtocolError: CR, LF or NUL in the method, target or a header; a header
            name or method that is not a token; unusable framing headers.
    """
    return head_from_parts(request.method, request.url.raw_path or b"/", request.headers.raw)


def head_from_parts(
    method_name: str, target: bytes, raw: Sequence[tuple[bytes, bytes]]
) -> RequestHead:
    """`build_request_head` from the method, the request target and the headers in wire order
    (what ``httpx.Request`` would hold): one set of checks for both ways into the transport.

    Raises:
        httpx.LocalProtocolError: As `build_request_head`.
    """
    try:
        method = method_name.encode("ascii")
    except UnicodeEncodeError:
        raise httpx.LocalProtocolError(f"invalid method: {method_name[:60]!r}") from None
    _check_token(method, "method")
    if b" " in target:
        raise httpx.LocalProtocolError("space in the request target")
    parts: list[bytes] = [method, b" ", target, b" HTTP/1.1\r\n"]
    content_length = -1
    chunked = expect = close = False
    for name, value in raw:
        if name not in _VALID_TOKENS:
            _check_token(name, "header name")
        if len(name) in (6, 10, 14, 17):
            lower = name.lower()
            if lower == b"content-length":
                if not value.isdigit() or (content_length >= 0 and int(value) != content_length):
                    raise httpx.LocalProtocolError(f"invalid Content-Length: {value[:40]!r}")
                content_length = int(value)
            elif lower == b"transfer-encoding":
                if value.strip().lower() != b"chunked":
                    raise httpx.LocalProtocolError("only Transfer-Encoding: chunked is supported")
                chunked = True
            elif lower == b"expect":
                expect = value.strip().lower() == b"100-continue"
            elif lower == b"connection":
                close = b"close" in [t.strip().lower() for t in value.split(b",")]
        parts += (name, b": ", value, b"\r\n")
    parts.append(b"\r\n")
    data = b"".join(parts)
    # Exactly one CRLF per line and no NUL: a CR, LF or NUL inside the method, the target or
    # any header would end a line early or be cut by the server (header injection, smuggling).
    lines = len(raw) + 2
    if data.count(b"\n") != lines or data.count(b"\r") != lines or b"\0" in data:
        raise httpx.LocalProtocolError("CR, LF or NUL in the request line or a header")
    if chunked and content_length >= 0:
        raise httpx.LocalProtocolError("both Content-Length and Transfer-Encoding set")
    return RequestHead(
        data=data,
        method=method,
        content_length=content_length,
        chunked=chunked,
        expect_continue=expect,
        close=close,
    )


def request_body(request: httpx.Request) -> bytes | AsyncIterable[bytes]:
    """The body: ``bytes`` when the request holds it in memory (replayable), else its stream.

    Raises:
        RuntimeError: The body is a synchronous stream (an ``httpx.Client`` request).
    """
    try:
        return request.content
    except httpx.RequestNotRead:
        pass
    if not isinstance(request.stream, httpx.AsyncByteStream):
        raise RuntimeError("the request body is not an async stream")
    return request.stream


# -- reading the response head -------------------------------------------------------------------


def _final_head_in(buf: bytes, method: bytes) -> ResponseHead | None:
    """The first complete non-1xx head in ``buf``, skipping complete 1xx heads; else ``None``."""
    while buf:
        end = find_head_end(buf)
        if end < 0:
            return None
        head = parse_head(buf, end, request_method=method)
        if head.status >= 200:
            return head
        buf = buf[end:]
    return None


async def read_head(
    conn: Connection,
    method: bytes,
    read_timeout: float | None,
    progress: Progress,
    *,
    until_continue: bool = False,
    busy: bool = False,
) -> ResponseHead | None:
    """Read the final response head, skipping 1xx; leftovers stay in ``conn.rbuf``.

    With ``until_continue``, return ``None`` at a ``100 Continue`` instead of skipping it.
    With ``busy`` (other requests in flight), let them run once before waiting for the answer
    (see `Connection.recv`).

    Raises:
        httpx.RemoteProtocolError: a malformed head, a 101, or the server closed first.
        httpx.ReadError, httpx.ReadTimeout: from the connection.
    """
    buf: bytes | bytearray = conn.rbuf
    searched = 0
    while True:
        if buf:
            end = find_head_end(buf, searched)
            if end >= 0:
                data = bytes(buf) if isinstance(buf, bytearray) else buf
                head = parse_head(data, end, request_method=method)
                conn.rbuf = data[end:]
                if head.status >= 200:
                    return head
                if head.status == 101:
                    # A protocol switch would hand the socket to someone else; httpx cannot.
                    raise httpx.RemoteProtocolError("101 Switching Protocols is not supported")
                if until_continue and head.status == 100:
                    return None
                buf = conn.rbuf  # RFC 9110 §15.2: interim responses are skipped
                searched = 0
                continue
            searched = len(buf)
        try:
            data = await conn.recv(HEAD_READ_SIZE, read_timeout, yield_first=busy)
            busy = False
        except BaseException:
            conn.rbuf = bytes(buf)
            raise
        if not data:
            conn.rbuf = bytes(buf)
            if buf:
                raise httpx.RemoteProtocolError("server closed the connection mid-head")
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        progress.response_started = True
        if not buf:
            buf = data
        else:
            if isinstance(buf, bytes):
                buf = bytearray(buf)  # grow in place: a head dribbling in stays O(n)
            buf += data


# -- writing the request -------------------------------------------------------------------------


def _drain_nowait(conn: Connection, progress: Progress) -> None:
    """Move whatever the server has sent into ``conn.rbuf`` without waiting.

    A read error (the server reset the connection) ends it quietly: what arrived before the
    reset is kept, and is usually the answer that explains it.
    """
    while True:
        try:
            data = conn.recv_nowait(HEAD_READ_SIZE)
        except httpx.ReadError:
            return
        if not data:
            return
        progress.response_started = True
        conn.rbuf += data


def _early_response_watch(
    conn: Connection, method: bytes, progress: Progress
) -> Callable[[], bool]:
    """A check for the upload loop: has a final status >= 300 arrived? (Reads, never waits.)"""

    def watch() -> bool:
        _drain_nowait(conn, progress)
        head = _final_head_in(conn.rbuf, method) if conn.rbuf else None
        # curl's rule: an early 2xx lets the upload finish; 3xx and up stop it.
        return head is not None and head.status >= 300

    return watch


async def _send_body(
    conn: Connection,
    head: RequestHead,
    *,
    first: bytes | None,
    body: bytes | None,
    stream: AsyncIterable[bytes] | None,
    write_timeout: float | None,
    progress: Progress,
) -> None:
    """Send the body (and ``first``, the head, if it has not gone yet), framed as declared."""
    watch = _early_response_watch(conn, head.method, progress)
    if body is not None:
        if head.chunked:
            parts: list[Any] = [b"%x\r\n" % len(body), body, b"\r\n0\r\n\r\n"]
            if not body:
                parts = [b"0\r\n\r\n"]
        else:
            if len(body) != max(head.content_length, 0):
                raise httpx.LocalProtocolError("body length differs from Content-Length")
            parts = [body]
        if first is not None:
            parts.insert(0, first)
        await conn.send(parts, write_timeout, watch)
        progress.head_sent = True
        return
    assert stream is not None
    chunks = aiter(stream)
    try:
        await _send_chunks(conn, head, first, chunks, write_timeout, watch, progress)
    finally:
        # Stopping early (an error, an early answer, cancellation) must not leave the body's
        # async generator to the garbage collector (trio's rule; it may hold a file open).
        close = getattr(chunks, "aclose", None)
        if close is not None:
            with anyio.CancelScope(shield=True):
                await close()


async def _send_chunks(  # noqa: PLR0917 - private helper of _send_body
    conn: Connection,
    head: RequestHead,
    first: bytes | None,
    chunks: AsyncIterator[bytes],
    write_timeout: float | None,
    watch: Callable[[], bool],
    progress: Progress,
) -> None:
    sent = 0
    pending = first
    async for chunk in chunks:
        progress.body_pulled = True
        size = len(chunk)
        if not size:
            continue  # an empty chunk would end a chunked body
        if head.chunked:
            parts: list[Any] = [b"%x\r\n" % size, chunk, b"\r\n"]
        else:
            sent += size
            if sent > head.content_length:
                raise httpx.LocalProtocolError(
                    f"request body longer than its Content-Length ({head.content_length})"
                )
            parts = [chunk]
        if pending is not None:
            parts.insert(0, pending)
            pending = None
        await conn.send(parts, write_timeout, watch)
        progress.head_sent = True
    if head.chunked:
        tail: list[bytes] = [b"0\r\n\r\n"]
    elif sent != max(head.content_length, 0):
        raise httpx.LocalProtocolError(
            f"request body shorter ({sent} bytes) than its Content-Length ({head.content_length})"
        )
    else:
        tail = []
    if pending is not None:
        tail.insert(0, pending)
    if tail:
        await conn.send(tail, write_timeout, watch)
        progress.head_sent = True


async def exchange(
    conn: Connection,
    request: RequestSource,
    head: RequestHead,
    content: bytes | AsyncIterable[bytes],
    *,
    timeouts: Timeouts,
    release: Release,
    progress: Progress,
    continue_timeout: float,
    busy: bool = False,
) -> httpx.Response:
    """Send ``head`` and ``content`` on ``conn`` and return the response, streaming its body.

    ``request`` is the ``httpx.Request`` the response answers, or a function building it
    (see `make_response`). The connection belongs to the returned response's stream, which
    calls ``release(conn, reusable)`` exactly once: when the body is complete (or at once for a
    body already received with the head), or when it fails or is closed early. If this
    function raises, ``release`` has not been called and the caller closes ``conn``.

    Raises:
        httpx.LocalProtocolError: the request or its body does not match its framing.
        httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.ReadTimeout,
            httpx.WriteTimeout: from the network or the server.
    """
    write_timeout = timeouts.get("write")
    read_timeout = timeouts.get("read")
    method = head.method
    body: bytes | None = None
    stream: AsyncIterable[bytes] | None = None
    if isinstance(content, bytes):
        body = content
    else:
        stream = content
    body_sent = True
    final: ResponseHead | None = None
    if body is not None and not body and not head.chunked:
        if head.content_length > 0:
            raise httpx.LocalProtocolError("request body shorter than its Content-Length")
        await conn.send((head.data,), write_timeout)
        progress.head_sent = True
    else:
        first: bytes | None = head.data
        if head.expect_continue:
            await conn.send((head.data,), write_timeout)
            progress.head_sent = True
            first = None
            try:
                final = await read_head(
                    conn, method, continue_timeout, progress, until_continue=True
                )
            except httpx.ReadTimeout:
                final = None  # RFC 9110 §10.1.1: no answer in time, send the body anyway
        if final is None:
            try:
                await _send_body(
                    conn,
                    head,
                    first=first,
                    body=body,
                    stream=stream,
                    write_timeout=write_timeout,
                    progress=progress,
                )
            except SendInterrupted:
                body_sent = False
            except (httpx.WriteError, httpx.WriteTimeout):
                # The server may have answered (413, 403...) and stopped reading: surface
                # its answer rather than a bare write error if one is there.
                final = await _recover_early_response(conn, method, read_timeout, progress)
                if final is None:
                    raise
                body_sent = False
        else:
            body_sent = False
    if final is None:
        final = await read_head(conn, method, read_timeout, progress, busy=busy)
    assert final is not None
    reusable = final.keep_alive and not head.close and body_sent
    return make_response(
        conn, request, final, reusable=reusable, read_timeout=read_timeout, release=release
    )


async def _recover_early_response(
    conn: Connection, method: bytes, read_timeout: float | None, progress: Progress
) -> ResponseHead | None:
    """After a failed write: the server's answer, if a whole final head has arrived."""
    _drain_nowait(conn, progress)
    try:
        if _final_head_in(conn.rbuf, method) is None:
            return None
        return await read_head(conn, method, read_timeout, progress)
    except httpx.HTTPError:
        return None
