"""Transfer progress: the ``ProgressInfo`` snapshot and the plumbing that reports it.

Callbacks may be plain functions or coroutine functions; coroutine results are awaited in the
task doing the transfer, so a slow callback slows the transfer rather than piling up tasks.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

if TYPE_CHECKING:
    import anyio

__all__ = ["ProgressCallback", "ProgressInfo", "ProgressReporter"]


@dataclass(frozen=True)
class ProgressInfo:
    """One progress report.

    Attributes:
        bytes_transferred: Bytes moved so far.
        total_bytes: The expected total, when known (``None`` for streams of unknown length).
        operation: ``"upload"`` or ``"download"``.
        key: The key being transferred.
        elapsed_seconds: Seconds since the transfer started.
    """

    bytes_transferred: int
    total_bytes: int | None
    operation: Literal["upload", "download"]
    key: str
    elapsed_seconds: float = 0.0

    @property
    def percentage(self) -> float | None:
        """Percent complete (0-100), or ``None`` when the total is unknown."""
        if self.total_bytes is None:
            return None
        if self.total_bytes == 0:
            return 100.0
        return min(100.0, self.bytes_transferred * 100.0 / self.total_bytes)

    @property
    def bytes_per_second(self) -> float:
        """Average throughput since the start (0.0 before any time has passed)."""
        if self.elapsed_seconds <= 0:
            return 0.0
        return self.bytes_transferred / self.elapsed_seconds

    @property
    def eta_seconds(self) -> float | None:
        """Estimated seconds left, or ``None`` when the total or the rate is unknown."""
        if self.total_bytes is None:
            return None
        rate = self.bytes_per_second
        if rate <= 0:
            return None
        return max(0.0, (self.total_bytes - self.bytes_transferred) / rate)


ProgressCallback: TypeAlias = Callable[[ProgressInfo], "Awaitable[None] | None"]
"""A sync or async callable receiving :class:`ProgressInfo`."""


class ProgressReporter:
    """Accumulates transferred bytes and calls a progress callback.

    Args:
        callback: The user's callback, or ``None`` (then every call is a cheap no-op).
        key: The key being transferred.
        operation: ``"upload"`` or ``"download"``.
        total_bytes: The expected total, when known.
        clock: A monotonic clock in seconds (injectable for tests).
    """

    __slots__ = (
        "_callback",
        "_clock",
        "_lock",
        "_start",
        "key",
        "operation",
        "total_bytes",
        "transferred",
    )

    def __init__(
        self,
        callback: ProgressCallback | None,
        *,
        key: str,
        operation: Literal["upload", "download"],
        total_bytes: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._callback = callback
        self._clock = clock
        self._lock: anyio.Lock | None = None
        self._start = clock()
        self.key = key
        self.operation = operation
        self.total_bytes = total_bytes
        self.transferred = 0

    @property
    def enabled(self) -> bool:
        """Whether a callback is attached."""
        return self._callback is not None

    async def start(self) -> None:
        """Report the zero-byte starting point."""
        await self._emit()

    async def advance(self, nbytes: int) -> None:
        """Count ``nbytes`` more and report."""
        self.transferred += nbytes
        await self._emit()

    async def _emit(self) -> None:
        if self._callback is None:
            return
        if self._lock is None:
            import anyio  # only transfers with a callback need it

            self._lock = anyio.Lock()
        # Parts finish concurrently: one report at a time, each built when its turn comes, so an
        # async callback sees bytes_transferred never decrease.
        async with self._lock:
            info = ProgressInfo(
                bytes_transferred=self.transferred,
                total_bytes=self.total_bytes,
                operation=self.operation,
                key=self.key,
                elapsed_seconds=self._clock() - self._start,
            )
            result = self._callback(info)
            if inspect.isawaitable(result):
                await result
