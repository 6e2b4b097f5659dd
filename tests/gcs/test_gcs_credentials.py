"""The credential chains and the pure OAuth2 token steps."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from litestar_storages.backends.gcs import GCSConfig, GCSStorage
from litestar_storages.backends.gcs.config import resolve_endpoint
from litestar_storages.backends.gcs.credentials import (
    ChainContext,
    parse_token_response,
    resolve_request,
    resolve_signing,
    token_request,
)
from litestar_storages.exceptions import StorageConfigurationError, StoragePermissionError

from ._gcs_helpers import T0

USER = {
    "type": "authorized_user",
    "client_id": "cid.apps.googleusercontent.com",
    "client_secret": "client-secret",
    "refresh_token": "1//refresh-secret",
}


def ctx(config: GCSConfig, env: dict[str, str] | None = None) -> ChainContext:
    env = env or {}
    return ChainContext(config=config, env=env, endpoint=resolve_endpoint(config, env))


def write(path: Path, document: dict[str, str]) -> Path:
    path.write_text(json.dumps(document))
    return path


# ----------------------------------------------------------------------------- request chain
def test_anonymous_flag_wins(service_account: dict[str, str]) -> None:
    config = GCSConfig(bucket="b", anonymous=True, service_account_info=service_account)
    assert resolve_request(ctx(config)).source.kind == "anonymous"


def test_token_comes_before_key_files(service_account: dict[str, str]) -> None:
    config = GCSConfig(bucket="b", token="tok", service_account_info=service_account)
    found = resolve_request(ctx(config))
    assert found.source.kind == "access_token"
    assert found.token == "tok"


def test_emulator_host_means_anonymous_requests_even_with_a_key(
    service_account: dict[str, str],
) -> None:
    config = GCSConfig(bucket="b", service_account_info=service_account)
    found = resolve_request(ctx(config, {"STORAGE_EMULATOR_HOST": "http://127.0.0.1:1"}))
    assert found.source.kind == "anonymous"
    assert found.source.origin == "STORAGE_EMULATOR_HOST"


def test_service_account_info(service_account: dict[str, str]) -> None:
    found = resolve_request(ctx(GCSConfig(bucket="b", service_account_info=service_account)))
    assert found.source.kind == "service_account"
    assert found.source.principal == service_account["client_email"]
    assert found.project_id == "demo-project"
    assert found.needs_token


def test_service_file(key_file: Path) -> None:
    found = resolve_request(ctx(GCSConfig(bucket="b", service_file=key_file)))
    assert found.source.origin == f"config service_file ({key_file})"


def test_google_application_credentials(key_file: Path) -> None:
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(key_file)}
    found = resolve_request(ctx(GCSConfig(bucket="b"), env))
    assert found.source.kind == "service_account"
    assert found.source.origin.startswith("GOOGLE_APPLICATION_CREDENTIALS")


def test_config_key_comes_before_google_application_credentials(
    key_file: Path, tmp_path: Path
) -> None:
    other = write(tmp_path / "user.json", USER)
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(other)}
    found = resolve_request(ctx(GCSConfig(bucket="b", service_file=key_file), env))
    assert found.source.kind == "service_account"


def test_gcloud_application_default_authorized_user(tmp_path: Path) -> None:
    write_dir = tmp_path / ".config" / "gcloud"
    write_dir.mkdir(parents=True)
    write(write_dir / "application_default_credentials.json", USER)
    found = resolve_request(ctx(GCSConfig(bucket="b"), {"HOME": str(tmp_path)}))
    assert found.source.kind == "authorized_user"
    assert found.refresh["token_uri"] == "https://oauth2.googleapis.com/token"


def test_cloudsdk_config_moves_the_gcloud_file(
    tmp_path: Path, service_account: dict[str, str]
) -> None:
    write(tmp_path / "application_default_credentials.json", service_account)
    found = resolve_request(ctx(GCSConfig(bucket="b"), {"CLOUDSDK_CONFIG": str(tmp_path)}))
    assert found.source.kind == "service_account"


def test_google_application_credentials_comes_before_gcloud(tmp_path: Path, key_file: Path) -> None:
    gcloud = tmp_path / "gcloud"
    gcloud.mkdir()
    write(gcloud / "application_default_credentials.json", USER)
    env = {"CLOUDSDK_CONFIG": str(gcloud), "GOOGLE_APPLICATION_CREDENTIALS": str(key_file)}
    assert resolve_request(ctx(GCSConfig(bucket="b"), env)).source.kind == "service_account"


def test_nothing_found_names_every_source() -> None:
    env = {"HOME": "/nonexistent", "NO_GCE_CHECK": "true"}  # else: the metadata server
    with pytest.raises(StorageConfigurationError) as caught:
        resolve_request(ctx(GCSConfig(bucket="b"), env))
    message = str(caught.value)
    for source in ("token", "service_account_info", "GOOGLE_APPLICATION_CREDENTIALS", "gcloud"):
        assert source in message


def test_unreadable_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    config = GCSConfig(bucket="b", service_file=tmp_path / "absent.json")
    with pytest.raises(StorageConfigurationError):
        resolve_request(ctx(config))


def test_key_file_that_is_not_json_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text("not json")
    with pytest.raises(StorageConfigurationError):
        resolve_request(ctx(GCSConfig(bucket="b", service_file=path)))


def test_unsupported_credential_types_are_refused() -> None:
    info = {"type": "external_account", "audience": "x"}
    with pytest.raises(StorageConfigurationError, match="external_account"):
        resolve_request(ctx(GCSConfig(bucket="b", service_account_info=info)))


def test_authorized_user_without_refresh_token_is_refused() -> None:
    info = {k: v for k, v in USER.items() if k != "refresh_token"}
    with pytest.raises(StorageConfigurationError, match="refresh_token"):
        resolve_request(ctx(GCSConfig(bucket="b", service_account_info=info)))


def test_source_description_has_no_secret(service_account: dict[str, str]) -> None:
    found = resolve_request(ctx(GCSConfig(bucket="b", service_account_info=service_account)))
    text = f"{found} {found!r} {found.source} {found.source!r}"
    assert "PRIVATE KEY" not in text
    assert service_account["client_email"] in text


def test_storage_reports_its_credential_source() -> None:
    storage = GCSStorage(GCSConfig(bucket="b", token="secret-token"))
    assert str(storage.credential_source) == "access_token from config token"


# ----------------------------------------------------------------------------- signing chain
def test_hmac_key_signs_before_a_service_account(service_account: dict[str, str]) -> None:
    config = GCSConfig(
        bucket="b", hmac_access_id="GOOG1A", hmac_secret="s", service_account_info=service_account
    )
    assert resolve_signing(ctx(config)).source.kind == "hmac"


def test_signing_skips_sources_that_cannot_sign(tmp_path: Path, key_file: Path) -> None:
    gcloud = tmp_path / "gcloud"
    gcloud.mkdir()
    write(gcloud / "application_default_credentials.json", USER)
    env = {"CLOUDSDK_CONFIG": str(gcloud), "NO_GCE_CHECK": "true"}  # else: signBlob
    with pytest.raises(StorageConfigurationError, match="signed URLs need"):
        resolve_signing(ctx(GCSConfig(bucket="b", token="t"), env))
    env["GOOGLE_APPLICATION_CREDENTIALS"] = str(key_file)
    assert resolve_signing(ctx(GCSConfig(bucket="b"), env)).account is not None


def test_emulator_storage_still_signs_with_the_given_key(service_account: dict[str, str]) -> None:
    env = {"STORAGE_EMULATOR_HOST": "http://127.0.0.1:1"}
    found = resolve_signing(ctx(GCSConfig(bucket="b", service_account_info=service_account), env))
    assert found.source.kind == "service_account"


# ----------------------------------------------------------------------------- token exchange
def test_service_account_token_request_is_a_jwt_bearer_grant(
    service_account: dict[str, str],
) -> None:
    import jwt
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    found = resolve_request(ctx(GCSConfig(bucket="b", service_account_info=service_account)))
    request = token_request(found, T0)
    assert request.url == "https://oauth2.googleapis.com/token"
    form = parse_qs(request.body.decode())
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    public = load_pem_private_key(service_account["private_key"].encode(), None).public_key()
    claims = jwt.decode(
        form["assertion"][0],
        public,  # type: ignore[arg-type]
        algorithms=["RS256"],
        audience="https://oauth2.googleapis.com/token",
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iss"] == service_account["client_email"]
    assert claims["scope"] == "https://www.googleapis.com/auth/devstorage.read_write"
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.get_unverified_header(form["assertion"][0])["kid"] == "kid-1"


def test_authorized_user_token_request_is_a_refresh_token_grant() -> None:
    found = resolve_request(ctx(GCSConfig(bucket="b", service_account_info=USER)))
    request = token_request(found, T0)
    form = parse_qs(request.body.decode())
    assert form == {
        "grant_type": ["refresh_token"],
        "client_id": [USER["client_id"]],
        "client_secret": [USER["client_secret"]],
        "refresh_token": [USER["refresh_token"]],
    }
    assert "refresh-secret" not in repr(request)


def test_token_response_gives_token_and_expiry() -> None:
    body = b'{"access_token": "ya29.x", "expires_in": 3599, "token_type": "Bearer"}'
    token = parse_token_response(body, T0)
    assert token.value == "ya29.x"
    assert token.expires_at == T0 + timedelta(seconds=3599)


def test_token_response_without_token_is_a_permission_error() -> None:
    with pytest.raises(StoragePermissionError):
        parse_token_response(b'{"error": "invalid_grant"}', T0)
