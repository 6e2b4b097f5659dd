"""Encoding and canonicalisation rules shared by the AWS, GCS and Azure signers.

Everything here is a pure function of its arguments: no clock, no randomness, no I/O. The rules
are the ones the providers' signature specifications have in common:

* percent-encoding with the RFC 3986 unreserved set (``A-Z a-z 0-9 - . _ ~``) kept as is and every
  other byte of the UTF-8 encoding written as ``%XX`` with upper-case hex (SigV4 "URI-encode",
  GCS V4 "percent-encode", which is the same rule);
* header values trimmed and runs of linear whitespace folded to one space (SigV4 "Trimall",
  GCS V4 canonical headers, Azure SharedKey canonicalised headers);
* timestamps rendered in UTC in the fixed formats each string to sign expects.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, TypeAlias

__all__ = [
    "EMPTY_SHA256",
    "MAX_EXPIRES",
    "add_seconds",
    "check_expiry",
    "HeadersInput",
    "PolicyCondition",
    "QueryInput",
    "SigningError",
    "b64encode",
    "content_length_range",
    "eq",
    "fold_whitespace",
    "format_amz_date",
    "format_http_date",
    "format_iso8601",
    "header_pairs",
    "hex_sha256",
    "hmac_sha256",
    "mask",
    "query_pairs",
    "require_utc",
    "starts_with",
    "uri_encode",
]


class SigningError(ValueError):
    """A request cannot be signed as asked (bad input, unsupported version, out-of-range expiry).

    Subclasses ``ValueError`` because every cause is a bad argument. The backends catch it and
    re-raise their own configuration error; the message never contains a secret.
    """


HeadersInput: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]]
"""Headers as a mapping, or as ``(name, value)`` pairs when a name repeats."""

QueryInput: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]]
"""Query parameters, unencoded, as a mapping or as ``(name, value)`` pairs."""

PolicyCondition: TypeAlias = Mapping[str, Any] | Sequence[Any]
"""One condition of a POST policy document: ``{"field": "value"}`` or ``["op", "$field", arg]``."""

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
"""Hex SHA-256 of the empty string: the payload hash of a request without a body."""

_WHITESPACE = re.compile(r"[ \t\r\n\f\v]+")


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PLAIN = re.compile(r"[A-Za-z0-9\-._~]*").fullmatch
_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~/]*").fullmatch


def _encoding_table(safe: str) -> list[str]:
    try:
        keep = _UNRESERVED | frozenset(safe.encode("ascii"))
    except UnicodeEncodeError as exc:
        raise SigningError("characters left unencoded must be ASCII") from exc
    # RFC 3986 section 2.1: "%" HEXDIG HEXDIG, upper-case hex recommended (and signed as such).
    return [chr(b) if b in keep else f"%{b:02X}" for b in range(256)]


_TABLE = _encoding_table("")
_PATH_TABLE = _encoding_table("/")


def uri_encode(value: str, safe: str = "") -> str:
    """Percent-encode ``value`` keeping only the RFC 3986 unreserved set and ``safe``.

    This is SigV4's ``UriEncode()`` and GCS V4's percent-encoding: the UTF-8 bytes of every other
    character become ``%XX`` with upper-case hex, so a space is ``%20`` (never ``+``) and ``~`` is
    kept. Only characters in ``safe`` (for example ``"/"`` in an S3 object path) are added.

    Args:
        value: The unencoded text.
        safe: Extra ASCII characters to leave unencoded.

    Returns:
        The encoded text.

    Raises:
        SigningError: ``value`` is not encodable as UTF-8 (a lone surrogate).
    """
    # Most names and values need no encoding at all; a regex match is far cheaper than a copy.
    if not safe:
        if _PLAIN(value):
            return value
        table = _TABLE
    elif safe == "/":
        if _PLAIN_PATH(value):
            return value
        table = _PATH_TABLE
    else:
        table = _encoding_table(safe)
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SigningError("text to sign is not valid Unicode (lone surrogate)") from exc
    return "".join(map(table.__getitem__, data))


def fold_whitespace(value: str) -> str:
    """Trim a header value and fold each run of whitespace into one space.

    SigV4 ("Trimall"), GCS V4 and Azure SharedKey all canonicalise header values this way; it
    also unfolds obsolete multi-line header values (RFC 7230 section 3.2.4 ``obs-fold``).
    """
    if value.isascii():
        # str.split() splits on ASCII whitespace only for an ASCII string, and is much faster.
        return " ".join(value.split())
    return _WHITESPACE.sub(" ", value).strip(" ")


def header_pairs(headers: HeadersInput | None) -> list[tuple[str, str]]:
    """Normalise a headers argument to a list of ``(name, value)`` pairs, in input order."""
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return [(str(k), str(v)) for k, v in headers.items()]
    return [(str(k), str(v)) for k, v in headers]


def query_pairs(query: QueryInput | None) -> list[tuple[str, str]]:
    """Normalise a query argument to a list of ``(name, value)`` pairs, in input order."""
    return header_pairs(query)


def hex_sha256(data: bytes | str) -> str:
    """Hex SHA-256 of ``data`` (text is hashed as UTF-8): a payload hash or a request hash."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def hmac_sha256(key: bytes, message: bytes | str) -> bytes:
    """HMAC-SHA256 of ``message`` (text as UTF-8) under ``key``, as raw bytes."""
    if isinstance(message, str):
        message = message.encode("utf-8")
    return hmac.digest(key, message, "sha256")


