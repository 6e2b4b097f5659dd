"""Differential fuzzing of the response parser against h11 0.16, and crash-freedom on any bytes.

Responses are generated from parts (status line, headers, framing, chunks with extensions and
trailers, interim 1xx, CRLF or LF line endings, obsolete folding, duplicate or bad lengths) and
then optionally mutated a byte at a time. Our verdict (the head and body, or an error) must equal
h11's, except in the few places where we deliberately differ (documented in ``_h1parse``), which
are filtered out explicitly below.
"""

from __future__ import annotations

import os

import h11
import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from litestar_storages._http._h1parse import (
    BODY_CHUNKED,
    BODY_CLOSE,
    BODY_LENGTH,
    MAX_HEAD_SIZE,
    ChunkedDecoder,
    find_head_end,
    parse_head,
)

Verdict = tuple[object, ...]


def ours(data: bytes, method: bytes) -> Verdict:
    """Parse a whole response that ends at EOF: ``("ok", status, headers, body)`` or error."""
    buf = data
    try:
        while True:
            end = find_head_end(buf)
            if end < 0:
                return ("error",)
            head = parse_head(buf, end, request_method=method)
            buf = buf[end:]
            if head.status == 101:
                return ("error",)
            if head.status >= 200:
                break
        if head.framing == BODY_LENGTH:
            if len(buf) < head.content_length:
                return ("error",)
            body = buf[: head.content_length]
        elif head.framing == BODY_CHUNKED:
            decoder = ChunkedDecoder()
            out, _tail = decoder.feed(buf)
            if not decoder.done:
                return ("error",)
            body = b"".join(out)
        elif head.framing == BODY_CLOSE:
            body = buf
        else:
            body = b""
    except httpx.RemoteProtocolError:
        return ("error",)
    headers = [(name.lower(), value) for name, value in head.headers]
    return ("ok", head.status, head.reason, _comparable(headers), body)


def theirs(data: bytes, method: bytes) -> Verdict:
    """The same through h11, configured as httpcore configured it."""
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_SIZE)
    conn.send(h11.Request(method=method, target="/", headers=[("Host", "example")]))
    conn.send(h11.EndOfMessage())
    body = b""
    response: h11.Response | None = None
    try:
        conn.receive_data(data)
        conn.receive_data(b"")
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                assert response is not None
                headers = [(bytes(n), bytes(v)) for n, v in response.headers.raw_items()]
                lowered = [(name.lower(), value) for name, value in headers]
                return (
                    "ok",
                    response.status_code,
                    bytes(response.reason),
                    _comparable(lowered),
                    body,
                )
            elif isinstance(event, h11.InformationalResponse):
                if event.status_code == 101:
                    return ("error",)
            elif event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
                return ("error",)
    except (h11.RemoteProtocolError, h11.LocalProtocolError):
        return ("error",)


