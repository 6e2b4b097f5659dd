"""The credential cache after a refresh that returned nothing fresher (metadata services hand
out the same credential until shortly before it expires): no hammering, nothing expired."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from litestar_storages._http.credentials import CredentialCache, Expiring

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class SameCredential:
    """Always answers the credential expiring at ``expires_at`` (like a metadata service)."""

    def __init__(self, expires_at: datetime) -> None:
        self.expires_at = expires_at
        self.calls = 0

    def __call__(self) -> Expiring[str]:
        self.calls += 1
        return Expiring(f"cred-{self.expires_at:%H%M}", self.expires_at)


def make(provider: SameCredential, clock: Clock) -> CredentialCache[str]:
    return CredentialCache(
        provider,
        advisory=timedelta(minutes=15),
        mandatory=timedelta(minutes=10),
        retry_after_failure=timedelta(seconds=30),
        clock=clock,
    )


async def test_an_advisory_refresh_returning_the_same_credential_is_not_repeated_at_once() -> None:
    clock = Clock()
    provider = SameCredential(T0 + timedelta(hours=1))
    cache = make(provider, clock)
    await cache.get()
    clock.now += timedelta(minutes=46)  # advisory window; the service still has nothing newer
    for _ in range(5):
        await cache.get()
    assert provider.calls == 2
    clock.now += timedelta(seconds=31)
    await cache.get()
    assert provider.calls == 3


async def test_a_mandatory_window_credential_is_served_while_valid_without_hammering() -> None:
    clock = Clock()
    provider = SameCredential(T0 + timedelta(minutes=8))  # already inside the mandatory window
    cache = make(provider, clock)
    for _ in range(5):
        assert await cache.get() == "cred-0008"
    assert provider.calls == 1
    clock.now += timedelta(seconds=31)
    await cache.get()
    assert provider.calls == 2


async def test_an_expired_credential_is_never_served_even_after_a_stale_refresh() -> None:
    clock = Clock()
    provider = SameCredential(T0 + timedelta(seconds=10))
    cache = make(provider, clock)
    await cache.get()
    clock.now += timedelta(seconds=11)  # expired, though within the 30 s back-off
    provider.expires_at = T0 + timedelta(hours=1)
    assert await cache.get() == "cred-0100"
    assert provider.calls == 2


async def test_a_fresh_refresh_clears_the_back_off() -> None:
    clock = Clock()
    provider = SameCredential(T0 + timedelta(minutes=8))
    cache = make(provider, clock)
    await cache.get()
    clock.now += timedelta(seconds=31)
    provider.expires_at = T0 + timedelta(hours=1)
    await cache.get()
    clock.now += timedelta(minutes=46)  # advisory window of the fresh credential
    await cache.get()
    assert provider.calls == 3
