"""Sans-IO HTTP/1.1 response parsing: the head, the body framing rules, and chunked decoding.

Pure functions and one small state machine, no I/O: the transport feeds them bytes it read, and
the tests feed them bytes split at every boundary and compare the verdicts with h11's.

The grammar follows RFC 9112 and, where the RFC leaves room, h11 0.16 (which httpx used until
now), so a response that h11 accepted is accepted here with the same headers and body:

* the head ends at the first empty line; lines end in CRLF or a bare LF (RFC 9112 §2.2 allows a
  recipient to accept a bare LF); obsolete line folding is replaced by a space (§5.2);
* a header is ``token ":" OWS value OWS``; whitespace before the colon is rejected (§5.1);
* ``Content-Length`` is digits only; a comma list of equal values or duplicate equal headers
  count as one (RFC 9110 §8.6); unequal values are an error;
* ``Transfer-Encoding`` with ``chunked`` last wins over ``Content-Length`` (§6.3, smuggling
  defence: the connection is closed afterwards); with ``chunked`` not last the body runs to
  the close (§6.3 point 4);
* responses to HEAD and 1xx/204/304 responses have no body (§6.3 point 1);

Where this parser is stricter than h11 it says why: an ``HTTP/2.0`` status line is refused
(this is an HTTP/1.x client), as are transfer codings other than ``chunked`` before it.
"""

from __future__ import annotations

import re

import httpx

__all__ = [
    "BODY_CHUNKED",
    "BODY_CLOSE",
    "BODY_LENGTH",
    "BODY_NONE",
    "MAX_CHUNK_LINE",
    "MAX_HEAD_SIZE",
    "MAX_TRAILER_SIZE",
    "ChunkedDecoder",
    "ResponseHead",
    "find_head_end",
    "parse_head",
]

# The same bound httpcore gave h11 (``max_incomplete_event_size``): a head that has not ended
# within 100 KiB is refused rather than buffered without limit.
MAX_HEAD_SIZE = 100 * 1024
# A chunk-size line carries at most 20 hex digits (h11's bound) and extensions we discard.
MAX_CHUNK_LINE = 8 * 1024
MAX_TRAILER_SIZE = 64 * 1024
# h11's CONTENT_LENGTH_MAX_DIGITS.
_MAX_LENGTH_DIGITS = 20

BODY_NONE = 0  # no body at all (HEAD, 1xx, 204, 304)
BODY_LENGTH = 1  # exactly ``content_length`` bytes
BODY_CHUNKED = 2  # chunked transfer coding
BODY_CLOSE = 3  # everything until the server closes the connection

_HEAD_END = re.compile(rb"\n\r?\n")
_TOKEN = rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"
_VCHAR = rb"[^\x00\s]"  # visible characters and obs-text, as h11 accepts them
_FIELD_VALUE = rb"(?:%s+(?:[ \t]+%s+)*)?" % (_VCHAR, _VCHAR)
_HEADER_LINE = re.compile(rb"(%s):[ \t]*(%s)[ \t]*" % (_TOKEN, _FIELD_VALUE))
_TOKEN_RE = re.compile(_TOKEN)
# Header names already seen to be tokens (names repeat from response to response).
_TOKENS_SEEN: set[bytes] = set()
_STATUS_LINE = re.compile(rb"HTTP/([0-9])\.([0-9]) ([0-9]{3})(?: ((?:[ \t]|%s)*))?" % _VCHAR)
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,20})(?:;.*)?[ \t]*\r\n")
_DIGITS = re.compile(rb"[0-9]+")
_OBS_FOLD = re.compile(rb"[ \t]+")


class ResponseHead:
    """A parsed status line and header block, with the body framing already decided.

    Attributes:
        status: The status code.
        reason: The reason phrase, as sent.
        http_version: ``b"HTTP/1.1"`` or ``b"HTTP/1.0"``.
        headers: ``(name, value)`` pairs in order, duplicates preserved, names as sent.
        framing: One of ``BODY_NONE``, ``BODY_LENGTH``, ``BODY_CHUNKED``, ``BODY_CLOSE``.
        content_length: The body length for ``BODY_LENGTH``, else ``-1``.
        keep_alive: Whether the connection may carry another request after this response.
        ascii: The whole head is ASCII (so httpx need not guess the header encoding).
    """

    __slots__ = (
        "ascii",
        "content_length",
        "framing",
        "headers",
        "http_version",
        "keep_alive",
        "reason",
        "status",
    )

    def __init__(  # noqa: PLR0917 - built on every response: positional is cheaper
        self,
        status: int,
        reason: bytes,
        http_version: bytes,
        headers: list[tuple[bytes, bytes]],
        framing: int,
        content_length: int,
        keep_alive: bool,
    ) -> None:
        self.status = status
        self.reason = reason
        self.http_version = http_version
        self.headers = headers
        self.framing = framing
        self.content_length = content_length
        self.keep_alive = keep_alive
        self.ascii = True

    def __repr__(self) -> str:
        return f"<ResponseHead {self.status} framing={self.framing} length={self.content_length}>"


