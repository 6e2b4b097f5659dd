"""The sans-IO response parser: status line, headers, framing rules, chunked decoding."""

from __future__ import annotations

import httpx
import pytest

from litestar_storages._http._h1parse import (
    BODY_CHUNKED,
    BODY_CLOSE,
    BODY_LENGTH,
    BODY_NONE,
    MAX_HEAD_SIZE,
    ChunkedDecoder,
    ResponseHead,
    find_head_end,
    parse_head,
)


def head_of(data: bytes, method: bytes = b"GET") -> ResponseHead:
    end = find_head_end(data)
    assert end > 0
    return parse_head(data, end, request_method=method)


def decode(data: bytes, *, split: int | None = None) -> tuple[bytes, bytes, ChunkedDecoder]:
    """Feed ``data`` to a decoder (in two pieces at ``split``); return body, tail, decoder."""
    decoder = ChunkedDecoder()
    pieces = [data] if split is None else [data[:split], data[split:]]
    body = b""
    tail = b""
    for piece in pieces:
        out, tail = decoder.feed(tail + piece)
        body += b"".join(out)
    return body, tail, decoder


# -- the head -------------------------------------------------------------------------------------


def test_status_line_and_headers_are_parsed_in_order() -> None:
    head = head_of(b"HTTP/1.1 201 Created\r\nA: 1\r\nb: two words \r\nA: 3\r\n\r\n")
    assert (head.status, head.reason, head.http_version) == (201, b"Created", b"HTTP/1.1")
    assert head.headers == [(b"A", b"1"), (b"b", b"two words"), (b"A", b"3")]


def test_reason_phrase_may_be_absent_or_empty() -> None:
    assert head_of(b"HTTP/1.1 200\r\n\r\n").reason == b""
    assert head_of(b"HTTP/1.1 200 \r\n\r\n").reason == b""


def test_bare_lf_line_endings_are_accepted() -> None:
    head = head_of(b"HTTP/1.1 200 OK\nContent-Length: 3\n\n")
    assert head.content_length == 3
    assert head.headers == [(b"Content-Length", b"3")]


def test_obsolete_line_folding_becomes_a_space() -> None:
    head = head_of(b"HTTP/1.1 200 OK\r\nX: a\r\n  b\r\nContent-Length: 0\r\n\r\n")
    assert head.headers[0] == (b"X", b"a b")


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1  200 OK\r\n\r\n",
        b"HTTP/2.0 200 OK\r\n\r\n",
        b"HTTPS/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\x00\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nName : x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\x0bb\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\x0cb\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n: no name\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n continuation first\r\n\r\n",
    ],
)
def test_malformed_heads_are_rejected(data: bytes) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        head_of(data)


def test_a_leading_empty_line_is_rejected() -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        find_head_end(b"\r\nHTTP/1.1 200 OK\r\n\r\n")


def test_an_incomplete_head_asks_for_more() -> None:
    assert find_head_end(b"HTTP/1.1 200 OK\r\nA: b\r\n") == -1


def test_the_head_end_is_found_across_a_resumed_search() -> None:
    data = b"HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody"
    for start in range(len(data)):
        # A caller resumes from where its previous buffer ended; the result is the same.
        assert find_head_end(data, start if start < data.index(b"\r\n\r\n") else 0) == len(
            data
        ) - len(b"body")


def test_an_oversized_head_is_rejected() -> None:
    data = b"HTTP/1.1 200 OK\r\n" + b"X: " + b"a" * MAX_HEAD_SIZE + b"\r\n"
    with pytest.raises(httpx.RemoteProtocolError, match="larger than"):
        find_head_end(data)


# -- framing --------------------------------------------------------------------------------------


def test_framing_header_names_are_case_insensitive() -> None:
    head = head_of(b"HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 7\r\ncOnNeCtIoN: CLOSE\r\n\r\n")
    assert (head.content_length, head.keep_alive) == (7, False)


