"""The one key-validation routine shared by every backend."""

from __future__ import annotations

import pytest

from litestar_storages._types import MAX_KEY_BYTES, validate_key, validate_prefix
from litestar_storages.exceptions import StorageError, StorageInvalidKeyError


@pytest.mark.parametrize(
    "key",
    [
        "a",
        "photos/2024/vacation.jpg",
        "with space.txt",
        "unicodé/文件.txt",
        "plus+percent%hash#question?tilde~equals=amp&",
        "a//b",
        "dir/",
        "..hidden/..x/x..",
        ".env",
        "é" * (MAX_KEY_BYTES // 2),  # 2 bytes each: exactly at the limit
    ],
)
def test_valid_keys_are_returned_unchanged(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "empty"),
        ("/etc/passwd", "relative"),
        ("a/../b", "'..'"),
        ("..", "'..'"),
        ("a/./b", "'.'"),
        (".", "'.'"),
        ("a/..", "'..'"),
        ("nul\x00byte", "control"),
        ("new\nline", "control"),
        ("tab\there", "control"),
        ("del\x7f", "control"),
        ("x" * (MAX_KEY_BYTES + 1), "1024"),
        ("é" * (MAX_KEY_BYTES // 2 + 1), "1024"),
        ("lone\ud800surrogate", "surrogate"),
    ],
)
def test_invalid_keys_raise_a_typed_error_that_is_also_a_value_error(key: str, reason: str) -> None:
    with pytest.raises(StorageInvalidKeyError, match=reason) as info:
        validate_key(key, backend="memory")
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, StorageError)
    assert info.value.backend == "memory"


@pytest.mark.parametrize("key", [None, 3, b"bytes"])
def test_non_string_keys_are_rejected(key: object) -> None:
    with pytest.raises(StorageInvalidKeyError, match="must be a str"):
        validate_key(key)


def test_error_message_escapes_control_characters() -> None:
    with pytest.raises(StorageInvalidKeyError) as info:
        validate_key("a\x00b")
    assert "\x00" not in str(info.value)
    assert "\\x00" in str(info.value)


@pytest.mark.parametrize("prefix", ["", "a", "mi", "dir/", "a//"])
def test_prefixes_may_be_empty_or_partial(prefix: str) -> None:
    assert validate_prefix(prefix) == prefix


def test_prefix_with_control_character_is_rejected() -> None:
    with pytest.raises(StorageInvalidKeyError):
        validate_prefix("a\x00")
