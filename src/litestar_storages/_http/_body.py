"""Response bodies as httpx streams: one per framing, each owning its connection to the end.

A body that arrived with its head (the usual case for small objects) is a `CompleteBody` and
its connection is already back in the pool when the response is returned. The others read
straight from the socket in large pieces and release the connection the moment the framing
says the body is complete: back to the pool if the framing ended cleanly and both sides allow
keep-alive, closed otherwise (also on error, cancellation, or ``aclose()`` before the end,
since unread bytes would be taken for the next response). Each is a plain async iterator, not
an async generator, so nothing is left for the garbage collector to finalise.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any

import httpx

from litestar_storages._http._connection import BODY_READ_SIZE, Connection
from litestar_storages._http._h1parse import (
    BODY_CHUNKED,
    BODY_LENGTH,
    BODY_NONE,
    ChunkedDecoder,
    ResponseHead,
)

__all__ = ["CompleteBody", "Release", "RequestSource", "make_response"]

Release = Callable[[Connection, bool], None]

RequestSource = httpx.Request | Callable[[], httpx.Request]
"""The request a response answers, or a function that builds it when it is first asked for."""


class _LazyRequestResponse(httpx.Response):
    """An ``httpx.Response`` whose ``request`` is built the first time it is read.

    For requests sent through `FastTransport.send_direct`, which never needed an
    ``httpx.Request`` to reach the wire: parsing the URL and building one costs about as much
    CPU as the rest of a small exchange, and only error reporting ever looks at it. httpx's
    own code reads the private ``_request`` directly in two places: ``raise_for_status``
    (covered below) and the ``request`` it attaches to errors raised while reading the body,
    which these responses leave unset (the library maps those errors itself).
    """

    def __init__(
        self, *args: Any, build_request: Callable[[], httpx.Request], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._build_request = build_request

    @property
    def request(self) -> httpx.Request:
        """The request this response answers (built on first use)."""
        if self._request is None:
            self._request = self._build_request()
        return self._request

    @request.setter
    def request(self, value: httpx.Request) -> None:
        self._request = value

    def raise_for_status(self) -> httpx.Response:
        """As httpx's, which needs the request."""
        _ = self.request
        return super().raise_for_status()


def make_response(
    conn: Connection,
    request: RequestSource,
    head: ResponseHead,
    *,
    reusable: bool,
    read_timeout: float | None,
    release: Release,
) -> httpx.Response:
    """The ``httpx.Response`` for ``head``, its body streaming from ``conn`` (after whatever
    of it already sits in ``conn.rbuf``); ``release(conn, reusable)`` is called exactly once.

    ``request`` is the request it answers, or a function building it on first use.
    """
    rest = conn.rbuf
    conn.rbuf = b""
    stream: httpx.AsyncByteStream
    framing = head.framing
    if framing == BODY_NONE:
        release(conn, reusable and not rest)
        stream = _EMPTY
    elif framing == BODY_LENGTH:
        length = head.content_length
        if len(rest) >= length:
            # The whole body came with the head: the connection is free before we return.
            release(conn, reusable and len(rest) == length)
            stream = CompleteBody(rest if len(rest) == length else rest[:length])
        else:
            stream = _LengthBody(conn, release, reusable, read_timeout, length=length, pending=rest)
    elif framing == BODY_CHUNKED:
        decoder = ChunkedDecoder()
        pieces, tail = decoder.feed(rest) if rest else ([], b"")
        if decoder.done:
            release(conn, reusable and not tail)
            stream = CompleteBody(b"".join(pieces))
        else:
            stream = _ChunkedBody(
                conn, release, reusable, read_timeout, decoder=decoder, pieces=pieces, tail=tail
            )
    else:
        stream = _CloseBody(conn, release, read_timeout, rest)
    extensions = {"http_version": head.http_version, "reason_phrase": head.reason}
    response: httpx.Response
    if isinstance(request, httpx.Request):
        response = httpx.Response(
            head.status, headers=head.headers, stream=stream, request=request, extensions=extensions
        )
    else:
        response = _LazyRequestResponse(
            head.status,
            headers=head.headers,
            stream=stream,
            extensions=extensions,
            build_request=request,
        )
    if head.ascii:
        # Spares httpx decoding every header to guess (public setter; saves ~10% of aread).
        response.headers.encoding = "ascii"
    return response


