"""Progress callbacks: sync or async, on put, put_large and downloads.

Run it: ``python progress_callbacks.py``
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel

from litestar_storages import FileSystemConfig, FileSystemStorage, ProgressInfo

MIB = 1024 * 1024


def print_progress(info: ProgressInfo) -> None:
    """A plain function: called in the task doing the transfer."""
    if info.percentage is not None:  # None when the total size is unknown
        eta = f", {info.eta_seconds:.1f} s left" if info.eta_seconds is not None else ""
        print(f"{info.operation} {info.key}: {info.percentage:.0f}%{eta}")
    else:
        print(f"{info.operation} {info.key}: {info.bytes_transferred} bytes")


class Meter:
    """An async callback: awaited before the transfer continues (so keep it quick)."""

    def __init__(self) -> None:
        self.reports: list[ProgressInfo] = []

    async def __call__(self, info: ProgressInfo) -> None:
        self.reports.append(info)
        await anyio.lowlevel.checkpoint()  # e.g. send the figure to a websocket


async def stream(total: int) -> AsyncIterator[bytes]:
    for start in range(0, total, MIB):
        yield bytes(min(MIB, total - start))


async def main() -> None:
    async with FileSystemStorage(FileSystemConfig(path="./uploads")) as storage:
        # Bytes: the total is known, so there is a percentage and an ETA.
        await storage.put("a.bin", bytes(3 * MIB), progress_callback=print_progress)

        # A generator: the total is unknown; reports carry bytes and speed.
        meter = Meter()
        await storage.put_large("b.bin", stream(4 * MIB), part_size=MIB, progress_callback=meter)
        last = meter.reports[-1]
        print(f"put_large: {len(meter.reports)} reports, {last.bytes_transferred} bytes")

        # Downloads report too (``get`` of every bundled backend takes ``progress_callback``).
        async with storage.get("a.bin", progress_callback=print_progress) as download:
            async for _chunk in download:
                pass


if __name__ == "__main__":
    anyio.run(main)
