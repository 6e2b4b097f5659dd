"""FileSystemStorage specifics beyond the shared conformance suite.

Every async test runs on asyncio and trio. The tests look at the disk directly to check what the
public API cannot show: no temp file left behind, nothing written outside the root, modes.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import anyio
import anyio.lowlevel
import pytest

from litestar_storages import (
    FileSystemConfig,
    FileSystemStorage,
    MultipartUpload,
    ProgressInfo,
    StorageConfigurationError,
    StorageError,
    StorageFileExistsError,
    StorageFileNotFoundError,
    StorageIntegrityError,
    StorageInvalidKeyError,
    StoragePermissionError,
    StoragePreconditionFailedError,
    StoredFile,
)
from litestar_storages.backends import _fs_multipart, _fs_ops, _fs_write
from litestar_storages.backends._fs_meta import Version, pick

TEMP_MARK = ".litestar-storages-tmp-"


# --------------------------------------------------------------------------- helpers
@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


@pytest.fixture
def storage(root: Path) -> FileSystemStorage:
    return FileSystemStorage(FileSystemConfig(path=root))


@pytest.fixture
def fast(root: Path) -> FileSystemStorage:
    """A storage without fsync, for tests that store hundreds of files."""
    return FileSystemStorage(FileSystemConfig(path=root, fsync=False))


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the root that the storage must never touch."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret.txt").write_bytes(b"outside")
    return path


def tree(path: Path) -> set[str]:
    """Every file and directory below ``path``, hidden ones included, as relative paths."""
    if not path.exists():
        return set()
    return {str(p.relative_to(path)) for p in path.rglob("*")}


def temp_files(path: Path) -> list[str]:
    return sorted(p for p in tree(path) if TEMP_MARK in p)


def data_files(path: Path) -> set[str]:
    """Files and directories below ``path`` outside the backend's internal directory."""
    return {p for p in tree(path) if not p.startswith(".litestar-storages")}


async def keys(storage: FileSystemStorage, prefix: str = "", limit: int | None = None) -> list[str]:
    async with contextlib.aclosing(storage.list(prefix, limit=limit)) as items:
        return [item.key async for item in items]


