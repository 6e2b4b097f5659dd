"""Shared values of the Azure unit tests: a made-up account, a frozen clock, an independent
SharedKey check and canned XML answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit

import httpx

ACCOUNT = "acct"
KEY = base64.b64encode(b"0123456789abcdef" * 4).decode()
CONTAINER = "box"
ENDPOINT = f"https://{ACCOUNT}.blob.core.windows.net"
CONNECTION_STRING = (
    f"DefaultEndpointsProtocol=https;AccountName={ACCOUNT};AccountKey={KEY};"
    "EndpointSuffix=core.windows.net"
)
T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
DATE = "Wed, 04 Mar 2026 05:06:07 GMT"
VERSION = "2025-11-05"


class FrozenClock:
    """A clock that always reads ``now``."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


_STANDARD = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)


def expected_authorization(
    request: httpx.Request, *, account: str = ACCOUNT, key: str = KEY
) -> str:
    """SharedKey computed here from the request on the wire ("Authorize with Shared Key"),
    independently of ``signing.azure``: plain byte order is enough for the headers used here."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    values = [headers.get(name, "") for name in _STANDARD]
    if values[2] == "0":
        values[2] = ""
    canonical_headers = "".join(
        f"{name}:{headers[name].strip()}\n" for name in sorted(headers) if name.startswith("x-ms-")
    )
    url = urlsplit(str(request.url))
    raw_path = request.url.raw_path.decode().split("?", 1)[0]
    resource = f"/{account}{raw_path}"
    grouped: dict[str, list[str]] = {}
    for name, value in parse_qsl(url.query, keep_blank_values=True):
        grouped.setdefault(name.lower(), []).append(value)
    for name in sorted(grouped):
        resource += f"\n{name}:{','.join(sorted(grouped[name]))}"
    to_sign = (
        f"{request.method}\n" + "".join(f"{v}\n" for v in values) + canonical_headers + resource
    )
    digest = hmac.new(base64.b64decode(key), to_sign.encode(), hashlib.sha256).digest()
    return f"SharedKey {account}:{base64.b64encode(digest).decode()}"


def error_xml(code: str, message: str = "An error.") -> bytes:
    """An Azure ``<Error>`` body."""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
        f"<Message>{message}\nRequestId:r-1\nTime:2026-03-04T05:06:07Z</Message></Error>"
    ).encode()


def error(status: int, code: str, *, head: bool = False) -> httpx.Response:
    """An error answer, as the service sends it (HEAD answers have no body)."""
    headers = {"x-ms-error-code": code, "x-ms-request-id": "req-1"}
    return httpx.Response(status, headers=headers, content=b"" if head else error_xml(code))


def properties_headers(
    *,
    size: int = 5,
    content_type: str = "text/plain",
    etag: str = '"0x8D0"',
    metadata: Mapping[str, str] | None = None,
    **extra: str,
) -> dict[str, str]:
    """Get Blob Properties answer headers."""
    headers = {
        "content-length": str(size),
        "content-type": content_type,
        "etag": etag,
        "last-modified": DATE,
        "x-ms-request-id": "req-1",
        **{f"x-ms-meta-{k}": v for k, v in (metadata or {}).items()},
    }
    headers.update({k.replace("_", "-"): v for k, v in extra.items()})
    return headers
