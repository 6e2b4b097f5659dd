"""Where the known-answer vectors live, and small parsers for their file formats.

The published sets are read in place from ``../shared/vectors`` (relative to the repository
root), or from the directory named by ``LITESTAR_STORAGES_VECTORS``. The variable is read at
import time, during collection, because the test suite's autouse fixture scrubs
``LITESTAR_STORAGES_*`` variables before each test runs.

The cases the project transcribed itself from the providers' documentation live in the
repository's top-level ``signing/cases/`` and are always present.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from litestar_storages.signing import gcs

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTORS_ENV = "LITESTAR_STORAGES_VECTORS"
VECTORS = Path(os.environ.get(VECTORS_ENV) or REPO_ROOT.parent / "shared" / "vectors")
CASES = REPO_ROOT / "signing" / "cases"


def vectors_path(*parts: str) -> Path:
    """Return a path inside the vectors directory, or skip the whole module loudly."""
    path = VECTORS.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"KNOWN-ANSWER VECTORS NOT FOUND: {path} is missing, so the published signing "
            f"vectors were NOT checked. Point {VECTORS_ENV} at a copy of ../shared/vectors.",
            allow_module_level=True,
        )
    return path


def load_json(path: Path) -> Any:
    """Parse a JSON file (UTF-8)."""
    return json.loads(path.read_text(encoding="utf-8"))


def load_case_file(name: str) -> Any:
    """Parse one of the project's own transcribed case files in ``signing/cases``."""
    return load_json(CASES / name)


@dataclass(frozen=True)
class HttpRequest:
    """A request as written in the AWS test-suite files (``.req`` / ``request.txt``)."""

    method: str
    raw_path: str
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """First value of a header, case-insensitively."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def headers_without(self, *names: str) -> list[tuple[str, str]]:
        """Every header except those named."""
        lowered = {n.lower() for n in names}
        return [(k, v) for k, v in self.headers if k.lower() not in lowered]


def parse_query(text: str) -> list[tuple[str, str]]:
    """Split a raw query string into unencoded pairs (``%XX`` decoded; ``+`` kept as is)."""
    if not text:
        return []
    pairs = []
    for part in text.split("&"):
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def parse_http_request(text: str) -> HttpRequest:
    """Parse the suite's HTTP/1.1 request text.

    The request target may contain raw spaces and UTF-8 (``GET /example space/ HTTP/1.1``);
    header lines starting with whitespace continue the previous header (obs-fold); the body
    follows the first empty line.
    """
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    method, _, rest = lines[0].partition(" ")
    target = rest.rsplit(" ", 1)[0]
    raw_path, _, raw_query = target.partition("?")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" and headers:
            name, value = headers[-1]
            headers[-1] = (name, f"{value}\n{line}")
            continue
        name, _, value = line.partition(":")
        headers.append((name, value))
    return HttpRequest(
        method=method,
        raw_path=raw_path,
        query=parse_query(raw_query),
        headers=headers,
        body=body.encode("utf-8"),
    )


def parse_amz_date(stamp: str) -> datetime:
    """``20130524T000000Z`` as an aware UTC datetime."""
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)


def parse_rfc3339(stamp: str) -> datetime:
    """``2019-02-01T09:00:00Z`` as an aware UTC datetime."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _b64url_int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def rfc7515_account() -> gcs.GcsServiceAccount:
    """A service account whose key is RFC 7515's A.2 example key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    jwk: dict[str, Any] = load_case_file("rfc7515-a2-rs256.json")["jwk"]
    public = rsa.RSAPublicNumbers(_b64url_int(jwk["e"]), _b64url_int(jwk["n"]))
    private = rsa.RSAPrivateNumbers(
        p=_b64url_int(jwk["p"]),
        q=_b64url_int(jwk["q"]),
        d=_b64url_int(jwk["d"]),
        dmp1=_b64url_int(jwk["dp"]),
        dmq1=_b64url_int(jwk["dq"]),
        iqmp=_b64url_int(jwk["qi"]),
        public_numbers=public,
    ).private_key()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return gcs.GcsServiceAccount(
        client_email="rfc7515@example.iam.gserviceaccount.com", private_key_pem=pem
    )
