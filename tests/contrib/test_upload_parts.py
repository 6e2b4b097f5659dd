"""The pure parts of upload handling: filename rules, collision names, the multipart reader."""

from __future__ import annotations

import itertools

import pytest

from litestar_storages.contrib._filenames import (
    MAX_FILENAME_BYTES,
    numbered_names,
    sanitize_filename,
    split_extension,
)
from litestar_storages.contrib._multipart import (
    MultipartFormatError,
    MultipartLimitError,
    MultipartReader,
    PartHeaders,
)

from ._support import BOUNDARY, aiter_bytes, multipart_body, split


def _fallback() -> str:
    return "generated"


# --------------------------------------------------------------------------- sanitize_filename
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("C:\\Users\\me\\My Documents\\cv.docx", "cv.docx"),
        ("/absolute/path.txt", "path.txt"),
        ("a／b．txt", "b.txt"),  # fullwidth solidus and full stop fold to / and .  # noqa: RUF001
        ("my report (final).pdf", "my_report_final_.pdf"),
        ("tab\there\x00nul.txt", "tab_here_nul.txt"),
        ("<b>alert(1)<b>.html", "_b_alert_1_b_.html"),
        ("<script>x</script>.html", "script_.html"),  # "/" is a separator
        ("Résumé.pdf", "Résumé.pdf"),
        ("Re\u0301sume\u0301.pdf", "Résumé.pdf"),  # decomposed accents are composed
        ("報告書.pdf", "報告書.pdf"),
        ("हिन्दी.txt", "हिन्दी.txt"),  # combining vowel signs are kept
        (".htaccess", "htaccess"),
        ("...hidden", "hidden"),
        ("-rf", "rf"),
        ("trailing dots...", "trailing_dots"),
        ("a...b", "a.b"),
        ("con.txt", "_con.txt"),
        ("LPT1", "_LPT1"),
        ("console.txt", "console.txt"),
    ],
)
def test_sanitize_filename(raw: str, expected: str) -> None:
    assert sanitize_filename(raw, fallback=_fallback) == expected


@pytest.mark.parametrize("raw", [None, "", "/", "..", "...", "___", "../", "\x00\x01", "   "])
def test_nothing_usable_left_uses_the_fallback(raw: str | None) -> None:
    assert sanitize_filename(raw, fallback=_fallback) == "generated"


def test_long_names_are_shortened_keeping_the_extension() -> None:
    name = sanitize_filename("é" * 300 + ".pdf", fallback=_fallback)
    assert name.endswith(".pdf")
    assert len(name.encode()) <= MAX_FILENAME_BYTES
    assert name[:-4] == "é" * len(name[:-4])  # no character cut in half


def test_a_fallback_that_returns_a_path_is_refused() -> None:
    with pytest.raises(ValueError, match="fallback"):
        sanitize_filename("", fallback=lambda: "a/b")


def test_the_result_never_contains_a_separator_or_a_dot_segment() -> None:
    alphabet = ["a", ".", "/", "\\", "／", "．", " ", "_", "-"]  # noqa: RUF001
    for length in range(1, 6):
        for chars in itertools.product(alphabet, repeat=length):
            name = sanitize_filename("".join(chars), fallback=_fallback)
            assert "/" not in name
            assert "\\" not in name
            assert name not in ("", ".", "..")
            assert not name.startswith(".")


# --------------------------------------------------------------------------- collision names
@pytest.mark.parametrize(
    ("name", "stem", "extension"),
    [
        ("doc.pdf", "doc", ".pdf"),
        ("archive.tar.gz", "archive", ".tar.gz"),
        ("noext", "noext", ""),
        ("v1.2 notes", "v1.2 notes", ""),
        ("weird.extension_that_is_long", "weird.extension_that_is_long", ""),
    ],
)
def test_split_extension(name: str, stem: str, extension: str) -> None:
    assert split_extension(name) == (stem, extension)


