"""Peak memory of a streamed ``FileSystemStorage.put_large``: the issue wants < 64 MiB for 512 MiB.

Streams ``--size-mib`` MiB (default 512) from an async generator into a temporary directory,
checks the stored size, and prints the process's peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``; the page cache is not counted, so the figure is
what the process itself holds). Run standalone::

    .venv/bin/python bench/put_large_rss.py [--size-mib 512] [--chunk-kib 1024] [--backend trio]

Exits with status 1 when the peak exceeds ``--limit-mib`` (default 64).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

from litestar_storages import FileSystemConfig, FileSystemStorage, ProgressInfo

MIB = 1024 * 1024


def peak_rss_mib() -> float:
    """Peak RSS of this process so far, in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024


async def produce(total: int, chunk: int) -> AsyncIterator[bytes]:
    """``total`` bytes in fresh ``chunk``-sized pieces, as an upload handler would yield them."""
    sent = 0
    while sent < total:
        size = min(chunk, total - sent)
        # A new object per chunk (not one buffer reused): what a real producer hands over.
        yield bytes([sent // chunk % 251]) * size
        sent += size


async def run(size_mib: int, chunk_kib: int, fsync: bool) -> tuple[float, float, float]:
    total = size_mib * MIB
    baseline = peak_rss_mib()
    last_report = 0

    def on_progress(info: ProgressInfo) -> None:
        nonlocal last_report
        if info.bytes_transferred - last_report >= 128 * MIB:
            last_report = info.bytes_transferred
            print(f"  {info.bytes_transferred // MIB:>5} MiB  peak RSS {peak_rss_mib():6.1f} MiB")

    with tempfile.TemporaryDirectory(prefix="put-large-rss-") as directory:
        storage = FileSystemStorage(FileSystemConfig(Path(directory), fsync=fsync))
        started = time.perf_counter()
        stored = await storage.put_large(
            "bench/large.bin", produce(total, chunk_kib * 1024), progress_callback=on_progress
        )
        elapsed = time.perf_counter() - started
        if stored.size != total:
            raise SystemExit(f"stored {stored.size} bytes, expected {total}")
    return baseline, peak_rss_mib(), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=512, help="bytes to stream, in MiB")
    parser.add_argument("--chunk-kib", type=int, default=1024, help="producer chunk size, KiB")
    parser.add_argument("--limit-mib", type=float, default=64.0, help="fail above this peak")
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    parser.add_argument("--no-fsync", action="store_true", help="FileSystemConfig(fsync=False)")
    args = parser.parse_args()

    print(
        f"put_large of {args.size_mib} MiB from an async generator "
        f"({args.chunk_kib} KiB chunks, {args.backend})"
    )
    baseline, peak, elapsed = anyio.run(
        run, args.size_mib, args.chunk_kib, not args.no_fsync, backend=args.backend
    )
    rate = args.size_mib / elapsed if elapsed else float("inf")
    print(f"peak RSS before the upload: {baseline:.1f} MiB")
    print(f"peak RSS after the upload:  {peak:.1f} MiB (limit {args.limit_mib:.0f} MiB)")
    print(f"time: {elapsed:.2f} s ({rate:.0f} MiB/s)")
    if peak > args.limit_mib:
        print("FAIL: peak RSS above the limit")
        raise SystemExit(1)
    print("OK")


if __name__ == "__main__":
    main()
