"""Failures of HTTP requests mapped to the ``StorageError`` tree, in exactly one place.

Two sources of failure:

* **No usable response**: httpx raises a ``TransportError``. :func:`map_transport_error` turns
  it into ``StorageConnectionError`` (or ``StorageTimeoutError``) and tells the retry logic how
  far the request got (``connect``: nothing was sent; ``timeout``/``network``: the server may
  have acted on it).
* **An error response**: the backend's :data:`ErrorParser` reads the provider's error body (S3
  XML, GCS JSON, Azure XML) into a :class:`ProviderError`; :func:`storage_error` picks the class
  with ``exceptions.error_class_for_status`` and keeps the provider's detail as ``__cause__``.

Messages name the operation, key, status and provider code, never credentials, signatures or
the query string of a (presigned) URL: :func:`redact` strips query strings from any URL text.

httpx is imported only when a transport error is mapped (by then the send path has imported
it): backends import :class:`ProviderError` while building requests and presigning URLs, which
must not load the HTTP stack.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from litestar_storages.exceptions import (
    StorageConfigurationError,
    StorageConnectionError,
    StorageError,
    StorageIntegrityError,
    StorageTimeoutError,
    error_class_for_status,
)

if TYPE_CHECKING:
    import httpx

    from litestar_storages.retry import ErrorKind

__all__ = [
    "ErrorParser",
    "ProviderError",
    "map_transport_error",
    "parse_generic_error",
    "redact",
    "request_id_from",
    "storage_error",
    "truncated_body_error",
]

_MAX_MESSAGE = 300


class ProviderError(Exception):
    """What the provider said about a failed request; the ``__cause__`` of the storage error.

    Attributes:
        status: HTTP status of the response.
        code: The provider's error code (``NoSuchKey``, ``SlowDown``, ``BlobNotFound``, ...).
        message: The provider's human-readable message.
        request_id: The provider's request id.
        details: Other fields of the error body, minus anything that could carry a signature
            (S3's ``StringToSign``/``CanonicalRequest`` are dropped by its parser).
    """

    def __init__(
        self,
        status: int,
        code: str | None = None,
        message: str | None = None,
        *,
        request_id: str | None = None,
        details: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.details = dict(details or {})
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"HTTP {self.status}"
        if self.code:
            text += f" {self.code}"
        if self.message:
            text += f": {_shorten(redact(self.message))}"
        return text


ErrorParser = Callable[[int, "httpx.Headers", bytes], "ProviderError | None"]
"""A backend's reader of error responses: ``(status, headers, body) -> ProviderError | None``.

Called for every response with status >= 300, and for 2xx responses of requests marked
``error_in_body`` (S3 can answer CompleteMultipartUpload and CopyObject with 200 and an
``<Error>`` body); returning ``None`` for those means "no error here".
"""

_URL_QUERY = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s?#\"'<>]*)\?[^\s\"'<>]*")


def redact(text: str) -> str:
    """Remove the query string of every URL in ``text`` (presigned signatures, SAS tokens)."""
    return _URL_QUERY.sub(r"\1?<redacted>", text)


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def request_id_from(headers: Mapping[str, str], names: Iterable[str]) -> str | None:
    """The first of the provider's request-id headers present in ``headers``."""
    for name in names:
        value: str | None = headers.get(name)
        if value:
            return value
    return None


def parse_generic_error(
    status: int, headers: Mapping[str, str], body: bytes
) -> ProviderError | None:
    """Fallback parser: status only, for providers whose body format is unknown."""
    if status < 300:
        return None
    return ProviderError(status)


def storage_error(
    provider: ProviderError,
    *,
    operation: str,
    key: str | None,
    backend: str,
) -> StorageError:
    """The ``StorageError`` for an error response, with the provider's detail as its cause."""
    cls = error_class_for_status(provider.status, provider.code)
    subject = f" {key!r}" if key is not None else ""
    error = cls(
        f"{operation}{subject} failed: {provider}",
        key=key,
        backend=backend,
        status=provider.status,
        code=provider.code,
        request_id=provider.request_id,
    )
    error.__cause__ = provider
    return error


def map_transport_error(
    exc: httpx.HTTPError,
    *,
    operation: str,
    key: str | None,
    backend: str,
) -> tuple[StorageError, ErrorKind | None]:
    """Map an httpx exception to a storage error and the kind of failure the retry logic needs.

    Returns:
        The error (its ``__cause__`` set to ``exc``) and ``connect``/``timeout``/``network``,
        or ``None`` for failures that are not worth retrying (a malformed URL).
    """
    import httpx

    subject = f" {key!r}" if key is not None else ""
    detail = _shorten(redact(str(exc))) or type(exc).__name__
    kind: ErrorKind | None
    error: StorageError
    if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
        # Nothing was sent: the connection (or a free slot in the pool) never materialised.
        kind = "connect"
        error = StorageTimeoutError(f"{operation}{subject}: timed out connecting ({detail})")
    elif isinstance(exc, httpx.TimeoutException):
        kind = "timeout"
        error = StorageTimeoutError(f"{operation}{subject}: timed out ({detail})")
    elif isinstance(exc, httpx.ConnectError):
        kind = "connect"
        error = StorageConnectionError(f"{operation}{subject}: cannot connect ({detail})")
    elif isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        kind = None
        error = StorageConfigurationError(f"{operation}{subject}: invalid endpoint ({detail})")
    else:
        kind = "network"
        error = StorageConnectionError(
            f"{operation}{subject}: connection failed ({type(exc).__name__}: {detail})"
        )
    error.key = key
    error.backend = backend
    error.__cause__ = exc
    return error, kind


def truncated_body_error(
    *,
    operation: str,
    key: str | None,
    backend: str,
    received: int,
    expected: int | None,
    cause: BaseException | None = None,
) -> StorageIntegrityError:
    """The error for a response body that ended before its ``Content-Length``."""
    subject = f" {key!r}" if key is not None else ""
    of = f" of {expected}" if expected is not None else ""
    error = StorageIntegrityError(
        f"{operation}{subject}: body truncated after {received}{of} bytes",
        key=key,
        backend=backend,
    )
    error.__cause__ = cause
    return error
