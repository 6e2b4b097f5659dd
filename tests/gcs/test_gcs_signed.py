"""``url()`` and ``signed_post_policy()``: V4 signing through the storage, checked against
Google's published conformance vectors (read in place from ../shared/vectors)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from litestar_storages.backends.gcs import GCSConfig, GCSStorage
from litestar_storages.exceptions import StorageConfigurationError

from ._gcs_helpers import FrozenClock

pytestmark = pytest.mark.anyio

VECTORS = Path(
    os.environ.get("LITESTAR_STORAGES_VECTORS", Path(__file__).parents[3] / "shared" / "vectors")
)
GCS_VECTORS = VECTORS / "gcs" / "googleapis-conformance-tests"
# Cases that are plain path-style URLs on storage.googleapis.com: what GCSStorage.url produces.
PLAIN = {"bucket", "expiration", "headers", "method", "object", "queryParameters", "scheme"}


def _load(name: str) -> Any:
    path = GCS_VECTORS / name
    if not path.exists():
        pytest.skip(
            f"KNOWN-ANSWER VECTORS NOT FOUND: {path} is missing, so GCSStorage.url was NOT "
            "checked against Google's vectors. Set LITESTAR_STORAGES_VECTORS to ../shared/vectors."
        )
    return json.loads(path.read_text(encoding="utf-8"))


def _plain_cases() -> list[Any]:
    path = GCS_VECTORS / "v4_signatures.json"
    if not path.exists():
        return [pytest.param(None, id="vectors-missing")]
    cases = json.loads(path.read_text(encoding="utf-8"))["signingV4Tests"]
    expected = {"description", "timestamp", "expectedUrl", "expectedCanonicalRequest"}
    allowed = PLAIN | expected | {"expectedStringToSign"}
    return [
        pytest.param(case, id=case["description"])
        for case in cases
        # A leading "/" is not a valid key on any backend (validate_key): that case is out.
        if "object" in case and not case["object"].startswith("/") and set(case) <= allowed
    ]


@pytest.mark.parametrize("case", _plain_cases())
async def test_url_matches_googles_v4_vectors(case: dict[str, Any] | None) -> None:
    account = _load("test_service_account.not-a-test.json")
    assert case is not None
    storage = GCSStorage(GCSConfig(bucket=case["bucket"], service_account_info=account))
    storage.clock = FrozenClock(
        datetime.strptime(case["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    )
    url = await storage.url(
        case["object"],
        method=case["method"],
        expires_in=timedelta(seconds=case["expiration"]),
        headers=case.get("headers"),
        query=case.get("queryParameters"),
    )
    assert url == case["expectedUrl"]


# ----------------------------------------------------------------------------- behaviour
@pytest.fixture
def signer(service_account: dict[str, str]) -> GCSStorage:
    storage = GCSStorage(GCSConfig(bucket="bkt", prefix="p", service_account_info=service_account))
    storage.clock = FrozenClock()
    return storage


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def test_url_is_path_style_with_the_key_encoded_once(signer: GCSStorage) -> None:
    url = await signer.url("dir/a b#c?.txt")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "storage.googleapis.com")
    assert parts.path == "/bkt/p/dir/a%20b%23c%3F.txt"


async def test_url_carries_the_v4_parameters(signer: GCSStorage) -> None:
    query = _query(await signer.url("a.txt"))
    assert query["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert query["X-Goog-Credential"] == (
        "robot@demo-project.iam.gserviceaccount.com/20260102/auto/storage/goog4_request"
    )
    assert query["X-Goog-Date"] == "20260102T030405Z"
    assert query["X-Goog-Expires"] == "3600"
    assert query["X-Goog-SignedHeaders"] == "host"
    assert len(query["X-Goog-Signature"]) == 512  # 2048-bit RSA, hex


async def test_url_signature_verifies_with_the_public_key(
    signer: GCSStorage, service_account: dict[str, str]
) -> None:
    import hashlib

    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.hashes import SHA256
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    url = await signer.url("a.txt", expires_in=timedelta(minutes=5))
    _, _, query = url.partition("?")
    unsigned, _, signature = query.rpartition("&X-Goog-Signature=")
    canonical = "\n".join(
        [
            "GET",
            "/bkt/p/a.txt",
            unsigned,
            "host:storage.googleapis.com",
            "",
            "host",
            "UNSIGNED-PAYLOAD",
        ]
    )
    to_sign = (
        "GOOG4-RSA-SHA256\n20260102T030405Z\n20260102/auto/storage/goog4_request\n"
        + hashlib.sha256(canonical.encode()).hexdigest()
    )
    key = load_pem_private_key(service_account["private_key"].encode(), None)
    assert isinstance(key, RSAPrivateKey)
    key.public_key().verify(bytes.fromhex(signature), to_sign.encode(), PKCS1v15(), SHA256())


async def test_url_for_another_method_and_headers(signer: GCSStorage) -> None:
    url = await signer.url("a.txt", method="put", headers={"Content-Type": "text/plain"})
    assert _query(url)["X-Goog-SignedHeaders"] == "content-type;host"


async def test_url_with_response_header_overrides(signer: GCSStorage) -> None:
    url = await signer.url(
        "a.txt",
        response_content_disposition='attachment; filename="r.pdf"',
        response_content_type="application/pdf",
    )
    query = _query(url)
    assert query["response-content-disposition"] == 'attachment; filename="r.pdf"'
    assert query["response-content-type"] == "application/pdf"


@pytest.mark.parametrize(
    "expires_in", [timedelta(0), timedelta(seconds=-5), timedelta(days=7, seconds=1)]
)
async def test_url_expiry_must_be_between_one_second_and_seven_days(
    signer: GCSStorage, expires_in: timedelta
) -> None:
    with pytest.raises(StorageConfigurationError, match="7 days"):
        await signer.url("a.txt", expires_in=expires_in)


async def test_url_of_seven_days_is_allowed(signer: GCSStorage) -> None:
    url = await signer.url("a.txt", expires_in=timedelta(days=7))
    assert _query(url)["X-Goog-Expires"] == "604800"


async def test_url_default_expiry_comes_from_the_config(service_account: dict[str, str]) -> None:
    config = GCSConfig(
        bucket="b", service_account_info=service_account, presigned_expiry=timedelta(minutes=2)
    )
    assert _query(await GCSStorage(config).url("a"))["X-Goog-Expires"] == "120"


async def test_url_with_an_hmac_key(service_account: dict[str, str]) -> None:
    config = GCSConfig(bucket="b", hmac_access_id="GOOG1EXAMPLE", hmac_secret="secret")
    storage = GCSStorage(config)
    storage.clock = FrozenClock()
    query = _query(await storage.url("a"))
    assert query["X-Goog-Algorithm"] == "GOOG4-HMAC-SHA256"
    assert query["X-Goog-Credential"].startswith("GOOG1EXAMPLE/20260102/")
    assert len(query["X-Goog-Signature"]) == 64
    assert storage.signing_source.kind == "hmac"


async def test_url_on_an_emulator_points_at_it(service_account: dict[str, str]) -> None:
    config = GCSConfig(
        bucket="b", api_root="http://127.0.0.1:4443", service_account_info=service_account
    )
    url = await GCSStorage(config).url("a")
    assert url.startswith("http://127.0.0.1:4443/b/a?")


async def test_url_without_a_key_explains_what_is_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_GCE_CHECK", "true")  # else: keyless signing as the metadata server's
    with pytest.raises(StorageConfigurationError, match="service-account key"):
        await GCSStorage(GCSConfig(bucket="b", token="t")).url("a")


async def test_url_with_a_bad_method(signer: GCSStorage) -> None:
    with pytest.raises(StorageConfigurationError):
        await signer.url("a", method="GET /x")


# ----------------------------------------------------------------------------- POST policy
async def test_post_policy_fields(signer: GCSStorage) -> None:
    url, fields = await signer.signed_post_policy(
        "up.txt",
        expires_in=timedelta(minutes=10),
        conditions=[["content-length-range", 0, 1024]],
        fields={"content-type": "text/plain"},
    )
    assert url == "https://storage.googleapis.com/bkt"
    assert fields["key"] == "p/up.txt"
    assert fields["x-goog-algorithm"] == "GOOG4-RSA-SHA256"
    assert fields["content-type"] == "text/plain"
    import base64

    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", 0, 1024] in policy["conditions"]
    assert {"key": "p/up.txt"} in policy["conditions"]
    assert policy["expiration"] == "2026-01-02T03:14:05Z"
    assert len(fields["x-goog-signature"]) == 512


async def test_post_policy_expiry_is_validated(signer: GCSStorage) -> None:
    with pytest.raises(StorageConfigurationError):
        await signer.signed_post_policy("a", expires_in=timedelta(days=8))
