"""Client-supplied filenames made safe to use in keys, and the names tried when one is taken.

Pure functions, no Litestar and no I/O: the upload helper calls them, tests drive them directly.

A filename from a ``multipart/form-data`` part is untrusted input. Browsers send the base name,
but old ones sent whole Windows paths (``C:\\Users\\me\\doc.pdf``) and scripts send anything:
``../../etc/passwd``, fullwidth slashes that NFKC folds into real ones (U+FF0F), control characters,
names longer than a filesystem allows, ``CON`` on Windows.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterator

__all__ = ["MAX_FILENAME_BYTES", "numbered_names", "sanitize_filename", "split_extension"]

MAX_FILENAME_BYTES = 200
"""Longest sanitised name in UTF-8 bytes: below the usual 255-byte limit of one path component,
leaving room for a ``-123`` collision suffix."""

_MAX_EXTENSION_CHARS = 16
_COMPOUND_SUFFIXES = frozenset({".tar"})
_SEPARATORS = re.compile(r"[/\\]")
_UNDERSCORES = re.compile(r"_{2,}")
_DOTS = re.compile(r"\.{2,}")
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{n}" for n in range(1, 10)}
    | {f"LPT{n}" for n in range(1, 10)}
)


def _is_safe(char: str) -> bool:
    # Letters, digits and combining marks of any script stay (a Hindi or Chinese name remains
    # readable); of the punctuation only what is harmless in a key, a path and a URL.
    return char in "-_." or unicodedata.category(char)[0] in "LNM"


def sanitize_filename(
    filename: str | None,
    *,
    fallback: Callable[[], str],
    max_bytes: int = MAX_FILENAME_BYTES,
) -> str:
    """Turn a client-supplied filename into one safe to use as the last segment of a key.

    1. Unicode NFKC normalisation (so fullwidth slashes and dots, U+FF0F and U+FF0E, become
       ``/`` and ``.`` *before* separators are looked for).
    2. Path components stripped: only what follows the last ``/`` or ``\\`` is kept.
    3. Every character other than letters, digits, combining marks, ``-``, ``_`` and ``.`` is
       replaced by ``_`` (spaces included); runs of ``_`` and of ``.`` are collapsed.
    4. Leading dots and dashes (hidden files, ``..``, option-like names) and trailing dots are
       removed; Windows device names (``CON``, ``LPT1``, ...) get a ``_`` prefix.
    5. Names longer than ``max_bytes`` UTF-8 bytes are shortened, keeping the extension.
    6. A name that ends up empty is replaced by ``fallback()``.

    Args:
        filename: What the client sent (``None`` when it sent nothing).
        fallback: Called for a replacement when nothing usable is left (e.g. a random id).
        max_bytes: Longest result in UTF-8 bytes.

    Returns:
        The sanitised name, never empty and never containing ``/``.
    """
    name = unicodedata.normalize("NFKC", filename or "")
    name = _SEPARATORS.split(name)[-1]
    name = "".join(char if _is_safe(char) else "_" for char in name)
    name = _DOTS.sub(".", _UNDERSCORES.sub("_", name))
    name = name.lstrip(".-").rstrip(".")
    if not name.strip("_."):
        return _checked_fallback(fallback, max_bytes)
    if name.split(".", 1)[0].upper() in _WINDOWS_RESERVED:
        name = f"_{name}"
    return _shorten(name, max_bytes)


def _checked_fallback(fallback: Callable[[], str], max_bytes: int) -> str:
    name = fallback()
    if not name or _SEPARATORS.search(name):
        raise ValueError(f"fallback() must return a non-empty name without '/', got {name!r}")
    return _shorten(name, max_bytes)


def _shorten(name: str, max_bytes: int) -> str:
    if len(name.encode("utf-8")) <= max_bytes:
        return name
    stem, extension = split_extension(name)
    budget = max(1, max_bytes - len(extension.encode("utf-8")))
    # Cut on a byte budget, then drop a partial character at the end (errors="ignore").
    stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(".") or "file"
    return f"{stem}{extension}"


def split_extension(filename: str) -> tuple[str, str]:
    """Split ``filename`` into stem and extension: ``"doc.pdf"`` -> ``("doc", ".pdf")``.

    ``.tar.gz``-style double extensions stay together; a "extension" longer than 16 characters
    or containing anything but letters and digits is considered part of the stem.
    """
    stem, dot, extension = filename.rpartition(".")
    if not dot or not stem or not _plausible_extension(extension):
        return filename, ""
    extension = f".{extension}"
    inner_stem, inner_dot, inner = stem.rpartition(".")
    if inner_dot and inner_stem and f".{inner.lower()}" in _COMPOUND_SUFFIXES:
        return inner_stem, f".{inner}{extension}"
    return stem, extension


def _plausible_extension(extension: str) -> bool:
    return 0 < len(extension) <= _MAX_EXTENSION_CHARS and extension.isalnum()


def numbered_names(filename: str) -> Iterator[str]:
    """The names tried for a new file, in order: ``doc.pdf``, ``doc-1.pdf``, ``doc-2.pdf``, ...

    Endless; the caller decides when to stop.
    """
    stem, extension = split_extension(filename)
    yield filename
    for number in itertools.count(1):
        yield f"{stem}-{number}{extension}"
