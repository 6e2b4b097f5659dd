"""A scripted byte-level HTTP server on loopback, for driving the transport's edge cases.

Each accepted connection runs a *script* (a plain function) in its own thread with a blocking
socket, so the server is independent of the event loop under test (asyncio or trio) and can
misbehave exactly as a test needs: split a response at any byte, stall, close mid-body, reset.
Exceptions raised by scripts are collected and re-raised when the server stops.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

__all__ = ["Received", "ScriptedServer", "ServerConn", "ok_response"]


def ok_response(body: bytes = b"hello", *, extra: bytes = b"") -> bytes:
    """A plain ``200 OK`` with a ``Content-Length`` body."""
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


@dataclass
class Received:
    """A request as the server read it."""

    method: bytes
    target: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    raw_head: bytes

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class ServerConn:
    """One accepted connection, as seen by a script."""

    sock: socket.socket
    index: int
    buffer: bytes = b""
    requests: list[Received] = field(default_factory=list)

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buffer += data
        return True

    def read_head(self) -> Received | None:
        """Read a request head (no body); ``None`` if the client closed first."""
        while b"\r\n\r\n" not in self.buffer:
            try:
                if not self._fill():
                    return None
            except (ConnectionError, OSError):
                return None
        raw, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = raw.split(b"\r\n")
        method, target, _version = lines[0].split(b" ", 2)
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.append((name, value.strip()))
        return Received(method, target, headers, b"", raw)

    def read_exact(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not self._fill():
                raise EOFError(f"client closed after {len(self.buffer)} of {size} bytes")
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def read_line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            if not self._fill():
                raise EOFError("client closed mid-line")
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def read_body(self, received: Received) -> bytes:
        """Read the body that ``received`` announced (Content-Length or chunked)."""
        if (received.header(b"transfer-encoding") or b"").lower() == b"chunked":
            body = b""
            while True:
                size = int(self.read_line().split(b";")[0], 16)
                if size == 0:
                    while self.read_line():
                        pass
                    break
                body += self.read_exact(size)
                assert self.read_exact(2) == b"\r\n"
            received.body = body
        else:
            received.body = self.read_exact(int(received.header(b"content-length") or b"0"))
        return received.body

    def read_request(self) -> Received | None:
        """Read a whole request (head and body); ``None`` if the client closed first."""
        received = self.read_head()
        if received is None:
            return None
        self.read_body(received)
        self.requests.append(received)
        return received

    def send(
        self, data: bytes, *, pieces: int | list[int] | None = None, pause: float = 0.0
    ) -> None:
        """Send ``data``; with ``pieces``, in writes split at those offsets (or N equal parts)."""
        if pieces is None:
            self.sock.sendall(data)
            return
        if isinstance(pieces, int):
            step = max(1, -(-len(data) // pieces))
            cuts = list(range(step, len(data), step))
        else:
            cuts = [cut for cut in pieces if 0 < cut < len(data)]
        start = 0
        for cut in [*cuts, len(data)]:
            self.sock.sendall(data[start:cut])
            start = cut
            if pause and cut < len(data):
                time.sleep(pause)

    def wait_closed(self, timeout: float = 5.0) -> None:
        """Block until the client closes (or resets) the connection."""
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(65536):
                pass
        except OSError:
            pass

    def reset(self) -> None:
        """Close with an RST instead of a FIN (``SO_LINGER`` 0)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


Script = Callable[[ServerConn], None]


class ScriptedServer:
    """Run ``script`` for every connection accepted on ``127.0.0.1``.

    Attributes:
        port: The listening port.
        accepted: How many connections were accepted.
        conns: The connections, in accept order.
    """

    def __init__(
        self, script: Script, *, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1"
    ) -> None:
        self._script = script
        self._tls = tls
        self._listener = socket.create_server((host, 0), backlog=128)
        self.port: int = self._listener.getsockname()[1]
        self.host = host
        self.accepted = 0
        self.conns: list[ServerConn] = []
        self.errors: list[BaseException] = []
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    def url(self, path: str = "/", *, hostname: str | None = None) -> str:
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://{hostname or self.host}:{self.port}{path}"

    def __enter__(self) -> ScriptedServer:
        self._acceptor.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if exc_type is None and self.errors:
            raise AssertionError(f"server script failed: {self.errors[0]!r}") from self.errors[0]

    def stop(self) -> None:
        self._stopping = True
        # Wake the acceptor: shutdown is not enough on every platform, so connect once.
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        self._acceptor.join(5)
        self._listener.close()
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.sock.close()
        for thread in self._threads:
            thread.join(5)

    def _accept_loop(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            if self._stopping:
                sock.close()
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = ServerConn(sock, self.accepted)
            self.accepted += 1
            self.conns.append(conn)
            thread = threading.Thread(target=self._run, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _run(self, conn: ServerConn) -> None:
        try:
            if self._tls is not None:
                conn.sock.settimeout(10)
                try:
                    conn.sock = self._tls.wrap_socket(conn.sock, server_side=True)
                except (ssl.SSLError, OSError):
                    conn.sock.close()
                    return  # a client that refused our certificate
                conn.sock.settimeout(None)
            self._script(conn)
        except (ConnectionError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
            pass  # the client went away: what many tests do on purpose
        except BaseException as exc:
            if not self._stopping:
                self.errors.append(exc)
        finally:
            with contextlib.suppress(OSError):
                conn.sock.close()
