"""Per-attempt request signing: the :class:`Signer` hook and an ``httpx.Auth`` adapter for it.

A signer is an async callable ``(request, now) -> headers to add``. The send loop calls it once
per attempt with the clock read once for that attempt (corrected for any measured skew), so a
retried request never reuses a stale signature. Backends write signers by fetching a credential
from their :class:`~litestar_storages._http.credentials.CredentialCache` and calling the pure
functions of ``litestar_storages.signing``; this module knows nothing about any of them.

:class:`SignerAuth` wraps a signer as an ``httpx.Auth`` so the same signing can be used with a
plain ``httpx.AsyncClient`` (its ``auth_flow`` runs once per ``send``, the shape httpx intends).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Mapping
from datetime import datetime
from typing import Protocol
from urllib.parse import parse_qsl

import httpx

from litestar_storages._http.clock import Clock, system_clock
from litestar_storages._http.request import HttpRequest

__all__ = ["Signer", "SignerAuth"]


class Signer(Protocol):
    """Signs one attempt: returns the headers to add (``authorization``, dates, tokens)."""

    async def __call__(self, request: HttpRequest, now: datetime) -> Mapping[str, str]:
        """Sign ``request`` as of ``now``."""
        ...


class SignerAuth(httpx.Auth):
    """An ``httpx.Auth`` that signs each request with a :class:`Signer`.

    Args:
        signer: The signer to call once per request.
        clock: Read once per request.
    """

    requires_request_body = True

    def __init__(self, signer: Signer, *, clock: Clock = system_clock) -> None:
        self._signer = signer
        self._clock = clock

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        """Signing may need to refresh credentials asynchronously: async clients only."""
        raise RuntimeError("SignerAuth works with httpx.AsyncClient only")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Sign ``request`` and send it once."""
        url = request.url
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        raw_path, _, raw_query = url.raw_path.decode("ascii").partition("?")
        spec = HttpRequest(
            method=request.method,
            origin=origin,
            path=raw_path,
            query=parse_qsl(raw_query, keep_blank_values=True),
            headers={k.lower(): v for k, v in request.headers.items() if k.lower() != "host"},
            body=request.content,
        )
        request.headers.update(await self._signer(spec, self._clock()))
        yield request
