"""The keep-alive pool: idle connections per origin, request slots, no background task.

httpcore's pool walked and probed every connection at least twice per request, which was
55-65% of the CPU at concurrency 64 (../shared/HTTP-TRANSPORT.md). Here every operation is O(1):

* a *slot* is held by each request in flight, from before it picks a connection until its
  response body is finished; ``max_connections`` slots exist, and a request that finds none
  waits in FIFO order, at most the pool timeout;
* each origin has a deque of idle connections: the most recently returned is reused first (its
  TCP window is warm and it is least likely to have been closed by the server), and connections
  idle longer than ``keepalive_expiry`` are dropped from the cold end whenever the deque is
  touched, so nothing needs a reaper task;
* a reused connection is probed once (one ``MSG_PEEK``) on checkout: a server that closed it
  while idle is noticed before the request is written in most cases;
* idle connections are capped in total (``max_keepalive_connections``), and an open-but-idle
  connection to another origin is closed when a new one would exceed ``max_connections``.

Everything here is synchronous except waiting for a slot, so a cancellation can only land in
that wait (which hands a slot it was just given on to the next waiter).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import httpx

from litestar_storages._http._connection import Connection

__all__ = ["ConnectionPool", "PoolStats"]

Key = tuple[bytes, bytes, int]


@dataclass(frozen=True)
class PoolStats:
    """A snapshot of the pool, for tests and diagnostics.

    Attributes:
        idle: Open connections waiting in the pool.
        active: Connections carrying a request or an unfinished response body.
        requests: Slots held (requests in flight, including ones still connecting).
        waiting: Requests waiting for a slot.
    """

    idle: int
    active: int
    requests: int
    waiting: int


class ConnectionPool:
    """Idle connections per origin and the request slots that bound concurrency."""

    def __init__(
        self,
        *,
        max_connections: int | None,
        max_keepalive_connections: int | None,
        keepalive_expiry: float | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_connections = max_connections if max_connections is not None else 1 << 30
        self._max_idle = (
            max_keepalive_connections if max_keepalive_connections is not None else 1 << 30
        )
        self._expiry = keepalive_expiry
        self._clock = clock
        self._idle: dict[Key, deque[Connection]] = {}
        self._idle_count = 0
        self._active: set[Connection] = set()
        self._slots = 0
        self._waiters: deque[anyio.Event] = deque()
        self.closed = False

    # -- slots --------------------------------------------------------------------------------

    async def acquire(self, pool_timeout: float | None) -> None:
        """Take a request slot, waiting at most ``pool_timeout`` seconds.

        Raises:
            httpx.PoolTimeout: no slot became free in time.
        """
        if self._slots < self._max_connections and not self._waiters:
            self._slots += 1
            return
        event = anyio.Event()
        self._waiters.append(event)
        try:
            with anyio.fail_after(pool_timeout):
                await event.wait()
        except BaseException as exc:
            if event.is_set():
                # The slot was handed to us just as we gave up: pass it on.
                self.release_slot()
            else:
                self._waiters.remove(event)
            if isinstance(exc, TimeoutError):
                raise httpx.PoolTimeout(
                    f"no connection available within {pool_timeout} s "
                    f"({self._max_connections} in use)"
                ) from exc
            raise
        # The releasing request handed its slot over without decrementing the count.

    @property
    def busy(self) -> bool:
        """More than one request is in flight (so others can run while one waits)."""
        return self._slots > 1

    def release_slot(self) -> None:
        """Give a slot back, directly to the longest waiter if there is one."""
        if self._waiters:
            self._waiters.popleft().set()
        else:
            self._slots -= 1

    # -- connections --------------------------------------------------------------------------

    def checkout(self, key: Key) -> Connection | None:
        """An idle connection to ``key`` that still looks alive, or ``None``."""
        idle = self._idle.get(key)
        if not idle:
            return None
        now = self._clock()
        expiry = self._expiry
        if expiry is not None:
            while idle and now - idle[0].idle_since > expiry:
                self._idle_count -= 1
                idle.popleft().close()
        while idle:
            conn = idle.pop()
            self._idle_count -= 1
            if conn.is_stale():
                # Closed by the server while idle (EOF), or stray bytes: either way unusable.
                conn.close()
                continue
            conn.reused = True
            self._active.add(conn)
            return conn
        return None

    def opened(self, conn: Connection) -> None:
        """Register a new connection as active, closing an idle one if over the limit."""
        if self._idle_count and len(self._active) + self._idle_count >= self._max_connections:
            for idle in self._idle.values():
                if idle:
                    self._idle_count -= 1
                    idle.popleft().close()
                    break
        self._active.add(conn)

    def release(self, conn: Connection, reuse: bool) -> None:
        """A response is done with ``conn``: pool it (if ``reuse``) or close it; free the slot."""
        self._active.discard(conn)
        if reuse and not conn.closed and not self.closed and self._idle_count < self._max_idle:
            conn.idle_since = self._clock()
            idle = self._idle.get(conn.key)
            if idle is None:
                idle = self._idle[conn.key] = deque()
            idle.append(conn)
            self._idle_count += 1
        else:
            conn.close()
        self.release_slot()

    def discard(self, conn: Connection) -> None:
        """Close a connection that failed mid-request (its slot stays with the caller)."""
        self._active.discard(conn)
        conn.close()

    def stats(self) -> PoolStats:
        return PoolStats(
            idle=self._idle_count,
            active=len(self._active),
            requests=self._slots,
            waiting=len(self._waiters),
        )

    def close(self) -> None:
        """Close every connection, idle or in use; later releases close theirs too."""
        self.closed = True
        for idle in self._idle.values():
            while idle:
                idle.pop().close()
        self._idle.clear()
        self._idle_count = 0
        for conn in list(self._active):
            conn.close()  # wakes a task parked on it (anyio.notify_closing)
        self._active.clear()
