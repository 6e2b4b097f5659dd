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
# The send loop hands FastTransport each request as parts (``send_direct``); anything else gets
# an httpx.Request through ``handle_async_request``.
ENTRY_POINTS: dict[str, tuple[str, ...]] = {
    "fast": ("send_direct", "handle_async_request"),
    "httpx": ("handle_async_request",),
}


def count_requests(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Count the requests each transport class is given from now on."""
    counts: Counter[str] = Counter()
    for name, cls in TRANSPORTS.items():
        for entry in ENTRY_POINTS[name]:
            original = getattr(cls, entry)

            async def counted(
                self: Any, *args: Any, _name: str = name, _original: Any = original, **kwargs: Any
            ) -> httpx.Response:
                counts[_name] += 1
                response: httpx.Response = await _original(self, *args, **kwargs)
                return response

            monkeypatch.setattr(cls, entry, counted)
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
