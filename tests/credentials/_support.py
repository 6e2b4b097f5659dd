"""Helpers of the credential tests: a hand-moved clock, and where secrets must not show up."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from datetime import datetime, timezone

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


class Clock:
    """A clock tests move by hand (shared by the storage and the fakes)."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def exception_text(exc: BaseException) -> str:
    """Everything an exception shows: its traceback, ``str`` and ``repr`` down its chain."""
    parts = ["".join(traceback.format_exception(type(exc), exc, exc.__traceback__))]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current), repr(vars(current))]
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def log_text(records: Iterable[logging.LogRecord]) -> str:
    """Every captured log line, formatted (with any exception info)."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in records)


def assert_hidden(secrets: Iterable[str], *texts: str) -> None:
    """None of ``secrets`` appears in any of ``texts``."""
    for secret in secrets:
        assert secret, "an empty secret proves nothing"
        for text in texts:
            assert secret not in text, f"a secret leaked: ...{secret[-6:]!r} in {text[:300]!r}"
