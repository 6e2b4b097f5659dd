"""Azure with Microsoft Entra ID tokens: service principal, workload identity, managed identity
(IMDS and App Service), bearer requests, and user delegation SAS URLs, against the fake."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import anyio
import jwt
import pytest

from litestar_storages.backends.azure import AzureConfig, AzureStorage
from litestar_storages.exceptions import (
    StorageConfigurationError,
    StoragePermissionError,
    StorageServerError,
    StorageTimeoutError,
)
from litestar_storages.signing.azure import user_delegation_sas_string_to_sign

from ._azure import EXCHANGE_AUDIENCE, ISSUER, SCOPE, SUBJECT, TENANT, FakeAzure
from ._support import Clock, assert_hidden, exception_text, log_text

pytestmark = pytest.mark.anyio

APP = "0f6d3bd4-app"
SECRET = "sp-secret-~value.1"
Opener = Callable[..., AzureStorage]
TOKEN_PATH = f"/{TENANT}/oauth2/v2.0/token"
IMDS_PATH = "/metadata/identity/oauth2/token"


@pytest.fixture
async def open_storage(azure: FakeAzure, clock: Clock) -> AsyncIterator[Opener]:
    """Storages on the fake's Blob service (path-style account ``acct``)."""
    opened: list[AzureStorage] = []

    def open_(**fields: Any) -> AzureStorage:
        fields.setdefault("container", "box")
        fields.setdefault("account_url", f"{azure.origin}/acct")
        fields.setdefault("identity_timeout", 0.5)
        storage = AzureStorage(AzureConfig(**fields), clock=clock)
        opened.append(storage)
        return storage

    yield open_
    for storage in opened:
        await storage.close()


@pytest.fixture
def service_principal(azure: FakeAzure, monkeypatch: pytest.MonkeyPatch) -> None:
    azure.apps[APP] = SECRET
    monkeypatch.setenv("AZURE_TENANT_ID", TENANT)
    monkeypatch.setenv("AZURE_CLIENT_ID", APP)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", azure.origin)


@pytest.fixture
def imds(azure: FakeAzure, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", azure.origin)


def federated_token(azure: FakeAzure, clock: Clock, *, subject: str = SUBJECT) -> str:
    """A projected Kubernetes service-account token, as the kubelet writes it."""
    now = int(clock().timestamp())
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "aud": EXCHANGE_AUDIENCE,
        "iat": now,
        "exp": now + 3600,
    }
    return jwt.encode(claims, azure.issuer_key, algorithm="RS256", headers={"kid": "k8s-1"})


def token_requests(azure: FakeAzure) -> list[Any]:
    return [r for r in azure.requests if r.path in (TOKEN_PATH, IMDS_PATH, "/msi/token")]


# ----------------------------------------------------------------------------- flows
@pytest.mark.usefixtures("service_principal")
async def test_service_principal_client_credentials(azure: FakeAzure, open_storage: Opener) -> None:
    storage = open_storage()
    assert (await storage.info("a.txt")).metadata == {"readby": APP}
    (grant,) = token_requests(azure)
    assert grant.method == "POST"
    assert grant.form() == {
        "grant_type": "client_credentials",
        "client_id": APP,
        "client_secret": SECRET,
        "scope": SCOPE,
    }
    blob = azure.requests[-1]
    assert blob.headers["authorization"].startswith("Bearer ")
    assert blob.headers["x-ms-version"] >= "2017-11-09"
    assert "x-ms-date" in blob.headers
    assert azure.refusals == []


