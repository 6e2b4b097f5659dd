"""Retries: the policy every cloud request follows, and the same policy for your own code.

Run it: ``python retry_policies.py``
"""

from __future__ import annotations

import random

import anyio

from litestar_storages import (
    MemoryStorage,
    RetryConfig,
    S3Config,
    S3Storage,
    StorageConnectionError,
    StorageFileNotFoundError,
    StoredFile,
    retry,
    with_retry,
)
from litestar_storages.retry import backoff

# Backends retry every idempotent request internally; retry_config tunes how.
patient = RetryConfig(max_attempts=6, base_delay=0.2, max_delay=10.0)
storage = S3Storage(S3Config(bucket="my-bucket", region="eu-west-1"), retry_config=patient)

# 0.2.3's spelling still works: max_retries counts the retries after the first attempt.
assert RetryConfig(max_retries=2) == RetryConfig(max_attempts=3)

# The delays before retries 1, 2, 3, ...: exponential, capped, jittered into [d/2, d].
delays = [backoff(n, patient, random.Random(0)) for n in range(1, 6)]
print([round(d, 2) for d in delays])


class FlakyUploader:
    """Application code that fails twice with a network error, then succeeds."""

    def __init__(self, storage: MemoryStorage) -> None:
        self.storage = storage
        self.attempts = 0

    @retry(RetryConfig(max_attempts=4, base_delay=0.01))
    async def upload(self, key: str, data: bytes) -> StoredFile:
        self.attempts += 1
        if self.attempts < 3:
            raise StorageConnectionError("connection reset by peer", key=key)
        return await self.storage.put(key, data)


async def main() -> None:
    memory = MemoryStorage()
    uploader = FlakyUploader(memory)
    stored = await uploader.upload("report.csv", b"a,b\n")
    print(stored.key, "stored after", uploader.attempts, "attempts")  # 3 attempts

    # with_retry() wraps one call; errors that retrying cannot fix fail at once.
    data = await with_retry(lambda: memory.get_bytes("report.csv"))
    print(data)
    try:
        await with_retry(lambda: memory.get_bytes("missing.csv"), RetryConfig(max_attempts=5))
    except StorageFileNotFoundError:
        print("not found: not retried")


if __name__ == "__main__":
    anyio.run(main)