class CompleteBody(httpx.AsyncByteStream):
    """A body held in full: a response's received with its head (its connection is already
    released), or a request body in memory handed out once per iteration."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data: bytes | None = data

    def __aiter__(self) -> CompleteBody:
        return self

    async def __anext__(self) -> bytes:
        data = self._data
        if data is None:
            raise StopAsyncIteration
        self._data = None
        if not data:
            raise StopAsyncIteration
        return data

    async def aclose(self) -> None:
        self._data = None


_EMPTY = CompleteBody(b"")


class _BodyStream(httpx.AsyncByteStream, abc.ABC):
    """A body still arriving: owns the connection until the end, an error, or ``aclose()``."""

    __slots__ = ("_conn", "_release", "_reusable", "_timeout")

    def __init__(
        self, conn: Connection, release: Release, reusable: bool, timeout: float | None
    ) -> None:
        self._conn: Connection | None = conn
        self._release = release
        self._reusable = reusable
        self._timeout = timeout

    def __aiter__(self) -> _BodyStream:
        return self

    async def __anext__(self) -> bytes:
        conn = self._conn
        if conn is None:
            raise StopAsyncIteration
        try:
            data = await self._read(conn)
        except BaseException:
            # Failed or cancelled mid-body: the connection's state is unknown, so close it.
            self._finish(reuse=False)
            raise
        if data is None:
            raise StopAsyncIteration
        return data

    @abc.abstractmethod
    async def _read(self, conn: Connection) -> bytes | None:
        """The next piece of the body, or ``None`` at its end (one subclass per framing)."""

    def _finish(self, *, reuse: bool) -> None:
        conn = self._conn
        if conn is not None:
            self._conn = None
            self._release(conn, reuse)

    async def aclose(self) -> None:
        # Unread bytes would be taken for the next response: an unfinished body closes.
        self._finish(reuse=False)


class _LengthBody(_BodyStream):
    __slots__ = ("_left", "_length", "_pending")

    def __init__(
        self,
        conn: Connection,
        release: Release,
        reusable: bool,
        timeout: float | None,
        *,
        length: int,
        pending: bytes,
    ) -> None:
        super().__init__(conn, release, reusable, timeout)
        self._length = length
        self._left = length
        self._pending = pending

    async def _read(self, conn: Connection) -> bytes | None:
        if self._pending:
            data = self._pending
            self._pending = b""
        else:
            data = await conn.recv(min(self._left, BODY_READ_SIZE), self._timeout)
            if not data:
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body "
                    f"(received {self._length - self._left} bytes, expected {self._length})"
                )
        self._left -= len(data)
        if self._left <= 0:
            self._finish(reuse=self._reusable)
        return data


class _ChunkedBody(_BodyStream):
    __slots__ = ("_decoder", "_pieces", "_tail")

    def __init__(
        self,
        conn: Connection,
        release: Release,
        reusable: bool,
        timeout: float | None,
        *,
        decoder: ChunkedDecoder,
        pieces: list[bytes],
        tail: bytes,
    ) -> None:
        super().__init__(conn, release, reusable, timeout)
        self._decoder = decoder
        self._pieces = pieces
        self._tail = tail

    async def _read(self, conn: Connection) -> bytes | None:
        while True:
            if self._pieces:
                pieces = self._pieces
                self._pieces = []
                return pieces[0] if len(pieces) == 1 else b"".join(pieces)
            data = await conn.recv(BODY_READ_SIZE, self._timeout)
            if not data:
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body "
                    "(incomplete chunked read)"
                )
            decoder = self._decoder
            self._pieces, self._tail = decoder.feed(self._tail + data if self._tail else data)
            if decoder.done:
                self._finish(reuse=self._reusable and not self._tail)
                pieces = self._pieces
                self._pieces = []
                if not pieces:
                    return None
                return pieces[0] if len(pieces) == 1 else b"".join(pieces)


class _CloseBody(_BodyStream):
    """A body delimited by the server closing the connection (RFC 9112 §6.3 point 8)."""

    __slots__ = ("_pending",)

    def __init__(
        self, conn: Connection, release: Release, timeout: float | None, pending: bytes
    ) -> None:
        super().__init__(conn, release, False, timeout)
        self._pending = pending

    async def _read(self, conn: Connection) -> bytes | None:
        if self._pending:
            data = self._pending
            self._pending = b""
            return data
        data = await conn.recv(BODY_READ_SIZE, self._timeout)
        if data:
            return data
        if conn.ragged_eof:
            # Without close_notify an attacker could have cut the body short undetected.
            raise httpx.RemoteProtocolError(
                "TLS connection closed without close_notify: the body may be truncated"
            )
        self._finish(reuse=False)
        return None
