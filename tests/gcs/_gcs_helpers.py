"""Helpers of the GCS unit tests: canned responses and a hand-moved clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import httpx

from litestar_storages.backends.gcs import GCSStorage

Opener = Callable[..., GCSStorage]
"""Builds a GCSStorage sending through the test router."""

ROOT = "https://storage.googleapis.com"
T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


class FrozenClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def resource(name: str, **extra: Any) -> dict[str, Any]:
    """An object resource as the JSON API returns it."""
    document: dict[str, Any] = {
        "kind": "storage#object",
        "name": name,
        "bucket": "bkt",
        "size": "5",
        "contentType": "text/plain",
        "etag": "CKih16GjycICEAE=",
        "generation": "1700000000000001",
        "metageneration": "1",
        "md5Hash": "XUFAKrxLKna5cZ2REBfFkg==",
        "crc32c": "mnG7TA==",
        "updated": "2026-01-02T03:04:05.678Z",
        "storageClass": "STANDARD",
    }
    document.update(extra)
    return document


def json_error(status: int, reason: str, message: str = "m") -> httpx.Response:
    """A JSON API error response."""
    body = {"error": {"code": status, "message": message, "errors": [{"reason": reason}]}}
    return httpx.Response(status, json=body)


class Script:
    """A respx side effect answering from a list (responses or exceptions), recording requests."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.answers:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def targets(self) -> list[str]:
        """``METHOD raw-path?query`` of every request, in order."""
        return [f"{r.method} {r.url.raw_path.decode()}" for r in self.requests]


def ok_json(document: dict[str, Any], status: int = 200, **headers: str) -> httpx.Response:
    """A JSON response."""
    return httpx.Response(status, json=document, headers=headers)
