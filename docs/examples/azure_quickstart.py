"""Azure Blob Storage quick start: store, read, list, inspect, copy and delete blobs.

Configured from the environment, as in production: a connection string (or an account URL with a
key or a SAS token) and the container. Against the local emulator (Azurite):

    AZURE_STORAGE_CONNECTION_STRING="UseDevelopmentStorage=true" \
    AZURE_STORAGE_CONTAINER=my-container python azure_quickstart.py
"""

from __future__ import annotations

import os

import anyio

from litestar_storages import AzureConfig, AzureStorage


async def main() -> None:
    # No credentials in the code: AZURE_STORAGE_CONNECTION_STRING is read when the config
    # names none (see the table of environment variables in docs/backends/azure.md).
    config = AzureConfig(
        container=os.environ.get("AZURE_STORAGE_CONTAINER", "my-container"),
        prefix="examples/quickstart",
    )
    async with AzureStorage(config) as storage:
        print("credentials:", storage.credential_source)

        stored = await storage.put(
            "reports/q1.csv",
            b"region,total\nemea,42\n",
            content_type="text/csv",
            metadata={"author": "alice"},
        )
        print("stored", stored.key, stored.size, "bytes, etag", stored.etag)

        async for chunk in storage.get("reports/q1.csv"):
            print("chunk:", chunk)

        info = await storage.info("reports/q1.csv")
        print("info:", info.content_type, info.metadata, info.last_modified)

        copied = await storage.copy("reports/q1.csv", "archive/q1.csv")  # server-side
        print("copied to", copied.key, "with metadata", copied.metadata)

        async for item in storage.list("reports/"):
            print("listed:", item.key, item.size)
        async for folder in storage.list_prefixes():
            print("folder:", folder)

        for key in ("reports/q1.csv", "archive/q1.csv"):
            await storage.delete(key)
        await storage.delete("reports/q1.csv")  # deleting a missing key is not an error
        print("exists after delete:", await storage.exists("reports/q1.csv"))


if __name__ == "__main__":
    anyio.run(main)
