"""Progress reports on ``put``, ``put_large`` and downloads, to sync and async callbacks."""

from __future__ import annotations

from typing import cast

import pytest

from conformance.capabilities import Capabilities
from conformance.support import DownloadWithProgress, ProgressLog, async_chunks, payload, read_all
from litestar_storages import BaseStorage, ProgressInfo

pytestmark = pytest.mark.anyio

BODY = payload(700_000)


@pytest.fixture(params=["sync", "async"])
def callback_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def assert_complete_progress(log: ProgressLog, *, total: int, key: str, operation: str) -> None:
    """Reports are non-decreasing, end at ``total``, and describe this transfer."""
    assert log.reports, "no progress was reported"
    assert log.transferred == sorted(log.transferred), "bytes_transferred went backwards"
    assert log.transferred[-1] == total
    assert {info.key for info in log.reports} == {key}
    assert {info.operation for info in log.reports} == {operation}


# --------------------------------------------------------------------------- put
async def test_put_reports_progress_up_to_the_total(
    storage: BaseStorage, callback_kind: str
) -> None:
    log = ProgressLog()
    await storage.put("up.bin", BODY, progress_callback=log.callback(callback_kind))
    assert_complete_progress(log, total=len(BODY), key="up.bin", operation="upload")


async def test_put_of_bytes_reports_the_known_total(storage: BaseStorage) -> None:
    log = ProgressLog()
    await storage.put("up.bin", BODY, progress_callback=log.sync)
    assert {info.total_bytes for info in log.reports} == {len(BODY)}
    assert log.reports[-1].percentage == 100.0


async def test_put_of_a_stream_reports_progress_up_to_its_length(
    storage: BaseStorage, callback_kind: str
) -> None:
    log = ProgressLog()
    await storage.put(
        "up.bin", async_chunks(BODY, 64_000), progress_callback=log.callback(callback_kind)
    )
    assert_complete_progress(log, total=len(BODY), key="up.bin", operation="upload")


async def test_progress_info_fields_are_consistent(storage: BaseStorage) -> None:
    log = ProgressLog()
    await storage.put("up.bin", BODY, progress_callback=log.sync)
    for info in log.reports:
        assert isinstance(info, ProgressInfo)
        assert info.bytes_per_second >= 0
        assert info.eta_seconds is None or info.eta_seconds >= 0
        assert info.percentage is not None
        assert 0 <= info.percentage <= 100


# --------------------------------------------------------------------------- put_large
async def test_put_large_from_an_async_generator_reports_progress_up_to_the_total(
    storage: BaseStorage, caps: Capabilities, callback_kind: str
) -> None:
    part_size = caps.part_size()
    body = payload(part_size * 5 + part_size // 3)  # five full parts and a short one
    log = ProgressLog()
    await storage.put_large(
        "large.bin",
        async_chunks(body, 10_000),
        part_size=part_size,
        progress_callback=log.callback(callback_kind),
    )
    assert_complete_progress(log, total=len(body), key="large.bin", operation="upload")
    assert await storage.get_bytes("large.bin") == body


async def test_put_large_reports_the_total_when_it_is_known(
    storage: BaseStorage, caps: Capabilities
) -> None:
    body = payload(caps.part_size() * 3)
    log = ProgressLog()
    await storage.put_large(
        "large.bin", body, part_size=caps.part_size(), progress_callback=log.sync
    )
    assert log.reports[-1].total_bytes == len(body)
    assert log.reports[-1].percentage == 100.0


# --------------------------------------------------------------------------- downloads
async def test_download_reports_progress_up_to_the_size(
    storage: BaseStorage, caps: Capabilities, callback_kind: str
) -> None:
    await storage.put("down.bin", BODY)
    log = ProgressLog()
    if not caps.download_progress:
        return  # the backend's get() takes no progress callback
    downloads = cast("DownloadWithProgress", storage)
    stream = downloads.get("down.bin", progress_callback=log.callback(callback_kind))
    assert await read_all(stream) == BODY
    assert_complete_progress(log, total=len(BODY), key="down.bin", operation="download")
