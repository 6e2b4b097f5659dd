"""The provider-neutral credential-endpoint helpers of ``_http.endpoint``."""

from __future__ import annotations

import time

import pytest

from litestar_storages._http.endpoint import (
    is_loopback,
    local_pool_options,
    local_sender,
    send_within,
)
from litestar_storages._http.request import HttpRequest
from litestar_storages.exceptions import StorageTimeoutError

from ._fake_server import FakeEndpoint, Hang, Reply, Request


class Hanging(FakeEndpoint):
    def handle(self, request: Request) -> Reply:
        raise Hang


class Answering(FakeEndpoint):
    def handle(self, request: Request) -> Reply:
        return Reply(200, "ok")


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080/token", True),
        ("http://127.9.9.9/", True),
        ("http://[::1]:1/", True),
        ("http://localhost/x", True),
        ("http://169.254.169.254/", False),
        ("http://10.0.0.1/", False),
        ("http://login.example.com/", False),
        ("http://127.0.0.1.example.com/", False),
    ],
)
def test_only_loopback_hosts_count_as_loopback(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


def test_local_pool_options_use_the_short_timeout_everywhere() -> None:
    options = local_pool_options(0.25)
    timeouts = (
        options.connect_timeout,
        options.read_timeout,
        options.write_timeout,
        options.pool_timeout,
    )
    assert timeouts == (0.25, 0.25, 0.25, 0.25)


@pytest.mark.anyio
async def test_a_hanging_endpoint_is_cut_off_at_the_deadline() -> None:
    with Hanging() as fake:
        sender = local_sender(backend="test", timeout=30.0)  # the deadline, not the pool, acts
        started = time.monotonic()
        with pytest.raises(StorageTimeoutError, match=r"the fake did not answer within 0\.3 s"):
            await send_within(
                sender, HttpRequest("GET", fake.origin, "/"), deadline=0.3, what="the fake"
            )
        assert time.monotonic() - started < 2
        await sender.handle.release()


@pytest.mark.anyio
async def test_an_answer_within_the_deadline_is_returned() -> None:
    with Answering() as fake:
        sender = local_sender(backend="test", timeout=1.0)
        response = await send_within(
            sender, HttpRequest("GET", fake.origin, "/"), deadline=5, what="the fake"
        )
        assert response.content == b"ok"
        await sender.handle.release()
