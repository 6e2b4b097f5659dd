"""Which HTTP transport the shared pool builds: the library's own, or httpx's stock one.

Kept apart from ``pool`` (which imports httpx) so the backend configs can validate the
``http_transport`` field without importing the HTTP stack (import time matters to functions
that only presign URLs).

* ``"fast"``: the library's HTTP/1.1 transport (``_http.transport.FastTransport``), the default.
* ``"httpx"``: httpx's ``AsyncHTTPTransport`` (httpcore), the escape hatch when an HTTP/1.1
  detail of the own transport is suspected, or to compare the two.

A config that leaves ``http_transport`` unset follows the environment variable
:data:`ENV_VAR`, read when the pool builds a client, so an operator can switch a deployed
service without a code change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from litestar_storages.exceptions import StorageConfigurationError

__all__ = ["ENV_VAR", "HTTP_TRANSPORTS", "HttpTransport", "check_transport", "transport_from_env"]

HttpTransport = Literal["fast", "httpx"]
"""The transports a config can name."""

HTTP_TRANSPORTS: tuple[HttpTransport, ...] = ("fast", "httpx")

ENV_VAR = "LITESTAR_STORAGES_HTTP_TRANSPORT"
"""Process-wide choice for storages whose config leaves ``http_transport`` unset."""


def check_transport(value: object, *, backend: str) -> None:
    """Refuse a config ``http_transport`` that names no transport (``None`` is allowed)."""
    if value is not None and value not in HTTP_TRANSPORTS:
        raise StorageConfigurationError(
            f"http_transport must be 'fast' or 'httpx' (or None: ${ENV_VAR}, else 'fast'), "
            f"not {value!r}",
            backend=backend,
        )


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
