"""Time as an input: the injectable clock and the server-measured clock offset.

Signers and credential caches never read the system clock themselves; they receive ``now``
from here, so tests pass a frozen clock instead of monkeypatching ``datetime``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

__all__ = ["Clock", "SkewedClock", "system_clock"]

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware UTC."""


def system_clock() -> datetime:
    """The system's current time in UTC."""
    return datetime.now(timezone.utc)


class SkewedClock:
    """A clock corrected by the offset measured against a server's ``Date`` header.

    S3 rejects requests signed more than 15 minutes away from its own time
    (``RequestTimeTooSkewed``); the send loop then records the difference here and re-signs,
    so later requests are signed with the server's notion of time.

    Args:
        clock: The underlying clock.
    """

    __slots__ = ("_clock", "offset")

    def __init__(self, clock: Clock = system_clock) -> None:
        self._clock = clock
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return self._clock() + self.offset

    def correct(self, server_time: datetime, local_time: datetime) -> None:
        """Record that the server read ``server_time`` when the local clock read ``local_time``."""
        self.offset = server_time - local_time

    @property
    def raw(self) -> Clock:
        """The uncorrected clock."""
        return self._clock
