# The seed examples are copied verbatim, and some of them (the MemoryStorage fixture, the
# aiofiles helpers) have no annotations: mypy may not demand them here.
# mypy: allow-untyped-defs, allow-untyped-calls
# Seed code keeps its own import order and layout (hence no I001 and the "fmt: off" blocks).
# ruff: noqa: I001
"""The code examples of the product documents (``../shared/seeds/``), run as written.

Each example is copied verbatim (between ``# --- seed`` and ``# --- end seed`` markers, or as
module-level definitions marked the same way) with only the scaffolding it needs around it: the
variables it assumes (``storage``, ``data``, ``chunks``, ``response``) and the checks afterwards.
Every example that names a local backend (or no backend) runs here; the S3-, GCS- and
Azure-only examples run against the emulators in the cloud backends' own suites, and
``004_f42d634ffb614e22.txt`` documents another library (``filestore``), so it has no example
to run here.

This module shadows the suite's ``storage`` fixture with the seed's own ``MemoryStorage``
fixture (000); the other tests here use ``storage_under_test``, the backend-parametrised storage.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conformance.capabilities import Capabilities
from conformance.support import payload
from litestar_storages import BaseStorage, MemoryStorage, ProgressInfo, Storage, StoredFile

if TYPE_CHECKING:
    from litestar.datastructures import UploadFile

pytestmark = pytest.mark.anyio

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


needs_filesystem = pytest.mark.skipif(
    importlib.util.find_spec("litestar_storages.backends.filesystem") is None,
    reason="filesystem backend not yet available",
)


# =============================================================================================
# 000_93bdedaaa40583f6.txt, "litestar-storages (async-native)"
# fmt: off
# --- seed
# Non-blocking file operations
async def upload_file(storage: Storage, file: UploadFile) -> StoredFile:
    # This doesn't block the event loop
    return await storage.put(
        key=file.filename,
        data=file.file,  # Async streaming
        content_type=file.content_type,
    )

# Stream large files without memory overhead
async def download_file(storage: Storage, key: str) -> AsyncIterator[bytes]:
    async for chunk in storage.get(key):
        yield chunk  # Memory-efficient streaming
# --- end seed
# fmt: on


async def test_seed_000_upload_file_and_download_file(storage_under_test: BaseStorage) -> None:
    datastructures = pytest.importorskip("litestar.datastructures", reason="needs litestar")
    body = payload(2_000_000)  # beyond the upload's 1 MiB spool: a real temporary file
    file = datastructures.UploadFile(
        content_type="image/png", filename="avatar.png", file_data=body
    )
    try:
        stored = await upload_file(storage_under_test, file)
    finally:
        file.file.close()
    assert stored.key == "avatar.png"
    assert (await storage_under_test.info("avatar.png")).content_type == "image/png"
    assert (
        b"".join([chunk async for chunk in download_file(storage_under_test, "avatar.png")]) == body
    )


# =============================================================================================
# 000_93bdedaaa40583f6.txt, "3. Explicit Multipart Upload API"
async def test_seed_000_multipart_upload(
    storage_under_test: BaseStorage, caps: Capabilities
) -> None:
    storage = storage_under_test
    chunks = [payload(caps.part_size(), seed=1), payload(caps.part_size(), seed=2), b"tail"]

    # fmt: off
    # --- seed
    # Start multipart upload
    upload = await storage.start_multipart_upload("large-file.zip")

    # Upload parts (can be parallelized)
    parts = []
    for i, chunk in enumerate(chunks, 1):
        part = await storage.upload_part(upload, i, chunk)
        parts.append(part)

    # Complete upload
    await storage.complete_multipart_upload(upload, parts)

    # Or abort if something goes wrong
    await storage.abort_multipart_upload(upload)
    # --- end seed
    # fmt: on

    # Run as written, the abort comes after the completion: it must not undo it.
    assert await storage.get_bytes("large-file.zip") == b"".join(chunks)


async def test_seed_000_multipart_abort_path(storage_under_test: BaseStorage) -> None:
    storage = storage_under_test
    # The example's "something goes wrong" branch: abort instead of complete.
    upload = await storage.start_multipart_upload("large-file.zip")
    await storage.upload_part(upload, 1, b"first part")
    # fmt: off
    # --- seed
    # Or abort if something goes wrong
    await storage.abort_multipart_upload(upload)
    # --- end seed
    # fmt: on
    assert not await storage.exists("large-file.zip")


# =============================================================================================
# 000_93bdedaaa40583f6.txt, "4. Progress Callbacks"
# fmt: off
# --- seed
def on_progress(info: ProgressInfo) -> None:
    print(f"{info.percentage:.1f}% - {info.bytes_per_second / 1024:.1f} KB/s")
# --- end seed
# fmt: on


async def test_seed_000_progress_callback(
    storage_under_test: BaseStorage, capsys: pytest.CaptureFixture[str]
) -> None:
    storage = storage_under_test
    data = payload(3_000_000)

    # fmt: off
    # --- seed
    await storage.put(
        "video.mp4",
        data,
        progress_callback=on_progress,
    )
    # --- end seed
    # fmt: on

    lines = capsys.readouterr().out.splitlines()
    assert lines
    assert lines[-1].startswith("100.0% - ")
    assert lines[-1].endswith(" KB/s")
    assert await storage.get_bytes("video.mp4") == data


# =============================================================================================
# 000_93bdedaaa40583f6.txt, "6. Protocol-Based Design" (the class with "..." bodies is a
# sketch, not runnable; its use_storage() is)
# fmt: off
# --- seed
# Type checking works
def use_storage(storage: Storage) -> None:
    assert isinstance(storage, Storage)  # Runtime check works too
# --- end seed
# fmt: on


async def test_seed_000_use_storage_accepts_the_backend(storage_under_test: BaseStorage) -> None:
    use_storage(storage_under_test)


# =============================================================================================
# 000_93bdedaaa40583f6.txt, "8. In-Memory Backend for Testing": the fixture and the test, as
# written (the module's pytestmark supplies the anyio marker that running it needs).
# fmt: off
# --- seed
@pytest.fixture
def storage():
    return MemoryStorage()

async def test_upload(storage):
    await storage.put("test.txt", b"content")
    assert await storage.exists("test.txt")
# --- end seed
# fmt: on


# =============================================================================================
# 000_93bdedaaa40583f6.txt, "Migrating from fastapi-storages", the "after" half.
# One change: the example's root "/uploads" becomes a temporary directory (a test must not
# write to the machine's /uploads).
@needs_filesystem
async def test_seed_000_migration_from_fastapi_storages(tmp_path: Path) -> None:
    uploads = str(tmp_path / "uploads")
    file_path = "reports/2024/summary.csv"
    content = b"quarter,revenue\nq1,100\n"

    # fmt: off
    # --- seed
    # litestar-storages (after)
    from litestar_storages import FileSystemStorage, FileSystemConfig

    storage = FileSystemStorage(FileSystemConfig(path=uploads))
    await storage.put(file_path, content)
    # --- end seed
    # fmt: on

    await storage.close()
    assert (tmp_path / "uploads" / "reports" / "2024" / "summary.csv").read_bytes() == content


# =============================================================================================
# 000_93bdedaaa40583f6.txt, "Streaming for Large Files". The example uses aiofiles, which is
# not a dependency of this project and runs on asyncio only.
async def test_seed_000_streaming_large_files_with_aiofiles(
    storage_under_test: BaseStorage, anyio_backend: str, tmp_path: Path
) -> None:
    aiofiles = pytest.importorskip(
        "aiofiles", reason="the seed's large-file example needs aiofiles (not installed)"
    )
    if anyio_backend != "asyncio":
        pytest.skip("aiofiles runs on asyncio only")

    # fmt: off
    # --- seed
    # Memory-efficient upload from file
    async def upload_large_file(storage: Storage, filepath: Path) -> StoredFile:
        async def stream_file():
            async with aiofiles.open(filepath, "rb") as f:
                while chunk := await f.read(8192):
                    yield chunk

        return await storage.put(
            key=filepath.name,
            data=stream_file(),
        )

    # Memory-efficient download
    async def download_large_file(storage: Storage, key: str, dest: Path) -> None:
        async with aiofiles.open(dest, "wb") as f:
            async for chunk in storage.get(key):
                await f.write(chunk)
    # --- end seed
    # fmt: on

    source = tmp_path / "video.bin"
    source.write_bytes(payload(300_000))
    stored = await upload_large_file(storage_under_test, source)
    assert stored.key == "video.bin"
    await download_large_file(storage_under_test, "video.bin", tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == source.read_bytes()


# =============================================================================================
# 001_dacb50d3d3b6cca2.txt, "Framework-Agnostic Core": the FileSystem quickstart, as a script
# run by a fresh interpreter in an empty working directory.
QUICKSTART_001 = """
import asyncio
from litestar_storages import FileSystemStorage, FileSystemConfig
from pathlib import Path

