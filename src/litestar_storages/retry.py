"""Retrying: the ``RetryConfig`` users pass, a pure decision table, backoff, and the loop.

``classify()`` and ``backoff()`` are pure (no clock, no global randomness) so they are tested as
tables. The loop sleeps with ``anyio.sleep`` and so works on asyncio and trio. The HTTP layer
runs every cloud request through it, re-signing each attempt; ``retry()`` and ``with_retry()``
apply the same policy to user code.
"""

from __future__ import annotations

import enum
import functools
import random
from collections.abc import Awaitable, Callable
from typing import Literal, ParamSpec, TypeVar

from litestar_storages.exceptions import (
    StorageConfigurationError,
    StorageConnectionError,
    StorageError,
    StorageTimeoutError,
)

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRYABLE_CODES",
    "RETRYABLE_STATUSES",
    "Decision",
    "ErrorKind",
    "RetryConfig",
    "backoff",
    "classify",
    "classify_exception",
    "retry",
    "run_with_retry",
    "with_retry",
]

P = ParamSpec("P")
T = TypeVar("T")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
"""Statuses that mean "try again": timeouts, throttling and transient server failures."""

# Statuses where the server guarantees the request was not processed, so even a
# non-idempotent request may be sent again.
_NOT_PROCESSED_STATUSES = frozenset({429, 503})

RETRYABLE_CODES = frozenset(
    {
        # S3 and S3-compatible (also inside a 200 response to CompleteMultipartUpload/CopyObject)
        "SlowDown",
        "InternalError",
        "RequestTimeout",
        "ServiceUnavailable",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
        "TooManyRequests",
        # Azure Blob
        "ServerBusy",
        "OperationTimedOut",
        # GCS JSON API reasons
        "rateLimitExceeded",
        "userRateLimitExceeded",
        "backendError",
        "internalError",
    }
)

_CLOCK_SKEW_CODES = frozenset({"RequestTimeTooSkewed", "RequestExpired"})

ErrorKind = Literal["connect", "timeout", "network"]
"""How a request failed without a response.

``connect``: the connection was never established, so nothing was sent (always safe to retry).
``timeout``: a read/write timeout; the server may have acted on the request.
``network``: the connection broke mid-request; the server may have acted on it.
"""


class Decision(enum.Enum):
    """What to do after a failed attempt."""

    FAIL = "fail"
    RETRY = "retry"
    RESYNC_CLOCK = "resync_clock"
    """Retry after correcting the local clock offset from the server's ``Date`` header."""


