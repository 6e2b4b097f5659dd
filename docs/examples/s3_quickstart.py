"""S3 quick start: configured from the environment, as in production.

The bucket must exist. Against a local S3 (moto, MinIO, radosgw):

    AWS_ENDPOINT_URL=http://127.0.0.1:5000 AWS_ACCESS_KEY_ID=testing \\
    AWS_SECRET_ACCESS_KEY=testing S3_BUCKET=my-bucket python s3_quickstart.py
"""

from __future__ import annotations

import os

import anyio

from litestar_storages import S3Config, S3Storage, StorageFileExistsError


async def main() -> None:
    # Endpoint, region and credentials come from AWS_* variables and ~/.aws when the config
    # names none (see "Configuration" and "Credentials" in docs/backends/s3.md).
    config = S3Config(bucket=os.environ.get("S3_BUCKET", "my-bucket"), prefix="examples/s3")
    async with S3Storage(config) as storage:
        ep = storage.endpoint
        print("endpoint:", ep.origin, "region", ep.region, "provider", ep.traits.name)

        stored = await storage.put(
            "reports/q1.csv",
            b"region,total\nemea,42\n",
            content_type="text/csv",
            metadata={"author": "alice"},
        )
        print("credentials:", storage.credential_source)  # e.g. environment
        print("stored", stored.key, stored.size, "bytes, etag", stored.etag)

        async for chunk in storage.get("reports/q1.csv"):  # streamed
            print("chunk:", chunk)
        print("range:", await storage.get("reports/q1.csv", start=0, end=6).read())  # b'region'

        info = await storage.info("reports/q1.csv")  # HeadObject
        print("info:", info.content_type, info.metadata, info.last_modified)

        copied = await storage.copy("reports/q1.csv", "archive/2024/q1.csv")  # server-side
        print("copied:", copied.key, copied.metadata)

        try:
            await storage.put("reports/q1.csv", b"another", overwrite=False)  # create-only
        except StorageFileExistsError:
            print("create-only: kept the existing object")

        print("keys:", [item.key async for item in storage.list()])
        print("folders:", [folder async for folder in storage.list_directories()])

        for key in ("reports/q1.csv", "archive/2024/q1.csv"):
            await storage.delete(key)
        await storage.delete("reports/q1.csv")  # deleting a missing key is not an error


if __name__ == "__main__":
    anyio.run(main)
