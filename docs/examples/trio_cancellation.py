"""On trio: cancel scopes around transfers, and downloads that close when you are done.

Needs trio: ``pip install "litestar-storages[trio]"``. Run it: ``python trio_cancellation.py``
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import trio

from litestar_storages import FileSystemConfig, FileSystemStorage

MIB = 1024 * 1024


async def slow_producer() -> AsyncIterator[bytes]:
    """A client that sends one MiB and then stalls."""
    yield bytes(MIB)
    await trio.sleep(60)
    yield b"never sent"


async def main() -> None:
    async with FileSystemStorage(FileSystemConfig(path="./uploads")) as storage:
        await storage.put("video.mp4", bytes(8 * MIB))

        # Read only the start: leaving `async with` closes the file (or the HTTP response)
        # at once, even after `break`, an exception or a cancellation.
        received = 0
        async with storage.get("video.mp4") as stream:
            async for chunk in stream:
                received += len(chunk)
                if received >= 2 * MIB:
                    break
        print(received, stream.closed)  # 2097152 True

        # A timeout around an upload: the cancelled write leaves nothing behind.
        with trio.move_on_after(0.5) as scope:
            await storage.put("stalled.bin", slow_producer())
        print(scope.cancelled_caught, await storage.exists("stalled.bin"))  # True False

        # A deadline on a download: fail_after raises TooSlowError, and `async with`
        # closes the stream on the way out.
        try:
            with trio.fail_after(0.2):
                async with storage.get("video.mp4") as stream:
                    async for _chunk in stream:
                        await trio.sleep(0.1)  # slow processing of each 1 MiB chunk
        except trio.TooSlowError:
            print("too slow:", stream.closed)  # too slow: True


if __name__ == "__main__":
    trio.run(main)
