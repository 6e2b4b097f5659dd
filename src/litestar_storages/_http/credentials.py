"""The credential cache: lazy, single-flight refresh in the caller's task, two refresh windows.

Credential sources are dumb callables (sync or async) returning an :class:`Expiring` value: a
credential and when it stops being valid (``None``: never). The cache decides when to call them:

* fresh (more than ``advisory`` before expiry): returned without locking;
* in the **advisory** window: one caller refreshes; if that fails, the old value is still valid
  and is returned (a flaky metadata endpoint must not fail requests), and the next attempt waits
  for ``retry_after_failure``;
* in the **mandatory** window (or expired, or never fetched): the refresh must succeed, and its
  failure is raised.

Refreshes happen behind an ``anyio.Lock`` so concurrent callers trigger one fetch and all get
its result. There is no background task (trio's rule: spawning is explicit). The clock is an
input. This is botocore's two-window scheme and object_store's lazy token cache.

A refresh may succeed and still return a credential inside a window: metadata services hand
out the same credential until shortly before it expires (EC2 "at least five minutes before",
GCE "until 5 minutes before"). Asking again on every call would not help and would hammer the
service, so after such a refresh the cache keeps serving that credential, while it is still
valid, until ``retry_after_failure`` has passed (botocore extends such expiries for the same
reason).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import anyio

from litestar_storages._http.clock import Clock, system_clock

__all__ = ["CredentialCache", "CredentialProvider", "Expiring"]

logger = logging.getLogger("litestar_storages.credentials")

T = TypeVar("T")


@dataclass(frozen=True)
class Expiring(Generic[T]):
    """A credential and its expiry.

    Attributes:
        value: The credential.
        expires_at: When it stops being valid (timezone-aware), or ``None`` if it never does.
    """

    value: T
    expires_at: datetime | None = None


CredentialProvider = Callable[[], "Expiring[T] | Awaitable[Expiring[T]]"]
"""Fetches a fresh credential; sync or async."""


class CredentialCache(Generic[T]):
    """Caches one credential and refreshes it lazily.

    Args:
        provider: Fetches a fresh credential.
        advisory: Refresh when less than this is left; failures are tolerated.
        mandatory: Below this, a refresh must succeed; failures raise.
        retry_after_failure: After a failed advisory refresh, wait this long before trying again.
        clock: Current time (injectable for tests).
        initial: A credential known up front (static keys), served without any fetch.
    """

    def __init__(
        self,
        provider: CredentialProvider[T],
        *,
        advisory: timedelta = timedelta(minutes=15),
        mandatory: timedelta = timedelta(minutes=10),
        retry_after_failure: timedelta = timedelta(seconds=30),
        clock: Clock = system_clock,
        initial: Expiring[T] | None = None,
    ) -> None:
        if mandatory > advisory:
            raise ValueError("the mandatory window must not be longer than the advisory one")
        self._provider = provider
        self._advisory = advisory
        self._mandatory = mandatory
        self._retry_after_failure = retry_after_failure
        self._clock = clock
        self._current: Expiring[T] | None = initial
        self._next_advisory_attempt: datetime | None = None
        self._stale_until: datetime | None = None  # a refresh returned nothing fresher
        self._lock: anyio.Lock | None = None
        self._lock_loop: Any = None

    @property
    def current(self) -> Expiring[T] | None:
        """The cached credential, without refreshing it."""
        return self._current

    def invalidate(self) -> None:
        """Forget the cached credential (e.g. after the provider said it expired)."""
        self._current = None
        self._next_advisory_attempt = None
        self._stale_until = None

    def _lock_for_this_loop(self) -> anyio.Lock:
        # A lock belongs to the event loop that created it; a storage used from a second loop
        # (one test per loop) gets a new one. No await between check and assignment: race-free.
        import anyio.lowlevel

        token = anyio.lowlevel.current_token()
        loop = getattr(token, "native_token", token)
        if self._lock is None or self._lock_loop is not loop:
            self._lock = anyio.Lock()
            self._lock_loop = loop
        return self._lock

    def _state(self, now: datetime) -> str:
        current = self._current
        if current is None:
            return "missing"
        if current.expires_at is None:
            return "fresh"
        left = current.expires_at - now
        if left > self._advisory:
            return "fresh"
        if left > self._mandatory:
            return "advisory"
        return "mandatory"

    async def get(self) -> T:
        """The credential, refreshed first if it is close to expiry.

        Raises:
            Exception: Whatever the provider raised, when a mandatory refresh failed.
        """
        current = self._current
        if current is not None and self._state(self._clock()) == "fresh":
            return current.value
        async with self._lock_for_this_loop():
            now = self._clock()
            state = self._state(now)  # another task may have refreshed while we waited
            current = self._current
            if state == "fresh" and current is not None:
                return current.value
            if self._served_stale(current, now):
                assert current is not None
                return current.value
            if state == "advisory" and current is not None:
                if self._next_advisory_attempt is not None and now < self._next_advisory_attempt:
                    return current.value
                try:
                    return (await self._refresh(now)).value
                except Exception as exc:  # advisory: the old value is still good
                    self._next_advisory_attempt = now + self._retry_after_failure
                    logger.warning(
                        "credential refresh failed, keeping the current credential until %s: %s",
                        current.expires_at,
                        type(exc).__name__,
                    )
                    return current.value
            return (await self._refresh(now)).value

    def _served_stale(self, current: Expiring[T] | None, now: datetime) -> bool:
        # After a refresh that returned nothing fresher: keep the (still valid) credential.
        return (
            current is not None
            and self._stale_until is not None
            and now < self._stale_until
            and (current.expires_at is None or now < current.expires_at)
        )

    async def _refresh(self, now: datetime) -> Expiring[T]:
        result = self._provider()
        if inspect.isawaitable(result):
            result = await result
        if not isinstance(result, Expiring):
            raise TypeError(
                f"credential provider returned {type(result).__name__}, expected Expiring"
            )
        self._current = result
        self._next_advisory_attempt = None
        fresh = self._state(now) == "fresh"
        self._stale_until = None if fresh else now + self._retry_after_failure
        return result