def _comparable(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    # h11 normalises the values of these two (commas collapsed, lower-cased) and keeps one of
    # several equal Content-Length headers; we pass every header on as received.
    out = []
    for name, value in headers:
        if name == b"content-length":
            if (name, b"") not in out:
                out.append((name, b""))
        elif name == b"transfer-encoding":
            out.append((name, b""))
        else:
            out.append((name, value))
    return out


def deliberately_different(data: bytes) -> bool:
    """Inputs where our verdict may differ from h11's by design (see ``_h1parse``)."""
    # Transfer-Encoding other than one "chunked" header: h11 refuses it, we follow RFC 9112
    # §6.3 (chunked last wins, otherwise read until close). Judged on the headers as we parse
    # them (after unfolding), of every head in the response.
    buf = data
    while True:
        first = buf.split(b"\n", 1)[0]
        if first.startswith(b"HTTP/") and not first.startswith(b"HTTP/1."):
            return True  # another HTTP major version: we refuse it, h11 reads it as 1.x
        try:
            end = find_head_end(buf)
            if end < 0:
                return False
            head = parse_head(buf, end, request_method=b"GET")
        except httpx.RemoteProtocolError:
            return False
        values = [
            value.lower() for name, value in head.headers if name.lower() == b"transfer-encoding"
        ]
        if values and values != [b"chunked"]:
            return True
        if head.status >= 200:
            return False
        buf = buf[end:]


# -- generators -----------------------------------------------------------------------------------

TOKENS = st.sampled_from([b"X-A", b"x-b", b"Server", b"ETag", b"x-amz-request-id", b"A!#$%"])
VALUES = st.one_of(
    st.sampled_from([b"v", b"two words", b" padded ", b"\xe9obs-text", b"", b"a,b", b"\t"]),
    st.binary(max_size=8),
)


@st.composite
def chunked_body(draw: st.DrawFn, body: bytes, eol: bytes) -> bytes:
    out = b""
    rest = body
    while rest:
        size = draw(st.integers(1, max(1, len(rest))))
        piece, rest = rest[:size], rest[size:]
        ext = draw(st.sampled_from([b"", b";a=b", b";x", b';q="1;2"']))
        hexsize = draw(st.sampled_from(["%x", "%X", "%03x"])) % len(piece)
        out += hexsize.encode() + ext + b"\r\n" + piece + b"\r\n"
    out += b"0" + draw(st.sampled_from([b"", b";end"])) + b"\r\n"
    for name, value in draw(st.lists(st.tuples(TOKENS, VALUES), max_size=2)):
        out += name + b": " + value + eol
    return out + eol


@st.composite
def responses(draw: st.DrawFn) -> bytes:
    eol = draw(st.sampled_from([b"\r\n", b"\r\n", b"\n"]))
    out = b""
    for status in draw(st.lists(st.sampled_from([100, 102, 103]), max_size=2)):
        out += b"HTTP/1.1 %d Interim" % status + eol + eol
    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0"]))
    status = draw(st.sampled_from([200, 201, 204, 206, 304, 404, 500, 999, 199]))
    reason = draw(st.sampled_from([b" OK", b"", b" ", b" Reason With Spaces", b" r\xe9"]))
    out += version + b" %03d" % status + reason + eol
    body = draw(st.binary(max_size=40))
    framing = draw(st.sampled_from(["length", "chunked", "close", "both", "dup", "wrong"]))
    headers = draw(st.lists(st.tuples(TOKENS, VALUES), max_size=4))
    if framing in ("length", "both"):
        headers.append((b"Content-Length", b"%d" % len(body)))
    if framing == "dup":
        headers += [
            (b"Content-Length", b"%d" % len(body)),
            (b"content-length", b"%d, %d" % (len(body), len(body))),
        ]
    if framing == "wrong":
        headers.append((b"Content-Length", b"%d" % (len(body) + draw(st.integers(1, 5)))))
    if framing in ("chunked", "both"):
        headers.append((b"Transfer-Encoding", draw(st.sampled_from([b"chunked", b"Chunked"]))))
    if draw(st.booleans()):
        headers.append((b"Connection", draw(st.sampled_from([b"close", b"keep-alive"]))))
    for name, value in draw(st.permutations(headers)):
        out += name + b":" + draw(st.sampled_from([b" ", b"", b"\t"])) + value + eol
        if draw(st.integers(0, 9)) == 0:
            out += b" folded" + eol
    out += eol
    out += draw(chunked_body(body, eol)) if framing in ("chunked", "both") else body
    return out


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = draw(responses())
    for _ in range(draw(st.integers(0, 2))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = draw(st.sampled_from([b"\r", b"\n", b" ", b":", b"\x00", b";", b"0", b"a", b"\xff"]))
        if action == "replace":
            data = data[:at] + byte + data[at + 1 :]
        elif action == "insert":
            data = data[:at] + byte + data[at:]
        else:
            data = data[:at] + data[at + 1 :]
    return data


FUZZ = settings(
    max_examples=int(os.environ.get("TRANSPORT_FUZZ_EXAMPLES", "500")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(data=responses(), method=st.sampled_from([b"GET", b"HEAD", b"PUT"]))
@example(data=b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", method=b"GET")
@example(
    data=b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: 1\r\n\r\n",
    method=b"GET",
)
def test_well_formed_responses_parse_as_h11_parses_them(data: bytes, method: bytes) -> None:
    if deliberately_different(data):
        return
    assert ours(data, method) == theirs(data, method)


@FUZZ
@given(data=mutated(), method=st.sampled_from([b"GET", b"HEAD"]))
def test_mutated_responses_get_h11s_verdict(data: bytes, method: bytes) -> None:
    if deliberately_different(data):
        return
    assert ours(data, method) == theirs(data, method)


@settings(max_examples=2 * FUZZ.max_examples, deadline=None)
@given(data=st.binary(max_size=300), method=st.sampled_from([b"GET", b"HEAD"]))
def test_arbitrary_bytes_only_raise_remote_protocol_errors(data: bytes, method: bytes) -> None:
    # ``ours`` catches only httpx.RemoteProtocolError: anything else fails the test.
    ours(b"HTTP/1.1 200 OK\r\n" + data, method)
    ours(data, method)


@settings(max_examples=FUZZ.max_examples, deadline=None)
@given(data=st.binary(max_size=200), cuts=st.lists(st.integers(0, 200), max_size=6))
def test_the_chunked_decoder_gives_one_answer_however_its_input_is_split(
    data: bytes, cuts: list[int]
) -> None:
    def run(pieces: list[bytes]) -> tuple[object, ...]:
        decoder = ChunkedDecoder()
        body = b""
        tail = b""
        try:
            for piece in pieces:
                out, tail = decoder.feed(tail + piece)
                body += b"".join(out)
        except httpx.RemoteProtocolError:
            return ("error",)
        return (body, decoder.done, tail if decoder.done else b"", decoder.trailers)

    points = sorted({cut for cut in cuts if cut < len(data)})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    whole = run([data])
    split = run(pieces)
    if whole == ("error",) or split == ("error",):
        # Errors may be noticed earlier or later, but never on one side only once all is fed
        # (a malformed prefix fails whole-fed too).
        assert whole == split or _incomplete_vs_error(data)
    else:
        assert whole == split


def _incomplete_vs_error(data: bytes) -> bool:
    # Only possible disagreement: a line that would grow past a limit in one feeding only.
    return len(data) > 8 * 1024