def _error(message: str) -> httpx.RemoteProtocolError:
    return httpx.RemoteProtocolError(message)


def find_head_end(buf: bytes | bytearray, start: int = 0) -> int:
    """Return the offset just past the empty line that ends a head in ``buf``, or ``-1``.

    ``start`` lets a caller that appends to its buffer search only the new bytes (minus the
    three that could begin a terminator), so a head arriving a byte at a time costs O(n).

    Raises:
        httpx.RemoteProtocolError: the buffer begins with an empty line (no status line), or
            holds ``MAX_HEAD_SIZE`` bytes without the head ending.
    """
    if buf[:1] == b"\n" or buf[:2] == b"\r\n":
        raise _error("no status line received")
    match = _HEAD_END.search(buf, max(0, start - 2))
    if match is None:
        if len(buf) > MAX_HEAD_SIZE:
            raise _error(f"response head larger than {MAX_HEAD_SIZE} bytes")
        return -1
    end = match.end()
    if end > MAX_HEAD_SIZE:
        raise _error(f"response head larger than {MAX_HEAD_SIZE} bytes")
    return end


def _split_lines(block: bytes) -> list[bytes]:
    """Split a block that ends in a line ending into lines without their CRLF/LF."""
    lines = [line[:-1] if line.endswith(b"\r") else line for line in block.split(b"\n")]
    lines.pop()  # the empty string after the final line ending
    return lines


def _unfold(lines: list[bytes]) -> list[bytes]:
    """Replace obsolete line folding by a single space (RFC 9112 §5.2), as h11 does."""
    out: list[bytes] = []
    for line in lines:
        match = _OBS_FOLD.match(line)
        if match is None:
            out.append(line)
        elif not out:
            raise _error("continuation line at start of headers")
        else:
            out[-1] = out[-1] + b" " + line[match.end() :]
    return out


def _is_token(name: bytes) -> bool:
    if name in _TOKENS_SEEN:
        return True
    if _TOKEN_RE.fullmatch(name) is None:
        return False
    if len(_TOKENS_SEEN) < 1024:
        _TOKENS_SEEN.add(name)
    return True


def parse_header_lines(block: bytes) -> list[tuple[bytes, bytes]]:
    """Parse header (or trailer) lines, each ending in CRLF or LF, into ``(name, value)`` pairs.

    Raises:
        httpx.RemoteProtocolError: a line is not ``token ":" value``.
    """
    if not block:
        return []
    # The ordinary case, checked with C-level scans: every line ends in CRLF and nothing else
    # is a CR or LF, no NUL/VT/FF anywhere (h11's field value excludes them), no folded line;
    # then each line only needs a token before its colon.
    crlf = block.count(b"\r\n")
    if (
        crlf == block.count(b"\n") == block.count(b"\r")
        and b"\x00" not in block
        and b"\x0b" not in block
        and b"\x0c" not in block
        and b"\n " not in block
        and b"\n\t" not in block
        and block[0] not in b" \t"
    ):
        lines = block.split(b"\r\n")
        lines.pop()  # after the final CRLF
        out = []
        seen = _TOKENS_SEEN
        for line in lines:
            name, colon, value = line.partition(b":")
            if not colon or (name not in seen and not _is_token(name)):
                break
            out.append((name, value.strip(b" \t")))
        else:
            return out
    return _parse_header_lines_slowly(block)


def _parse_header_lines_slowly(block: bytes) -> list[tuple[bytes, bytes]]:
    """Bare LF line endings, obsolete folding, and everything invalid (with its error)."""
    lines = _split_lines(block)
    if b"\n " in b"\n" + block or b"\n\t" in b"\n" + block:
        lines = _unfold(lines)
    out = []
    for line in lines:
        match = _HEADER_LINE.fullmatch(line)
        if match is None:
            raise _error(f"illegal header line: {line[:100]!r}")
        out.append((match[1], match[2]))
    return out