async def main():
    storage = FileSystemStorage(FileSystemConfig(path=Path("./uploads")))
    await storage.put("hello.txt", b"Hello, World!")
    content = await storage.get_bytes("hello.txt")
    print(content.decode())

asyncio.run(main())
"""


def test_seed_001_quickstart_is_copied_verbatim() -> None:
    seed = SEEDS / "001_dacb50d3d3b6cca2.txt"
    if not seed.exists():
        pytest.skip(f"{seed} not found (the seeds live in ../shared beside the repository)")
    assert textwrap.dedent(QUICKSTART_001).strip() in seed.read_text(encoding="utf-8")


@needs_filesystem
def test_seed_001_filesystem_quickstart_runs_as_written(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", QUICKSTART_001],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello, World!\n"
    assert result.stderr == ""
    assert (tmp_path / "uploads" / "hello.txt").read_bytes() == b"Hello, World!"


# =============================================================================================
# 001_dacb50d3d3b6cca2.txt and 002_d9ef84ea7f459af7.txt, "Streaming Support"
class Response:
    """Stands in for the web response the example streams into."""

    def __init__(self) -> None:
        self.body = bytearray()

    async def write(self, chunk: bytes) -> None:
        self.body += chunk


async def test_seed_001_streaming_upload_then_download(storage_under_test: BaseStorage) -> None:
    storage = storage_under_test
    body = payload(2_500_000)
    response = Response()

    async def async_chunk_generator() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 100_000):
            yield body[start : start + 100_000]

    # fmt: off
    # --- seed
    # Stream upload from async iterator
    await storage.put("large-file.zip", async_chunk_generator())
    # --- end seed
    # fmt: on

    # fmt: off
    # --- seed
    # Stream download
    async for chunk in storage.get("large-file.zip"):
        await response.write(chunk)
    # --- end seed
    # fmt: on

    assert bytes(response.body) == body


# =============================================================================================
# The copies above are checked against the seed files, so they cannot drift.
SUBSTITUTIONS = {
    # (as run here, as written in the seed): the documented scaffolding changes
    "FileSystemConfig(path=uploads)": 'FileSystemConfig(path="/uploads")',
}


def seed_blocks() -> list[str]:
    """Every ``# --- seed`` ... ``# --- end seed`` block of this module, dedented."""
    source = Path(__file__).read_text(encoding="utf-8")
    pattern = re.compile(r"^[ ]*# --- seed\n(.*?)^[ ]*# --- end seed$", re.M | re.S)
    blocks = []
    for match in pattern.finditer(source):
        block = textwrap.dedent(match.group(1)).strip()
        for ours, theirs in SUBSTITUTIONS.items():
            block = block.replace(ours, theirs)
        blocks.append(block)
    return blocks


def test_seed_blocks_are_verbatim_copies_of_the_seeds() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"{SEEDS} not found (the seeds live in ../shared beside the repository)")
    texts = [
        "\n".join(line.rstrip() for line in path.read_text(encoding="utf-8").splitlines())
        for path in sorted(SEEDS.glob("*.txt"))
    ]
    blocks = seed_blocks()
    assert len(blocks) >= 10
    not_found = [block for block in blocks if not any(block in text for text in texts)]
    assert not_found == []
