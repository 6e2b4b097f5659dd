"""The send loop: build, sign, send and classify each attempt.

Every attempt is a new ``httpx.Request`` signed afresh with the clock read once for that attempt,
so a retry never reuses a signature (object_store's retries reuse the signed request, which
fails once the signature ages). Failed attempts go through the pure ``retry.classify``:

* no response: connection failures are always retried (nothing was sent), read/write timeouts
  and broken connections only for idempotent requests;
* an error response: 408/429/500/502/503/504 and throttling codes (``SlowDown``), honouring
  ``Retry-After``; ``RequestTimeTooSkewed`` corrects the clock from the server's ``Date`` header
  and re-signs at once;
* a 2xx response whose body is an error (S3 CompleteMultipartUpload and CopyObject, see
  ``HttpRequest.error_in_body``) is treated like the error it carries;
* a body that cannot be replayed (an async iterable already consumed) is never resent.

The backend supplies the provider specifics: a :class:`~._http.auth.Signer`, an
:data:`~._http.errors.ErrorParser` and the names of its request-id headers.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel
import httpx

from litestar_storages._http._direct import build_request
from litestar_storages._http.clock import Clock, SkewedClock, system_clock
from litestar_storages._http.errors import (
    ErrorParser,
    ProviderError,
    map_transport_error,
    parse_generic_error,
    request_id_from,
    storage_error,
    truncated_body_error,
)
from litestar_storages._http.pool import ClientHandle, Lease
from litestar_storages._http.request import HttpRequest
from litestar_storages._http.transport import FastTransport
from litestar_storages._version import __version__
from litestar_storages._wire import parse_http_date
from litestar_storages.exceptions import StorageError, StorageTimeoutError
from litestar_storages.retry import Decision, RetryConfig, backoff, classify

if TYPE_CHECKING:
    from litestar_storages._http.auth import Signer

__all__ = ["ResponseBody", "Sender", "parse_http_date", "retry_after_seconds"]

USER_AGENT = f"litestar-storages/{__version__}"
_MAX_ERROR_BODY = 64 * 1024


def retry_after_seconds(headers: httpx.Headers, now: datetime) -> float | None:
    """Seconds the server asked us to wait (``Retry-After``: seconds or an HTTP date)."""
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = parse_http_date(value)
    if when is None:
        return None
    return max(0.0, (when - now).total_seconds())


def _content_if_read(response: httpx.Response) -> bytes | None:
    # Responses from httpx.MockTransport (and some custom transports) arrive already read.
    try:
        return response.content
    except httpx.ResponseNotRead:
        return None


async def _single(content: bytes) -> AsyncIterator[bytes]:
    if content:
        yield content


async def _close(response: httpx.Response) -> None:
    # Shielded: a cancelled reader must still hand its connection back (httpcore's rule).
    with anyio.CancelScope(shield=True):
        await response.aclose()


class Sender:
    """Sends a backend's requests through the shared pool with signing and retries.

    Args:
        handle: The storage's hold on the shared client pool.
        backend: The backend's short name, for errors.
        signer: Signs each attempt; ``None`` sends unsigned (anonymous) requests.
        error_parser: Reads the provider's error bodies.
        request_id_headers: Response headers carrying the provider's request id, in order of
            preference.
        retry: The retry policy (``RetryConfig()`` by default).
        clock: Current time; wrapped in a :class:`SkewedClock` so skew can be corrected.
        rng: Randomness for backoff jitter (injectable for deterministic tests).
        sleep: How to wait between attempts (``anyio.sleep``).
    """

    def __init__(
        self,
        handle: ClientHandle,
        *,
        backend: str,
        signer: Signer | None = None,
        error_parser: ErrorParser = parse_generic_error,
        request_id_headers: Sequence[str] = (),
        retry: RetryConfig | None = None,
        clock: Clock | SkewedClock = system_clock,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.handle = handle
        self.backend = backend
        self.signer = signer
        self.error_parser = error_parser
        self.request_id_headers = tuple(request_id_headers)
        self.retry = retry or RetryConfig()
        self.clock = clock if isinstance(clock, SkewedClock) else SkewedClock(clock)
        self.rng = rng or random.Random()
        self.sleep = sleep

    async def send(self, request: HttpRequest) -> httpx.Response:
        """Send ``request`` and return the response with its body read (and the connection
        released).

        Raises:
            StorageError: The mapped error once retries are exhausted or the failure is final.
        """
        return await self._send(request, stream=False)

    async def open(self, request: HttpRequest) -> httpx.Response:
        """Send ``request`` and return the response with its body unread.

        The caller must close it (``ResponseBody.aclose`` or ``response.aclose()``); errors and
        retries are handled up to the response headers.
        """
        return await self._send(request, stream=True)

    # ------------------------------------------------------------------ the loop
    async def _send(self, request: HttpRequest, *, stream: bool) -> httpx.Response:
        attempt = 1
        resynced = False
        while True:
            lease = self.handle.lease()
            try:
                response = await self._attempt(lease, request, stream=stream)
            except _AttemptFailed as failed:
                decision = failed.decision
                if (
                    decision is Decision.RESYNC_CLOCK
                    and not resynced
                    and failed.server_time is not None
                    and failed.local_time is not None
                ):
                    # S3 "RequestTimeTooSkewed": sign again with the server's time. Does not
                    # consume an attempt (a skewed clock is not a transient failure).
                    self.clock.correct(failed.server_time, failed.local_time)
                    resynced = True
                    continue
                if decision is Decision.RETRY and attempt < self.retry.max_attempts:
                    delay = backoff(attempt, self.retry, self.rng, retry_after=failed.retry_after)
                    await self.sleep(delay)
                    attempt += 1
                    continue
                raise failed.error from failed.error.__cause__
            return response

    async def _attempt(self, lease: Lease, request: HttpRequest, *, stream: bool) -> httpx.Response:
        now = self.clock()
        headers = {"user-agent": USER_AGENT, **request.headers}
        if self.signer is not None:
            headers.update(await self.signer(request, now))
        try:
            response = await self._dispatch(lease, request, headers)
        except httpx.HTTPError as exc:
            raise self._transport_failure(request, exc) from exc
        try:
            return await self._check(request, response, stream=stream)
        except BaseException:
            await _close(response)
            raise

    @staticmethod
    async def _dispatch(
        lease: Lease, request: HttpRequest, headers: dict[str, str]
    ) -> httpx.Response:
        # Every attempt is sent afresh: a new head (and httpx.Request where one is needed)
        # from the freshly signed headers.
        body = request.body
        if body is None:
            body = b""  # POST and PUT get an explicit Content-Length: 0 (some servers want 411)
        transport = lease.transport
        if isinstance(transport, FastTransport):
            # Our own client and transport: skip httpx's client layer (cookie extraction,
            # hooks), which object stores do not need and which costs as much CPU as a whole
            # request elsewhere, and hand over the parts without building an httpx.Request.
            return await transport.send_direct(
                request.method, request.origin, request.target, headers, body, lease.timeout
            )
        # One parse of the whole URL: the target is already percent-encoded and httpx keeps
        # escapes as they are (a third of the cost of parsing the origin and copying a path in).
        built = build_request(
            request.method, request.url, headers, body, {"timeout": lease.timeout}
        )
        if transport is not None:
            # Our own client over another transport (httpx's stock one): still no client layer.
            response = await transport.handle_async_request(built)
            response.request = built
            return response
        # An application's client: go through it so its mocks, hooks and proxies apply.
        return await lease.client.send(built, stream=True, follow_redirects=False)

    def _transport_failure(self, request: HttpRequest, exc: httpx.HTTPError) -> _AttemptFailed:
        error, kind = map_transport_error(
            exc,
            operation=request.operation or request.method,
            key=request.key,
            backend=self.backend,
        )
        if kind is None:
            return _AttemptFailed(error, Decision.FAIL)
        decision = classify(
            method=request.method,
            idempotent=request.idempotent,
            error_kind=kind,
            replayable=request.replayable,
        )
        return _AttemptFailed(error, decision)

    async def _check(
        self, request: HttpRequest, response: httpx.Response, *, stream: bool
    ) -> httpx.Response:
        status = response.status_code
        failed = status >= 300 and status not in request.ok_statuses
        if not failed and not request.error_in_body:
            if not stream:
                await self._read(request, response)
            return response
        if failed:
            body = await self._read_limited(response)
            provider = self.error_parser(status, response.headers, body) or ProviderError(status)
        else:
            await self._read(request, response)
            found = self.error_parser(status, response.headers, response.content)
            if found is None:
                return response
            provider = found
        raise self._response_failure(request, response, provider)

    async def _read(self, request: HttpRequest, response: httpx.Response) -> None:
        try:
            await response.aread()
        except httpx.HTTPError as exc:
            raise self._transport_failure(request, exc) from exc

    async def _read_limited(self, response: httpx.Response) -> bytes:
        # Error bodies are small XML/JSON documents; cap what we read from a misbehaving server.
        content = _content_if_read(response)
        if content is not None:
            return content[:_MAX_ERROR_BODY]
        buffer = bytearray()
        try:
            async for chunk in response.aiter_raw():
                buffer += chunk
                if len(buffer) >= _MAX_ERROR_BODY:
                    break
        except httpx.HTTPError:
            pass  # the status alone still classifies the failure
        return bytes(buffer[:_MAX_ERROR_BODY])

    def _response_failure(
        self, request: HttpRequest, response: httpx.Response, provider: ProviderError
    ) -> _AttemptFailed:
        if provider.request_id is None:
            provider.request_id = request_id_from(response.headers, self.request_id_headers)
        local_time = self.clock.raw()
        decision = classify(
            method=request.method,
            idempotent=request.idempotent,
            status=provider.status,
            code=provider.code,
            replayable=request.replayable,
        )
        if provider.status < 300:
            # An error inside a 2xx body is a server-side failure (S3 "InternalError" et al.):
            # map it like a 5xx unless the code says something more precise.
            provider.status = 500 if decision is Decision.RETRY else provider.status
        error = storage_error(
            provider,
            operation=request.operation or request.method,
            key=request.key,
            backend=self.backend,
        )
        return _AttemptFailed(
            error,
            decision,
            retry_after=retry_after_seconds(response.headers, self.clock()),
            server_time=parse_http_date(response.headers.get("date")),
            local_time=local_time,
        )


class _AttemptFailed(Exception):
    """Internal: one attempt's failure, its mapped error and what to do about it."""

    def __init__(
        self,
        error: StorageError,
        decision: Decision,
        *,
        retry_after: float | None = None,
        server_time: datetime | None = None,
        local_time: datetime | None = None,
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.decision = decision
        self.retry_after = retry_after
        self.server_time = server_time
        self.local_time = local_time


class ResponseBody(AsyncIterator[bytes]):
    """The body of an open response as an async iterator of raw (undecoded) chunks.

    Object bodies are returned exactly as stored, so ``Content-Encoding`` is not undone. A body
    that ends before its ``Content-Length`` (or breaks mid-way) raises ``StorageIntegrityError``;
    a read timeout raises ``StorageTimeoutError``. ``aclose()`` releases the connection,
    shielded from cancellation.

    Args:
        response: An open response from :meth:`Sender.open`.
        request: The request it answers (for error messages).
        backend: The backend's short name.
    """

    __slots__ = (
        "_backend",
        "_chunks",
        "_finished",
        "_request",
        "expected",
        "received",
        "response",
    )

    def __init__(self, response: httpx.Response, request: HttpRequest, *, backend: str) -> None:
        self.response = response
        self._request = request
        self._backend = backend
        content = _content_if_read(response)
        # The transport's stream itself, not ``response.aiter_raw()``: that is an async
        # generator which, abandoned after an early close, trio finalises "later, somewhere
        # else" with a ResourceWarning. Our transport's streams are plain iterators.
        self._chunks: AsyncIterator[bytes]
        if content is not None:
            self._chunks = _single(content)
        else:
            stream = response.stream
            assert isinstance(stream, httpx.AsyncByteStream)
            self._chunks = stream.__aiter__()
        length = response.headers.get("content-length")
        self.expected = int(length) if length and length.isdigit() else None
        self.received = 0
        self._finished = False

    def __aiter__(self) -> ResponseBody:
        return self

    async def __anext__(self) -> bytes:
        # A transport may hand out buffered bytes without reaching a checkpoint; a cancelled
        # reader must still stop here ("every async function is a checkpoint", trio's rule).
        await anyio.lowlevel.checkpoint_if_cancelled()
        return await self._next()

    async def read_all(self) -> bytes:
        """The rest of the body in one piece, then the connection released.

        The same checks as iterating (a short body raises ``StorageIntegrityError``, a read
        timeout ``StorageTimeoutError``), with one cancellation check rather than one per chunk.
        """
        await anyio.lowlevel.checkpoint_if_cancelled()
        chunks: list[bytes] = []
        try:
            while True:
                chunks.append(await self._next())
        except StopAsyncIteration:
            pass
        finally:
            await self.aclose()  # shielded unless the body was read to its end
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _next(self) -> bytes:
        try:
            chunk = await self._chunks.__anext__()
        except StopAsyncIteration:
            if self.expected is not None and self.received < self.expected:
                raise self._truncated(None) from None
            self._finished = True
            raise
        except httpx.TimeoutException as exc:
            error, _ = map_transport_error(
                exc, operation=self._operation, key=self._request.key, backend=self._backend
            )
            assert isinstance(error, StorageTimeoutError)
            raise error from exc
        except httpx.HTTPError as exc:
            # The connection broke (or the server closed it) before the whole body arrived.
            raise self._truncated(exc) from exc
        self.received += len(chunk)
        return chunk

    @property
    def _operation(self) -> str:
        return self._request.operation or self._request.method

    def _truncated(self, cause: BaseException | None) -> StorageError:
        return truncated_body_error(
            operation=self._operation,
            key=self._request.key,
            backend=self._backend,
            received=self.received,
            expected=self.expected,
            cause=cause,
        )

    def close_nowait(self) -> None:
        """Release the connection without awaiting, where the transport can (ours can).

        For a body dropped without ``aclose()``: each close coroutine is run one step; one that
        would have to wait (httpcore's takes a lock) is abandoned, leaving the connection to the
        transport's own clean-up.
        """
        for close in (getattr(self._chunks, "aclose", None), self.response.aclose):
            if close is None:
                continue
            step = close()
            try:
                step.send(None)
            except StopIteration:
                continue
            except Exception:  # best effort from a finaliser: nothing to report to
                continue
            step.close()
            return

    async def aclose(self) -> None:
        """Release the connection. Idempotent."""
        if self._finished:
            # Read to the end: the transport has released the connection already, nothing
            # here can wait, so no shielded scope is needed.
            await self.response.aclose()
            return
        with anyio.CancelScope(shield=True):
            close = getattr(self._chunks, "aclose", None)
            if close is not None:
                await close()
            await self.response.aclose()