async def test_workload_identity_sends_the_federated_token_and_rereads_it(
    azure: FakeAzure,
    open_storage: Opener,
    clock: Clock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    azure.federated.add(APP)
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(federated_token(azure, clock))
    for name, value in {
        "AZURE_TENANT_ID": TENANT,
        "AZURE_CLIENT_ID": APP,
        "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
        "AZURE_AUTHORITY_HOST": azure.origin,
    }.items():
        monkeypatch.setenv(name, value)
    storage = open_storage()
    assert storage.credential_source == "bearer from workload identity (AZURE_FEDERATED_TOKEN_FILE)"
    assert (await storage.info("a")).metadata == {"readby": APP}
    first = token_requests(azure)[0].form()
    assert (
        first["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    )
    assert first["client_assertion"] == token_file.read_text()
    assert "client_secret" not in first
    # The kubelet rotates the file; the next token request sends the new one.
    clock.now += timedelta(minutes=55)
    token_file.write_text(federated_token(azure, clock))
    await storage.info("a")
    second = token_requests(azure)[1].form()
    assert second["client_assertion"] == token_file.read_text() != first["client_assertion"]
    assert azure.refusals == []


async def test_an_assertion_for_another_subject_is_refused(
    azure: FakeAzure,
    open_storage: Opener,
    clock: Clock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    azure.federated.add(APP)
    token_file = tmp_path / "token"
    token_file.write_text(federated_token(azure, clock, subject="system:serviceaccount:x:y"))
    monkeypatch.setenv("AZURE_TENANT_ID", TENANT)
    monkeypatch.setenv("AZURE_CLIENT_ID", APP)
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", azure.origin)
    with pytest.raises(StoragePermissionError, match="AADSTS70021") as caught:
        await open_storage().info("a")
    assert caught.value.code == "invalid_client"
    assert_hidden([token_file.read_text()], exception_text(caught.value))


@pytest.mark.usefixtures("imds")
async def test_imds_with_the_metadata_header_and_the_storage_resource(
    azure: FakeAzure, open_storage: Opener
) -> None:
    storage = open_storage()
    assert (await storage.info("a")).metadata == {"readby": "managed:system"}
    (request,) = token_requests(azure)
    assert request.method == "GET"
    assert request.headers["metadata"] == "true"
    assert request.query == {"api-version": "2018-02-01", "resource": "https://storage.azure.com"}


@pytest.mark.usefixtures("imds")
async def test_a_user_assigned_identity_is_named_by_its_client_id(
    azure: FakeAzure, open_storage: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    azure.identities.add("user-assigned-1")
    monkeypatch.setenv("AZURE_CLIENT_ID", "user-assigned-1")
    assert (await open_storage().info("a")).metadata == {"readby": "managed:user-assigned-1"}
    assert token_requests(azure)[0].query["client_id"] == "user-assigned-1"


@pytest.mark.usefixtures("imds")
async def test_an_unknown_identity_is_a_permission_error(
    azure: FakeAzure, open_storage: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_CLIENT_ID", "not-assigned")
    with pytest.raises(StoragePermissionError, match="Identity not found"):
        await open_storage().info("a")


async def test_app_service_identity_endpoint_and_header(
    azure: FakeAzure, open_storage: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{azure.origin}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", azure.identity_header)
    storage = open_storage()
    assert (await storage.info("a")).metadata == {"readby": "managed:system"}
    (request,) = token_requests(azure)
    assert request.headers["x-identity-header"] == azure.identity_header
    assert request.query["api-version"] == "2019-08-01"
    assert "metadata" not in request.headers


@pytest.mark.usefixtures("service_principal")
async def test_a_revoked_token_is_replaced_once_after_a_401(
    azure: FakeAzure, open_storage: Opener
) -> None:
    storage = open_storage()
    await storage.info("a")
    azure.tokens.clear()  # revoked: the service answers 401 InvalidAuthenticationInfo
    assert (await storage.info("a")).metadata == {"readby": APP}
    assert len(token_requests(azure)) == 2


# ----------------------------------------------------------------------------- the cache
@pytest.mark.usefixtures("imds")
async def test_concurrent_first_requests_fetch_one_token(
    azure: FakeAzure, open_storage: Opener
) -> None:
    storage = open_storage()
    async with anyio.create_task_group() as tg:
        for n in range(20):
            tg.start_soon(storage.info, f"k{n}")
    assert len(token_requests(azure)) == 1


@pytest.mark.usefixtures("imds")
async def test_advisory_window_tolerates_a_failed_refresh_and_the_mandatory_one_does_not(
    azure: FakeAzure, open_storage: Opener, clock: Clock
) -> None:
    storage = open_storage()
    await storage.info("a")
    clock.now += timedelta(minutes=56)  # 4 minutes left: advisory window (5 minutes)
    azure.managed_mode = "fail"
    await storage.info("a")  # the old token still serves
    assert len(token_requests(azure)) > 1  # a refresh was tried
    clock.now += timedelta(minutes=2, seconds=30)  # 90 seconds left: mandatory window
    with pytest.raises(StorageServerError):
        await storage.info("a")
    azure.managed_mode = "ok"
    await storage.info("a")  # recovers with a new token


@pytest.mark.usefixtures("imds")
async def test_a_hanging_imds_is_bounded_by_identity_timeout(
    azure: FakeAzure, open_storage: Opener
) -> None:
    azure.managed_mode = "hang"
    storage = open_storage(identity_timeout=0.2)
    started = time.monotonic()
    with pytest.raises(StorageConfigurationError, match="did not answer within") as caught:
        await storage.info("a")
    assert time.monotonic() - started < 3
    assert isinstance(caught.value.__cause__, StorageTimeoutError)


async def test_no_imds_means_no_credential(open_storage: Opener) -> None:
    # tests/conftest.py points AZURE_POD_IDENTITY_AUTHORITY_HOST at a closed local port.
    with pytest.raises(StorageConfigurationError, match="no Azure credential"):
        await open_storage().info("a")


@pytest.mark.usefixtures("service_principal")
async def test_a_wrong_secret_is_a_permission_error_naming_the_aadsts_code(
    azure: FakeAzure, open_storage: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    azure.apps[APP] = "the-real-secret"
    with pytest.raises(StoragePermissionError, match="AADSTS7000215") as caught:
        await open_storage().info("a")
    assert caught.value.status == 401
    assert_hidden([SECRET], exception_text(caught.value), log_text(caplog.records))


async def test_plain_http_to_a_remote_authority_is_refused(
    open_storage: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = open_storage(
        tenant_id=TENANT,
        client_id=APP,
        client_secret=SECRET,
        authority_host="http://login.example.com",
    )
    with pytest.raises(StorageConfigurationError, match="must be https"):
        await storage.info("a")


# ----------------------------------------------------------------------------- SAS URLs
def verify_user_delegation_sas(url: str, azure: FakeAzure, *, resource: str) -> dict[str, str]:
    """Check the SAS against the delegation key the fake issued; return its fields."""
    params = dict(parse_qsl(urlsplit(url).query))
    (key,) = [k for k in azure.delegation_keys if k["SignedStart"] == params["skt"]][-1:]
    assert (params["skoid"], params["sktid"], params["ske"], params["skv"]) == (
        key["SignedOid"],
        key["SignedTid"],
        key["SignedExpiry"],
        key["SignedVersion"],
    )
    to_sign = user_delegation_sas_string_to_sign(
        {k: v for k, v in params.items() if k != "sig"}, canonicalized_resource=resource
    )
    mac = hmac.new(base64.b64decode(key["Value"]), to_sign.encode(), hashlib.sha256)
    assert params["sig"] == base64.b64encode(mac.digest()).decode()
    return params


@pytest.mark.usefixtures("service_principal")
async def test_url_is_a_user_delegation_sas(
    azure: FakeAzure, open_storage: Opener, clock: Clock
) -> None:
    storage = open_storage()
    url = await storage.url("dir/a.txt", expires_in=timedelta(hours=2))
    assert url.startswith(f"{azure.origin}/acct/box/dir/a.txt?")
    params = verify_user_delegation_sas(url, azure, resource="/blob/acct/box/dir/a.txt")
    assert (params["sp"], params["sr"], params["sks"]) == ("r", "b", "b")
    assert "spr" not in params  # an http endpoint: no https-only restriction
    key_request = next(r for r in azure.requests if r.query.get("comp") == "userdelegationkey")
    assert key_request.method == "POST"
    assert key_request.headers["authorization"].startswith("Bearer ")
    assert b"<KeyInfo><Start>" in key_request.body


@pytest.mark.usefixtures("service_principal")
async def test_the_delegation_key_is_reused_until_near_its_expiry(
    azure: FakeAzure, open_storage: Opener, clock: Clock
) -> None:
    storage = open_storage()
    await storage.url("a")
    await storage.url("b", method="PUT")
    clock.now += timedelta(days=5)
    await storage.url("c")
    assert len(azure.delegation_keys) == 1
    clock.now += timedelta(days=1, hours=12)  # less than a day left: advisory refresh
    await storage.url("d")
    assert len(azure.delegation_keys) == 2


@pytest.mark.usefixtures("service_principal")
async def test_a_url_outliving_the_cached_key_gets_a_fresh_key(
    azure: FakeAzure, open_storage: Opener, clock: Clock
) -> None:
    storage = open_storage()
    await storage.url("a")
    clock.now += timedelta(days=3)
    url = await storage.url("b", expires_in=timedelta(days=5))
    assert len(azure.delegation_keys) == 2
    verify_user_delegation_sas(url, azure, resource="/blob/acct/box/b")


@pytest.mark.usefixtures("service_principal")
async def test_a_url_longer_than_any_key_is_refused(open_storage: Opener) -> None:
    with pytest.raises(StorageConfigurationError, match="cannot outlive its delegation key"):
        await open_storage().url("a", expires_in=timedelta(days=8))


@pytest.mark.usefixtures("service_principal")
async def test_container_url_is_a_user_delegation_sas_and_account_sas_needs_a_key(
    azure: FakeAzure, open_storage: Opener
) -> None:
    storage = open_storage()
    url = await storage.container_url()
    params = verify_user_delegation_sas(url, azure, resource="/blob/acct/box")
    assert (params["sr"], params["sp"]) == ("c", "rl")
    with pytest.raises(StorageConfigurationError, match="needs the account key"):
        await storage.account_sas()


# ----------------------------------------------------------------------------- secrets
async def test_no_secret_reaches_logs_reprs_or_errors(
    azure: FakeAzure,
    open_storage: Opener,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{azure.origin}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", azure.identity_header)
    storage = open_storage()
    await storage.info("a")
    await storage.url("a")
    clock.now += timedelta(minutes=59)
    azure.managed_mode = "fail"
    with pytest.raises(StorageServerError) as caught:
        await storage.info("a")
    texts = [
        log_text(caplog.records),
        exception_text(caught.value),
        repr(storage),
        repr(storage.config),
        repr(storage.settings),
        repr(storage.credential),
        storage.credential_source,
    ]
    key_values = [key["Value"] for key in azure.delegation_keys]
    assert_hidden([*azure.tokens, *key_values, azure.identity_header], *texts)
