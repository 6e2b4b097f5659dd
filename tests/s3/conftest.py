"""Fixtures of the S3 unit tests: a respx router and a storage sending through it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import respx

from ._s3_helpers import S3Storage, open_storage


@pytest.fixture
def router() -> respx.Router:
    """A respx router with the S3 test endpoint as its base URL; unmatched requests fail."""
    return respx.Router(base_url="http://s3.test:9000", assert_all_mocked=True)


@pytest.fixture
async def storage(router: respx.Router) -> AsyncIterator[S3Storage]:
    """An S3Storage on the router with prefix ``p/``; closed after the test."""
    opened = open_storage(router, prefix="p/")
    async with opened:
        yield opened


@pytest.fixture
def opener(router: respx.Router) -> Any:
    """Build more storages on the same router (the caller closes them)."""

    def open_(**fields: Any) -> S3Storage:
        return open_storage(router, **fields)

    return open_
