"""CRC32C and MD5 as GCS writes them, and the download verifier."""

from __future__ import annotations

import base64
import hashlib

import pytest

from litestar_storages.backends.gcs import _integrity
from litestar_storages.exceptions import StorageIntegrityError


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", 0x00000000),
        (b"123456789", 0xE3069283),  # the CRC catalogue's check value for CRC-32C
        (bytes(32), 0x8A9136AA),  # RFC 3720, B.4: 32 bytes of zeros
        (b"\xff" * 32, 0x62A8AB43),  # RFC 3720, B.4: 32 bytes of 0xff
        (bytes(range(32)), 0x46DD794E),  # RFC 3720, B.4: incrementing bytes
    ],
)
def test_crc32c_known_answers(data: bytes, expected: int) -> None:
    assert _integrity.crc32c(data) == expected


def test_crc32c_continues_across_chunks() -> None:
    assert _integrity.crc32c(b"56789", _integrity.crc32c(b"1234")) == 0xE3069283


def test_crc32c_base64_matches_what_gcs_reports_for_hello() -> None:
    # fake-gcs-server (and GCS) report crc32c=mnG7TA== for b"hello".
    assert _integrity.crc32c_b64(b"hello") == "mnG7TA=="


def test_md5_base64_matches_what_gcs_reports_for_hello() -> None:
    assert _integrity.md5_b64(b"hello") == "XUFAKrxLKna5cZ2REBfFkg=="


def test_fast_crc32c_agrees_with_the_reference_when_installed() -> None:
    module = _integrity.fast_crc32c()
    if module is None:
        pytest.skip("google-crc32c (C extension) is not installed: the fast path is unused")
    data = bytes(range(256)) * 1000
    assert int(module.value(data)) == _integrity.crc32c(data)


@pytest.mark.parametrize(
    "values",
    [
        ["crc32c=mnG7TA==,md5=XUFAKrxLKna5cZ2REBfFkg=="],
        ["crc32c=mnG7TA==", "md5=XUFAKrxLKna5cZ2REBfFkg=="],
        [" crc32c=mnG7TA== , md5=XUFAKrxLKna5cZ2REBfFkg== "],
    ],
)
def test_goog_hash_in_one_or_several_headers(values: list[str]) -> None:
    assert _integrity.parse_goog_hash(values) == {
        "crc32c": "mnG7TA==",
        "md5": "XUFAKrxLKna5cZ2REBfFkg==",
    }


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def test_verifier_accepts_the_right_body() -> None:
    verifier = _integrity.DownloadVerifier({"md5": _md5(b"hello")}, key="k")
    verifier.update(b"he")
    verifier.update(b"llo")
    verifier.verify()


def test_verifier_rejects_a_corrupted_body() -> None:
    verifier = _integrity.DownloadVerifier({"md5": _md5(b"hello")}, key="k")
    verifier.update(b"jello")
    with pytest.raises(StorageIntegrityError, match="md5") as caught:
        verifier.verify()
    assert caught.value.key == "k"


def test_verifier_without_usable_digests_is_inactive() -> None:
    verifier = _integrity.DownloadVerifier({}, key="k")
    assert not verifier.active
    verifier.update(b"anything")
    verifier.verify()


def test_crc32c_alone_is_checked_only_with_the_fast_path() -> None:
    verifier = _integrity.DownloadVerifier({"crc32c": "AAAAAA=="}, key="k")
    assert verifier.active == (_integrity.fast_crc32c() is not None)
