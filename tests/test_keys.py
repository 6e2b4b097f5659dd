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


def test_the_ascii_fast_path_agrees_with_the_general_rules() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from litestar_storages._types import _key_problem

    keys = st.one_of(
        st.text(alphabet=st.characters(max_codepoint=0x7F), min_size=1, max_size=12),
        st.text(alphabet="./a \x00\x7f", min_size=1, max_size=10),
        st.sampled_from(["x" * 1024, "x" * 1025, ".", "..", "a/.", "./a", "...", "/a", "a//b"]),
    )

    @settings(max_examples=2000, deadline=None)
    @given(keys)
    def agree(key: str) -> None:
        expected_valid = _key_problem(key) is None
        try:
            validate_key(key)
        except StorageInvalidKeyError:
            assert not expected_valid, key
        else:
            assert expected_valid, key

    agree()


@pytest.mark.parametrize(
    ("prefix", "key", "ok"),
    [
        ("", "x" * 1024, True),
        ("p/", "x" * 1022, True),
        ("p/", "x" * 1023, False),
        ("pré/", "é" * 509, True),  # 5 + 1018 = 1023 bytes
        ("pré/", "é" * 510, False),
    ],
)
def test_prefixed_key_counts_the_prefix_toward_the_limit(prefix: str, key: str, ok: bool) -> None:
    from litestar_storages._types import prefixed_key

    if ok:
        assert prefixed_key(prefix, key, backend="s3") == prefix + key
    else:
        with pytest.raises(StorageInvalidKeyError, match="too long"):
            prefixed_key(prefix, key, backend="s3")
