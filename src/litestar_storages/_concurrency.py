"""Task groups whose failures read like sequential code's.

anyio's task groups raise ``ExceptionGroup`` even when one child failed, so a caller of
``put_large`` would need ``except*`` to catch ``StorageConnectionError``. Every task group in
the library goes through :func:`task_group`, which re-raises the first real failure instead
(the group stays reachable as ``__context__``). Cancellation is never unwrapped: a group made
only of cancellations propagates unchanged so the event loop sees it.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import cast

import anyio
import anyio.abc

if sys.version_info >= (3, 11):  # pragma: no cover - version dependent
    from builtins import BaseExceptionGroup
else:  # pragma: no cover - version dependent
    from exceptiongroup import BaseExceptionGroup

__all__ = ["first_failure", "task_group"]


def first_failure(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    """The first exception in ``group`` (nested groups flattened) that is not a cancellation."""
    cancelled = anyio.get_cancelled_exc_class()
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            inner: BaseException | None = first_failure(exc)
            if inner is not None:
                return inner
        elif not isinstance(exc, cancelled):
            return cast("BaseException", exc)
    return None


class task_group:  # named like anyio.create_task_group, which it stands in for
    """``async with task_group() as tg:`` - anyio's task group, unwrapping single failures."""

    __slots__ = ("_group",)

    def __init__(self) -> None:
        self._group = anyio.create_task_group()

    async def __aenter__(self) -> anyio.abc.TaskGroup:
        return await self._group.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        try:
            return bool(await self._group.__aexit__(exc_type, exc, tb))
        except BaseExceptionGroup as group:
            failure = first_failure(group)
            if failure is None:
                raise
            raise failure from None
