"""Retry policy: the pure decision table, backoff arithmetic, and the anyio loop."""

from __future__ import annotations

import random

import pytest

from litestar_storages import RetryConfig, retry, with_retry
from litestar_storages.exceptions import (
    StorageConfigurationError,
    StorageConnectionError,
    StorageError,
    StorageFileNotFoundError,
    StoragePermissionError,
    StorageServerError,
    StorageTimeoutError,
)
from litestar_storages.retry import (
    Decision,
    ErrorKind,
    backoff,
    classify,
    classify_exception,
    run_with_retry,
)

R, F, SKEW = Decision.RETRY, Decision.FAIL, Decision.RESYNC_CLOCK


@pytest.mark.parametrize(
    ("method", "idempotent", "status", "code", "kind", "replayable", "expected"),
    [
        # no response at all
        ("GET", None, None, None, "connect", True, R),
        ("POST", None, None, None, "connect", True, R),  # nothing was sent
        ("GET", None, None, None, "timeout", True, R),
        ("POST", None, None, None, "timeout", True, F),  # may have been applied
        ("POST", True, None, None, "timeout", True, R),  # caller vouches for idempotency
        ("PUT", None, None, None, "network", True, R),
        ("POST", None, None, None, "network", True, F),
        ("PUT", None, None, None, "network", False, F),  # a consumed stream cannot be resent
        # statuses
        ("GET", None, 500, None, None, True, R),
        ("GET", None, 502, None, None, True, R),
        ("GET", None, 503, None, None, True, R),
        ("GET", None, 504, None, None, True, R),
        ("GET", None, 408, None, None, True, R),
        ("GET", None, 429, None, None, True, R),
        ("POST", None, 429, None, None, True, R),  # throttled: never processed
        ("POST", None, 503, None, None, True, R),
        ("POST", None, 500, None, None, True, F),
        ("GET", None, 400, None, None, True, F),
        ("GET", None, 403, None, None, True, F),
        ("GET", None, 404, None, None, True, F),
        ("GET", None, 412, None, None, True, F),
        ("GET", None, 501, None, None, True, F),
        # provider codes
        ("PUT", None, 503, "SlowDown", None, True, R),
        ("POST", True, 200, "InternalError", None, True, R),  # 200-with-error body
        ("GET", None, 500, "ServerBusy", None, True, R),
        ("GET", None, 403, "rateLimitExceeded", None, True, R),
        ("GET", None, 403, "RequestTimeTooSkewed", None, True, SKEW),
        ("GET", None, 403, "AccessDenied", None, True, F),
        ("GET", None, 503, "SlowDown", None, False, F),
    ],
)
def test_classify_table(
    method: str,
    idempotent: bool | None,
    status: int | None,
    code: str | None,
    kind: ErrorKind | None,
    replayable: bool,
    expected: Decision,
) -> None:
    decision = classify(
        method=method,
        idempotent=idempotent,
        status=status,
        code=code,
        error_kind=kind,
        replayable=replayable,
    )
    assert decision is expected


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (10, 20.0)],
)
def test_backoff_is_exponential_and_capped_without_jitter(attempt: int, expected: float) -> None:
    config = RetryConfig(base_delay=0.5, max_delay=20.0, exponential_base=2.0, jitter=False)
    assert backoff(attempt, config) == expected


def test_backoff_jitter_stays_within_half_to_full_delay() -> None:
    config = RetryConfig(base_delay=1.0, max_delay=100.0, jitter=True)
    rng = random.Random(7)
    delays = [backoff(3, config, rng) for _ in range(200)]
    assert all(2.0 <= d <= 4.0 for d in delays)
    assert len(set(delays)) > 100  # actually random


def test_backoff_jitter_is_reproducible_with_a_seeded_rng() -> None:
    config = RetryConfig(jitter=True)
    assert backoff(2, config, random.Random(1)) == backoff(2, config, random.Random(1))


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [(None, 0.5), (3.0, 3.0), (0.1, 0.5), (60.0, 20.0)],
)
def test_backoff_honours_retry_after_up_to_max_delay(
    retry_after: float | None, expected: float
) -> None:
    config = RetryConfig(base_delay=0.5, max_delay=20.0, jitter=False)
    assert backoff(1, config, retry_after=retry_after) == expected


