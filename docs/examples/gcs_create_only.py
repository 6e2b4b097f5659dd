"""Create-only writes: ``overwrite=False`` (GCS ``ifGenerationMatch=0``) never replaces an object.

The same behaviour as the filestore GCS backend's ``overwrite=False`` option.

    STORAGE_EMULATOR_HOST=http://127.0.0.1:4443 GCS_BUCKET=my-bucket python gcs_create_only.py
"""

from __future__ import annotations

import os

import anyio

from litestar_storages import GCSConfig, GCSStorage, StorageFileExistsError


async def main() -> None:
    config = GCSConfig(
        bucket=os.environ.get("GCS_BUCKET", "my-gcs-bucket"),
        project=os.environ.get("GOOGLE_CLOUD_PROJECT", "my-project-id"),
        prefix="uploads/assets",
    )
    async with GCSStorage(config) as storage:
        await storage.delete("logo.png")
        first = await storage.put("logo.png", b"\x89PNG first", overwrite=False)
        print("created", first.key, "generation", first.generation)
        try:
            await storage.put("logo.png", b"\x89PNG second", overwrite=False)
        except StorageFileExistsError as exc:
            print("refused:", exc.key, "already exists")
        assert await storage.get_bytes("logo.png") == b"\x89PNG first"
        await storage.delete("logo.png")


if __name__ == "__main__":
    anyio.run(main)
