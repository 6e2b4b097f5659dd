"""One HTTP/1.1 connection's byte I/O: a non-blocking socket, TLS through ``ssl.SSLObject``.

Why raw sockets rather than anyio's streams: every read and write here first tries the
non-blocking system call and only waits (``anyio.wait_readable``/``wait_writable``) when it
would block, so a response that is already in the kernel's buffer costs one ``recv`` and no
trip through the event loop; anyio's asyncio socket streams go through a protocol with a
pause/resume pair per read, measured at 10-15% of a large download (../shared/HTTP-TRANSPORT.md).
TLS runs over memory BIOs for the same reason: one large ``recv`` feeds many TLS records.

Timeouts follow httpx: each one bounds a single wait for progress (connect covers DNS, TCP and
the TLS handshake together). A cancel scope is created only when a wait actually happens, since
a fresh scope costs more than the ``recv`` it would guard.

Closing is synchronous and never awaits, so it cannot be interrupted by cancellation; it calls
``anyio.notify_closing`` first, in case another task is parked on the socket.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import socket
import ssl
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import httpx

__all__ = ["BODY_READ_SIZE", "HEAD_READ_SIZE", "Connection", "SendInterrupted", "open_connection"]

# Large reads for bodies (fewer system calls and fewer chunks through httpx); heads are small.
BODY_READ_SIZE = 256 * 1024
HEAD_READ_SIZE = 64 * 1024
_TLS_RAW_READ = 256 * 1024
# RFC 8305 §5: the delay before starting the next connection attempt.
_HAPPY_EYEBALLS_DELAY = 0.25
_HAS_SENDMSG = hasattr(socket.socket, "sendmsg")

Buffer = bytes | bytearray | memoryview


class SendInterrupted(Exception):
    """Raised by `Connection.send` when its ``watch`` says to stop sending."""


def _message(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class Connection:
    """A connected socket, plain or TLS, with optimistic non-blocking reads and writes.

    Attributes:
        key: The pool key ``(scheme, host, port)`` this connection belongs to.
        rbuf: Bytes received but not consumed yet (the parser's leftovers).
        idle_since: The clock reading when the connection went back to the pool.
        reused: The connection has carried a previous request.
        closed: ``close()`` has run.
        ragged_eof: A TLS connection ended without ``close_notify``.
    """

    __slots__ = (
        "_eof",
        "_in",
        "_out",
        "closed",
        "idle_since",
        "key",
        "ragged_eof",
        "rbuf",
        "reused",
        "sock",
        "tls",
    )

    def __init__(
        self,
        sock: socket.socket,
        key: tuple[bytes, bytes, int],
        tls: ssl.SSLObject | None = None,
        bios: tuple[ssl.MemoryBIO, ssl.MemoryBIO] | None = None,
    ) -> None:
        self.sock = sock
        self.key = key
        self.tls = tls
        # The memory BIOs the SSLObject reads from and writes to (unused for plain sockets).
        self._in, self._out = bios if bios is not None else (ssl.MemoryBIO(), ssl.MemoryBIO())
        self.rbuf = b""
        self.idle_since = 0.0
        self.reused = False
        self.closed = False
        self.ragged_eof = False
        self._eof = False

    def __repr__(self) -> str:
        scheme, host, port = self.key
        state = "closed" if self.closed else "open"
        return f"<Connection {scheme.decode()}://{host.decode()}:{port} {state}>"

    # -- waiting ------------------------------------------------------------------------------

    async def wait_readable(self, read_timeout: float | None) -> None:
        """Wait until the socket is readable; ``httpx.ReadTimeout`` after ``read_timeout`` s."""
        try:
            if read_timeout is None:
                await anyio.wait_readable(self.sock)
                return
            with anyio.CancelScope(deadline=anyio.current_time() + read_timeout) as scope:
                await anyio.wait_readable(self.sock)
        except (anyio.ClosedResourceError, OSError) as exc:
            raise httpx.ReadError(f"connection closed while reading: {_message(exc)}") from exc
        if scope.cancelled_caught:
            raise httpx.ReadTimeout(f"no data received within {read_timeout} s")

    async def _wait_writable(self, write_timeout: float | None) -> None:
        try:
            if write_timeout is None:
                await anyio.wait_writable(self.sock)
                return
            with anyio.CancelScope(deadline=anyio.current_time() + write_timeout) as scope:
                await anyio.wait_writable(self.sock)
        except (anyio.ClosedResourceError, OSError) as exc:
            raise httpx.WriteError(f"connection closed while writing: {_message(exc)}") from exc
        if scope.cancelled_caught:
            raise httpx.WriteTimeout(f"could not send within {write_timeout} s")

    # -- reading ------------------------------------------------------------------------------

    async def recv(
        self, size: int, read_timeout: float | None, *, yield_first: bool = False
    ) -> bytes:
        """Receive up to ``size`` bytes; ``b""`` at the end of the stream.

        With ``yield_first``, a socket with nothing to read yet first lets the other tasks run
        once (a plain checkpoint) and tries again before parking on the selector: with other
        requests in flight, the answer has usually arrived by then, and a checkpoint costs a
        fraction of a selector registration plus a timeout scope (measured: 20-25% less CPU
        per small request at concurrency 64; at concurrency 1 it would only add a loop turn).

        Raises:
            httpx.ReadError: the connection failed (reset, TLS error).
            httpx.ReadTimeout: nothing arrived within ``read_timeout`` seconds.
        """
        if self.tls is not None:
            return await self._tls_recv(size, read_timeout)
        sock = self.sock
        while True:
            try:
                return sock.recv(size)
            except BlockingIOError:
                pass
            except OSError as exc:
                raise httpx.ReadError(_message(exc)) from exc
            if yield_first:
                yield_first = False
                await anyio.lowlevel.checkpoint()
                continue
            await self.wait_readable(read_timeout)

    def recv_nowait(self, size: int) -> bytes | None:
        """Receive what is already available without waiting; ``None`` if nothing is.

        Raises:
            httpx.ReadError: the connection failed.
        """
        if self.tls is not None:
            if self._in.pending:
                # Something is buffered; let the TLS layer decide (it may be a partial record).
                return self._tls_read_buffered(size)
            try:
                raw = self.sock.recv(_TLS_RAW_READ)
            except BlockingIOError:
                return None
            except OSError as exc:
                raise httpx.ReadError(_message(exc)) from exc
            if raw:
                self._in.write(raw)
            else:
                self._in.write_eof()
            return self._tls_read_buffered(size)
        try:
            return self.sock.recv(size)
        except BlockingIOError:
            return None
        except OSError as exc:
            raise httpx.ReadError(_message(exc)) from exc

    async def _raw_recv(self, read_timeout: float | None) -> bytes:
        sock = self.sock
        while True:
            try:
                return sock.recv(_TLS_RAW_READ)
            except BlockingIOError:
                pass
            except OSError as exc:
                raise httpx.ReadError(_message(exc)) from exc
            await self.wait_readable(read_timeout)

    def _tls_read_buffered(self, size: int) -> bytes | None:
        """Decrypt what the incoming BIO holds: bytes, ``b""`` at EOF, ``None`` if incomplete."""
        assert self.tls is not None
        if self._eof:
            return b""
        parts: list[bytes] = []
        total = 0
        while total < size:
            try:
                data = self.tls.read(size - total)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                # close_notify: a clean end of the stream (OpenSSL reports it only once).
                self._eof = True
                break
            except ssl.SSLEOFError:
                # The transport ended without close_notify: reported as EOF, and the framing
                # layer decides whether the body was complete.
                self.ragged_eof = self._eof = True
                break
            except ssl.SSLError as exc:
                raise httpx.ReadError(_message(exc)) from exc
            if not data:
                # CPython reports a received close_notify as b"", not SSLZeroReturnError.
                self._eof = True
                break
            parts.append(data)
            total += len(data)
        if not parts:
            return b"" if self._eof else None
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def _tls_recv(self, size: int, read_timeout: float | None) -> bytes:
        while True:
            data = self._tls_read_buffered(size)
            if data is not None:
                if self._out.pending:
                    # TLS 1.3 post-handshake messages (KeyUpdate) may need an answer.
                    await self._flush(read_timeout)
                return data
            raw = await self._raw_recv(read_timeout)
            if raw:
                self._in.write(raw)
                continue
            self._in.write_eof()
            data = self._tls_read_buffered(size)
            if data is None:
                # The TLS layer still wants bytes that can never come: a ragged EOF.
                self.ragged_eof = self._eof = True
                return b""
            return data

    # -- writing ------------------------------------------------------------------------------

    async def send(
        self,
        parts: Sequence[Buffer],
        write_timeout: float | None,
        watch: Callable[[], bool] | None = None,
    ) -> None:
        """Send every byte of ``parts`` (one ``sendmsg`` when the socket keeps up).

        ``watch`` is called whenever the socket stops accepting data; if it returns true,
        sending stops with `SendInterrupted` (the server answered early).

        Raises:
            SendInterrupted: ``watch`` returned true.
            httpx.WriteError: the connection failed (reset, broken pipe, TLS error).
            httpx.WriteTimeout: the socket accepted nothing for ``write_timeout`` seconds.
        """
        if self.tls is not None:
            for part in parts:
                self._tls_write(part)
            await self._flush(write_timeout, watch)
            return
        await self._send_raw(parts, write_timeout, watch)

    async def _send_raw(
        self,
        parts: Sequence[Buffer],
        write_timeout: float | None,
        watch: Callable[[], bool] | None = None,
    ) -> None:
        sock = self.sock
        pending: list[Buffer] = [part for part in parts if len(part)]
        while pending:
            try:
                if _HAS_SENDMSG and len(pending) > 1:
                    sent = sock.sendmsg(pending)
                else:
                    sent = sock.send(pending[0])
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                raise httpx.WriteError(_message(exc)) from exc
            while sent and pending:
                first = len(pending[0])
                if sent >= first:
                    sent -= first
                    pending.pop(0)
                else:
                    pending[0] = memoryview(pending[0])[sent:]
                    sent = 0
            if pending:
                if watch is not None and watch():
                    raise SendInterrupted
                await self._wait_writable(write_timeout)

    def _tls_write(self, data: Buffer) -> None:
        assert self.tls is not None
        try:
            self.tls.write(data)
        except ssl.SSLError as exc:
            # With memory BIOs a write only fails for a broken session (renegotiation, which
            # TLS 1.3 removed and clients never initiate, would show up here as well).
            raise httpx.WriteError(_message(exc)) from exc

    async def _flush(
        self, write_timeout: float | None, watch: Callable[[], bool] | None = None
    ) -> None:
        data = self._out.read()
        if data:
            await self._send_raw((data,), write_timeout, watch)

    # -- lifecycle ----------------------------------------------------------------------------

    def is_stale(self) -> bool:
        """Whether an idle connection received anything (an EOF, stray bytes) since its last
        response: one non-blocking system call.

        Over TLS, bytes that turn out to be only TLS messages (a late session ticket) leave
        the connection usable; application data or an end of stream do not.
        """
        if self.rbuf:
            return True
        if self.tls is not None:
            try:
                return self.recv_nowait(1) is not None
            except httpx.ReadError:
                return True
        try:
            self.sock.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            return False
        except OSError:
            return True
        return True

    def close(self) -> None:
        """Close the socket now (best-effort TLS ``close_notify``); never blocks or awaits."""
        if self.closed:
            return
        self.closed = True
        if self.tls is not None:
            with contextlib.suppress(ssl.SSLError, ValueError):
                self.tls.unwrap()
            try:
                data = self._out.read()
                if data:
                    self.sock.send(data)
            except OSError:
                pass
        # Without a running event loop (interpreter shutdown) nobody can be waiting.
        with contextlib.suppress(Exception):
            anyio.notify_closing(self.sock)
        self.sock.close()


# -- connecting ---------------------------------------------------------------------------------


async def open_connection(
    key: tuple[bytes, bytes, int],
    *,
    ssl_context: ssl.SSLContext | None,
    connect_timeout: float | None,
    server_hostname: str | None = None,
) -> Connection:
    """Resolve, connect (happy eyeballs) and, for HTTPS, complete the TLS handshake.

    ``connect_timeout`` bounds the whole of it, as httpx's connect timeout does.

    Raises:
        httpx.ConnectError: resolution, connection or the handshake (or verification) failed.
        httpx.ConnectTimeout: it did not finish within ``connect_timeout`` seconds.
    """
    _scheme, raw_host, port = key
    host = raw_host.decode("ascii")
    sock: socket.socket | None = None
    try:
        with anyio.fail_after(connect_timeout):
            addresses = await _resolve(host, port)
            sock = await _connect_any(addresses)
            if ssl_context is None:
                return Connection(sock, key)
            bios = (ssl.MemoryBIO(), ssl.MemoryBIO())
            tls = ssl_context.wrap_bio(*bios, server_hostname=server_hostname or host)
            conn = Connection(sock, key, tls, bios)
            await _handshake(conn)
            return conn
    except TimeoutError as exc:
        if sock is not None:
            sock.close()
        message = f"could not connect to {host}:{port} within {connect_timeout} s"
        raise httpx.ConnectTimeout(message) from exc
    except (OSError, ssl.SSLError, httpx.ReadError, httpx.WriteError) as exc:
        if sock is not None:
            sock.close()
        raise httpx.ConnectError(_message(exc)) from exc
    except BaseException:
        if sock is not None:
            sock.close()
        raise


async def _handshake(conn: Connection) -> None:
    tls = conn.tls
    assert tls is not None
    while True:
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            await conn._flush(None)
            raw = await conn._raw_recv(None)
            if not raw:
                raise ssl.SSLEOFError("connection closed during the TLS handshake") from None
            conn._in.write(raw)
        else:
            break
    await conn._flush(None)


async def _resolve(host: str, port: int) -> list[tuple[int, int, Any]]:
    """Addresses to try, in RFC 8305 order (families interleaved, the resolver's first first)."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        # An IP literal needs no resolver (which would cost a worker-thread round trip).
        family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        sockaddr: Any = (str(ip), port) if ip.version == 4 else (str(ip), port, 0, 0)
        return [(family, socket.IPPROTO_TCP, sockaddr)]
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: set[Any] = set()
    by_family: dict[int, list[tuple[int, int, Any]]] = {}
    for family, _type, proto, _canon, sockaddr in infos:
        if sockaddr in seen:
            continue
        seen.add(sockaddr)
        by_family.setdefault(int(family), []).append((int(family), proto, sockaddr))
    queues = list(by_family.values())
    ordered: list[tuple[int, int, Any]] = []
    while any(queues):
        for queue in queues:
            if queue:
                ordered.append(queue.pop(0))
    if not ordered:
        raise OSError(f"no addresses found for {host}")
    return ordered


async def _connect_one(family: int, proto: int, sockaddr: Any) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM, proto)
    try:
        sock.setblocking(False)
        err = sock.connect_ex(sockaddr)
        if err in (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN):
            await anyio.wait_writable(sock)
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            raise OSError(err, f"{os.strerror(err)} ({sockaddr[0]}:{sockaddr[1]})")
        # Requests are written in one piece; Nagle would only delay the last segment.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    except BaseException:
        sock.close()
        raise
    return sock


async def _connect_any(addresses: list[tuple[int, int, Any]]) -> socket.socket:
    """Happy eyeballs (RFC 8305): start the next attempt 250 ms later or as soon as one fails."""
    if len(addresses) == 1:
        return await _connect_one(*addresses[0])
    winner: list[socket.socket] = []
    errors: list[OSError] = []

    async def attempt(address: tuple[int, int, Any], failed: anyio.Event) -> None:
        try:
            sock = await _connect_one(*address)
        except OSError as exc:
            errors.append(exc)
            failed.set()
            return
        if winner:
            sock.close()
        else:
            winner.append(sock)
            tg.cancel_scope.cancel()

    async with anyio.create_task_group() as tg:
        for address in addresses:
            failed = anyio.Event()
            tg.start_soon(attempt, address, failed)
            with anyio.move_on_after(_HAPPY_EYEBALLS_DELAY):
                await failed.wait()
    if winner:
        return winner[0]
    if len(errors) == 1:
        raise errors[0]
    raise OSError("all connection attempts failed: " + "; ".join(map(str, errors)))