def _comma_tokens(values: list[bytes]) -> list[bytes]:
    return [item.strip(b" \t").lower() for value in values for item in value.split(b",")]


def parse_head(buf: bytes, end: int, *, request_method: bytes) -> ResponseHead:
    """Parse ``buf[:end]`` (as located by `find_head_end`) and decide how the body is framed.

    Args:
        buf: The received bytes, starting with the status line.
        end: The offset just past the empty line that ends the head.
        request_method: The method of the request this answers (``HEAD`` has no body).

    Raises:
        httpx.RemoteProtocolError: the status line, a header or the framing headers are invalid.
    """
    first = buf.find(b"\n", 0, end)
    status, http_version, reason = _status_line(buf[:first])
    # Header block: everything after the status line except the final empty line.
    block = buf[first + 1 : end]
    block = block[:-2] if block.endswith(b"\r\n") else block[:-1]
    headers = parse_header_lines(block)

    keep_alive = http_version == b"HTTP/1.1"
    transfer_encoding: list[bytes] = []
    content_length = -1
    connection: list[bytes] = []
    for name, value in headers:
        kind = _FRAMING.get(name)
        if kind is None:
            if len(name) not in _FRAMING_LENGTHS:
                continue
            kind = _FRAMING.get(name.lower())
            if kind is None:
                continue
        if kind == _CONTENT_LENGTH:
            if value.isdigit() and len(value) <= _MAX_LENGTH_DIGITS and content_length < 0:
                content_length = int(value)
            else:
                content_length = _content_length(value, content_length)
        elif kind == _TRANSFER_ENCODING:
            transfer_encoding.append(value)
        else:
            connection.append(value)
    if connection and b"close" in b",".join(connection).lower():
        keep_alive = keep_alive and b"close" not in _comma_tokens(connection)
    if status < 200 or status in (204, 304) or request_method == b"HEAD":
        # RFC 9112 §6.3 point 1: no body whatever the headers say. (1xx are skipped by the
        # caller; 101 is refused there too.)
        framing, content_length = BODY_NONE, 0
    else:
        framing, content_length, keep_alive = _framing(
            transfer_encoding, content_length, keep_alive
        )
    head = ResponseHead(status, reason, http_version, headers, framing, content_length, keep_alive)
    head.ascii = block.isascii()
    return head


def _status_line(line: bytes) -> tuple[int, bytes, bytes]:
    """``(status, http_version, reason)`` from a status line (its CR, if any, included)."""
    if line.endswith(b"\r"):
        line = line[:-1]
    match = _STATUS_LINE.fullmatch(line)
    if match is None:
        raise _error(f"illegal status line: {line[:100]!r}")
    if match[1] != b"1":
        # An HTTP/1.x client cannot read another major version's framing.
        raise _error(f"unsupported HTTP version in status line: {line[:100]!r}")
    status = int(match[3])
    if status < 100:
        raise _error(f"status code out of range: {status}")
    # The reason phrase may be absent or empty.
    return status, (b"HTTP/1.1" if match[2] != b"0" else b"HTTP/1.0"), match[4] or b""


def _framing(
    transfer_encoding: list[bytes], content_length: int, keep_alive: bool
) -> tuple[int, int, bool]:
    """RFC 9112 §6.3 points 3-7 for a response that may have a body: framing, length, reuse."""
    if transfer_encoding:
        codings = _comma_tokens(transfer_encoding)
        if content_length >= 0:
            # Both framings present: a sign of request smuggling (§6.1). Chunked wins, and
            # the connection is not trusted with another request.
            keep_alive = False
        if codings[-1] != b"chunked":
            return BODY_CLOSE, -1, False  # point 4: read until the server closes
        if len(codings) > 1:
            raise _error(f"unsupported transfer coding: {b', '.join(codings)!r}")
        return BODY_CHUNKED, -1, keep_alive
    if content_length >= 0:
        return BODY_LENGTH, content_length, keep_alive
    return BODY_CLOSE, -1, False


def _content_length(value: bytes, previous: int) -> int:
    """Validate one ``Content-Length`` value against any seen before (RFC 9110 §8.6)."""
    items = {item.strip(b" \t") for item in value.split(b",")}
    if len(items) != 1:
        raise _error("conflicting Content-Length values")
    item = items.pop()
    if _DIGITS.fullmatch(item) is None or len(item) > _MAX_LENGTH_DIGITS:
        raise _error(f"bad Content-Length: {value[:40]!r}")
    length = int(item)
    if previous >= 0 and previous != length:
        raise _error("conflicting Content-Length headers")
    return length


