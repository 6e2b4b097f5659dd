"""GCS quick start: store, read, list, inspect and delete objects.

Run against Google Cloud Storage with application-default credentials, or against an emulator:

    STORAGE_EMULATOR_HOST=http://127.0.0.1:4443 GCS_BUCKET=my-bucket python gcs_quickstart.py
"""

from __future__ import annotations

import os

import anyio

from litestar_storages import GCSConfig, GCSStorage


async def main() -> None:
    config = GCSConfig(
        bucket=os.environ.get("GCS_BUCKET", "my-bucket"), prefix="examples/quickstart"
    )
    async with GCSStorage(config) as storage:
        print("credentials:", storage.credential_source)

        stored = await storage.put(
            "reports/q1.csv",
            b"region,total\nemea,42\n",
            content_type="text/csv",
            metadata={"author": "alice"},
        )
        print("stored", stored.key, stored.size, "bytes, generation", stored.generation)

        async for chunk in storage.get("reports/q1.csv"):
            print("chunk:", chunk)

        info = await storage.info("reports/q1.csv")
        print("info:", info.content_type, info.metadata, info.last_modified)

        async for item in storage.list("reports/"):
            print("listed:", item.key)

        await storage.delete("reports/q1.csv")
        await storage.delete("reports/q1.csv")  # deleting a missing key is not an error
        print("exists after delete:", await storage.exists("reports/q1.csv"))


if __name__ == "__main__":
    anyio.run(main)