def test_backoff_rejects_attempt_zero() -> None:
    with pytest.raises(ValueError, match="attempt"):
        backoff(0, RetryConfig())


def test_retry_config_accepts_the_seed_and_0_2_3_names() -> None:
    assert RetryConfig(max_attempts=5).max_attempts == 5
    assert RetryConfig(max_retries=3).max_attempts == 4
    assert RetryConfig(max_retries=3).max_retries == 3
    assert RetryConfig(max_attempts=4, max_retries=3) == RetryConfig(max_attempts=4)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"max_attempts": 2, "max_retries": 5},
        {"base_delay": -1.0},
        {"exponential_base": 0.5},
    ],
)
def test_retry_config_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(StorageConfigurationError):
        RetryConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (StorageConnectionError("reset"), R),
        (StorageTimeoutError("slow"), R),
        (StorageServerError("boom", status=503), R),
        (StorageError("slow down", status=503, code="SlowDown"), R),
        (StorageFileNotFoundError("gone", status=404), F),
        (StoragePermissionError("no", status=403, code="AccessDenied"), F),
        (ValueError("bug"), F),
    ],
)
def test_classify_exception(exc: BaseException, expected: Decision) -> None:
    assert classify_exception(exc) is expected


class _Flaky:
    def __init__(self, failures: list[BaseException]) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


async def _no_sleep(_: float) -> None:
    return None


@pytest.mark.anyio
async def test_loop_retries_transient_failures_until_success() -> None:
    flaky = _Flaky([StorageConnectionError("a"), StorageServerError("b", status=500)])
    sleeps: list[float] = []

    async def record(delay: float) -> None:
        sleeps.append(delay)

    result = await run_with_retry(
        flaky,
        RetryConfig(max_attempts=3, jitter=False, base_delay=0.25),
        should_retry=classify_exception,
        sleep=record,
    )
    assert result == "ok"
    assert flaky.calls == 3
    assert sleeps == [0.25, 0.5]


@pytest.mark.anyio
async def test_loop_gives_up_after_max_attempts_with_the_last_error() -> None:
    last = StorageConnectionError("third")
    flaky = _Flaky([StorageConnectionError("1"), StorageConnectionError("2"), last])
    with pytest.raises(StorageConnectionError) as info:
        await run_with_retry(
            flaky, RetryConfig(max_attempts=3), should_retry=classify_exception, sleep=_no_sleep
        )
    assert info.value is last
    assert flaky.calls == 3


@pytest.mark.anyio
async def test_loop_does_not_retry_permanent_errors() -> None:
    flaky = _Flaky([StorageFileNotFoundError("missing")])
    with pytest.raises(StorageFileNotFoundError):
        await run_with_retry(
            flaky, RetryConfig(max_attempts=5), should_retry=classify_exception, sleep=_no_sleep
        )
    assert flaky.calls == 1


@pytest.mark.anyio
async def test_loop_really_sleeps_on_the_running_loop() -> None:
    flaky = _Flaky([StorageConnectionError("once")])
    config = RetryConfig(max_attempts=2, base_delay=0.01, jitter=False)
    assert await run_with_retry(flaky, config, should_retry=classify_exception) == "ok"


@pytest.mark.anyio
async def test_retry_decorator_retries_and_keeps_the_function_name() -> None:
    flaky = _Flaky([StorageConnectionError("x")])

    @retry(RetryConfig(max_attempts=2, base_delay=0.0, jitter=False))
    async def fetch(value: int) -> str:
        return f"{await flaky()}-{value}"

    assert await fetch(3) == "ok-3"
    assert fetch.__name__ == "fetch"
    assert flaky.calls == 2


@pytest.mark.anyio
async def test_with_retry_retries_user_listed_exceptions() -> None:
    flaky = _Flaky([KeyError("custom")])
    config = RetryConfig(max_attempts=2, base_delay=0.0, retryable_exceptions=(KeyError,))
    assert await with_retry(flaky, config) == "ok"


@pytest.mark.anyio
async def test_with_retry_does_not_retry_unlisted_exceptions() -> None:
    flaky = _Flaky([KeyError("custom")])
    with pytest.raises(KeyError):
        await with_retry(flaky, RetryConfig(max_attempts=3, base_delay=0.0))
    assert flaky.calls == 1