def b64encode(data: bytes) -> str:
    """Standard base64 (with padding), as text."""
    return base64.b64encode(data).decode("ascii")


def require_utc(now: datetime) -> datetime:
    """Return ``now`` converted to UTC; a naive datetime is refused.

    Raises:
        SigningError: ``now`` has no time zone, so the instant it names is unknown.
    """
    if now.tzinfo is timezone.utc:
        return now
    offset = now.utcoffset()
    if offset is None:
        raise SigningError(
            "`now` must be a timezone-aware datetime, e.g. datetime.now(timezone.utc)"
        )
    if offset:
        return now.astimezone(timezone.utc)
    return now


def format_amz_date(now: datetime) -> tuple[str, str]:
    """Return ``(YYYYMMDD'T'HHMMSS'Z', YYYYMMDD)`` for ``now`` in UTC.

    The first is SigV4's ``X-Amz-Date`` / GCS's ``X-Goog-Date`` (ISO 8601 basic format), the
    second the date of the credential scope. Sub-second precision is dropped, as both specs ask.
    """
    d = require_utc(now)
    # %-formatting of the fields: locale-independent, and the cheapest way to render them.
    date = "%04d%02d%02d" % (d.year, d.month, d.day)  # noqa: UP031 - measured faster
    return "%sT%02d%02d%02dZ" % (date, d.hour, d.minute, d.second), date  # noqa: UP031


def format_iso8601(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC (Azure ``st``/``se``, POST policy ``expiration``)."""
    d = require_utc(moment)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (  # noqa: UP031 - measured faster
        d.year,
        d.month,
        d.day,
        d.hour,
        d.minute,
        d.second,
    )


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_http_date(moment: datetime) -> str:
    """RFC 7231 IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``), independent of the locale.

    ``strftime("%a")`` would follow the process locale; the header must be English.
    """
    d = require_utc(moment)
    return (
        f"{_DAYS[d.weekday()]}, {d.day:02d} {_MONTHS[d.month - 1]} {d.year:04d} "
        f"{d.hour:02d}:{d.minute:02d}:{d.second:02d} GMT"
    )


def add_seconds(moment: datetime, seconds: int) -> datetime:
    """``moment`` plus ``seconds``, in UTC."""
    return require_utc(moment) + timedelta(seconds=seconds)


def mask(secret: str | None) -> str:
    """What a ``repr`` shows in place of a secret: whether it is set, never its value."""
    return "None" if secret is None else "'***'"


# --- POST policy conditions (S3 and GCS use the same condition grammar) -----------------------


def eq(field: str, value: str) -> list[str]:
    """Condition: form field ``field`` must equal ``value`` (``["eq", "$field", value]``)."""
    return ["eq", _dollar(field), value]


def starts_with(field: str, prefix: str) -> list[str]:
    """Condition: form field ``field`` must start with ``prefix`` (``""`` allows any value)."""
    return ["starts-with", _dollar(field), prefix]


def content_length_range(minimum: int, maximum: int) -> list[str | int]:
    """Condition: the uploaded file's size in bytes must lie in ``[minimum, maximum]``.

    Raises:
        SigningError: the range is empty or negative.
    """
    if minimum < 0 or maximum < minimum:
        raise SigningError("content-length-range needs 0 <= minimum <= maximum")
    return ["content-length-range", minimum, maximum]


def _dollar(field: str) -> str:
    return field if field.startswith("$") else f"${field}"


MAX_EXPIRES = 7 * 24 * 3600
"""Longest lifetime of a presigned URL on S3 (query-string auth: "maximum 604800 seconds") and
GCS (``X-Goog-Expires``: "The maximum expiration value is 604800 seconds (7 days)")."""


def check_expiry(expires_in: int) -> None:
    """Refuse a presigned-URL lifetime outside 1 s to 7 days (both providers' bounds).

    Raises:
        SigningError: ``expires_in`` is not an int, or is out of range.
    """
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        raise SigningError("expires_in must be an int number of seconds")
    if not 1 <= expires_in <= MAX_EXPIRES:
        raise SigningError(f"expires_in must be between 1 and {MAX_EXPIRES} seconds (7 days)")
