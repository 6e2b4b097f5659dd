"""GCSConfig validation and the endpoint rules (api_root, STORAGE_EMULATOR_HOST, Google)."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from litestar_storages.backends.gcs import GCSConfig, GCSStorage
from litestar_storages.backends.gcs.config import resolve_endpoint
from litestar_storages.exceptions import StorageConfigurationError


def test_bucket_is_required() -> None:
    with pytest.raises(StorageConfigurationError):
        GCSConfig(bucket="")


def test_bucket_must_not_be_a_path() -> None:
    with pytest.raises(StorageConfigurationError):
        GCSConfig(bucket="bucket/dir")


@pytest.mark.parametrize("size", [0, 100, 256 * 1024 + 1, 3 * 100_000])
def test_upload_chunk_size_must_be_a_multiple_of_256_kib(size: int) -> None:
    with pytest.raises(StorageConfigurationError):
        GCSConfig(bucket="b", upload_chunk_size=size)


def test_upload_chunk_size_accepts_multiples_of_256_kib() -> None:
    assert GCSConfig(bucket="b", upload_chunk_size=512 * 1024).upload_chunk_size == 512 * 1024


def test_hmac_key_needs_both_halves() -> None:
    with pytest.raises(StorageConfigurationError):
        GCSConfig(bucket="b", hmac_access_id="GOOG1X")


def test_unknown_multipart_strategy_is_refused() -> None:
    with pytest.raises(StorageConfigurationError):
        GCSConfig(bucket="b", multipart_strategy="magic")  # type: ignore[arg-type]


def test_presigned_expiry_must_be_positive() -> None:
    with pytest.raises(StorageConfigurationError):
        GCSConfig(bucket="b", presigned_expiry=timedelta(0))


@pytest.mark.parametrize(
    ("prefix", "expected"), [("", ""), ("/", ""), ("up", "up/"), ("up/", "up/"), ("/a/b/", "a/b/")]
)
def test_key_prefix_ends_in_exactly_one_slash(prefix: str, expected: str) -> None:
    assert GCSConfig(bucket="b", prefix=prefix).key_prefix == expected


def test_repr_hides_token_secret_and_key() -> None:
    config = GCSConfig(
        bucket="b",
        token="ya29.secret-token",
        hmac_access_id="GOOG1ID",
        hmac_secret="hmac-secret",
        service_account_info={"private_key": "-----BEGIN PRIVATE KEY-----"},
    )
    text = repr(config)
    assert "secret-token" not in text
    assert "hmac-secret" not in text
    assert "PRIVATE KEY" not in text
    assert "GOOG1ID" in text


def test_config_with_service_account_info_is_hashable() -> None:
    assert hash(GCSConfig(bucket="b", service_account_info={"a": "b"}))


# ----------------------------------------------------------------------------- endpoints
def test_default_endpoint_is_google() -> None:
    endpoint = resolve_endpoint(GCSConfig(bucket="b"), {})
    assert endpoint.origin == "https://storage.googleapis.com"
    assert endpoint.google
    assert not endpoint.emulator


def test_storage_emulator_host_is_used_when_api_root_is_unset() -> None:
    env = {"STORAGE_EMULATOR_HOST": "http://127.0.0.1:4443"}
    endpoint = resolve_endpoint(GCSConfig(bucket="b"), env)
    assert endpoint.origin == "http://127.0.0.1:4443"
    assert endpoint.emulator
    assert not endpoint.google


def test_storage_emulator_host_without_scheme_means_http() -> None:
    endpoint = resolve_endpoint(GCSConfig(bucket="b"), {"STORAGE_EMULATOR_HOST": "localhost:9023"})
    assert endpoint.origin == "http://localhost:9023"


def test_api_root_wins_over_the_emulator_variable() -> None:
    config = GCSConfig(bucket="b", api_root="http://127.0.0.1:1/storage/v1/")
    endpoint = resolve_endpoint(config, {"STORAGE_EMULATOR_HOST": "http://127.0.0.1:2"})
    assert endpoint.origin == "http://127.0.0.1:1"
    assert not endpoint.emulator


def test_api_root_must_be_an_origin() -> None:
    with pytest.raises(StorageConfigurationError):
        resolve_endpoint(GCSConfig(bucket="b", api_root="http://h/some/path"), {})


def test_api_root_must_be_http() -> None:
    with pytest.raises(StorageConfigurationError):
        resolve_endpoint(GCSConfig(bucket="b", api_root="ftp://h"), {})


def test_private_google_endpoints_count_as_google() -> None:
    config = GCSConfig(bucket="b", api_root="https://storage-x.p.googleapis.com")
    assert resolve_endpoint(config, {}).google


# ----------------------------------------------------------------------------- strategy, imports
def test_auto_strategy_is_xml_on_google() -> None:
    assert GCSStorage(GCSConfig(bucket="b", anonymous=True)).multipart_strategy == "xml"


def test_auto_strategy_is_compose_on_an_emulator() -> None:
    storage = GCSStorage(GCSConfig(bucket="b", api_root="http://127.0.0.1:1", anonymous=True))
    assert storage.multipart_strategy == "compose"


def test_explicit_strategy_is_kept() -> None:
    config = GCSConfig(bucket="b", multipart_strategy="compose", anonymous=True)
    assert GCSStorage(config).multipart_strategy == "compose"


def test_storage_refuses_another_config_type() -> None:
    with pytest.raises(StorageConfigurationError):
        GCSStorage({"bucket": "b"})  # type: ignore[arg-type]


def test_project_defaults_to_google_cloud_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "proj-from-env")
    assert GCSStorage(GCSConfig(bucket="b", anonymous=True)).project == "proj-from-env"


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_building_a_storage_imports_no_httpx_cryptography_or_jwt() -> None:
    code = (
        "import sys\n"
        "from litestar_storages import GCSConfig, GCSStorage\n"
        "GCSStorage(GCSConfig(bucket='b', anonymous=True))\n"
        "print([m for m in ('httpx', 'cryptography', 'jwt') if m in sys.modules])\n"
    )
    assert _run(code) == "[]"


def test_hmac_signing_imports_no_httpx_or_cryptography() -> None:
    code = (
        "import sys, anyio\n"
        "from litestar_storages import GCSConfig, GCSStorage\n"
        "s = GCSStorage(GCSConfig(bucket='b', hmac_access_id='GOOG1A', hmac_secret='s'))\n"
        "url = anyio.run(s.url, 'k')\n"
        "loaded = [m for m in ('httpx', 'cryptography') if m in sys.modules]\n"
        "print(url.startswith('https://'), loaded)\n"
    )
    assert _run(code) == "True []"
