"""FileSystemStorage: atomic writes, metadata kept in sidecars, public URLs, confinement.

Run it: ``python filesystem_basics.py``
"""

from __future__ import annotations

import anyio

from litestar_storages import (
    FileSystemConfig,
    FileSystemStorage,
    StorageFileExistsError,
    StorageInvalidKeyError,
    StoragePermissionError,
)


async def main() -> None:
    config = FileSystemConfig(path="./media", base_url="https://cdn.example.com/media")
    async with FileSystemStorage(config) as storage:
        # Written to a temporary file, fsynced, then renamed into place: readers see the old
        # file or the new one, never half of one.
        await storage.put(
            "reports/q1.csv",
            b"region,total\nemea,42\n",
            content_type="text/csv",
            metadata={"author": "alice"},
        )

        # Content type, metadata and ETag live in a sidecar under .litestar-storages/.
        info = await storage.info("reports/q1.csv")
        print(info.size, info.content_type, info.metadata)  # 21 text/csv {'author': 'alice'}

        # base_url + the percent-encoded key; expires_in is ignored (nothing to sign).
        print(await storage.url("reports/q1 final.csv"))
        # https://cdn.example.com/media/reports/q1%20final.csv

        # Create-only: exactly one writer wins, even across processes sharing the root.
        try:
            await storage.put("reports/q1.csv", b"another version", overwrite=False)
        except StorageFileExistsError:
            print("kept the first version")

        # Keys cannot leave the root...
        try:
            await storage.put("../outside.txt", b"no")
        except StorageInvalidKeyError as exc:
            print("invalid key:", exc.key)

        # ... and symlinks below the root are never followed, wherever they point.
        elsewhere = await anyio.Path("./elsewhere").resolve()
        await elsewhere.mkdir(exist_ok=True)
        await (elsewhere / "secret.txt").write_text("not for the web")
        await anyio.Path(config.path / "linked").symlink_to(elsewhere)
        try:
            await storage.get_bytes("linked/secret.txt")
        except StoragePermissionError as exc:
            print("refused:", exc.code)  # ELOOP

        # list() shows the stored files only: no sidecars, no temporary files, no symlinks.
        print([item.key async for item in storage.list()])  # ['reports/q1.csv']
        print(sorted([p.name async for p in anyio.Path(config.path).iterdir()]))
        # ['.litestar-storages', 'linked', 'reports']


if __name__ == "__main__":
    anyio.run(main)
