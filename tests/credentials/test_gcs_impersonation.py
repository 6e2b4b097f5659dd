"""GCS service-account impersonation (IAM Credentials generateAccessToken) and signing as the
impersonated account (signBlob), against the Google fake."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from litestar_storages.backends.gcs import GCSConfig, GCSStorage
from litestar_storages.exceptions import StorageConfigurationError, StoragePermissionError

from ._google import CLOUD_PLATFORM, FakeGoogle, pem
from ._support import Clock, assert_hidden, exception_text, log_text
from .conftest import VM_ACCOUNT

pytestmark = pytest.mark.anyio

SOURCE = "deployer@proj.iam.gserviceaccount.com"
TARGET = "uploader@proj.iam.gserviceaccount.com"
MIDDLE = "relay@proj.iam.gserviceaccount.com"

Opener = Callable[..., GCSStorage]


@pytest.fixture
def source_key(google: FakeGoogle, rsa_keys: Iterator[rsa.RSAPrivateKey]) -> dict[str, str]:
    """A key file of SOURCE whose token endpoint is the fake; TARGET trusts SOURCE."""
    key = next(rsa_keys)
    google.keys[SOURCE] = key
    google.keys[TARGET] = next(rsa_keys)  # TARGET's Google-managed key (signBlob)
    google.token_creators[TARGET] = {SOURCE}
    return {
        "type": "service_account",
        "client_email": SOURCE,
        "private_key": pem(key),
        "private_key_id": "kid-1",
        "token_uri": f"{google.origin}/token",
    }


@pytest.fixture
async def open_storage(
    google: FakeGoogle, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Opener]:
    monkeypatch.setenv("GCE_METADATA_HOST", google.host)
    opened: list[GCSStorage] = []

    def open_(**fields: Any) -> GCSStorage:
        fields.setdefault("bucket", "bkt")
        fields.setdefault("api_root", google.origin)
        fields.setdefault("iam_endpoint", google.origin)
        storage = GCSStorage(GCSConfig(**fields))
        storage.clock = clock
        opened.append(storage)
        return storage

    yield open_
    for storage in opened:
        await storage.close()


async def test_requests_carry_the_impersonated_accounts_token(
    google: FakeGoogle, open_storage: Opener, source_key: dict[str, str]
) -> None:
    storage = open_storage(service_account_info=source_key, impersonate_service_account=TARGET)
    stored = await storage.info("a")
    assert stored.metadata == {"read-by": TARGET}
    source = storage.credential_source
    assert (source.kind, source.principal) == ("impersonated", TARGET)
    assert source.origin.startswith("config impersonate_service_account via service_account")
    jwt_grant, generate, read = google.requests
    assert jwt_grant.path == "/token"
    assert generate.path == f"/v1/projects/-/serviceAccounts/{TARGET}:generateAccessToken"
    assert generate.json() == {
        "scope": ["https://www.googleapis.com/auth/devstorage.read_write"],
        "lifetime": "3600s",
    }
    assert read.path == "/storage/v1/b/bkt/o/a"
    assert google.refusals == []


async def test_the_source_asks_for_the_cloud_platform_scope(
    google: FakeGoogle, open_storage: Opener, source_key: dict[str, str]
) -> None:
    storage = open_storage(service_account_info=source_key, impersonate_service_account=TARGET)
    await storage.info("a")
    assertion = google.requests[0].form()["assertion"]
    assert jwt.decode(assertion, options={"verify_signature": False})["scope"] == CLOUD_PLATFORM


async def test_the_environment_variable_names_the_account(
    google: FakeGoogle,
    open_storage: Opener,
    source_key: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOGLE_IMPERSONATE_SERVICE_ACCOUNT", TARGET)
    storage = open_storage(service_account_info=source_key)
    assert (await storage.info("a")).metadata == {"read-by": TARGET}
    assert storage.credential_source.origin.startswith("GOOGLE_IMPERSONATE_SERVICE_ACCOUNT via")


async def test_delegates_are_sent_in_the_apis_form(
    google: FakeGoogle, open_storage: Opener, source_key: dict[str, str]
) -> None:
    google.token_creators = {MIDDLE: {SOURCE}, TARGET: {MIDDLE}}
    storage = open_storage(
        service_account_info=source_key,
        impersonate_service_account=TARGET,
        impersonation_delegates=(MIDDLE,),
    )
    assert (await storage.info("a")).metadata == {"read-by": TARGET}
    assert google.requests[1].json()["delegates"] == [f"projects/-/serviceAccounts/{MIDDLE}"]


async def test_the_metadata_server_can_be_the_source(
    google: FakeGoogle, open_storage: Opener
) -> None:
    google.token_creators[TARGET] = {VM_ACCOUNT}
    storage = open_storage(impersonate_service_account=TARGET)
    assert (await storage.info("a")).metadata == {"read-by": TARGET}
    assert storage.credential_source.origin.startswith(
        "config impersonate_service_account via metadata"
    )


async def test_a_refused_impersonation_is_a_permission_error_without_the_token(
    google: FakeGoogle, open_storage: Opener, source_key: dict[str, str]
) -> None:
    google.token_creators.clear()
    storage = open_storage(service_account_info=source_key, impersonate_service_account=TARGET)
    with pytest.raises(StoragePermissionError, match="generateAccessToken") as caught:
        await storage.info("a")
    assert caught.value.status == 403
    assert_hidden(list(google.tokens), exception_text(caught.value))


async def test_urls_are_signed_as_the_impersonated_account(
    google: FakeGoogle, open_storage: Opener, source_key: dict[str, str]
) -> None:
    storage = open_storage(service_account_info=source_key, impersonate_service_account=TARGET)
    url = await storage.url("a.txt")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Goog-Credential"][0].startswith(f"{TARGET}/")
    sign = google.requests[-1]
    assert sign.path == f"/v1/projects/-/serviceAccounts/{TARGET}:signBlob"
    # Signed with the source's token, as google-auth's impersonated credentials do.
    assert google.tokens[sign.headers["authorization"].split()[1]][0] == SOURCE
    assert storage.signing_source.kind == "impersonated"
    string_to_sign = json.loads(sign.body)["payload"]
    google.keys[TARGET].public_key().verify(
        bytes.fromhex(query["X-Goog-Signature"][0]),
        base64.b64decode(string_to_sign),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


async def test_an_impersonated_service_account_file_from_gcloud(
    google: FakeGoogle, open_storage: Opener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What `gcloud auth application-default login --impersonate-service-account` writes.
    google.refresh_tokens["1//user-refresh"] = ("cid.apps", "user-secret")
    google.token_creators[TARGET] = {"user@example.com"}
    document = {
        "type": "impersonated_service_account",
        "service_account_impersonation_url": (
            f"{google.origin}/v1/projects/-/serviceAccounts/{TARGET}:generateAccessToken"
        ),
        "source_credentials": {
            "type": "authorized_user",
            "client_id": "cid.apps",
            "client_secret": "user-secret",
            "refresh_token": "1//user-refresh",
            "token_uri": f"{google.origin}/token",
        },
        "delegates": [],
    }
    path = tmp_path / "adc.json"
    path.write_text(json.dumps(document))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    storage = open_storage()
    assert (await storage.info("a")).metadata == {"read-by": TARGET}
    assert google.requests[0].form()["grant_type"] == "refresh_token"


def test_an_impersonation_url_that_is_not_generate_access_token_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "adc.json"
    path.write_text(
        json.dumps(
            {
                "type": "impersonated_service_account",
                "service_account_impersonation_url": "https://example.com/elsewhere",
                "source_credentials": {"type": "authorized_user"},
            }
        )
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    with pytest.raises(StorageConfigurationError, match="generateAccessToken"):
        _ = GCSStorage(GCSConfig(bucket="b")).credential_source


async def test_plain_http_to_a_remote_iam_endpoint_is_refused(
    open_storage: Opener, source_key: dict[str, str]
) -> None:
    storage = open_storage(
        service_account_info=source_key,
        impersonate_service_account=TARGET,
        iam_endpoint="http://iam.example.com",
    )
    with pytest.raises(StorageConfigurationError, match="must be https"):
        await storage.info("a")


async def test_no_secret_of_the_flow_reaches_logs_or_errors(
    google: FakeGoogle,
    open_storage: Opener,
    source_key: dict[str, str],
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    storage = open_storage(service_account_info=source_key, impersonate_service_account=TARGET)
    await storage.info("a")
    await storage.url("a")
    google.token_creators.clear()
    clock.now += timedelta(minutes=61)  # every token expired: the source's grant still works
    with pytest.raises(StoragePermissionError) as caught:
        await storage.info("a")
    private_key_body = source_key["private_key"].splitlines()[1]
    texts = [
        log_text(caplog.records),
        exception_text(caught.value),
        repr(storage),
        repr(storage.config),
        str(storage.credential_source),
        repr(storage.signing_source),
    ]
    assert_hidden([*google.tokens, private_key_body], *texts)
