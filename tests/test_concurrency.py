"""task_group(): failures surface as themselves, not as ExceptionGroup."""

from __future__ import annotations

import anyio
import pytest

from litestar_storages._concurrency import task_group
from litestar_storages.exceptions import StorageConnectionError


@pytest.mark.anyio
async def test_a_failing_child_raises_its_own_exception() -> None:
    async def fail() -> None:
        raise StorageConnectionError("reset")

    with pytest.raises(StorageConnectionError, match="reset"):
        async with task_group() as tg:
            tg.start_soon(fail)
            await anyio.sleep_forever()


@pytest.mark.anyio
async def test_a_failing_body_raises_its_own_exception() -> None:
    with pytest.raises(KeyError):
        async with task_group() as tg:
            tg.start_soon(anyio.sleep_forever)
            raise KeyError("producer failed")


@pytest.mark.anyio
async def test_outer_cancellation_still_cancels() -> None:
    with anyio.move_on_after(0.01) as scope:
        async with task_group() as tg:
            tg.start_soon(anyio.sleep_forever)
            await anyio.sleep_forever()
    assert scope.cancelled_caught


@pytest.mark.anyio
async def test_success_returns_normally() -> None:
    results: list[int] = []
    async with task_group() as tg:
        for value in range(3):
            tg.start_soon(_append, results, value)
    assert sorted(results) == [0, 1, 2]


async def _append(results: list[int], value: int) -> None:
    await anyio.lowlevel.checkpoint()
    results.append(value)
