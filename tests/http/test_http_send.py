"""The send loop: per-attempt signing, the retry table, Retry-After, clock skew, bodies."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import respx

from litestar_storages._http.errors import ProviderError
from litestar_storages._http.pool import ClientHandle, PoolOptions, stock_transport_factory
from litestar_storages._http.request import HttpRequest
from litestar_storages._http.send import ResponseBody, Sender, retry_after_seconds
from litestar_storages.exceptions import (
    StorageConnectionError,
    StorageError,
    StorageFileNotFoundError,
    StorageIntegrityError,
    StoragePermissionError,
    StorageServerError,
    StorageTimeoutError,
)
from litestar_storages.retry import RetryConfig

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
ORIGIN = "http://store.test"

Handler = Callable[[httpx.Request], httpx.Response]


class FrozenClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class RecordingSigner:
    """Signs with the time it was given, so tests see which clock reading each attempt used."""

    def __init__(self) -> None:
        self.times: list[datetime] = []

    async def __call__(self, request: HttpRequest, now: datetime) -> Mapping[str, str]:
        self.times.append(now)
        return {"authorization": f"test {now.isoformat()}"}


def xml_error(status: int, code: str, **headers: str) -> httpx.Response:
    body = f"<Error><Code>{code}</Code><Message>m</Message></Error>".encode()
    return httpx.Response(status, content=body, headers=headers)


def parse_xml_code(status: int, headers: httpx.Headers, body: bytes) -> ProviderError | None:
    text = body.decode()
    if "<Error>" not in text:
        return None if status < 300 else ProviderError(status)
    code = text.split("<Code>", 1)[1].split("</Code>", 1)[0]
    return ProviderError(status, code, "m")


class Script:
    """A transport answering from a list of responses (or exceptions), recording requests."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def make_sender(
    script: Handler,
    *,
    attempts: int = 3,
    signer: RecordingSigner | None = None,
    clock: FrozenClock | None = None,
    sleeps: list[float] | None = None,
) -> Sender:
    options = PoolOptions(transport_factory=lambda _o: httpx.MockTransport(script))
    recorded = sleeps if sleeps is not None else []

    async def sleep(seconds: float) -> None:
        recorded.append(seconds)

    return Sender(
        ClientHandle(options),
        backend="test",
        signer=signer,
        error_parser=parse_xml_code,
        request_id_headers=("x-request-id",),
        retry=RetryConfig(max_attempts=attempts, base_delay=0.1, max_delay=5, jitter=False),
        clock=clock or FrozenClock(),
        rng=random.Random(0),
        sleep=sleep,
    )


def get(key: str = "k", **kwargs: object) -> HttpRequest:
    return HttpRequest("GET", ORIGIN, f"/b/{key}", key=key, operation="GetObject", **kwargs)  # type: ignore[arg-type]


async def test_a_success_is_sent_once_and_its_body_read() -> None:
    script = Script(httpx.Response(200, content=b"hello"))
    response = await make_sender(script).send(get())
    assert response.content == b"hello"
    assert len(script.requests) == 1


async def test_every_attempt_is_signed_afresh_with_the_clock_read_once() -> None:
    clock = FrozenClock()
    signer = RecordingSigner()
    script = Script(httpx.Response(503), httpx.Response(200))
    sender = make_sender(script, signer=signer, clock=clock)
    await sender.send(get())
    assert len(signer.times) == 2
    assert [r.headers["authorization"] for r in script.requests] == [
        f"test {T0.isoformat()}",
        f"test {T0.isoformat()}",
    ]


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_transient_statuses_are_retried(status: int) -> None:
    script = Script(httpx.Response(status), httpx.Response(200, content=b"ok"))
    sleeps: list[float] = []
    response = await make_sender(script, sleeps=sleeps).send(get())
    assert response.content == b"ok"
    assert sleeps == [0.1]


async def test_slowdown_burst_backs_off_exponentially_then_gives_up() -> None:
    script = Script(*(xml_error(503, "SlowDown") for _ in range(4)))
    sleeps: list[float] = []
    with pytest.raises(StorageServerError) as info:
        await make_sender(script, attempts=4, sleeps=sleeps).send(get())
    assert sleeps == [0.1, 0.2, 0.4]
    assert info.value.code == "SlowDown"
    assert info.value.status == 503
    assert len(script.requests) == 4


async def test_retry_after_is_honoured() -> None:
    script = Script(httpx.Response(429, headers={"retry-after": "3"}), httpx.Response(200))
    sleeps: list[float] = []
    await make_sender(script, sleeps=sleeps).send(get())
    assert sleeps == [3.0]


def test_retry_after_as_http_date_is_relative_to_now() -> None:
    headers = httpx.Headers({"retry-after": "Fri, 02 Jan 2026 03:04:15 GMT"})
    assert retry_after_seconds(headers, T0) == 10.0


@pytest.mark.parametrize("status", [400, 403, 404, 409, 412])
async def test_client_errors_are_not_retried(status: int) -> None:
    script = Script(httpx.Response(status), httpx.Response(200))
    with pytest.raises(StorageError):
        await make_sender(script).send(get())
    assert len(script.requests) == 1


