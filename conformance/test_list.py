"""Listing: lexicographic key order, object-store prefix semantics, ``limit`` and pagination."""

from __future__ import annotations

import random

import pytest

from conformance.capabilities import Capabilities
from conformance.support import keys, put_many
from litestar_storages import BaseStorage

pytestmark = pytest.mark.anyio


async def test_list_yields_keys_in_lexicographic_order(storage: BaseStorage) -> None:
    stored = ["b.txt", "a.txt", "C.txt", "a/z.txt", "é.txt", "10.txt", "9.txt", "_.txt"]
    for key in stored:
        await storage.put(key, b"x")
    assert await keys(storage) == sorted(stored)


async def test_list_orders_by_whole_key_not_by_directory_walk(storage: BaseStorage) -> None:
    # "-" and "." sort before "/" and "0" after it: a walk that lists directory "a" as one
    # entry would put "a/b" before "a-c".
    for key in ["a/b", "a-c", "a.d", "a0"]:
        await storage.put(key, b"x")
    assert await keys(storage) == ["a-c", "a.d", "a/b", "a0"]


async def test_list_orders_by_code_point(storage: BaseStorage) -> None:
    stored = ["z", "ä", "日本", "😀", "Z", "~"]
    for key in stored:
        await storage.put(key, b"x")
    assert await keys(storage) == sorted(stored)


async def test_list_reports_every_object_below_nested_directories(storage: BaseStorage) -> None:
    stored = ["top", "x/one", "x/y/two", "x/y/z/three"]
    for key in stored:
        await storage.put(key, b"x")
    assert await keys(storage) == stored


async def test_list_prefix_matches_partial_segments(storage: BaseStorage) -> None:
    for key in ["m", "mi", "mid/x", "mid/y/z", "mix.txt", "mo/x"]:
        await storage.put(key, b"x")
    assert await keys(storage, "mi") == ["mi", "mid/x", "mid/y/z", "mix.txt"]


async def test_list_prefix_ending_in_slash_matches_one_directory(storage: BaseStorage) -> None:
    for key in ["mid/x", "mid/y/z", "mid-file", "middle/x"]:
        await storage.put(key, b"x")
    assert await keys(storage, "mid/") == ["mid/x", "mid/y/z"]


async def test_list_prefix_inside_a_nested_segment(storage: BaseStorage) -> None:
    for key in ["docs/2024/jan.txt", "docs/2024/june.txt", "docs/2025/jan.txt"]:
        await storage.put(key, b"x")
    assert await keys(storage, "docs/2024/j") == ["docs/2024/jan.txt", "docs/2024/june.txt"]


async def test_list_prefix_equal_to_a_whole_key_matches_it(storage: BaseStorage) -> None:
    await storage.put("exact.txt", b"x")
    await storage.put("exact.txt.bak", b"x")
    assert await keys(storage, "exact.txt") == ["exact.txt", "exact.txt.bak"]


async def test_list_prefix_matching_nothing_yields_nothing(storage: BaseStorage) -> None:
    await storage.put("a.txt", b"x")
    assert await keys(storage, "b") == []


async def test_list_empty_prefix_matches_everything(storage: BaseStorage) -> None:
    for key in ["a", "b/c"]:
        await storage.put(key, b"x")
    assert await keys(storage, "") == ["a", "b/c"]


async def test_list_limit_yields_the_first_keys_in_order(storage: BaseStorage) -> None:
    for key in ["d", "b", "a", "c"]:
        await storage.put(key, b"x")
    assert await keys(storage, limit=2) == ["a", "b"]


async def test_list_limit_applies_after_the_prefix(storage: BaseStorage) -> None:
    for key in ["a1", "b1", "b2", "b3"]:
        await storage.put(key, b"x")
    assert await keys(storage, "b", limit=2) == ["b1", "b2"]


async def test_list_limit_zero_yields_nothing(storage: BaseStorage) -> None:
    await storage.put("a", b"x")
    assert await keys(storage, limit=0) == []


async def test_list_limit_above_the_count_yields_everything(storage: BaseStorage) -> None:
    for key in ["a", "b"]:
        await storage.put(key, b"x")
    assert await keys(storage, limit=100) == ["a", "b"]


async def test_list_does_not_show_deleted_objects(storage: BaseStorage) -> None:
    for key in ["a", "b", "c"]:
        await storage.put(key, b"x")
    await storage.delete("b")
    assert await keys(storage) == ["a", "c"]


async def test_list_shows_an_overwritten_object_once(storage: BaseStorage) -> None:
    await storage.put("a", b"1")
    await storage.put("a", b"22")
    assert await keys(storage) == ["a"]


# --------------------------------------------------------------------------- pagination
def _many_keys(caps: Capabilities) -> list[str]:
    """More keys than one listing page, in a shuffled (but fixed) order."""
    count = caps.list_page_size + 25
    names = [f"page/{index:05d}" for index in range(count)]
    random.Random(1).shuffle(names)
    return names


async def test_list_pages_through_more_objects_than_one_page(
    storage: BaseStorage, caps: Capabilities
) -> None:
    # One test for both checks: storing more than a page of objects is the slow part.
    names = _many_keys(caps)
    await put_many(storage, dict.fromkeys(names, b"x"))
    assert await keys(storage) == sorted(names)
    limit = caps.list_page_size + 3  # ends inside the second page
    assert await keys(storage, "page/", limit=limit) == sorted(names)[:limit]
