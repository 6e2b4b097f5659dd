"""The cloud backends run twice, on the library's HTTP transport and on httpx's stock one; this
checks that each run's requests really travelled on the transport its config names (so the
``-httpx`` entries are not the fast transport under another name)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from conformance.backends import BackendSpec
from litestar_storages import BaseStorage
from litestar_storages._http.transport import FastTransport

pytestmark = pytest.mark.anyio
HTTP_BACKENDS_ONLY = True  # conftest: only the backends that speak HTTP

TRANSPORTS: dict[str, type[httpx.AsyncBaseTransport]] = {
    "fast": FastTransport,
    "httpx": httpx.AsyncHTTPTransport,
}


def count_requests(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Count ``handle_async_request`` calls per transport class from now on."""
    counts: Counter[str] = Counter()
    for name, cls in TRANSPORTS.items():
        original = cls.handle_async_request

        async def counted(
            self: Any, request: httpx.Request, *, _name: str = name, _original: Any = original
        ) -> httpx.Response:
            counts[_name] += 1
            response: httpx.Response = await _original(self, request)
            return response

        monkeypatch.setattr(cls, "handle_async_request", counted)
    return counts


async def test_requests_travel_on_the_configured_transport(
    backend: BackendSpec, storage: BaseStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert backend.http_transport is not None
    counts = count_requests(monkeypatch)
    await storage.put("transport/probe.txt", b"which transport?")
    assert await storage.get_bytes("transport/probe.txt") == b"which transport?"
    chunks = [chunk async for chunk in storage.get("transport/probe.txt")]
    assert b"".join(chunks) == b"which transport?"
    other = "httpx" if backend.http_transport == "fast" else "fast"
    assert counts[backend.http_transport] >= 3, counts
    assert counts[other] == 0, counts
