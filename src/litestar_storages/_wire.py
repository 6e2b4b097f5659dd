"""Wire formats every provider shares: HTTP dates and entity tags.

Neutral and cheap to import (no httpx): backends parse these in their response parsers and the
HTTP layer in its retry logic, so there is one parser of each.
"""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["parse_http_date", "unquote_etag"]

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def parse_http_date(value: str | None) -> datetime | None:
    """An RFC 9110 HTTP date (``Date``, ``Last-Modified``, ``Retry-After``) as aware UTC.

    Providers write the IMF-fixdate form, ``Wed, 04 Mar 2026 05:06:07 GMT``, which is parsed
    here directly; the obsolete forms RFC 9110 still asks recipients to accept go through
    ``email.utils`` (imported only then: it costs more than this whole module). ``None`` for a
    missing or unparseable value.
    """
    if not value:
        return None
    parts = value.replace(":", " ").split()
    if len(parts) == 8 and parts[7] == "GMT" and parts[2] in _MONTHS:
        try:
            day, year, hour, minute, second = (int(parts[i]) for i in (1, 3, 4, 5, 6))
            return datetime(year, _MONTHS[parts[2]], day, hour, minute, second, tzinfo=timezone.utc)
        except ValueError:
            return None
    from email.utils import parsedate_to_datetime

    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def unquote_etag(value: str | None) -> str | None:
    """An ETag without its surrounding quotes and weak ``W/`` marker; ``None`` when empty."""
    if value is None:
        return None
    value = value.strip().removeprefix("W/")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return value or None