def test_content_length_frames_the_body() -> None:
    head = head_of(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n")
    assert (head.framing, head.content_length, head.keep_alive) == (BODY_LENGTH, 12, True)


def test_equal_duplicate_content_lengths_count_as_one() -> None:
    assert (
        head_of(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n").content_length
        == 5
    )
    assert head_of(b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n").content_length == 5


@pytest.mark.parametrize("value", [b"5, 6", b"-1", b"+5", b"0x10", b"5 5", b"", b"1" * 21, b"\xb9"])
def test_invalid_content_lengths_are_rejected(value: bytes) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        head_of(b"HTTP/1.1 200 OK\r\nContent-Length: " + value + b"\r\n\r\n")


def test_unequal_duplicate_content_lengths_are_rejected() -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        head_of(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n")


def test_chunked_wins_over_content_length_and_the_connection_is_not_reused() -> None:
    head = head_of(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert (head.framing, head.keep_alive) == (BODY_CHUNKED, False)


def test_transfer_encoding_is_case_insensitive() -> None:
    assert head_of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n").framing == BODY_CHUNKED


def test_a_non_chunked_final_transfer_coding_reads_until_close() -> None:
    head = head_of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")
    assert (head.framing, head.keep_alive) == (BODY_CLOSE, False)


def test_a_transfer_coding_before_chunked_is_refused() -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="unsupported transfer coding"):
        head_of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")


def test_no_framing_headers_means_read_until_close() -> None:
    head = head_of(b"HTTP/1.1 200 OK\r\n\r\n")
    assert (head.framing, head.keep_alive) == (BODY_CLOSE, False)


@pytest.mark.parametrize("status", [204, 304, 100, 103])
def test_statuses_without_a_body(status: int) -> None:
    head = head_of(b"HTTP/1.1 %d X\r\nContent-Length: 10\r\n\r\n" % status)
    assert head.framing == BODY_NONE


def test_a_head_response_has_no_body_whatever_it_declares() -> None:
    head = head_of(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", b"HEAD")
    assert (head.framing, head.keep_alive) == (BODY_NONE, True)


def test_connection_close_disables_keep_alive() -> None:
    head = head_of(b"HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n")
    assert head.keep_alive is False


def test_http_1_0_is_not_kept_alive() -> None:
    head = head_of(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert (head.http_version, head.keep_alive) == (b"HTTP/1.0", False)


# -- chunked --------------------------------------------------------------------------------------

CHUNKED = b"5;name=value;x\r\nhello\r\n1A \r\n" + b"z" * 26 + b"\r\n0\r\nX-Trailer: yes\r\n\r\n"


def test_chunked_body_with_extensions_and_trailers() -> None:
    body, tail, decoder = decode(CHUNKED)
    assert body == b"hello" + b"z" * 26
    assert (tail, decoder.done) == (b"", True)
    assert decoder.trailers == [(b"X-Trailer", b"yes")]


@pytest.mark.parametrize("split", range(1, len(CHUNKED)))
def test_chunked_body_split_at_every_byte(split: int) -> None:
    body, tail, decoder = decode(CHUNKED, split=split)
    assert (body, tail, decoder.done) == (b"hello" + b"z" * 26, b"", True)


def test_chunked_body_fed_one_byte_at_a_time() -> None:
    decoder = ChunkedDecoder()
    body = b""
    tail = b""
    for byte in CHUNKED:
        out, tail = decoder.feed(tail + bytes([byte]))
        body += b"".join(out)
    assert (body, decoder.done) == (b"hello" + b"z" * 26, True)


def test_bytes_after_the_chunked_body_are_returned_as_tail() -> None:
    _, tail, decoder = decode(b"0\r\n\r\nEXTRA")
    assert (tail, decoder.done) == (b"EXTRA", True)


def test_an_incomplete_chunked_body_is_not_done() -> None:
    body, _, decoder = decode(b"5\r\nhel")
    assert (body, decoder.done, decoder.data_left) == (b"hel", False, 2)


@pytest.mark.parametrize(
    "data",
    [
        b"g\r\n",
        b"\r\n",
        b"-5\r\nhello\r\n",
        b"5\r\nhelloXX0\r\n\r\n",
        b"5\nhello\r\n",
        b"1" * 21 + b"\r\n",
        b"0\r\nBad Trailer\r\n\r\n",
    ],
)
def test_malformed_chunked_bodies_are_rejected(data: bytes) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        decode(data)


def test_an_overlong_chunk_size_line_is_rejected() -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="too long"):
        decode(b"5;" + b"x" * 9000)


def test_oversized_trailers_are_rejected() -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="trailers larger"):
        decode(b"0\r\nX: " + b"y" * 70000)


def test_large_chunk_data_is_passed_through_without_copying() -> None:
    decoder = ChunkedDecoder()
    decoder.feed(b"100000\r\n")
    data = b"q" * 65536
    out, tail = decoder.feed(data)
    assert out[0] is data
    assert tail == b""
