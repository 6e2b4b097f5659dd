"""The quickstart `make demo` runs: the main operations on the local filesystem.

Run it with `python examples/quickstart.py [DIRECTORY]` (default: examples/uploads). It works
the same on asyncio and trio; pass `--trio` to use trio.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio

from litestar_storages import FileSystemConfig, FileSystemStorage, ProgressInfo


async def generate_report(lines: int):  # type: ignore[no-untyped-def]
    """A streamed upload: the data never exists in memory all at once."""
    for number in range(1, lines + 1):
        yield f"{number},value-{number * number}\n".encode()


async def main(root: Path) -> None:
    say = print
    async with FileSystemStorage(FileSystemConfig(path=root)) as storage:
        stored = await storage.put(
            "hello.txt",
            b"Hello, World!\n",
            content_type="text/plain",
            metadata={"author": "quickstart"},
        )
        say(f"put      {stored.key}: {stored.size} bytes, etag {stored.etag}")

        reported = [0]

        def on_progress(info: ProgressInfo) -> None:
            # Called for every chunk; print roughly every 256 KiB.
            if info.bytes_transferred - reported[0] >= 256 * 1024:
                reported[0] = info.bytes_transferred
                rate = info.bytes_per_second / 1e6
                say(f"         ... {info.bytes_transferred:>9} bytes uploaded ({rate:.1f} MB/s)")

        report = await storage.put(
            "reports/squares.csv",
            generate_report(50_000),
            content_type="text/csv",
            progress_callback=on_progress,
        )
        say(f"put      {report.key}: {report.size} bytes streamed from an async generator")

        received = 0
        async with storage.get("reports/squares.csv") as stream:
            async for chunk in stream:
                received += len(chunk)
        say(f"get      {report.key}: streamed back {received} bytes")

        text = (await storage.get_bytes("hello.txt")).decode().strip()
        say(f"get      hello.txt: {text!r}")

        copied = await storage.copy("hello.txt", "archive/hello-copy.txt")
        say(f"copy     hello.txt -> {copied.key}")

        info = await storage.info("archive/hello-copy.txt")
        say(f"info     {info.key}: {info.content_type}, metadata {info.metadata}")

        say("list     everything, in key order:")
        async for item in storage.list():
            say(f"         {item.key:28} {item.size:>8} bytes  {item.last_modified:%Y-%m-%d %H:%M}")

        say(f"url      {await storage.url('hello.txt')}")
    say(f"done     files are in {root}")


if __name__ == "__main__":
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    directory = (Path(args[0]) if args else Path(__file__).parent / "uploads").resolve()
    anyio.run(main, directory, backend="trio" if "--trio" in sys.argv else "asyncio")
