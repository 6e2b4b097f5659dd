"""SAS URLs: computed locally, least privilege, overrides, times, checks; and import cost."""

from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess
import sys
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from litestar_storages.backends.azure import AzureStorage
from litestar_storages.exceptions import StorageConfigurationError

from ._azure_helpers import ACCOUNT, ENDPOINT, KEY
from .conftest import StorageFactory

pytestmark = pytest.mark.anyio


def params(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def expected_blob_sig(p: dict[str, str], resource: str) -> str:
    """The service SAS signature from the documented 2020-12-06+ layout ("Create a service
    SAS"), computed here independently of ``signing.azure``."""
    fields = [
        p.get("sp", ""), p.get("st", ""), p.get("se", ""), resource, p.get("si", ""),
        p.get("sip", ""), p.get("spr", ""), p.get("sv", ""), p.get("sr", ""),
        p.get("snapshot", ""), p.get("ses", ""), p.get("rscc", ""), p.get("rscd", ""),
        p.get("rsce", ""), p.get("rscl", ""), p.get("rsct", ""),
    ]  # fmt: skip
    digest = hmac.new(base64.b64decode(KEY), "\n".join(fields).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


async def test_download_url_grants_read_only_with_skewed_start(storage: AzureStorage) -> None:
    url = await storage.url("dir/a b.txt")
    assert url.startswith(f"{ENDPOINT}/box/dir/a%20b.txt?")
    p = params(url)
    assert p["sp"] == "r"
    assert p["sr"] == "b"
    assert p["sv"] == "2025-11-05"
    assert p["st"] == "2026-03-04T04:51:07Z"  # 15 minutes before the frozen clock
    assert p["se"] == "2026-03-04T06:06:07Z"  # presigned_expiry: one hour
    assert p["spr"] == "https"
    assert p["sig"] == expected_blob_sig(p, f"/blob/{ACCOUNT}/box/dir/a b.txt")


@pytest.mark.parametrize(
    ("method", "permissions", "expected"),
    [
        ("GET", None, "r"),
        ("HEAD", None, "r"),
        ("PUT", None, "cw"),
        ("DELETE", None, "d"),
        ("GET", "wr", "rw"),
    ],
)
async def test_permissions_follow_the_intended_use(
    storage: AzureStorage, method: str, permissions: str | None, expected: str
) -> None:
    p = params(await storage.url("k", method=method, permissions=permissions))
    assert p["sp"] == expected
    assert p["sig"] == expected_blob_sig(p, f"/blob/{ACCOUNT}/box/k")


async def test_header_overrides_are_signed(storage: AzureStorage) -> None:
    url = await storage.url(
        "k", content_disposition='attachment; filename="r.pdf"', content_type="application/pdf"
    )
    p = params(url)
    assert p["rscd"] == 'attachment; filename="r.pdf"'
    assert p["rsct"] == "application/pdf"
    assert p["sig"] == expected_blob_sig(p, f"/blob/{ACCOUNT}/box/k")


async def test_expiry_and_skew_are_configurable(make_storage: StorageFactory) -> None:
    storage = make_storage(sas_start_skew=timedelta(0), presigned_expiry=timedelta(minutes=5))
    p = params(await storage.url("k", expires_in=timedelta(seconds=30)))
    assert (p["st"], p["se"]) == ("2026-03-04T05:06:07Z", "2026-03-04T05:06:37Z")
    p = params(await storage.url("k"))
    assert p["se"] == "2026-03-04T05:11:07Z"


@pytest.mark.parametrize("expires_in", [timedelta(0), timedelta(seconds=-5), 3600])
async def test_bad_expiry_is_refused(storage: AzureStorage, expires_in: object) -> None:
    with pytest.raises(StorageConfigurationError, match="expires_in"):
        await storage.url("k", expires_in=expires_in)  # type: ignore[arg-type]


@pytest.mark.parametrize(("method", "permissions"), [("POST", None), ("GET", "rz"), ("GET", "")])
async def test_bad_methods_and_permissions_are_refused(
    storage: AzureStorage, method: str, permissions: str | None
) -> None:
    with pytest.raises(StorageConfigurationError):
        await storage.url("k", method=method, permissions=permissions)


async def test_prefixed_storage_signs_the_full_blob_name(make_storage: StorageFactory) -> None:
    url = await make_storage(prefix="up").url("k")
    p = params(url)
    assert urlsplit(url).path == "/box/up/k"
    assert p["sig"] == expected_blob_sig(p, f"/blob/{ACCOUNT}/box/up/k")


async def test_emulator_urls_keep_http_and_the_account_path() -> None:
    from litestar_storages.backends.azure import AzureConfig

    storage = AzureStorage(
        AzureConfig(container="box", connection_string="UseDevelopmentStorage=true")
    )
    url = await storage.url("k")
    assert url.startswith("http://127.0.0.1:10000/devstoreaccount1/box/k?")
    assert "spr" not in params(url)


async def test_container_sas_url(storage: AzureStorage) -> None:
    url = await storage.container_url()
    assert url.startswith(f"{ENDPOINT}/box?")
    p = params(url)
    assert (p["sr"], p["sp"]) == ("c", "rl")
    assert p["sig"] == expected_blob_sig(p, f"/blob/{ACCOUNT}/box")


async def test_account_sas_token(storage: AzureStorage) -> None:
    p = dict(parse_qsl(await storage.account_sas(permissions="rwl")))
    assert (p["ss"], p["srt"], p["sp"]) == ("b", "sco", "rwl")
    fields = [ACCOUNT, p["sp"], p["ss"], p["srt"], p["st"], p["se"], "", p["spr"], p["sv"], ""]
    digest = hmac.new(base64.b64decode(KEY), ("\n".join(fields) + "\n").encode(), hashlib.sha256)
    assert p["sig"] == base64.b64encode(digest.digest()).decode()


async def test_sas_only_storage_hands_on_its_token(make_storage: StorageFactory) -> None:
    storage = make_storage(
        connection_string=None, account_url=ENDPOINT, sas_token="sv=1&sp=r&sig=a%2Bb"
    )
    assert await storage.url("k") == f"{ENDPOINT}/box/k?sv=1&sp=r&sig=a%2Bb"


@pytest.mark.parametrize(
    "options", [{"method": "PUT"}, {"permissions": "r"}, {"content_type": "text/plain"}]
)
async def test_sas_only_storage_cannot_mint_other_tokens(
    make_storage: StorageFactory, options: dict[str, Any]
) -> None:
    storage = make_storage(connection_string=None, account_url=ENDPOINT, sas_token="sv=1&sig=s")
    with pytest.raises(StorageConfigurationError, match="account key"):
        await storage.url("k", **options)


async def test_sas_only_storage_cannot_make_container_or_account_sas(
    make_storage: StorageFactory,
) -> None:
    storage = make_storage(connection_string=None, account_url=ENDPOINT, sas_token="sv=1&sig=s")
    with pytest.raises(StorageConfigurationError, match="account key"):
        await storage.container_url()
    with pytest.raises(StorageConfigurationError, match="account key"):
        await storage.account_sas()


async def test_url_sends_no_request(storage: AzureStorage) -> None:
    # The router fixture refuses any unmocked request, and none is mocked here.
    assert (await storage.url("k")).startswith("https://")


def test_import_build_and_presign_do_not_import_httpx() -> None:
    code = f"""
import sys, anyio
from litestar_storages.backends.azure import AzureConfig, AzureStorage
storage = AzureStorage(AzureConfig(container="box", connection_string={CONNECTION!r}))
url = anyio.run(storage.url, "k")
assert "sig=" in url
heavy = ("httpx", "httpcore", "h11", "trio", "litestar", "cryptography")
print(sorted(m for m in heavy if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


CONNECTION = f"AccountName={ACCOUNT};AccountKey={KEY}"


# --------------------------------------------------------------------------- fast paths
# The fast signer itself is checked against the general builders in
# tests/signing/test_signing_blob_sas_signer.py; here, the backend's errors around it.
@pytest.mark.parametrize("version", ["2025-11-05", "2019-12-12"])
def test_fast_signer_refusals_are_configuration_errors_carrying_the_key(version: str) -> None:
    from datetime import datetime, timezone

    from litestar_storages.backends.azure._sas import BlobSasSigner
    from litestar_storages.signing.azure import AzureSharedKey

    signer = BlobSasSigner(
        AzureSharedKey(ACCOUNT, KEY), container="box", version=version, protocol=None
    )
    with pytest.raises(StorageConfigurationError, match="expires_in must be positive") as info:
        signer.query(
            "k",
            permissions="r",
            now=datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc),
            expires_in=timedelta(0),
            skew=timedelta(0),
            key="k",
        )
    assert (info.value.key, info.value.backend) == ("k", "azure")
