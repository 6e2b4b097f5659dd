"""Helpers of the S3 unit tests: a frozen clock, a storage factory over a respx router, and a
SigV4 checker that recomputes a captured request's signature the way a server would."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

import httpx
import respx

from litestar_storages.backends.s3 import S3Config, S3Storage
from litestar_storages.retry import RetryConfig
from litestar_storages.signing.sigv4 import AwsCredentials, sign_headers

__all__ = [
    "AMZ_DATE",
    "BUCKET",
    "ENDPOINT",
    "KEY_ID",
    "SECRET",
    "T0",
    "CutStream",
    "FrozenClock",
    "Opener",
    "S3Storage",
    "open_storage",
    "sigv4_is_valid",
    "xml_error",
]

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
AMZ_DATE = "20260102T030405Z"
KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ENDPOINT = "http://s3.test:9000"
BUCKET = "bucket"

Opener = Callable[..., S3Storage]


class FrozenClock:
    """A clock that reads ``now`` (tests move it)."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def open_storage(router: respx.Router, **fields: Any) -> S3Storage:
    """An S3Storage sending through ``router`` (the owned-pool path, transport called directly)."""
    retry = fields.pop("retry", None) or RetryConfig(max_attempts=3, base_delay=0, jitter=False)
    clock = fields.pop("clock", None) or FrozenClock()
    fields.setdefault("bucket", BUCKET)
    fields.setdefault("endpoint_url", ENDPOINT)
    fields.setdefault("region", "us-east-1")
    if not fields.get("anonymous"):
        fields.setdefault("access_key_id", KEY_ID)
        fields.setdefault("secret_access_key", SECRET)
    return S3Storage(
        S3Config(**fields),
        retry_config=retry,
        transport_factory=lambda _options: httpx.MockTransport(router.async_handler),
        clock=clock,
    )


def sigv4_is_valid(request: httpx.Request, secret: str = SECRET) -> bool:
    """Recompute the request's SigV4 signature from what is on the wire, as S3 does."""
    auth = request.headers["authorization"]
    fields = dict(part.strip().split("=", 1) for part in auth.split(" ", 1)[1].split(","))
    key_id, _date, region, service, _ = fields["Credential"].split("/")
    signed = fields["SignedHeaders"].split(";")
    raw_path, _, raw_query = request.url.raw_path.decode("ascii").partition("?")
    headers = {name: request.headers[name] for name in signed if name != "host"}
    token = headers.pop("x-amz-security-token", None)
    expected = sign_headers(
        request.method,
        host=request.headers["host"],
        path=raw_path,
        query=parse_qsl(raw_query, keep_blank_values=True),
        headers={k: v for k, v in headers.items() if k not in ("x-amz-date",)},
        payload_hash=request.headers["x-amz-content-sha256"],
        credentials=AwsCredentials(key_id, secret, token),
        region=region,
        service=service,
        now=datetime.strptime(request.headers["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(
            tzinfo=timezone.utc
        ),
    )
    return expected["authorization"] == auth


class CutStream(httpx.AsyncByteStream):
    """A response body that yields ``head`` and then fails (or ends early)."""

    def __init__(self, head: bytes, error: Exception | None = None) -> None:
        self.head = head
        self.error = error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.head
        if self.error is not None:
            raise self.error


def xml_error(status: int, code: str, message: str = "m", **headers: str) -> httpx.Response:
    """An S3 error response."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>REQ123</RequestId><HostId>HOST456</HostId></Error>"
    )
    return httpx.Response(status, content=body.encode(), headers=headers)
