"""Keys: unusual but valid keys round-trip everywhere; invalid keys are refused everywhere.

The key rules are one routine shared by every backend (API.md): a key is a non-empty string of at
most 1024 UTF-8 bytes, without NUL or control characters, not absolute, with no ``.`` or ``..``
segment. Everything else must round-trip byte for byte through every operation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from conformance.capabilities import Capabilities
from conformance.support import collect, keys
from litestar_storages import (
    BaseStorage,
    StorageError,
    StorageFileNotFoundError,
    StorageInvalidKeyError,
)

pytestmark = pytest.mark.anyio

MAX_KEY_BYTES = 1024


def within(key: str, budget: int) -> str:
    """``key``, or a key of ``budget`` bytes where the backend's prefix leaves less room."""
    return key if len(key.encode()) <= budget else segmented_key(budget)


def segmented_key(total_bytes: int, *, segment_bytes: int = 100) -> str:
    """A key of exactly ``total_bytes`` UTF-8 bytes (mostly two-byte ``é``), split into
    ``/``-separated segments of at most ``segment_bytes`` bytes so that it also fits a
    filesystem's limit on one file name.
    """
    segments: list[str] = []
    remaining = total_bytes
    while remaining:
        if segments:
            remaining -= 1  # the "/" before this segment
        size = min(segment_bytes, remaining)
        if remaining - size == 1:  # a lone "/" would be left over: shorten this segment
            size -= 1
        segments.append("é" * (size // 2) + "x" * (size % 2))
        remaining -= size
    key = "/".join(segments)
    assert len(key.encode()) == total_bytes
    return key


UNUSUAL_KEYS = {
    "space": "with space/and more spaces.txt",
    "unicode": "unicode/naïve-日本語-😀.txt",
    "plus": "a+b/c+d.txt",
    "percent": "100%/literal%20not-an-escape.txt",
    "hash": "notes#1.txt",
    "question": "what?.txt",
    "tilde": "~user/file~",
    "equals-ampersand": "q=1&r=2",
    "semicolon-comma": "a;b,c.txt",
    "brackets-quotes": "(a)[b]{c}'d'!e@f$g",
    "dot-prefixed": ".hidden/.dotfile",
    "three-dots": ".../...",
    "leading-dash": "-rf",
    "deeply-nested": "a/b/c/d/e/f/g/h/i/j/k.txt",
    "1000-bytes": segmented_key(1000),
}


@pytest.fixture(params=list(UNUSUAL_KEYS.values()), ids=list(UNUSUAL_KEYS))
def unusual_key(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_unusual_key_round_trips_through_put_get_info_and_list(
    storage: BaseStorage, unusual_key: str, key_budget: int
) -> None:
    unusual_key = within(unusual_key, key_budget)
    stored = await storage.put(unusual_key, b"payload", metadata={"k": "v"})
    assert stored.key == unusual_key
    assert await storage.get_bytes(unusual_key) == b"payload"
    assert await storage.exists(unusual_key)
    info = await storage.info(unusual_key)
    assert (info.key, info.size, info.metadata) == (unusual_key, 7, {"k": "v"})
    assert await keys(storage) == [unusual_key]


async def test_unusual_key_round_trips_through_copy_move_and_delete(
    storage: BaseStorage, unusual_key: str, key_budget: int
) -> None:
    unusual_key = within(unusual_key, key_budget)
    await storage.put("source", b"payload")
    copied = await storage.copy("source", unusual_key)
    assert copied.key == unusual_key
    assert await storage.get_bytes(unusual_key) == b"payload"
    moved = await storage.move(unusual_key, "moved")
    assert moved.key == "moved"
    await storage.move("moved", unusual_key)
    assert await keys(storage) == sorted(["source", unusual_key])
    await storage.delete(unusual_key)
    assert not await storage.exists(unusual_key)
    assert await keys(storage) == ["source"]


async def test_key_of_exactly_1024_utf8_bytes_is_accepted(
    storage: BaseStorage, key_budget: int
) -> None:
    key = segmented_key(key_budget)  # 1024 bytes, less the prefix where it counts
    await storage.put(key, b"x")
    assert await keys(storage) == [key]


async def test_a_key_one_byte_over_the_budget_is_refused_before_any_io(
    storage: BaseStorage, key_budget: int
) -> None:
    with pytest.raises(StorageInvalidKeyError):
        await storage.put(segmented_key(key_budget + 1), b"x")
    assert await keys(storage) == []


async def test_keys_differing_only_in_case_are_distinct(storage: BaseStorage) -> None:
    await storage.put("Readme.TXT", b"upper")
    await storage.put("readme.txt", b"lower")
    assert await storage.get_bytes("Readme.TXT") == b"upper"
    assert await storage.get_bytes("readme.txt") == b"lower"


# --------------------------------------------------------------------------- backend-dependent
@pytest.mark.parametrize("key", ["a//b", "dir/"], ids=["double-slash", "trailing-slash"])
async def test_keys_with_empty_segments_round_trip_or_are_refused(
    storage: BaseStorage, caps: Capabilities, key: str
) -> None:
    if caps.supports_empty_segments:
        await storage.put(key, b"x")
        assert await storage.get_bytes(key) == b"x"
        assert await keys(storage) == [key]
    else:
        with pytest.raises(StorageInvalidKeyError):
            await storage.put(key, b"x")
        assert await keys(storage) == []


async def test_key_below_an_object_coexists_with_it_or_is_refused(
    storage: BaseStorage, caps: Capabilities
) -> None:
    await storage.put("a", b"object a")
    if caps.supports_key_and_subkeys:
        await storage.put("a/b", b"object a/b")
        assert await keys(storage) == ["a", "a/b"]
    else:
        with pytest.raises(StorageError):
            await storage.put("a/b", b"object a/b")
        assert await keys(storage) == ["a"]
    assert await storage.get_bytes("a") == b"object a"


async def test_object_named_like_a_prefix_coexists_with_it_or_is_refused(
    storage: BaseStorage, caps: Capabilities
) -> None:
    await storage.put("a/b", b"object a/b")
    if caps.supports_key_and_subkeys:
        await storage.put("a", b"object a")
        assert await keys(storage) == ["a", "a/b"]
    else:
        with pytest.raises(StorageError):
            await storage.put("a", b"object a")
        assert await keys(storage) == ["a/b"]
    assert await storage.get_bytes("a/b") == b"object a/b"


async def test_a_prefix_of_stored_keys_is_not_an_object(storage: BaseStorage) -> None:
    await storage.put("dir/file.txt", b"x")
    assert not await storage.exists("dir")
    with pytest.raises(StorageFileNotFoundError):
        await storage.info("dir")
    with pytest.raises(StorageFileNotFoundError):
        await storage.get_bytes("dir")


async def test_deleting_a_prefix_leaves_the_objects_below_it(storage: BaseStorage) -> None:
    await storage.put("dir/file.txt", b"x")
    await storage.delete("dir")
    assert await keys(storage) == ["dir/file.txt"]


# --------------------------------------------------------------------------- invalid keys
INVALID_KEYS = {
    "empty": "",
    "dot": ".",
    "dot-dot": "..",
    "dot-segment": "a/./b",
    "dot-dot-segment": "a/../b",
    "leading-dot-dot": "../escape.txt",
    "trailing-dot-dot": "a/..",
    "absolute": "/etc/passwd",
    "nul": "a\x00b",
    "newline": "a\nb",
    "tab": "a\tb",
    "carriage-return": "a\rb",
    "escape": "a\x1bb",
    "delete": "a\x7fb",
    "c1-control": "a\x85b",
    "1025-ascii-bytes": "k" * 1025,
    "1025-utf8-bytes": "é" * 512 + "k",
    "lone-surrogate": "a\ud800b",
}


@pytest.fixture(params=list(INVALID_KEYS.values()), ids=list(INVALID_KEYS))
def invalid_key(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_put_with_invalid_key_raises_a_value_error_and_stores_nothing(
    storage: BaseStorage, invalid_key: str
) -> None:
    with pytest.raises(StorageInvalidKeyError) as caught:
        await storage.put(invalid_key, b"x")
    assert isinstance(caught.value, ValueError)
    assert await keys(storage) == []


def _operations(storage: BaseStorage) -> dict[str, Callable[[str], Awaitable[object]]]:
    async def get(key: str) -> object:
        return await collect(storage.get(key))

    return {
        "put": lambda key: storage.put(key, b"x"),
        "put-create-only": lambda key: storage.put(key, b"x", overwrite=False),
        "put_large": lambda key: storage.put_large(key, b"x"),
        "start_multipart_upload": storage.start_multipart_upload,
        "get": get,
        "get_bytes": storage.get_bytes,
        "info": storage.info,
        "exists": storage.exists,
        "delete": storage.delete,
        "url": storage.url,
        "copy-from": lambda key: storage.copy(key, "valid"),
        "copy-to": lambda key: storage.copy("valid", key),
        "move-from": lambda key: storage.move(key, "elsewhere"),
        "move-to": lambda key: storage.move("valid", key),
    }


OPERATION_NAMES = [
    "put",
    "put-create-only",
    "put_large",
    "start_multipart_upload",
    "get",
    "get_bytes",
    "info",
    "exists",
    "delete",
    "url",
    "copy-from",
    "copy-to",
    "move-from",
    "move-to",
]


@pytest.mark.parametrize("operation", OPERATION_NAMES)
async def test_every_operation_refuses_every_invalid_key(
    storage: BaseStorage, operation: str
) -> None:
    await storage.put("valid", b"x")
    call = _operations(storage)[operation]
    not_refused: dict[str, str] = {}
    for name, key in INVALID_KEYS.items():
        try:
            await call(key)
        except StorageInvalidKeyError:
            continue
        except Exception as exc:  # reported below, with the key's name
            not_refused[name] = f"raised {type(exc).__name__}: {exc}"
        else:
            not_refused[name] = "accepted"
    assert not_refused == {}
    assert await keys(storage) == ["valid"]