class RetryConfig:
    """How often and how patiently to retry.

    Args:
        max_attempts: Total attempts including the first (1 disables retries).
        base_delay: Delay before the first retry, in seconds.
        max_delay: Upper bound of any single delay, in seconds (also caps ``Retry-After``).
        exponential_base: Growth factor of the delay per attempt.
        jitter: Randomise each delay within [delay/2, delay] so clients do not retry in step.
        max_retries: litestar-storages 0.2.3's name; ``max_attempts = max_retries + 1``.
        retryable_exceptions: Exception types ``retry()``/``with_retry()`` retry in user code,
            in addition to the storage errors ``classify`` deems transient.
    """

    __slots__ = (
        "base_delay",
        "exponential_base",
        "jitter",
        "max_attempts",
        "max_delay",
        "retryable_exceptions",
    )

    def __init__(
        self,
        max_attempts: int | None = None,
        base_delay: float = 0.5,
        max_delay: float = 20.0,
        exponential_base: float = 2.0,
        jitter: bool = True,
        *,
        max_retries: int | None = None,
        retryable_exceptions: tuple[type[BaseException], ...] = (),
    ) -> None:
        if max_attempts is not None and max_retries is not None and max_attempts != max_retries + 1:
            raise StorageConfigurationError(
                "give max_attempts or max_retries, not both "
                f"(max_attempts={max_attempts}, max_retries={max_retries})"
            )
        if max_attempts is None:
            max_attempts = 3 if max_retries is None else max_retries + 1
        if max_attempts < 1:
            raise StorageConfigurationError(f"max_attempts must be at least 1, not {max_attempts}")
        if base_delay < 0 or max_delay < 0:
            raise StorageConfigurationError("retry delays must not be negative")
        if exponential_base < 1:
            raise StorageConfigurationError("exponential_base must be at least 1")
        self.max_attempts = max_attempts
        self.base_delay = float(base_delay)
        self.max_delay = float(max_delay)
        self.exponential_base = float(exponential_base)
        self.jitter = jitter
        self.retryable_exceptions = tuple(retryable_exceptions)

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt (0.2.3's name)."""
        return self.max_attempts - 1

    def __repr__(self) -> str:
        return (
            f"RetryConfig(max_attempts={self.max_attempts}, base_delay={self.base_delay}, "
            f"max_delay={self.max_delay}, exponential_base={self.exponential_base}, "
            f"jitter={self.jitter})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RetryConfig):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in self.__slots__))


def classify(
    *,
    method: str = "GET",
    idempotent: bool | None = None,
    status: int | None = None,
    code: str | None = None,
    error_kind: ErrorKind | None = None,
    replayable: bool = True,
) -> Decision:
    """Decide whether a failed attempt may be retried. Pure.

    Args:
        method: The HTTP method; GET/HEAD/PUT/DELETE/OPTIONS are idempotent.
        idempotent: Override the method's idempotency (e.g. CompleteMultipartUpload, a POST
            that S3 treats idempotently).
        status: The response status, when a response arrived.
        code: The provider's error code, when one was parsed.
        error_kind: How the request failed when no response arrived.
        replayable: Whether the request body can be sent again. A consumed stream never is.
    """
    if not replayable:
        return Decision.FAIL
    safe = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
    if error_kind is not None:
        if error_kind == "connect":
            return Decision.RETRY
        return Decision.RETRY if safe else Decision.FAIL
    if code in _CLOCK_SKEW_CODES:
        return Decision.RESYNC_CLOCK
    if status in _NOT_PROCESSED_STATUSES:
        return Decision.RETRY
    if code in RETRYABLE_CODES or status in RETRYABLE_STATUSES:
        return Decision.RETRY if safe else Decision.FAIL
    return Decision.FAIL


def backoff(
    attempt: int,
    config: RetryConfig,
    rng: random.Random | None = None,
    *,
    retry_after: float | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1 for the first retry). Pure given ``rng``.

    Exponential: ``base_delay * exponential_base ** (attempt - 1)``, capped at ``max_delay``;
    with jitter, drawn uniformly from [delay/2, delay]. A server's ``Retry-After`` raises the
    delay to at least that value, still capped at ``max_delay``.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    delay = min(config.max_delay, config.base_delay * config.exponential_base ** (attempt - 1))
    if config.jitter and delay > 0:
        delay = (rng or random.Random()).uniform(delay / 2, delay)
    if retry_after is not None and retry_after > delay:
        delay = min(retry_after, max(config.max_delay, delay))
    return delay


def classify_exception(
    exc: BaseException,
    *,
    idempotent: bool = True,
    extra: tuple[type[BaseException], ...] = (),
) -> Decision:
    """Apply :func:`classify` to an exception raised by a storage operation."""
    if extra and isinstance(exc, extra):
        return Decision.RETRY
    if isinstance(exc, StorageTimeoutError):
        kind: ErrorKind = "timeout"
        return classify(idempotent=idempotent, error_kind=kind)
    if isinstance(exc, StorageConnectionError):
        return classify(idempotent=idempotent, error_kind="network")
    if isinstance(exc, StorageError) and (exc.status is not None or exc.code is not None):
        decision = classify(idempotent=idempotent, status=exc.status, code=exc.code)
        # Clock skew is corrected inside the HTTP layer; user code cannot do better than retry.
        return Decision.RETRY if decision is Decision.RESYNC_CLOCK else decision
    return Decision.FAIL


async def run_with_retry(
    operation: Callable[[], Awaitable[T]],
    config: RetryConfig,
    *,
    should_retry: Callable[[BaseException], Decision],
    rng: random.Random | None = None,
    retry_after: Callable[[BaseException], float | None] = lambda _exc: None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> T:
    """Run ``operation`` until it succeeds, a failure is final, or attempts run out.

    The last exception propagates unchanged. Cancellation is never retried (it is not an
    ``Exception``), and each sleep is a cancellation point.
    """
    if sleep is None:
        # Imported here: the package (and the pure signers beside it) must import without anyio,
        # which serverless presign-only users never need.
        import anyio

        sleep = anyio.sleep
    rng = rng or random.Random()
    attempt = 1
    while True:
        try:
            return await operation()
        except Exception as exc:
            if attempt >= config.max_attempts or should_retry(exc) is Decision.FAIL:
                raise
            await sleep(backoff(attempt, config, rng, retry_after=retry_after(exc)))
            attempt += 1


def retry(
    config: RetryConfig | None = None,
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """Decorate an async function so transient storage failures are retried.

    Only failures that :func:`classify` deems transient (network errors, timeouts, throttling,
    5xx) and ``config.retryable_exceptions`` are retried; a missing key or a permission error
    fails at once. Use it only on operations that are safe to repeat.

    Example:
        >>> @retry(RetryConfig(max_attempts=5))
        ... async def upload(storage, data):
        ...     return await storage.put("report.csv", data)
    """
    cfg = config or RetryConfig()

    def decorate(func: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(func)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            return await run_with_retry(
                lambda: func(*args, **kwargs),
                cfg,
                should_retry=lambda exc: classify_exception(exc, extra=cfg.retryable_exceptions),
            )

        return wrapper

    return decorate


async def with_retry(
    operation: Callable[[], Awaitable[T]],
    config: RetryConfig | None = None,
) -> T:
    """Call ``operation()`` (a zero-argument async callable), retrying transient failures.

    Example:
        >>> data = await with_retry(lambda: storage.get_bytes("report.csv"))
    """
    cfg = config or RetryConfig()
    return await run_with_retry(
        operation,
        cfg,
        should_retry=lambda exc: classify_exception(exc, extra=cfg.retryable_exceptions),
    )