async def test_error_code_beats_status_and_request_id_is_kept() -> None:
    script = Script(xml_error(404, "NoSuchKey", **{"x-request-id": "REQ1"}))
    with pytest.raises(StorageFileNotFoundError) as info:
        await make_sender(script).send(get("missing"))
    error = info.value
    assert (error.status, error.code, error.request_id, error.key) == (
        404,
        "NoSuchKey",
        "REQ1",
        "missing",
    )
    assert isinstance(error.__cause__, ProviderError)


async def test_connection_refused_is_retried_even_for_post() -> None:
    script = Script(httpx.ConnectError("refused"), httpx.Response(200))
    request = HttpRequest("POST", ORIGIN, "/b/k", body=b"x")
    await make_sender(script).send(request)
    assert len(script.requests) == 2


async def test_a_read_timeout_on_post_is_not_retried() -> None:
    script = Script(httpx.ReadTimeout("slow"), httpx.Response(200))
    request = HttpRequest("POST", ORIGIN, "/b/k", body=b"x")
    with pytest.raises(StorageTimeoutError):
        await make_sender(script).send(request)
    assert len(script.requests) == 1


async def test_a_connection_reset_on_get_is_retried() -> None:
    script = Script(httpx.ReadError("reset by peer"), httpx.Response(200, content=b"ok"))
    response = await make_sender(script).send(get())
    assert response.content == b"ok"


async def test_connection_errors_exhaust_into_storage_connection_error() -> None:
    script = Script(*(httpx.ReadError("reset by peer") for _ in range(3)))
    with pytest.raises(StorageConnectionError) as info:
        await make_sender(script).send(get())
    assert isinstance(info.value.__cause__, httpx.ReadError)


async def test_a_stream_body_is_never_resent() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"once"

    script = Script(httpx.Response(503), httpx.Response(200))
    request = HttpRequest("PUT", ORIGIN, "/b/k", body=body(), headers={"content-length": "4"})
    with pytest.raises(StorageServerError):
        await make_sender(script).send(request)
    assert len(script.requests) == 1


async def test_an_error_inside_a_200_body_is_retried_like_a_500() -> None:
    script = Script(
        httpx.Response(200, content=b"<Error><Code>InternalError</Code></Error>"),
        httpx.Response(200, content=b"<Result/>"),
    )
    request = HttpRequest("POST", ORIGIN, "/b/k", idempotent=True, error_in_body=True)
    response = await make_sender(script).send(request)
    assert response.content == b"<Result/>"


async def test_an_error_inside_a_200_body_that_persists_raises_a_server_error() -> None:
    script = Script(
        *(
            httpx.Response(200, content=b"<Error><Code>InternalError</Code></Error>")
            for _ in range(3)
        )
    )
    request = HttpRequest("POST", ORIGIN, "/b/k", idempotent=True, error_in_body=True)
    with pytest.raises(StorageServerError) as info:
        await make_sender(script).send(request)
    assert info.value.code == "InternalError"


async def test_clock_skew_is_corrected_from_the_date_header_and_re_signed() -> None:
    server_now = T0 + timedelta(hours=2)
    skew = xml_error(403, "RequestTimeTooSkewed", date="Fri, 02 Jan 2026 05:04:05 GMT")
    script = Script(skew, httpx.Response(200))
    signer = RecordingSigner()
    sleeps: list[float] = []
    sender = make_sender(script, signer=signer, sleeps=sleeps, attempts=1)
    await sender.send(get())
    assert signer.times == [T0, server_now]
    assert sleeps == []  # re-signed at once
    assert sender.clock() == server_now  # later requests are signed with the server's time


async def test_clock_skew_is_corrected_only_once_per_request() -> None:
    skew = "Fri, 02 Jan 2026 05:04:05 GMT"
    script = Script(*(xml_error(403, "RequestTimeTooSkewed", date=skew) for _ in range(2)))
    with pytest.raises(StoragePermissionError):
        await make_sender(script, attempts=1).send(get())
    assert len(script.requests) == 2


async def test_ok_statuses_are_returned_not_raised() -> None:
    script = Script(httpx.Response(404))
    response = await make_sender(script).send(get(ok_statuses=frozenset({404})))
    assert response.status_code == 404


async def test_requests_carry_timeouts_and_never_follow_redirects() -> None:
    script = Script(httpx.Response(301, headers={"location": "http://elsewhere.test/"}))
    with pytest.raises(StorageError):
        await make_sender(script).send(get())
    assert len(script.requests) == 1
    assert "timeout" in script.requests[0].extensions


async def test_wire_path_and_query_are_sent_exactly() -> None:
    script = Script(httpx.Response(200))
    request = HttpRequest(
        "GET", ORIGIN, "/b/a%20b/c%2Bd//e", query=[("list-type", "2"), ("prefix", "a b+c")]
    )
    await make_sender(script).send(request)
    assert script.requests[0].url.raw_path == b"/b/a%20b/c%2Bd//e?list-type=2&prefix=a%20b%2Bc"


