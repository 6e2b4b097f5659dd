"""``HttpRequest``: a provider-neutral description of one request, built by a backend's pure
request builders and turned into a fresh ``httpx.Request`` for every attempt.

Keeping it free of httpx means request builders and signers can be unit-tested as plain data,
and the package can build requests (and presign URLs) without importing the HTTP stack.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

__all__ = ["Body", "HttpRequest", "encode_query", "host_header"]

Body = bytes | AsyncIterable[bytes] | None
"""A request body: ``bytes`` can be resent on retry; an async iterable is sent at most once."""


def encode_query(pairs: Sequence[tuple[str, str]]) -> str:
    """Percent-encode query pairs with the RFC 3986 unreserved set kept (``%20`` for spaces).

    This is the encoding SigV4, GCS V4 and Azure canonicalise to, so the query on the wire is
    byte-for-byte the one that was signed. A pair with an empty value is written ``name=``.
    """
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)


@functools.lru_cache(maxsize=256)
def host_header(origin: str) -> str:
    """The ``Host`` header value for ``scheme://host[:port]`` (see ``HttpRequest.host``).

    A pure function of the origin, remembered per origin: every signed attempt needs it, and
    a storage talks to one or two origins.
    """
    parts = urlsplit(origin)
    hostname = parts.hostname or ""
    if ":" in hostname:  # IPv6 literal
        hostname = f"[{hostname}]"
    port = parts.port
    default = 443 if parts.scheme.lower() == "https" else 80
    return hostname if port is None or port == default else f"{hostname}:{port}"


@dataclass
class HttpRequest:
    """One logical request; each attempt is re-signed and sent as a new ``httpx.Request``.

    Attributes:
        method: HTTP method.
        origin: ``scheme://host[:port]`` (no trailing slash).
        path: The path exactly as sent on the wire, already percent-encoded once.
        query: Unencoded query pairs, in the order they are sent.
        headers: Headers to send (lower-case names), before signing.
        body: ``bytes`` (replayable), an async iterable (never resent) or ``None``.
        operation: The provider's name for the operation (``GetObject``), for errors and logs.
        key: The object key the request is about, for errors.
        idempotent: Override the method's idempotency for retries (``None``: from the method).
        error_in_body: A 2xx response may still carry a provider error in its body, so the
            body is read and checked (S3 CompleteMultipartUpload and CopyObject).
        ok_statuses: Non-2xx statuses the caller handles itself (e.g. 404 for ``exists``,
            304/412 for conditional reads): returned instead of raised.
    """

    method: str
    origin: str
    path: str = "/"
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: Body = None
    operation: str = ""
    key: str | None = None
    idempotent: bool | None = None
    error_in_body: bool = False
    ok_statuses: frozenset[int] = frozenset()

    @property
    def replayable(self) -> bool:
        """Whether the body can be sent again on retry."""
        return self.body is None or isinstance(self.body, bytes)

    @property
    def scheme(self) -> str:
        """``http`` or ``https``."""
        return self.origin.split("://", 1)[0].lower()

    @property
    def host(self) -> str:
        """The ``Host`` header value: the host, with the port only when it is not the default.

        This must equal what the HTTP client sends, because signers sign it (SigV4 requires
        ``host`` among the signed headers).
        """
        return host_header(self.origin)

    @property
    def target(self) -> str:
        """The request target: path plus encoded query."""
        return f"{self.path}?{encode_query(self.query)}" if self.query else self.path

    @property
    def url(self) -> str:
        """The full URL (contains the query: never put it in a message, see ``errors.redact``)."""
        return f"{self.origin}{self.target}"