_CONTENT_LENGTH, _TRANSFER_ENCODING, _CONNECTION = 1, 2, 3
_FRAMING = {
    name: kind
    for lower, kind in (
        (b"content-length", _CONTENT_LENGTH),
        (b"transfer-encoding", _TRANSFER_ENCODING),
        (b"connection", _CONNECTION),
    )
    for name in (lower, lower.title())
}
_FRAMING_LENGTHS = frozenset(len(name) for name in _FRAMING)

_SIZE = 0  # expecting a chunk-size line
_DATA = 1  # inside a chunk's data
_DATA_END = 2  # expecting the CRLF after a chunk's data
_TRAILER = 3  # after the last chunk, expecting trailer lines and the empty line
_DONE = 4


class ChunkedDecoder:
    """Decode a chunked body (RFC 9112 §7.1) from bytes fed in arbitrary pieces.

    ``feed(data)`` returns the body bytes it could decode and the tail it could not use yet
    (an incomplete chunk-size line, CRLF or trailer), which the caller prepends to the next
    bytes it receives. Data inside a chunk is passed through without copying, so a large chunk
    read straight from the socket costs nothing here.

    Attributes:
        done: The last chunk and the trailers have been read.
        data_left: The bytes left in the current chunk (``0`` between chunks), so a caller
            may read exactly that much.
        trailers: The trailer fields, once ``done``.
    """

    __slots__ = ("_state", "data_left", "done", "trailers")

    def __init__(self) -> None:
        self._state = _SIZE
        self.data_left = 0
        self.done = False
        self.trailers: list[tuple[bytes, bytes]] = []

    def feed(self, data: bytes) -> tuple[list[bytes], bytes]:  # noqa: PLR0915 - one state machine
        """Decode as much of ``data`` as possible.

        Returns:
            ``(pieces, tail)``: decoded body bytes, and the unconsumed rest of ``data``.
            After ``done``, the tail is whatever followed the chunked body.

        Raises:
            httpx.RemoteProtocolError: a malformed chunk-size line, a missing CRLF after chunk
                data, an invalid trailer, or a line or trailer block over its size limit.
        """
        out: list[bytes] = []
        pos = 0
        size = len(data)
        while pos < size:
            state = self._state
            if state == _DATA:
                take = min(self.data_left, size - pos)
                out.append(data if take == size else data[pos : pos + take])
                pos += take
                self.data_left -= take
                if self.data_left == 0:
                    self._state = _DATA_END
            elif state == _DATA_END:
                if data[pos : pos + 2] == b"\r\n":
                    pos += 2
                    self._state = _SIZE
                elif data[pos : pos + 1] == b"\r" and pos + 1 == size:
                    break  # the LF is still on its way
                else:
                    raise _error(f"malformed chunk footer: {data[pos : pos + 2]!r}")
            elif state == _SIZE:
                nl = data.find(b"\r\n", pos, pos + MAX_CHUNK_LINE)
                if nl < 0:
                    if size - pos >= MAX_CHUNK_LINE:
                        raise _error("chunk-size line too long")
                    break
                match = _CHUNK_LINE.fullmatch(data, pos, nl + 2)
                if match is None:
                    raise _error(f"illegal chunk header: {data[pos : nl + 2][:100]!r}")
                pos = nl + 2
                chunk = int(match[1], 16)
                if chunk == 0:
                    self._state = _TRAILER
                else:
                    self.data_left = chunk
                    self._state = _DATA
            elif state == _TRAILER:
                if data[pos : pos + 1] == b"\n":
                    pos += 1
                elif data[pos : pos + 2] == b"\r\n":
                    pos += 2
                elif data[pos:] == b"\r":
                    break
                else:
                    match = _HEAD_END.search(data, pos, pos + MAX_TRAILER_SIZE)
                    if match is None:
                        if size - pos >= MAX_TRAILER_SIZE:
                            raise _error(f"trailers larger than {MAX_TRAILER_SIZE} bytes")
                        break
                    end = match.end()
                    block = data[pos:end]
                    block = block[:-2] if block.endswith(b"\r\n") else block[:-1]
                    self.trailers = parse_header_lines(block)
                    pos = end
                self._state = _DONE
                self.done = True
                break
            else:
                break
        return out, (data[pos:] if pos else data)