def test_numbered_names_follow_the_filestore_seed() -> None:
    assert list(itertools.islice(numbered_names("doc.pdf"), 4)) == [
        "doc.pdf",
        "doc-1.pdf",
        "doc-2.pdf",
        "doc-3.pdf",
    ]
    assert list(itertools.islice(numbered_names("a.tar.gz"), 2)) == ["a.tar.gz", "a-1.tar.gz"]


# --------------------------------------------------------------------------- multipart reader
PARTS = [
    ("title", None, None, b"Holiday"),
    ("doc", "a.pdf", "application/pdf", b"%PDF-1.7\r\n--not-a-boundary\r\n" + b"x" * 5000),
    ("doc", "b.txt", "text/plain; charset=utf-8", b""),
]


async def _read_all(reader: MultipartReader) -> list[tuple[PartHeaders, bytes]]:
    parts = []
    while (headers := await reader.next_part()) is not None:
        body = bytearray()
        while (chunk := await reader.read_chunk()) is not None:
            body += chunk
        parts.append((headers, bytes(body)))
    return parts


@pytest.mark.anyio
@pytest.mark.parametrize("chunk_size", [1, 7, 64, 100_000])
async def test_the_reader_returns_each_part_whatever_the_chunking(chunk_size: int) -> None:
    body = multipart_body(PARTS)
    reader = MultipartReader(aiter_bytes(*split(body, chunk_size)), BOUNDARY, max_parts=10)
    parts = await _read_all(reader)
    assert [(h.name, h.filename, h.content_type, b) for h, b in parts] == [
        ("title", None, None, b"Holiday"),
        ("doc", "a.pdf", "application/pdf", PARTS[1][3]),
        ("doc", "b.txt", "text/plain", b""),
    ]
    assert parts[2][0].charset == "utf-8"


@pytest.mark.anyio
async def test_skipping_a_part_body_moves_to_the_next_part() -> None:
    body = multipart_body(PARTS)
    reader = MultipartReader(aiter_bytes(*split(body, 10)), BOUNDARY, max_parts=10)
    names = []
    while (headers := await reader.next_part()) is not None:
        names.append(headers.filename)
    assert names == [None, "a.pdf", "b.txt"]


@pytest.mark.anyio
async def test_filename_star_wins_over_filename() -> None:
    body = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="doc"; filename="fallback.txt"; '
        "filename*=UTF-8''%E5%A0%B1%E5%91%8A.txt\r\n\r\nx\r\n"
        f"--{BOUNDARY}--\r\n"
    ).encode()
    reader = MultipartReader(aiter_bytes(body), BOUNDARY, max_parts=10)
    headers = await reader.next_part()
    assert headers is not None
    assert headers.filename == "報告.txt"


@pytest.mark.anyio
async def test_a_body_cut_short_is_a_format_error() -> None:
    body = multipart_body(PARTS)[:-40]
    reader = MultipartReader(aiter_bytes(body), BOUNDARY, max_parts=10)
    with pytest.raises(MultipartFormatError):
        await _read_all(reader)


@pytest.mark.anyio
async def test_garbage_is_a_format_error() -> None:
    reader = MultipartReader(aiter_bytes(b"hello world" * 10), BOUNDARY, max_parts=10)
    with pytest.raises(MultipartFormatError):
        await _read_all(reader)


@pytest.mark.anyio
async def test_too_many_parts_is_a_limit_error() -> None:
    body = multipart_body([("v", None, None, b"1")] * 5)
    reader = MultipartReader(aiter_bytes(body), BOUNDARY, max_parts=4)
    with pytest.raises(MultipartLimitError):
        await _read_all(reader)


@pytest.mark.anyio
async def test_empty_chunks_in_the_middle_are_not_the_end() -> None:
    body = multipart_body(PARTS)
    chunks = [piece for chunk in split(body, 50) for piece in (chunk, b"")]
    reader = MultipartReader(aiter_bytes(*chunks), BOUNDARY, max_parts=10)
    assert len(await _read_all(reader)) == 3
