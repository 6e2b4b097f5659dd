"""The GCS credential chains with the metadata server (resolution only: no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from litestar_storages.backends.gcs import GCSConfig
from litestar_storages.backends.gcs.config import resolve_endpoint
from litestar_storages.backends.gcs.credentials import (
    REQUEST_CHAIN,
    SIGNING_CHAIN,
    ChainContext,
    application_credentials,
    config_anonymous,
    config_service_account,
    config_token,
    configured_impersonation,
    emulator_anonymous,
    gcloud_application_default,
    metadata_server,
    resolve_request,
    resolve_signing,
)
from litestar_storages.exceptions import StorageConfigurationError


def ctx(config: GCSConfig, env: dict[str, str]) -> ChainContext:
    return ChainContext(config=config, env=env, endpoint=resolve_endpoint(config, env))


# ----------------------------------------------------------------------------- the chain
def test_request_chain_ends_with_application_default_credentials_in_googles_order() -> None:
    assert (
        config_anonymous,
        config_token,
        emulator_anonymous,
        configured_impersonation,
        config_service_account,
        application_credentials,  # 1. GOOGLE_APPLICATION_CREDENTIALS
        gcloud_application_default,  # 2. gcloud's application-default file
        metadata_server,  # 3. the metadata server
    ) == REQUEST_CHAIN


def test_without_key_files_the_metadata_server_at_its_link_local_address_is_chosen() -> None:
    found = resolve_request(ctx(GCSConfig(bucket="b"), {"HOME": "/nonexistent"}))
    assert found.source.kind == "metadata"
    assert found.metadata_origin == "http://169.254.169.254"
    assert str(found.source) == "metadata from metadata server (http://169.254.169.254)"


def test_gce_metadata_host_moves_the_metadata_server() -> None:
    found = resolve_request(ctx(GCSConfig(bucket="b"), {"GCE_METADATA_HOST": "10.0.0.1:8080"}))
    assert found.metadata_origin == "http://10.0.0.1:8080"
    assert found.source.origin == "metadata server (http://10.0.0.1:8080, GCE_METADATA_HOST)"


def test_gce_metadata_ip_is_used_when_no_host_is_given() -> None:
    found = resolve_request(ctx(GCSConfig(bucket="b"), {"GCE_METADATA_IP": "10.0.0.2"}))
    assert found.metadata_origin == "http://10.0.0.2"


def test_no_gce_check_leaves_the_metadata_server_out() -> None:
    with pytest.raises(StorageConfigurationError, match="no GCS credentials found"):
        resolve_request(ctx(GCSConfig(bucket="b"), {"NO_GCE_CHECK": "True"}))


def test_a_key_file_comes_before_the_metadata_server(tmp_path: Path) -> None:
    user = tmp_path / "user.json"
    user.write_text(
        '{"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r"}'
    )
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(user)}
    assert resolve_request(ctx(GCSConfig(bucket="b"), env)).source.kind == "authorized_user"


def test_signing_falls_back_to_the_metadata_servers_account_but_not_for_an_emulator() -> None:
    assert SIGNING_CHAIN[-1].__name__ == "metadata_signer"
    found = resolve_signing(ctx(GCSConfig(bucket="b", token="t"), {}))
    assert found.source.kind == "metadata"
    assert found.keyless
    emulator = {"STORAGE_EMULATOR_HOST": "http://127.0.0.1:1"}
    with pytest.raises(StorageConfigurationError, match="signed URLs need"):
        resolve_signing(ctx(GCSConfig(bucket="b"), emulator))
