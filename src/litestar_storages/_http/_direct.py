"""What `FastTransport.send_direct` needs to send a request given as parts, as httpx would.

The send loop knows each attempt's method, origin, wire target and headers. Turning them into
an ``httpx.Request`` only for the transport to take it apart again costs as much CPU as the rest
of a small exchange: parsing the URL (its host, its path re-quoted) takes 16-26 µs and building
the request and its headers 15 µs more, on every attempt. ``send_direct`` takes the parts, and
this module makes sure the bytes on the wire are the ones ``httpx.Request`` would have produced:

* `Origin`: ``scheme://host[:port]`` parsed once, by httpx itself (the same IDNA and IPv6
  rules, the same ``Host`` header);
* `sent_unchanged`: whether httpx would send a target exactly as given; any other target takes
  the ordinary path through an ``httpx.Request``, so the two paths never differ;
* `wire_headers`: the headers in the order and spelling of ``httpx.Request``: ``Host`` first
  (with ``Content-Length: 0`` for a POST/PUT/PATCH without a body), then the caller's, then the
  body's framing.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass

import httpx

from litestar_storages._http._body import CompleteBody

__all__ = ["Origin", "build_request", "parse_origin", "sent_unchanged", "wire_headers"]

Content = bytes | AsyncIterable[bytes]
"""A body in memory (replayable), or a stream sent once."""

# httpx refuses longer URLs (httpx._urlparse.MAX_URL_LENGTH).
_MAX_URL_LENGTH = 65536
# Only ``scheme://host[:port]``: no path, query, fragment or user information to carry over.
_PLAIN_ORIGIN = re.compile(r"https?://[^/?#@\s]+", re.IGNORECASE).fullmatch


def _kept(excluded: str) -> str:
    """A regex character class body: printable ASCII except ``excluded``."""
    return "".join(re.escape(chr(c)) for c in range(0x21, 0x7F) if chr(c) not in excluded)


# What httpx leaves as it is: printable ASCII except what it percent-encodes in a path
# ('"', '#', '<', '>', '?', '`', '{', '}') or a query ('"', '#', '<', '>'); these are the WHATWG
# URL percent-encode sets httpx uses (httpx._urlparse PATH_SAFE, QUERY_SAFE). Existing escapes
# and a lone '%' are kept too. A space, a control character or non-ASCII would be encoded.
_UNCHANGED = re.compile("/[" + _kept('"#<>?`{}') + "]*(?:\\?[" + _kept('"#<>') + "]*)?").fullmatch
# httpx removes "." and ".." segments from a path (RFC 3986 section 5.2.4).
_DOT_SEGMENT = re.compile(r"/\.\.?(?:/|$)").search


@dataclass(frozen=True, slots=True)
class Origin:
    """Where requests to one ``scheme://host[:port]`` go.

    Attributes:
        key: ``(scheme, host, port)`` as the transport's pool names connections.
        netloc: The ``Host`` header value httpx sends for it.
    """

    key: tuple[bytes, bytes, int]
    netloc: bytes


def parse_origin(origin: str) -> Origin | None:
    """``origin`` parsed by httpx, or ``None`` when it is not a plain ``http(s)://host[:port]``
    (such requests take the ordinary path, which raises httpx's own errors for them)."""
    if _PLAIN_ORIGIN(origin) is None:
        return None
    try:
        url = httpx.URL(origin)
    except httpx.InvalidURL:
        return None
    scheme = url.raw_scheme
    port = url.port or (443 if scheme == b"https" else 80)
    return Origin((scheme, url.raw_host, port), url.netloc)


def sent_unchanged(origin: str, target: str) -> bool:
    """Whether ``httpx.URL(origin + target).raw_path`` would be ``target`` itself."""
    if len(origin) + len(target) > _MAX_URL_LENGTH or _UNCHANGED(target) is None:
        return False
    path = target.partition("?")[0]
    return "/." not in path or _DOT_SEGMENT(path) is None


def wire_headers(
    method: str, netloc: bytes, headers: Mapping[str, str], content: Content
) -> list[tuple[bytes, bytes]]:
    """The headers ``httpx.Request(method, url, headers=headers, content=content)`` holds.

    Raises:
        UnicodeEncodeError: A name or value is not ASCII (as ``httpx.Headers`` raises).
    """
    raw = [(name.encode("ascii"), value.encode("ascii")) for name, value in headers.items()]
    names = {name.lower() for name in headers}
    if isinstance(content, bytes):
        if content and "content-length" not in names:
            raw.append((b"Content-Length", b"%d" % len(content)))
            names.add("content-length")
    elif "content-length" not in names and "transfer-encoding" not in names:
        raw.append((b"Transfer-Encoding", b"chunked"))
        names.add("transfer-encoding")
    auto: list[tuple[bytes, bytes]] = []
    if "host" not in names:
        auto.append((b"Host", netloc))
    if (
        method in ("POST", "PUT", "PATCH")
        and "content-length" not in names
        and "transfer-encoding" not in names
    ):
        auto.append((b"Content-Length", b"0"))
    return auto + raw if auto else raw


def build_request(
    method: str,
    url: str,
    headers: Mapping[str, str] | list[tuple[bytes, bytes]],
    content: Content,
    extensions: dict[str, object],
) -> httpx.Request:
    """The ``httpx.Request`` for a request given as parts.

    What the send loop hands to a transport other than ``FastTransport`` (and to an
    application's client), and what ``send_direct`` builds only when a response's ``request``
    is read (its ``headers`` then already hold ``Host`` and the framing).
    """
    built = httpx.Request(method, url, headers=headers, content=content, extensions=extensions)
    if content:
        # httpx framed the body (Content-Length, or chunked); only its iteration changes.
        built.stream = (
            _InMemoryBody(content) if isinstance(content, bytes) else _StreamedBody(content)
        )
    return built


class _InMemoryBody(httpx.ByteStream):
    """A ``bytes`` request body whose async iteration needs no finalising.

    httpx's own body streams iterate through async generators; a transport that stops
    iterating part-way (an upload cancelled or failed mid-body on httpx's stock transport)
    leaves the generator to the garbage collector, which trio reports as a ``ResourceWarning``.
    """

    def __init__(self, body: bytes) -> None:
        super().__init__(body)
        self._body = body

    def __aiter__(self) -> AsyncIterator[bytes]:
        return CompleteBody(self._body)


class _StreamedBody(httpx.AsyncByteStream):
    """A streamed request body handed to the transport as the iterator it is (see
    :class:`_InMemoryBody`); whoever produced it closes it."""

    __slots__ = ("_source",)

    def __init__(self, source: AsyncIterable[bytes]) -> None:
        self._source = source

    def __aiter__(self) -> AsyncIterator[bytes]:
        return aiter(self._source)