async def chunks_then_fail(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
    raise RuntimeError("producer failed")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def exists(path: Path) -> bool:
    return path.exists()


def make_dir(path: Path) -> None:
    path.mkdir(parents=True)


def read(path: Path) -> bytes:
    return path.read_bytes()


def write(path: Path, body: bytes) -> None:
    path.write_bytes(body)


# --------------------------------------------------------------------------- configuration
def test_config_accepts_str_and_stores_an_absolute_path(tmp_path: Path) -> None:
    config = FileSystemConfig(path=str(tmp_path / "x"))
    assert config.path == tmp_path / "x"
    assert config.path.is_absolute()
    assert FileSystemConfig("rel").path == Path.cwd() / "rel"


def test_config_defaults_match_the_published_api(tmp_path: Path) -> None:
    config = FileSystemConfig(tmp_path)
    assert (config.base_url, config.create_dirs, config.permissions) == (None, True, 0o644)


def test_config_is_frozen(tmp_path: Path) -> None:
    config = FileSystemConfig(tmp_path)
    with pytest.raises(AttributeError):
        config.permissions = 0o600  # type: ignore[misc]


@pytest.mark.parametrize("permissions", [-1, 0o10000, True, "644"])
def test_config_rejects_impossible_permissions(tmp_path: Path, permissions: Any) -> None:
    with pytest.raises(StorageConfigurationError):
        FileSystemConfig(tmp_path, permissions=permissions)


def test_storage_requires_a_config() -> None:
    with pytest.raises(StorageConfigurationError):
        FileSystemStorage("/tmp")  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_missing_root_without_create_dirs_fails_on_first_use(root: Path) -> None:
    storage = FileSystemStorage(FileSystemConfig(root, create_dirs=False))  # no I/O yet
    with pytest.raises(StorageConfigurationError):
        await storage.put("a", b"1")
    assert not exists(root)


@pytest.mark.anyio
async def test_missing_root_is_created_with_create_dirs(root: Path) -> None:
    storage = FileSystemStorage(FileSystemConfig(root / "deeper"))
    await storage.put("a", b"1")
    assert (root / "deeper" / "a").read_bytes() == b"1"


@pytest.mark.anyio
async def test_root_that_is_a_file_is_a_configuration_error(root: Path) -> None:
    write(root, b"not a directory")
    with pytest.raises(StorageConfigurationError):
        await FileSystemStorage(FileSystemConfig(root)).exists("a")


def test_repr_names_the_root(storage: FileSystemStorage, root: Path) -> None:
    assert repr(storage) == f"FileSystemStorage(path={str(root)!r})"


# --------------------------------------------------------------------------- invalid keys
INVALID_KEYS = [
    "",
    "/absolute",
    "..",
    "a/../b",
    "./a",
    "a\x00b",
    "a\nb",
    "a//b",
    "a/",
    "trailing/slash/",
    ".litestar-storages",
    ".litestar-storages/meta/x",
    "dir/.litestar-storages-tmp-1234",
    "x" * 256,
    "d/" + "é" * 128,  # 256 bytes in one segment
    "/".join(["abcdefgh"] * 120),  # 1079 bytes in all
]


@pytest.mark.anyio
@pytest.mark.parametrize("key", INVALID_KEYS)
async def test_every_invalid_key_is_refused_by_put_and_leaves_nothing(
    storage: FileSystemStorage, root: Path, key: str
) -> None:
    make_dir(root)
    with pytest.raises(StorageInvalidKeyError):
        await storage.put(key, b"data")
    with pytest.raises(StorageInvalidKeyError):
        await storage.put_large(key, b"data")
    with pytest.raises(StorageInvalidKeyError):
        await storage.start_multipart_upload(key)
    assert tree(root) == set()


@pytest.mark.anyio
@pytest.mark.parametrize("key", INVALID_KEYS)
async def test_every_invalid_key_is_refused_by_every_operation(
    storage: FileSystemStorage, key: str
) -> None:
    await storage.put("valid", b"1")
    for call in (
        lambda: storage.get_bytes(key),
        lambda: storage.info(key),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
        lambda: storage.url(key),
        lambda: storage.copy("valid", key),
        lambda: storage.copy(key, "valid"),
        lambda: storage.move("valid", key),
    ):
        with pytest.raises(StorageInvalidKeyError):
            await call()
    assert await storage.get_bytes("valid") == b"1"


def test_invalid_key_error_is_a_value_error_naming_the_backend(
    storage: FileSystemStorage,
) -> None:
    with pytest.raises(ValueError, match="empty path segment") as caught:
        storage.get("a//b")
    assert isinstance(caught.value, StorageInvalidKeyError)
    assert caught.value.backend == "filesystem"
    assert caught.value.key == "a//b"


@pytest.mark.anyio
async def test_unusual_but_valid_keys_round_trip(storage: FileSystemStorage) -> None:
    unusual = ["sp ace", "ünï/cödé", "plus+sign", "pct%20", "hash#", "q?", "tilde~", "back\\sl"]
    for key in unusual:
        await storage.put(key, key.encode())
    for key in unusual:
        assert await storage.get_bytes(key) == key.encode()
    assert await keys(storage) == sorted(unusual)


# --------------------------------------------------------------------------- key collisions
@pytest.mark.anyio
async def test_key_that_is_a_directory_of_other_keys_is_a_typed_error(
    storage: FileSystemStorage, root: Path
) -> None:
    await storage.put("a/b", b"1")
    before = tree(root)
    with pytest.raises(StorageInvalidKeyError) as caught:
        await storage.put("a", b"2")
    assert caught.value.code == "EISDIR"
    assert tree(root) == before
    assert await storage.get_bytes("a/b") == b"1"


@pytest.mark.anyio
async def test_key_below_a_file_is_a_typed_error(storage: FileSystemStorage, root: Path) -> None:
    await storage.put("f", b"1")
    before = tree(root)
    with pytest.raises(StorageInvalidKeyError) as caught:
        await storage.put("f/g/h", b"2")
    assert caught.value.code == "ENOTDIR"
    assert tree(root) == before


@pytest.mark.anyio
async def test_directories_are_not_keys(storage: FileSystemStorage) -> None:
    await storage.put("a/b", b"1")
    assert not await storage.exists("a")
    with pytest.raises(StorageFileNotFoundError):
        await storage.info("a")
    with pytest.raises(StorageFileNotFoundError):
        await storage.get_bytes("a")
    await storage.delete("a")  # nothing stored under that key: a no-op
    assert await storage.get_bytes("a/b") == b"1"


@pytest.mark.anyio
async def test_keys_below_a_file_do_not_exist(storage: FileSystemStorage) -> None:
    await storage.put("f", b"1")
    assert not await storage.exists("f/g")
    with pytest.raises(StorageFileNotFoundError):
        await storage.info("f/g")


@pytest.mark.anyio
async def test_an_empty_directory_does_not_block_a_key(
    storage: FileSystemStorage, root: Path
) -> None:
    (root / "e").mkdir(parents=True)
    await storage.put("e", b"file now")
    assert (root / "e").read_bytes() == b"file now"


@pytest.mark.anyio
async def test_deleting_the_last_key_of_a_directory_frees_the_name(
    storage: FileSystemStorage, root: Path
) -> None:
    await storage.put("a/b/c", b"1")
    await storage.delete("a/b/c")
    assert data_files(root) == set()
    await storage.put("a", b"now a file")
    assert await storage.get_bytes("a") == b"now a file"


# --------------------------------------------------------------------------- atomic writes
@pytest.mark.anyio
async def test_failing_producer_keeps_the_old_file_and_leaves_no_temp(
    storage: FileSystemStorage, root: Path
) -> None:
    await storage.put("k", b"old", content_type="text/old", metadata={"v": "1"})
    with pytest.raises(RuntimeError, match="producer failed"):
        await storage.put("k", chunks_then_fail(b"new" * 1000, b"more" * 1000))
    assert await storage.get_bytes("k") == b"old"
    info = await storage.info("k")
    assert (info.content_type, info.metadata) == ("text/old", {"v": "1"})
    assert temp_files(root) == []


@pytest.mark.anyio
async def test_failing_producer_removes_the_directories_it_created(
    storage: FileSystemStorage, root: Path
) -> None:
    await storage.put("keep/me", b"1")
    before = data_files(root)
    with pytest.raises(RuntimeError):
        await storage.put("keep/new/deeper/k", chunks_then_fail(b"x", b"y"))
    assert data_files(root) == before


@pytest.mark.anyio
async def test_failing_put_large_keeps_the_old_file(storage: FileSystemStorage, root: Path) -> None:
    await storage.put("k", b"old")
    with pytest.raises(RuntimeError):
        await storage.put_large("k", chunks_then_fail(b"n" * 2_000_000, b"m"))
    assert await storage.get_bytes("k") == b"old"
    assert temp_files(root) == []


@pytest.mark.anyio
async def test_cancellation_mid_put_leaves_no_temp_file(
    storage: FileSystemStorage, root: Path
) -> None:
    await storage.put("k", b"old")
    stalled = anyio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        for _ in range(3):  # 1.8 MB: the first block is on disk when the producer stalls
            yield b"a" * 600_000
        stalled.set()
        await anyio.sleep_forever()
        yield b"never"  # pragma: no cover

    seen_temp: list[str] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(storage.put, "k", stalls())
        await stalled.wait()
        await anyio.wait_all_tasks_blocked()
        seen_temp = temp_files(root)
        tg.cancel_scope.cancel()
    assert len(seen_temp) == 1  # the write really was in progress
    assert temp_files(root) == []
    assert await storage.get_bytes("k") == b"old"


@pytest.mark.anyio
async def test_interrupted_commit_keeps_old_data_with_its_own_metadata(
    storage: FileSystemStorage, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A crash after the sidecar is written but before the data rename: readers must still see
    # the old data with the old metadata, never the new metadata.
    await storage.put("k", b"old", content_type="text/old", metadata={"v": "old"})
    real_rename = os.rename

    def failing_rename(src: Any, dst: Any, **kwargs: Any) -> None:
        if dst == "k":
            raise OSError(errno.EIO, "simulated crash")
        real_rename(src, dst, **kwargs)

    monkeypatch.setattr(os, "rename", failing_rename)
    with pytest.raises(StorageError):
        await storage.put("k", b"new!", content_type="text/new", metadata={"v": "new"})
    monkeypatch.undo()
    info = await storage.info("k")
    assert await storage.get_bytes("k") == b"old"
    assert (info.content_type, info.metadata) == ("text/old", {"v": "old"})
    assert info.etag == hashlib.md5(b"old").hexdigest()
    assert temp_files(root) == []


@pytest.mark.anyio
async def test_small_put_is_one_thread_hop(
    storage: FileSystemStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops = 0
    real_run = anyio.to_thread.run_sync

    async def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal hops
        hops += 1
        return await real_run(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    await storage.put("k", b"small body")
    assert hops == 1
    hops = 0
    await storage.put("k2", b"small", overwrite=False)  # plus the early existence check
    assert hops == 2


@pytest.mark.anyio
async def test_tiny_producer_chunks_are_gathered_into_few_thread_hops(
    storage: FileSystemStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops = 0
    real_run = anyio.to_thread.run_sync

    async def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal hops
        hops += 1
        return await real_run(func, *args, **kwargs)

    async def lines(count: int) -> AsyncIterator[bytes]:
        for number in range(count):
            yield b"%09d\n" % number  # 10 bytes

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    await storage.put("few", lines(10_000))  # 100 kB
    assert hops == 1
    hops = 0
    await storage.put("many", lines(300_000))  # 3 MB: about one hop per MiB
    assert hops <= 4
    assert await storage.get_bytes("many") == b"".join(b"%09d\n" % n for n in range(300_000))


@pytest.mark.anyio
async def test_writes_are_fsynced_by_default(
    storage: FileSystemStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced = 0
    real_fsync = os.fsync

    def counting(fd: int) -> None:
        nonlocal synced
        synced += 1
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting)
    await storage.put("d/k", b"1", metadata={"a": "b"})
    # The first write also syncs the parents of the directories it created (d, the sidecar's).
    assert synced > 4
    synced = 0
    await storage.put("d/k", b"2", metadata={"a": "c"})
    assert synced == 4  # data file, sidecar, data directory, sidecar directory


@pytest.mark.anyio
async def test_fsync_false_skips_every_fsync_but_stays_atomic(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = FileSystemStorage(FileSystemConfig(root, fsync=False))

    def forbidden(fd: int) -> None:
        raise AssertionError("fsync called")

    monkeypatch.setattr(os, "fsync", forbidden)
    await storage.put("d/k", b"1", metadata={"a": "b"})
    upload = await storage.start_multipart_upload("m")
    await storage.upload_part(upload, 1, b"p")
    await storage.complete_multipart_upload(upload)
    await storage.move("d/k", "e")
    await storage.delete("e")
    with pytest.raises(RuntimeError):
        await storage.put("m", chunks_then_fail(b"x"))
    assert await storage.get_bytes("m") == b"p"
    assert temp_files(root) == []


@pytest.mark.anyio
async def test_metadata_must_be_strings_before_any_io(
    storage: FileSystemStorage, root: Path
) -> None:
    with pytest.raises(TypeError):
        await storage.put("k", b"1", metadata={"n": 1})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        await storage.put("k", b"1", content_type=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await storage.put("k", "text")  # type: ignore[arg-type]
    assert not exists(root)


@pytest.mark.anyio
async def test_concurrent_writes_and_deletes_in_shared_directories_never_fail(
    fast: FileSystemStorage, root: Path
) -> None:
    # Deletes prune directories that concurrent puts and moves are creating files in: those
    # retry their walk instead of failing, and nothing is left half-done.
    async def writer(number: int) -> None:
        for index in range(20):
            here, there = f"shared/{index % 3}/w{number}", f"shared/{(index + 1) % 3}/m{number}"
            await fast.put(here, b"x", metadata={"n": str(number)})
            assert (await fast.move(here, there)).metadata == {"n": str(number)}
            await fast.delete(there)

    async with anyio.create_task_group() as tg:
        for number in range(8):
            tg.start_soon(writer, number)
    assert await keys(fast) == []
    assert data_files(root) == set()
    assert temp_files(root) == []


# --------------------------------------------------------------------------- create-only
@pytest.mark.anyio
async def test_create_only_refuses_an_existing_key_without_reading_the_data(
    storage: FileSystemStorage, root: Path
) -> None:
    await storage.put("k", b"first")
    consumed = False

    async def body() -> AsyncIterator[bytes]:
        nonlocal consumed
        consumed = True
        yield b"second"

    with pytest.raises(StorageFileExistsError):
        await storage.put("k", body(), overwrite=False)
    assert not consumed
    assert await storage.get_bytes("k") == b"first"
    assert temp_files(root) == []


async def create_only_race(storage: FileSystemStorage, key: str) -> str:
    """Two create-only puts of ``key`` that both pass the early check; returns the winner."""
    both_started = anyio.Event()
    started = 0
    outcomes: dict[str, str] = {}

    async def body(tag: str) -> AsyncIterator[bytes]:
        # Each producer waits for the other, so both writers are past the early existence
        # check before either commits: only the link at commit can pick the winner.
        nonlocal started
        started += 1
        if started == 2:
            both_started.set()
        await both_started.wait()
        yield tag.encode() * 1000

    async def attempt(tag: str) -> None:
        try:
            await storage.put(key, body(tag), metadata={"writer": tag}, overwrite=False)
            outcomes[tag] = "won"
        except StorageFileExistsError:
            outcomes[tag] = "lost"

    async with anyio.create_task_group() as tg:
        tg.start_soon(attempt, "a")
        tg.start_soon(attempt, "b")
    assert sorted(outcomes.values()) == ["lost", "won"]
    return next(tag for tag, outcome in outcomes.items() if outcome == "won")


@pytest.mark.anyio
async def test_concurrent_create_only_puts_have_exactly_one_winner(
    storage: FileSystemStorage, root: Path
) -> None:
    for round_number in range(8):
        key = f"race/{round_number}"
        winner = await create_only_race(storage, key)
        assert await storage.get_bytes(key) == winner.encode() * 1000
        assert (await storage.info(key)).metadata == {"writer": winner}
    assert temp_files(root) == []


@pytest.mark.anyio
async def test_create_only_never_replaces_a_file_that_appears_after_the_last_check(
    storage: FileSystemStorage, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another program creates the file between our final check and the commit: the commit
    # (link, not rename) must fail rather than replace it.
    real_check = _fs_ops.Tree.check_target
    checks = 0

    def racing(self: _fs_ops.Tree, dirs: Any, name: str, key: str, *, overwrite: bool) -> Any:
        nonlocal checks
        result = real_check(self, dirs, name, key, overwrite=overwrite)
        checks += 1
        if checks == 2:  # the check inside commit
            write(root / "k", b"foreign")
        return result

    monkeypatch.setattr(_fs_ops.Tree, "check_target", racing)
    with pytest.raises(StorageFileExistsError):
        await storage.put("k", b"mine", overwrite=False)
    assert checks == 2
    assert read(root / "k") == b"foreign"
    assert temp_files(root) == []


@pytest.mark.anyio
async def test_create_only_works_where_hard_links_are_unsupported(
    storage: FileSystemStorage, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    await storage.put("k", b"first", overwrite=False)
    with pytest.raises(StorageFileExistsError):
        await storage.put("k", b"second", overwrite=False)
    assert await storage.get_bytes("k") == b"first"
    assert temp_files(root) == []


# --------------------------------------------------------------------------- symlinks
@pytest.mark.anyio
async def test_symlinked_directory_leading_outside_is_refused(
    storage: FileSystemStorage, root: Path, outside: Path
) -> None:
    make_dir(root)
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(StoragePermissionError):
        await storage.put("link/evil.txt", b"x")
    with pytest.raises(StoragePermissionError):
        await storage.put("link/new/evil.txt", b"x")
    with pytest.raises(StoragePermissionError):
        await storage.get_bytes("link/secret.txt")
    with pytest.raises(StoragePermissionError):
        await storage.info("link/secret.txt")
    with pytest.raises(StoragePermissionError):
        await storage.exists("link/secret.txt")
    with pytest.raises(StoragePermissionError):
        await storage.delete("link/secret.txt")
    with pytest.raises(StoragePermissionError):
        await storage.copy("link/secret.txt", "stolen")
    assert tree(outside) == {"secret.txt"}
    assert (outside / "secret.txt").read_bytes() == b"outside"


@pytest.mark.anyio
async def test_symlinked_file_leading_outside_is_refused(
    storage: FileSystemStorage, root: Path, outside: Path
) -> None:
    make_dir(root)
    (root / "f").symlink_to(outside / "secret.txt")
    with pytest.raises(StoragePermissionError) as caught:
        await storage.get_bytes("f")
    assert caught.value.code == "ELOOP"
    with pytest.raises(StoragePermissionError):
        await storage.put("f", b"overwrite the target?")
    with pytest.raises(StoragePermissionError):
        await storage.delete("f")
    with pytest.raises(StoragePermissionError):
        await storage.move("f", "g")
    assert (outside / "secret.txt").read_bytes() == b"outside"
    assert (root / "f").is_symlink()


@pytest.mark.anyio
async def test_symlinks_pointing_inside_the_root_are_not_followed_either(
    storage: FileSystemStorage, root: Path
) -> None:
    await storage.put("real/file", b"1")
    (root / "alias").symlink_to(root / "real", target_is_directory=True)
    with pytest.raises(StoragePermissionError):
        await storage.get_bytes("alias/file")


@pytest.mark.anyio
async def test_listing_skips_symlinks(
    storage: FileSystemStorage, root: Path, outside: Path
) -> None:
    await storage.put("real", b"1")
    (root / "dirlink").symlink_to(outside, target_is_directory=True)
    (root / "filelink").symlink_to(outside / "secret.txt")
    assert await keys(storage) == ["real"]
    assert await keys(storage, "dirlink/") == []


@pytest.mark.anyio
async def test_root_itself_may_be_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real-root"
    real.mkdir()
    (tmp_path / "root-link").symlink_to(real, target_is_directory=True)
    storage = FileSystemStorage(FileSystemConfig(tmp_path / "root-link"))
    await storage.put("a/b", b"1")
    assert (real / "a" / "b").read_bytes() == b"1"


# --------------------------------------------------------------------------- metadata
@pytest.mark.anyio
async def test_metadata_survives_a_new_storage_instance(root: Path) -> None:
    first = FileSystemStorage(FileSystemConfig(root))
    stored = await first.put(
        "doc.pdf", b"%PDF", content_type="application/pdf", metadata={"owner": "alice"}
    )
    second = FileSystemStorage(FileSystemConfig(str(root)))
    info = await second.info("doc.pdf")
    assert info == stored
    assert info.etag == hashlib.md5(b"%PDF").hexdigest()
    async with contextlib.aclosing(second.list()) as items:
        assert [item async for item in items] == [stored]


@pytest.mark.anyio
async def test_sidecars_are_invisible_to_listing(storage: FileSystemStorage, root: Path) -> None:
    await storage.put("only", b"1", metadata={"a": "b"})
    assert any(p.startswith(".litestar-storages/meta/") for p in tree(root))
    assert await keys(storage) == ["only"]
    assert await keys(storage, ".") == []


@pytest.mark.anyio
async def test_a_file_replaced_by_another_program_loses_stale_metadata(
    storage: FileSystemStorage, root: Path
) -> None:
    await storage.put("k", b"ours", content_type="text/plain", metadata={"a": "b"})
    tmp = root / "replacement"
    tmp.write_bytes(b"theirs, longer")
    tmp.replace(root / "k")
    info = await storage.info("k")
    st = (root / "k").stat()
    assert (info.content_type, info.metadata) == (None, {})
    assert info.etag == f"{st.st_mtime_ns:x}-{st.st_size:x}"


@pytest.mark.anyio
async def test_files_written_by_others_are_listed_with_a_fallback_etag(
    storage: FileSystemStorage, root: Path
) -> None:
    (root / "dropped").mkdir(parents=True)
    (root / "dropped" / "in.txt").write_bytes(b"hello")
    st = (root / "dropped" / "in.txt").stat()
    async with contextlib.aclosing(storage.list()) as items:
        [item] = [item async for item in items]
    assert item.key == "dropped/in.txt"
    assert item.size == 5
    assert item.etag == f"{st.st_mtime_ns:x}-{st.st_size:x}"
    assert item.last_modified is not None
    assert item.last_modified.tzinfo is not None
    assert item.last_modified.timestamp() == pytest.approx(st.st_mtime, abs=1e-5)


@pytest.mark.anyio
async def test_corrupt_sidecar_is_ignored(storage: FileSystemStorage, root: Path) -> None:
    await storage.put("k", b"1", metadata={"a": "b"})
    for sidecar in (root / ".litestar-storages" / "meta").rglob("*.json"):
        sidecar.write_bytes(b"{not json")
    info = await storage.info("k")
    assert info.metadata == {}
    assert await storage.get_bytes("k") == b"1"


@pytest.mark.anyio
async def test_sidecar_records_which_version_it_describes(
    storage: FileSystemStorage, root: Path
) -> None:
    await storage.put("k", b"12345", metadata={"a": "b"})
    [sidecar] = (root / ".litestar-storages" / "meta").rglob("*.json")
    doc = json.loads(sidecar.read_bytes())
    st = (root / "k").stat()
    assert doc["key"] == "k"
    assert doc["versions"][0]["size"] == 5
    assert doc["versions"][0]["mtime_ns"] == st.st_mtime_ns
    assert doc["versions"][0]["ino"] == st.st_ino


def test_sidecar_version_matching_prefers_the_inode() -> None:
    # Two versions with the same size and mtime (coarse timestamps): the inode decides.
    old = Version(size=3, mtime_ns=1000, ino=7, content_type="old")
    new = Version(size=3, mtime_ns=1000, ino=8, content_type="new")
    st = os.stat_result((0o100644, 7, 0, 1, 0, 0, 3, 1, 1, 1, 0.0, 0.0, 0.0, 0, 1000, 0))
    assert st.st_ino == 7
    assert st.st_mtime_ns == 1000
    assert pick([new, old], st) is old
    restored = os.stat_result((0o100644, 99, 0, 1, 0, 0, 3, 1, 1, 1, 0.0, 0.0, 0.0, 0, 1000, 0))
    assert pick([new, old], restored) is new  # a restored backup: size and mtime still match
    other = os.stat_result((0o100644, 7, 0, 1, 0, 0, 4, 1, 1, 1, 0.0, 0.0, 0.0, 0, 1000, 0))
    assert pick([new, old], other) is None


@pytest.mark.anyio
async def test_delete_removes_the_sidecar(storage: FileSystemStorage, root: Path) -> None:
    await storage.put("k", b"1", metadata={"a": "b"})
    await storage.delete("k")
    assert not list((root / ".litestar-storages" / "meta").rglob("*.json"))
    await storage.delete("k")  # idempotent


# --------------------------------------------------------------------------- copy and move
@pytest.mark.anyio
async def test_copy_keeps_content_type_metadata_and_etag(storage: FileSystemStorage) -> None:
    source = await storage.put("s", b"body", content_type="text/x", metadata={"a": "b"})
    copied = await storage.copy("s", "d/e")
    assert (copied.etag, copied.content_type, copied.metadata) == (
        source.etag,
        "text/x",
        {"a": "b"},
    )
    assert await storage.info("d/e") == copied
    assert await storage.get_bytes("s") == b"body"


@pytest.mark.anyio
async def test_copy_in_several_hops(
    storage: FileSystemStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_fs_write, "COPY_BLOCK", 100_000)
    body = os.urandom(1_050_000)
    await storage.put("s", body)
    await storage.copy("s", "d")
    assert await storage.get_bytes("d") == body


@pytest.mark.anyio
async def test_copy_of_a_missing_key_leaves_nothing(storage: FileSystemStorage, root: Path) -> None:
    await storage.put("x", b"1")
    before = tree(root)
    with pytest.raises(StorageFileNotFoundError):
        await storage.copy("missing", "new/dir/d")
    assert tree(root) == before


@pytest.mark.anyio
async def test_move_is_a_rename_keeping_metadata_and_time(
    storage: FileSystemStorage, root: Path
) -> None:
    source = await storage.put("a/s", b"body", content_type="text/x", metadata={"a": "b"})
    inode = (root / "a" / "s").stat().st_ino
    moved = await storage.move("a/s", "b/d")
    assert moved == StoredFile(
        key="b/d",
        size=4,
        content_type="text/x",
        etag=source.etag,
        last_modified=source.last_modified,
        metadata={"a": "b"},
    )
    assert (root / "b" / "d").stat().st_ino == inode
    assert not await storage.exists("a/s")
    assert not (root / "a").exists()  # emptied directory pruned
    assert await storage.info("b/d") == moved


@pytest.mark.anyio
async def test_move_overwrites_and_takes_the_source_metadata(storage: FileSystemStorage) -> None:
    await storage.put("s", b"new", metadata={"v": "source"})
    await storage.put("d", b"old", metadata={"v": "destination"})
    await storage.move("s", "d")
    assert await storage.get_bytes("d") == b"new"
    assert (await storage.info("d")).metadata == {"v": "source"}


@pytest.mark.anyio
async def test_move_onto_itself_keeps_the_file(storage: FileSystemStorage) -> None:
    await storage.put("k", b"1", metadata={"a": "b"})
    assert (await storage.move("k", "k")).metadata == {"a": "b"}
    assert await storage.get_bytes("k") == b"1"


@pytest.mark.anyio
async def test_failed_move_leaves_source_and_no_new_directories(
    storage: FileSystemStorage, root: Path
) -> None:
    await storage.put("s", b"1")
    await storage.put("d/x", b"2")
    before = data_files(root)
    with pytest.raises(StorageInvalidKeyError):
        await storage.move("s", "d")  # d is a directory of other keys
    with pytest.raises(StorageFileNotFoundError):
        await storage.move("missing", "new/place")
    assert data_files(root) == before
    assert temp_files(root) == []
    assert await storage.get_bytes("s") == b"1"


# --------------------------------------------------------------------------- reads
@pytest.mark.anyio
@pytest.mark.parametrize(
    ("start", "end"), [(None, None), (2, None), (None, 3), (2, 5), (-3, None), (7, 100), (5, 2)]
)
async def test_ranges_follow_slice_semantics(
    storage: FileSystemStorage, start: int | None, end: int | None
) -> None:
    body = b"0123456789"
    await storage.put("k", body)
    assert await storage.get("k", start=start, end=end).read() == body[start:end]


@pytest.mark.anyio
async def test_large_range_reads_across_chunks(storage: FileSystemStorage) -> None:
    body = os.urandom(3 * 1024 * 1024 + 17)
    await storage.put("k", body)
    assert await storage.get("k", start=1000, end=-1000).read() == body[1000:-1000]


@pytest.mark.anyio
async def test_missing_key_raises_on_first_chunk_not_on_get(storage: FileSystemStorage) -> None:
    stream = storage.get("missing")
    with pytest.raises(StorageFileNotFoundError):
        await stream.__anext__()
    assert stream.closed


@pytest.mark.anyio
async def test_download_progress_knows_the_total(storage: FileSystemStorage) -> None:
    await storage.put("k", b"x" * 3_000_000)
    reports: list[ProgressInfo] = []
    await storage.get("k", start=1_000_000, progress_callback=reports.append).read()
    assert reports[-1].bytes_transferred == 2_000_000
    assert {r.total_bytes for r in reports} == {2_000_000}


@pytest.mark.anyio
async def test_a_file_shrinking_while_read_is_an_integrity_error(
    storage: FileSystemStorage, root: Path
) -> None:
    await storage.put("k", b"x" * 3_000_000)
    async with storage.get("k") as stream:
        await stream.__anext__()
        os.truncate(root / "k", 10)  # modified in place by another program
        with pytest.raises(StorageIntegrityError):
            await stream.__anext__()


@pytest.mark.anyio
async def test_a_fifo_is_not_an_object_and_does_not_hang(
    storage: FileSystemStorage, root: Path
) -> None:
    make_dir(root)
    os.mkfifo(root / "pipe")
    with anyio.fail_after(5):
        with pytest.raises(StorageFileNotFoundError):
            await storage.get_bytes("pipe")
        assert not await storage.exists("pipe")
    assert await keys(storage) == []


@pytest.mark.anyio
async def test_no_descriptor_leaks(storage: FileSystemStorage) -> None:
    await storage.put("warm/up", b"1")  # thread pool and lock files exist from here on
    await storage.delete("warm/up")
    before = open_fds()
    await storage.put("a/b", b"x" * 3_000_000, metadata={"m": "1"})
    async with storage.get("a/b") as stream:
        async for _ in stream:
            break
    async with contextlib.aclosing(storage.list()) as items:
        async for _ in items:
            break
    await storage.copy("a/b", "c")
    await storage.move("c", "d/e")
    with pytest.raises(RuntimeError):
        await storage.put("f", chunks_then_fail(b"1"))
    upload = await storage.start_multipart_upload("m")
    await storage.upload_part(upload, 1, b"p")
    await storage.complete_multipart_upload(upload)
    await storage.delete("a/b")
    assert open_fds() == before


@pytest.mark.anyio
async def test_abandoned_plain_async_for_releases_the_file_at_once(
    storage: FileSystemStorage,
) -> None:
    await storage.put("k", b"x" * 3_000_000)
    before = open_fds()
    async for _ in storage.get("k"):  # the seeds' form: no `async with`, early break
        break
    # The stream is unreachable now; CPython frees it (and closes the file) right away,
    # with no async generator left for the event loop to finalise later.
    assert open_fds() == before


@pytest.mark.anyio
async def test_reading_after_aclose_yields_nothing(storage: FileSystemStorage) -> None:
    await storage.put("k", b"x" * 3_000_000)
    stream = storage.get("k")
    assert len(await stream.__anext__()) == 1024 * 1024
    await stream.aclose()
    assert [chunk async for chunk in stream] == []


# --------------------------------------------------------------------------- listing
@pytest.mark.anyio
async def test_listing_is_sorted_by_the_full_key_string(storage: FileSystemStorage) -> None:
    stored = ["a-b", "a/b", "a/c/d", "a0", "a.txt", "B", "b", "é", "z/y/x", "a/b-c", "a/b0"]
    for key in stored:
        await storage.put(key, b"1")
    assert await keys(storage) == sorted(stored)
    assert sorted(stored).index("a-b") < sorted(stored).index("a/b")  # not directory order


@pytest.mark.anyio
async def test_prefix_matches_like_an_object_store(storage: FileSystemStorage) -> None:
    for key in ["mid/x", "mid/y/z", "mix", "mo", "m", "a/mi/x"]:
        await storage.put(key, b"1")
    assert await keys(storage, "mi") == ["mid/x", "mid/y/z", "mix"]
    assert await keys(storage, "mid/") == ["mid/x", "mid/y/z"]
    assert await keys(storage, "mid/y") == ["mid/y/z"]
    assert await keys(storage, "m") == ["m", "mid/x", "mid/y/z", "mix", "mo"]
    assert await keys(storage, "mix") == ["mix"]
    assert await keys(storage, "nothing") == []
    assert await keys(storage, "nothing/deeper/") == []
    assert await keys(storage, "mix/") == []  # below a file


@pytest.mark.anyio
@pytest.mark.parametrize("prefix", ["../", "./", "a//", "/", "..", ".litestar-storages/"])
async def test_prefixes_that_no_key_can_have_list_nothing(
    storage: FileSystemStorage, prefix: str
) -> None:
    await storage.put("a/b", b"1")
    assert await keys(storage, prefix) == []


@pytest.mark.anyio
async def test_limit(fast: FileSystemStorage) -> None:
    for index in range(150):
        await fast.put(f"k/{index:03d}", b"1")
    assert await keys(fast, limit=0) == []
    assert await keys(fast, limit=1) == ["k/000"]
    assert await keys(fast, limit=100) == [f"k/{i:03d}" for i in range(100)]
    assert len(await keys(fast)) == 150
    with pytest.raises(StorageConfigurationError):
        await keys(fast, limit=-1)


@pytest.mark.anyio
async def test_listing_reads_only_the_directories_it_needs(
    storage: FileSystemStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ["a/1", "b/1", "b/2", "c/1"]:
        await storage.put(key, b"1")
    scans = 0
    real_scandir = os.scandir

    def counting(fd: Any) -> Any:
        nonlocal scans
        scans += 1
        return real_scandir(fd)

    monkeypatch.setattr(os, "scandir", counting)
    assert await keys(storage, "b/") == ["b/1", "b/2"]
    assert scans == 1
    scans = 0
    assert await keys(storage, "b") == ["b/1", "b/2"]
    assert scans == 2  # the root, then b
    scans = 0
    assert await keys(storage, limit=1) == ["a/1"]
    assert scans == 2  # the root, then a: b and c are never read


@pytest.mark.anyio
async def test_files_vanishing_during_listing_do_not_break_it(
    fast: FileSystemStorage, root: Path
) -> None:
    for index in range(300):
        await fast.put(f"d/{index:03d}", b"1")
    seen: list[str] = []
    async with contextlib.aclosing(fast.list()) as items:
        async for item in items:
            if not seen:
                for path in (root / "d").iterdir():
                    path.unlink()
                (root / "d" / "999-late").write_bytes(b"appeared")
            seen.append(item.key)
    assert seen[0] == "d/000"
    assert seen == sorted(seen)
    assert len(seen) < 300


@pytest.mark.anyio
async def test_hidden_and_unrepresentable_names_are_not_listed(
    storage: FileSystemStorage, root: Path
) -> None:
    await storage.put("visible", b"1")
    (root / ".litestar-storages-tmp-orphan").write_bytes(b"crash leftover")
    (root / "control\x01char").write_bytes(b"not a valid key")
    os.close(os.open(os.fsencode(root) + b"/bad-\xff-utf8", os.O_CREAT | os.O_WRONLY))
    assert await keys(storage) == ["visible"]


# --------------------------------------------------------------------------- multipart
@pytest.mark.anyio
async def test_multipart_parts_in_any_order_and_concurrently(storage: FileSystemStorage) -> None:
    upload = await storage.start_multipart_upload("big", content_type="video/mp4")
    parts = {n: os.urandom(1000 + n) for n in range(1, 9)}
    async with anyio.create_task_group() as tg:
        for number in reversed(parts):
            tg.start_soon(storage.upload_part, upload, number, parts[number])
    stored = await storage.complete_multipart_upload(upload)
    body = b"".join(parts[n] for n in sorted(parts))
    digests = b"".join(hashlib.md5(parts[n]).digest() for n in sorted(parts))
    assert await storage.get_bytes("big") == body
    assert stored.etag == f"{hashlib.md5(digests).hexdigest()}-8"
    assert stored.content_type == "video/mp4"
    assert upload.completed_parts == 8


@pytest.mark.anyio
async def test_multipart_resumes_after_a_restart(root: Path) -> None:
    first = FileSystemStorage(FileSystemConfig(root))
    upload = await first.start_multipart_upload("resumed", metadata={"job": "7"})
    await first.upload_part(upload, 1, b"first half, ")
    saved = json.dumps(upload.to_dict())

    second = FileSystemStorage(FileSystemConfig(root))
    restored = MultipartUpload.from_dict(json.loads(saved))
    await second.upload_part(restored, 2, b"second half")
    stored = await second.complete_multipart_upload(restored)
    assert await second.get_bytes("resumed") == b"first half, second half"
    assert stored.metadata == {"job": "7"}
    assert await keys(second) == ["resumed"]
    assert not list((root / ".litestar-storages" / "uploads").iterdir())


@pytest.mark.anyio
async def test_multipart_accepts_etag_lists_and_pairs(storage: FileSystemStorage) -> None:
    upload = await storage.start_multipart_upload("k")
    e1 = await storage.upload_part(upload, 1, b"a")
    e2 = await storage.upload_part(upload, 2, b"b")
    await storage.complete_multipart_upload(upload, [e1, f'"{e2}"'])
    assert await storage.get_bytes("k") == b"ab"
    upload = await storage.start_multipart_upload("k2")
    e2 = await storage.upload_part(upload, 2, b"b")
    e1 = await storage.upload_part(upload, 1, b"a")
    await storage.complete_multipart_upload(upload, [(2, e2), (1, e1)])
    assert await storage.get_bytes("k2") == b"ab"


@pytest.mark.anyio
async def test_reuploaded_part_uses_the_listed_etag(storage: FileSystemStorage) -> None:
    upload = await storage.start_multipart_upload("k")
    first = await storage.upload_part(upload, 1, b"first try")
    second = await storage.upload_part(upload, 1, b"second try")
    await storage.complete_multipart_upload(upload, [(1, first)])
    assert await storage.get_bytes("k") == b"first try"
    assert first != second


@pytest.mark.anyio
async def test_multipart_assembles_in_several_hops(
    storage: FileSystemStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_fs_multipart, "COPY_BLOCK", 300)
    upload = await storage.start_multipart_upload("k")
    parts = [os.urandom(1000) for _ in range(3)]
    for number, part in enumerate(parts, start=1):
        await storage.upload_part(upload, number, part)
    await storage.complete_multipart_upload(upload)
    assert await storage.get_bytes("k") == b"".join(parts)


@pytest.mark.anyio
async def test_abort_removes_the_staged_parts(storage: FileSystemStorage, root: Path) -> None:
    upload = await storage.start_multipart_upload("k")
    await storage.upload_part(upload, 1, b"x" * 1000)
    staging = root / ".litestar-storages" / "uploads" / upload.upload_id
    assert len(list(staging.iterdir())) == 2  # manifest and part
    await storage.abort_multipart_upload(upload)
    assert not staging.exists()
    await storage.abort_multipart_upload(upload)  # twice is fine
    with pytest.raises(StorageFileNotFoundError) as caught:
        await storage.upload_part(upload, 2, b"late")
    assert caught.value.code == "NoSuchUpload"
    assert not await storage.exists("k")


@pytest.mark.anyio
async def test_complete_with_a_wrong_etag_or_no_parts_fails(storage: FileSystemStorage) -> None:
    upload = await storage.start_multipart_upload("k")
    with pytest.raises(StoragePreconditionFailedError):
        await storage.complete_multipart_upload(upload)
    await storage.upload_part(upload, 1, b"a")
    with pytest.raises(StoragePreconditionFailedError):
        await storage.complete_multipart_upload(upload, [(1, "0" * 32)])
    with pytest.raises(StoragePreconditionFailedError):
        await storage.complete_multipart_upload(upload, [(1, "../../etc/passwd")])
    assert not await storage.exists("k")
    await storage.complete_multipart_upload(upload)  # still open after the failures
    assert await storage.get_bytes("k") == b"a"


@pytest.mark.anyio
async def test_create_only_complete_keeps_the_upload_open(storage: FileSystemStorage) -> None:
    await storage.put("k", b"existing")
    upload = await storage.start_multipart_upload("k")
    await storage.upload_part(upload, 1, b"new")
    with pytest.raises(StorageFileExistsError):
        await storage.complete_multipart_upload(upload, overwrite=False)
    assert await storage.get_bytes("k") == b"existing"
    await storage.complete_multipart_upload(upload)
    assert await storage.get_bytes("k") == b"new"


@pytest.mark.anyio
@pytest.mark.parametrize("upload_id", ["../../outside", "nope", "A" * 32, ""])
async def test_crafted_upload_ids_never_touch_paths(
    storage: FileSystemStorage, tmp_path: Path, upload_id: str
) -> None:
    before = tree(tmp_path)
    forged = MultipartUpload(upload_id=upload_id, key="k")
    with pytest.raises(StorageFileNotFoundError):
        await storage.upload_part(forged, 1, b"x")
    with pytest.raises(StorageFileNotFoundError):
        await storage.complete_multipart_upload(forged, [(1, "0" * 32)])
    await storage.abort_multipart_upload(forged)
    assert tree(tmp_path) == before


@pytest.mark.anyio
async def test_an_upload_cannot_be_completed_under_another_key(
    storage: FileSystemStorage,
) -> None:
    upload = await storage.start_multipart_upload("k")
    await storage.upload_part(upload, 1, b"a")
    forged = MultipartUpload(upload_id=upload.upload_id, key="other", parts=upload.parts)
    with pytest.raises(StorageFileNotFoundError):
        await storage.complete_multipart_upload(forged)
    assert not await storage.exists("other")


@pytest.mark.anyio
async def test_put_large_streams_with_progress_and_a_plain_md5(
    storage: FileSystemStorage,
) -> None:
    async def produce() -> AsyncIterator[bytes]:
        for index in range(5):
            yield bytes([index]) * 700_000

    reports: list[int] = []
    stored = await storage.put_large(
        "large",
        produce(),
        part_size=1_000_000,
        progress_callback=lambda i: reports.append(i.bytes_transferred),
    )
    body = b"".join(bytes([i]) * 700_000 for i in range(5))
    assert stored.etag == hashlib.md5(body).hexdigest()
    assert await storage.get_bytes("large") == body
    assert reports[0] == 0
    assert reports[-1] == len(body)
    assert reports == sorted(reports)


# --------------------------------------------------------------------------- permissions
@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.anyio
async def test_default_permissions_ignore_the_umask(storage: FileSystemStorage, root: Path) -> None:
    with umask(0o077):
        await storage.put("d/f", b"1", metadata={"a": "b"})
    assert mode(root / "d" / "f") == 0o644
    assert mode(root / "d") == 0o755


@pytest.mark.anyio
async def test_configured_permissions_apply_to_files_dirs_and_sidecars(root: Path) -> None:
    storage = FileSystemStorage(FileSystemConfig(root, permissions=0o640))
    with umask(0o022):
        await storage.put("d/f", b"1", metadata={"a": "b"})
        await storage.copy("d/f", "e/g")
        upload = await storage.start_multipart_upload("m/p")
        await storage.upload_part(upload, 1, b"x")
        await storage.complete_multipart_upload(upload)
    assert mode(root / "d" / "f") == 0o640
    assert mode(root / "e" / "g") == 0o640
    assert mode(root / "m" / "p") == 0o640
    assert mode(root / "d") == 0o750
    for sidecar in (root / ".litestar-storages" / "meta").rglob("*.json"):
        assert mode(sidecar) == 0o640


# --------------------------------------------------------------------------- urls
@pytest.mark.anyio
async def test_base_url_with_the_key_percent_encoded(root: Path) -> None:
    storage = FileSystemStorage(FileSystemConfig(root, base_url="https://cdn.example.com/media/"))
    url = await storage.url("a dir/ünï #?%+~.txt")
    assert url == "https://cdn.example.com/media/a%20dir/%C3%BCn%C3%AF%20%23%3F%25%2B~.txt"
    assert not exists(root)  # no I/O needed


@pytest.mark.anyio
async def test_relative_base_url(root: Path) -> None:
    storage = FileSystemStorage(FileSystemConfig(root, base_url="/media"))
    assert await storage.url("a/b.txt") == "/media/a/b.txt"


@pytest.mark.anyio
async def test_file_url_points_at_the_stored_file(storage: FileSystemStorage, root: Path) -> None:
    await storage.put("dir/we ird#?%.txt", b"1")
    url = await storage.url("dir/we ird#?%.txt")
    assert url == (root / "dir" / "we ird#?%.txt").as_uri()
    parsed = urlparse(url)
    assert parsed.scheme == "file"
    assert read(Path(unquote(parsed.path))) == b"1"


# --------------------------------------------------------------------------- checkpoints
CALLS = {
    "put": lambda s: s.put("k", b"1"),
    "get_bytes": lambda s: s.get_bytes("k"),
    "delete": lambda s: s.delete("k"),
    "exists": lambda s: s.exists("k"),
    "info": lambda s: s.info("k"),
    "url": lambda s: s.url("k"),
    "copy": lambda s: s.copy("k", "c"),
    "move": lambda s: s.move("k", "m"),
    "close": lambda s: s.close(),
    "start_multipart_upload": lambda s: s.start_multipart_upload("k"),
    "put_large": lambda s: s.put_large("k", b"1"),
}


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(CALLS))
async def test_every_async_method_is_a_checkpoint(storage: FileSystemStorage, name: str) -> None:
    await storage.put("k", b"1")
    with anyio.CancelScope() as scope:
        scope.cancel()
        await CALLS[name](storage)
    assert scope.cancelled_caught


@pytest.mark.anyio
async def test_storage_is_an_async_context_manager(root: Path) -> None:
    async with FileSystemStorage(FileSystemConfig(root)) as storage:
        await storage.put("k", b"1")
    assert await storage.get_bytes("k") == b"1"  # close released nothing that is needed
