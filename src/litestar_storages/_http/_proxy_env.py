"""Which proxy, if any, httpx would use for a URL given the environment.

``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` and ``NO_PROXY`` (either case, through
``urllib.request.getproxies``) are read exactly as httpx's ``get_environment_proxies`` and
``URLPattern`` read them, so an origin is proxied here if and only if a stock
``httpx.AsyncClient(trust_env=True)`` would proxy it. The fast transport does not speak to
proxies itself: it hands proxied origins to a stock ``httpx.AsyncHTTPTransport``.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.request import getproxies

import httpx

__all__ = ["ProxyRules"]


class _Pattern:
    """One of httpx's proxy keys (``"https://"``, ``"all://*example.com"``...)."""

    __slots__ = ("host", "host_regex", "port", "priority", "proxy", "scheme")

    def __init__(self, pattern: str, proxy: str | None) -> None:
        url = httpx.URL(pattern)
        self.proxy = proxy
        self.scheme = "" if url.scheme == "all" else url.scheme
        self.host = "" if url.host == "*" else url.host
        self.port = url.port
        self.host_regex: re.Pattern[str] | None
        if not url.host or url.host == "*":
            self.host_regex = None
        elif url.host.startswith("*."):
            self.host_regex = re.compile(f"^.+\\.{re.escape(url.host[2:])}$")
        elif url.host.startswith("*"):
            self.host_regex = re.compile(f"^(.+\\.)?{re.escape(url.host[1:])}$")
        else:
            self.host_regex = re.compile(f"^{re.escape(url.host)}$")
        # Most specific first: with a port, then longer hosts, then longer schemes.
        self.priority = (0 if self.port is not None else 1, -len(self.host), -len(self.scheme))

    def matches(self, url: httpx.URL) -> bool:
        if self.scheme and self.scheme != url.scheme:
            return False
        if self.host and self.host_regex is not None and not self.host_regex.match(url.host):
            return False
        return self.port is None or self.port == url.port


def _is_ip(hostname: str, version: int) -> bool:
    try:
        address = ipaddress.ip_address(hostname.split("/", maxsplit=1)[0])
    except ValueError:
        return False
    return address.version == version


class ProxyRules:
    """The environment's proxy configuration, read once.

    Attributes:
        active: Whether any proxy is configured at all (if not, no URL needs a lookup).
    """

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        info = getproxies() if environ is None else environ
        mounts: dict[str, str | None] = {}
        for scheme in ("http", "https", "all"):
            value = info.get(scheme)
            if value:
                mounts[f"{scheme}://"] = value if "://" in value else f"http://{value}"
        for raw in info.get("no", "").split(","):
            hostname = raw.strip()
            if hostname == "*":
                # NO_PROXY=* disables every proxy.
                mounts = {}
                break
            if not hostname:
                continue
            if "://" in hostname:
                mounts[hostname] = None
            elif _is_ip(hostname, 4) or hostname.lower() == "localhost":
                mounts[f"all://{hostname}"] = None
            elif _is_ip(hostname, 6):
                mounts[f"all://[{hostname}]"] = None
            else:
                mounts[f"all://*{hostname}"] = None
        patterns = [_Pattern(key, value) for key, value in mounts.items()]
        self._patterns = sorted(patterns, key=lambda pattern: pattern.priority)
        self.active = any(pattern.proxy is not None for pattern in patterns)

    def proxy_for(self, url: httpx.URL) -> str | None:
        """The proxy URL httpx would use for ``url``, or ``None`` for a direct connection."""
        for pattern in self._patterns:
            if pattern.matches(url):
                return pattern.proxy
        return None
