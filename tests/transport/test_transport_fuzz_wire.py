"""Fuzzed response bytes over a real socket: typed errors only, no hang, a consistent pool,
and where the parser accepts a response, the body h11 would have produced."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from litestar_storages._http.transport import FastTransport

from ._transport_server import ScriptedServer, ServerConn
from .test_h1parse_fuzz import deliberately_different, mutated, theirs

pytestmark = pytest.mark.anyio


class Replay:
    """A server that answers each request with the next fuzzed bytes, then closes."""

    def __init__(self) -> None:
        self.response = b""
        self.pieces = 1
        self.server = ScriptedServer(self._script)

    def _script(self, conn: ServerConn) -> None:
        if conn.read_request() is not None:
            conn.send(self.response, pieces=self.pieces)
        conn.sock.close()


@pytest.fixture(scope="module")
def replay() -> Iterator[Replay]:
    replay = Replay()
    with replay.server:
        yield replay


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=mutated(), pieces=st.integers(1, 4))
async def test_fuzzed_responses_end_in_a_response_or_a_typed_error(
    replay: Replay, data: bytes, pieces: int
) -> None:
    replay.response, replay.pieces = data, pieces
    transport = FastTransport(timeout=2)
    async with transport, httpx.AsyncClient(transport=transport, timeout=2) as client:
        try:
            with anyio.fail_after(10):
                response = await client.get(replay.server.url())
        except httpx.TransportError:
            outcome = None
        else:
            outcome = response
        stats = transport.pool_stats()
        assert (stats.active, stats.requests) == (0, 0)
    if outcome is not None and not deliberately_different(data):
        expected = theirs(data, b"GET")
        assert expected[0] == "ok", (data, expected)
        assert (outcome.status_code, outcome.content) == (expected[1], expected[4])
