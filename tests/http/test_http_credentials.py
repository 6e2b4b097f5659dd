"""The credential cache: lazy, single-flight, advisory and mandatory refresh windows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import anyio
import pytest

from litestar_storages._http.credentials import CredentialCache, Expiring

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Provider:
    """Hands out numbered credentials valid for one hour; can be told to fail or be slow."""

    def __init__(self, clock: Clock, *, lifetime: timedelta | None = timedelta(hours=1)) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls = 0
        self.fail = False
        self.delay = 0.0

    async def __call__(self) -> Expiring[str]:
        self.calls += 1
        if self.delay:
            await anyio.sleep(self.delay)
        if self.fail:
            raise OSError("metadata endpoint down")
        expires = None if self.lifetime is None else self.clock() + self.lifetime
        return Expiring(f"cred-{self.calls}", expires)


def make(
    lifetime: timedelta | None = timedelta(hours=1),
) -> tuple[CredentialCache[str], Provider, Clock]:
    clock = Clock()
    provider = Provider(clock, lifetime=lifetime)
    cache = CredentialCache(
        provider,
        advisory=timedelta(minutes=15),
        mandatory=timedelta(minutes=10),
        retry_after_failure=timedelta(seconds=30),
        clock=clock,
    )
    return cache, provider, clock


async def test_nothing_is_fetched_until_first_use() -> None:
    cache, provider, _ = make()
    assert provider.calls == 0
    assert await cache.get() == "cred-1"
    assert await cache.get() == "cred-1"
    assert provider.calls == 1


async def test_concurrent_callers_trigger_one_fetch() -> None:
    cache, provider, _ = make()
    provider.delay = 0.01
    results: list[str] = []

    async def caller() -> None:
        results.append(await cache.get())

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(caller)
    assert provider.calls == 1
    assert results == ["cred-1"] * 20


async def test_a_credential_without_expiry_is_never_refreshed() -> None:
    cache, provider, clock = make(lifetime=None)
    await cache.get()
    clock.now += timedelta(days=365)
    await cache.get()
    assert provider.calls == 1


async def test_the_advisory_window_refreshes() -> None:
    cache, _provider, clock = make()
    await cache.get()
    clock.now += timedelta(minutes=46)  # 14 minutes left
    assert await cache.get() == "cred-2"


async def test_an_advisory_failure_keeps_the_old_value_and_backs_off() -> None:
    cache, provider, clock = make()
    await cache.get()
    clock.now += timedelta(minutes=46)
    provider.fail = True
    assert await cache.get() == "cred-1"
    assert await cache.get() == "cred-1"
    assert provider.calls == 2  # the second call did not retry within 30 s
    clock.now += timedelta(seconds=31)
    assert await cache.get() == "cred-1"
    assert provider.calls == 3


async def test_the_mandatory_window_raises_on_failure() -> None:
    cache, provider, clock = make()
    await cache.get()
    clock.now += timedelta(minutes=51)  # 9 minutes left
    provider.fail = True
    with pytest.raises(OSError, match="metadata endpoint down"):
        await cache.get()


async def test_an_expired_credential_is_refetched() -> None:
    cache, _provider, clock = make()
    await cache.get()
    clock.now += timedelta(hours=2)
    assert await cache.get() == "cred-2"


async def test_the_first_fetch_failing_raises() -> None:
    cache, provider, _ = make()
    provider.fail = True
    with pytest.raises(OSError):
        await cache.get()


async def test_invalidate_forces_a_refetch() -> None:
    cache, _provider, _ = make()
    await cache.get()
    cache.invalidate()
    assert await cache.get() == "cred-2"


async def test_sync_providers_are_accepted() -> None:
    cache: CredentialCache[str] = CredentialCache(lambda: Expiring("static"))
    assert await cache.get() == "static"


async def test_a_provider_returning_the_wrong_type_is_a_type_error() -> None:
    cache: CredentialCache[str] = CredentialCache(lambda: "bare")  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError):
        await cache.get()


def test_windows_must_be_ordered() -> None:
    with pytest.raises(ValueError):
        CredentialCache(
            lambda: Expiring("x"), advisory=timedelta(minutes=1), mandatory=timedelta(minutes=5)
        )


def test_the_cache_can_be_used_from_two_event_loops() -> None:
    cache, provider, _ = make()

    async def use() -> None:
        cache.invalidate()
        await cache.get()

    anyio.run(use, backend="asyncio")
    anyio.run(use, backend="trio")
    assert provider.calls == 2