async def test_post_without_body_sends_content_length_zero() -> None:
    script = Script(httpx.Response(200))
    await make_sender(script).send(HttpRequest("POST", ORIGIN, "/b/k", query=[("uploads", "")]))
    assert script.requests[0].headers["content-length"] == "0"


# ---------------------------------------------------------------------- streamed bodies
async def test_open_streams_the_body_and_counts_it() -> None:
    script = Script(httpx.Response(200, content=b"abcdef"))
    sender = make_sender(script)
    request = get()
    response = await sender.open(request)
    body = ResponseBody(response, request, backend="test")
    chunks = [chunk async for chunk in body]
    await body.aclose()
    assert b"".join(chunks) == b"abcdef"
    assert response.is_closed


class _CutStream(httpx.AsyncByteStream):
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"abc"
        if self.error is not None:
            raise self.error


@pytest.mark.parametrize(
    "error", [None, httpx.RemoteProtocolError("peer closed connection"), httpx.ReadError("reset")]
)
async def test_a_body_cut_mid_stream_is_an_integrity_error(error: Exception | None) -> None:
    cut = httpx.Response(200, headers={"content-length": "10"}, stream=_CutStream(error))
    sender = make_sender(Script(cut))
    request = get()
    body = ResponseBody(await sender.open(request), request, backend="test")
    with pytest.raises(StorageIntegrityError) as info:
        async for _ in body:
            pass
    await body.aclose()
    assert "after 3 of 10 bytes" in str(info.value)


async def test_a_read_timeout_mid_stream_is_a_timeout_error() -> None:
    cut = httpx.Response(
        200, headers={"content-length": "10"}, stream=_CutStream(httpx.ReadTimeout("t"))
    )
    sender = make_sender(Script(cut))
    request = get()
    body = ResponseBody(await sender.open(request), request, backend="test")
    with pytest.raises(StorageTimeoutError):
        async for _ in body:
            pass
    await body.aclose()


async def test_read_all_returns_the_body_and_closes_the_response() -> None:
    sender = make_sender(Script(httpx.Response(200, content=b"abcdef")))
    request = get()
    response = await sender.open(request)
    body = ResponseBody(response, request, backend="test")
    assert await body.read_all() == b"abcdef"
    assert response.is_closed


@pytest.mark.parametrize(
    "error", [None, httpx.RemoteProtocolError("peer closed connection"), httpx.ReadError("reset")]
)
async def test_read_all_of_a_body_cut_short_is_an_integrity_error(error: Exception | None) -> None:
    cut = httpx.Response(200, headers={"content-length": "10"}, stream=_CutStream(error))
    request = get()
    response = await make_sender(Script(cut)).open(request)
    with pytest.raises(StorageIntegrityError, match="after 3 of 10 bytes"):
        await ResponseBody(response, request, backend="test").read_all()
    assert response.is_closed


async def test_read_all_timing_out_is_a_timeout_error() -> None:
    cut = httpx.Response(
        200, headers={"content-length": "10"}, stream=_CutStream(httpx.ReadTimeout("t"))
    )
    request = get()
    response = await make_sender(Script(cut)).open(request)
    with pytest.raises(StorageTimeoutError):
        await ResponseBody(response, request, backend="test").read_all()
    assert response.is_closed


# ---------------------------------------------------------------------- through respx
@respx.mock
async def test_respx_sees_the_stock_transport_path() -> None:
    route = respx.get("http://store.test/b/k").mock(
        side_effect=[httpx.Response(500), httpx.Response(200, content=b"fine")]
    )
    sender = Sender(
        ClientHandle(PoolOptions(transport_factory=stock_transport_factory)),
        backend="test",
        retry=RetryConfig(max_attempts=2, base_delay=0, jitter=False),
    )
    try:
        response = await sender.send(get())
    finally:
        await sender.handle.release()
    assert response.content == b"fine"
    assert route.call_count == 2


@respx.mock
async def test_an_injected_client_is_used_through_client_send() -> None:
    route = respx.get("http://store.test/b/k").mock(return_value=httpx.Response(200))
    async with httpx.AsyncClient() as client:
        sender = Sender(ClientHandle(PoolOptions(), client=client), backend="test")
        await sender.send(get())
        await sender.handle.release()
        assert not client.is_closed
    assert route.called


async def test_an_injected_client_sees_an_ordinary_request_with_every_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        sender = Sender(
            ClientHandle(PoolOptions(), client=client), backend="test", signer=RecordingSigner()
        )
        await sender.send(HttpRequest("PUT", ORIGIN, "/b/k", headers={"x-a": "1"}, body=b"abc"))
    request = seen[0]
    assert type(request) is httpx.Request
    assert request.url == httpx.URL("http://store.test/b/k")
    assert request.content == b"abc"
    assert [name for name, _ in request.headers.multi_items()] == [
        "host",
        "user-agent",
        "x-a",
        "authorization",
        "content-length",
    ]
