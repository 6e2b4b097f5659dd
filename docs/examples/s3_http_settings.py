"""HTTP settings: timeouts, the transport, and an application's own httpx client.

Against a local S3 (moto, MinIO, radosgw), with the variables of s3_quickstart.py.
"""

from __future__ import annotations

import os

import anyio
import httpx

from litestar_storages import S3Config, S3Storage

BUCKET = os.environ.get("S3_BUCKET", "my-bucket")


async def main() -> None:
    # The shared pool, tuned: every storage with equal settings shares one pool per event loop.
    tuned = S3Config(
        bucket=BUCKET,
        prefix="examples/http",
        max_pool_connections=32,  # requests in flight at once (each holds a connection)
        connect_timeout=3.0,  # DNS + TCP + TLS
        read_timeout=20.0,  # each read and write, and the wait for a free connection
    )
    async with S3Storage(tuned) as storage:
        await storage.put("a.txt", b"on the library's own HTTP/1.1 transport")

    # httpx's stock transport instead (or LITESTAR_STORAGES_HTTP_TRANSPORT=httpx for every
    # storage that does not say): same API, same results, more CPU per request.
    stock = S3Config(bucket=BUCKET, prefix="examples/http", http_transport="httpx")
    async with S3Storage(stock) as storage:
        print("stock transport:", await storage.get_bytes("a.txt"))

    # An application's own client: every request goes through client.send(), so its event
    # hooks, mocks and mounts apply. The storage never closes it.
    seen: list[str] = []

    async def log_request(request: httpx.Request) -> None:
        seen.append(request.method)

    async with httpx.AsyncClient(event_hooks={"request": [log_request]}) as client:
        async with S3Storage(
            S3Config(bucket=BUCKET, prefix="examples/http"), http_client=client
        ) as storage:
            await storage.delete("a.txt")
            print("exists after delete:", await storage.exists("a.txt"))
        print("requests seen by the application's client:", seen)  # ['DELETE', 'HEAD']


if __name__ == "__main__":
    anyio.run(main)
