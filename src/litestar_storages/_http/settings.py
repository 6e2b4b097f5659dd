"""The HTTP settings every cloud config carries, and their validation, without importing httpx.

``S3Config``, ``GCSConfig`` and ``AzureConfig`` share these fields (same names, same meaning)
so that ``pool.PoolOptions.from_settings`` turns any of them into pool options in one place.
This module stays free of httpx so a config can be built and checked, and a URL presigned,
without importing the HTTP stack (import time matters to functions that only presign).

The transport choice:

* ``"fast"``: the library's HTTP/1.1 transport (``_http.transport.FastTransport``), the default.
* ``"httpx"``: httpx's ``AsyncHTTPTransport`` (httpcore), the escape hatch when an HTTP/1.1
  detail of the own transport is suspected, or to compare the two.

A config that leaves ``http_transport`` unset follows the environment variable
:data:`ENV_VAR`, read when the pool builds a client, so an operator can switch a deployed
service without a code change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol

from litestar_storages.exceptions import StorageConfigurationError

__all__ = [
    "ENV_VAR",
    "HTTP_TRANSPORTS",
    "HttpSettings",
    "HttpTransport",
    "check_http_settings",
    "transport_from_env",
]

HttpTransport = Literal["fast", "httpx"]
"""The transports a config can name."""

HTTP_TRANSPORTS: tuple[HttpTransport, ...] = ("fast", "httpx")

ENV_VAR = "LITESTAR_STORAGES_HTTP_TRANSPORT"
"""Process-wide choice for storages whose config leaves ``http_transport`` unset."""


class HttpSettings(Protocol):
    """The HTTP fields of a cloud config (read-only, as the frozen configs have them)."""

    @property
    def max_pool_connections(self) -> int:
        """Most connections open at once in the shared pool."""

    @property
    def verify_ssl(self) -> bool | str:
        """Verify TLS certificates, or the path of a CA bundle."""

    @property
    def connect_timeout(self) -> float:
        """Seconds to connect (DNS, TCP and TLS)."""

    @property
    def read_timeout(self) -> float:
        """Seconds to wait for each read and write, and for a free pooled connection."""

    @property
    def http2(self) -> bool:
        """Use HTTP/2 (httpx's transport) when the ``h2`` package is installed."""

    @property
    def proxy_url(self) -> str | None:
        """An HTTP(S) proxy for every request."""

    @property
    def http_transport(self) -> HttpTransport | None:
        """``"fast"``, ``"httpx"``, or ``None`` (:data:`ENV_VAR`, else ``"fast"``)."""


def check_http_settings(settings: HttpSettings) -> list[str]:
    """What is wrong with ``settings``, one message per problem (empty: nothing)."""
    problems = []
    if settings.max_pool_connections < 1:
        problems.append("max_pool_connections must be at least 1")
    for name in ("connect_timeout", "read_timeout"):
        if not getattr(settings, name) > 0:
            problems.append(f"{name} must be positive")
    proxy = settings.proxy_url
    if proxy is not None and not proxy.lower().startswith(("http://", "https://")):
        problems.append("proxy_url must be an http:// or https:// URL")
    if settings.http_transport is not None and settings.http_transport not in HTTP_TRANSPORTS:
        problems.append(
            f"http_transport must be 'fast' or 'httpx' (or None: ${ENV_VAR}, else 'fast'), "
            f"not {settings.http_transport!r}"
        )
    return problems


def transport_from_env(environ: Mapping[str, str]) -> HttpTransport:
    """The transport :data:`ENV_VAR` names; ``"fast"`` when it is unset or empty."""
    raw = environ.get(ENV_VAR, "").strip().lower()
    if not raw:
        return "fast"
    for name in HTTP_TRANSPORTS:
        if raw == name:
            return name
    raise StorageConfigurationError(
        f"${ENV_VAR} must be 'fast' or 'httpx', not {raw!r}", backend=None
    )
