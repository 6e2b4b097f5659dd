"""The Azure credential chain with Microsoft Entra ID (resolution only: no network)."""

from __future__ import annotations

from typing import Any

import pytest

from litestar_storages.backends.azure import AzureConfig, AzureStorage
from litestar_storages.backends.azure.config import resolve_settings
from litestar_storages.backends.azure.credentials import (
    DEFAULT_CHAIN,
    EntraCredential,
    from_account_key,
    from_connection_string,
    from_managed_identity,
    from_sas_token,
    from_service_principal,
    from_workload_identity,
    resolve_credential,
)
from litestar_storages.exceptions import StorageConfigurationError

URL = "https://acct.blob.core.windows.net"
KEY = "a2V5LWtleS1rZXkta2V5"
SP = {
    "AZURE_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47",
    "AZURE_CLIENT_ID": "app-id",
    "AZURE_CLIENT_SECRET": "sp-secret-value",
}


def chosen(env: dict[str, str], **fields: Any) -> tuple[str, str]:
    fields.setdefault("account_url", URL)
    source = resolve_credential(resolve_settings(AzureConfig(container="box", **fields), env))
    flow = source.credential.flow if isinstance(source.credential, EntraCredential) else ""
    return source.describe(), flow


def test_entra_id_comes_after_the_storage_sources_in_default_azure_credentials_order() -> None:
    assert (
        from_connection_string,
        from_account_key,
        from_sas_token,
        from_service_principal,  # EnvironmentCredential
        from_workload_identity,  # WorkloadIdentityCredential
        from_managed_identity,  # ManagedIdentityCredential
    ) == DEFAULT_CHAIN


def test_the_seeds_account_url_alone_resolves_to_managed_identity() -> None:
    # 004_f42d634ffb614e22.txt: AZURE_STORAGE_ACCOUNT_URL "Uses DefaultAzureCredential".
    assert chosen({}, account_url="https://myaccount.blob.core.windows.net") == (
        "bearer from managed identity (IMDS http://169.254.169.254)",
        "imds",
    )


def test_the_account_url_may_come_from_the_environment_too() -> None:
    env = {"AZURE_STORAGE_ACCOUNT_URL": "https://myaccount.blob.core.windows.net"}
    settings = resolve_settings(AzureConfig(container="my-container"), env)
    assert resolve_credential(settings).kind == "bearer"


def test_a_service_principal_from_the_environment() -> None:
    assert chosen(SP) == (
        "bearer from service principal (AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET)",
        "client_secret",
    )


def test_a_service_principal_from_the_config() -> None:
    description, flow = chosen({}, tenant_id="t1", client_id="c1", client_secret="s1")
    assert description == (
        "bearer from service principal (config.tenant_id/config.client_id/config.client_secret)"
    )
    assert flow == "client_secret"


def test_workload_identity_from_the_aks_webhooks_variables() -> None:
    env = {
        "AZURE_TENANT_ID": SP["AZURE_TENANT_ID"],
        "AZURE_CLIENT_ID": "app-id",
        "AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/azure/tokens/azure-identity-token",
        "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com/",
    }
    assert chosen(env) == (
        "bearer from workload identity (AZURE_FEDERATED_TOKEN_FILE)",
        "workload_identity",
    )


def test_a_secret_wins_over_a_federated_token_file() -> None:
    env = {**SP, "AZURE_FEDERATED_TOKEN_FILE": "/token"}
    assert chosen(env)[1] == "client_secret"


def test_an_account_key_wins_over_entra_id() -> None:
    assert chosen({**SP, "AZURE_STORAGE_KEY": KEY})[0].startswith("shared_key from account key")


def test_a_connection_string_wins_over_entra_id() -> None:
    env = {**SP, "AZURE_STORAGE_CONNECTION_STRING": f"AccountName=acct;AccountKey={KEY}"}
    settings = resolve_settings(AzureConfig(container="box"), env)
    assert resolve_credential(settings).kind == "shared_key"


def test_an_incomplete_service_principal_falls_through_to_managed_identity() -> None:
    env = {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "user-assigned"}
    assert chosen(env) == (
        "bearer from managed identity user-assigned AZURE_CLIENT_ID (IMDS http://169.254.169.254)",
        "imds",
    )


def test_app_service_identity_endpoint() -> None:
    env = {"IDENTITY_ENDPOINT": "http://localhost:42356/msi/token", "IDENTITY_HEADER": "h"}
    assert chosen(env) == ("bearer from managed identity (IDENTITY_ENDPOINT)", "app_service")


def test_an_identity_endpoint_without_its_header_is_not_app_service() -> None:
    assert chosen({"IDENTITY_ENDPOINT": "http://localhost:1/msi/token"})[1] == "imds"


def test_the_imds_address_can_be_moved_as_azure_identity_allows() -> None:
    env = {"AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://10.0.0.5:2579/"}
    assert chosen(env)[0] == "bearer from managed identity (IMDS http://10.0.0.5:2579)"


@pytest.mark.parametrize(
    "env",
    [
        {"IDENTITY_ENDPOINT": "http://localhost:40342/x", "IMDS_ENDPOINT": "http://localhost"},
        {
            "IDENTITY_ENDPOINT": "https://x",
            "IDENTITY_HEADER": "h",
            "IDENTITY_SERVER_THUMBPRINT": "t",
        },
        {"MSI_ENDPOINT": "http://localhost:50342/oauth2/token"},
    ],
    ids=["arc", "service-fabric", "cloud-shell"],
)
def test_unsupported_managed_identity_flavours_are_named(env: dict[str, str]) -> None:
    with pytest.raises(StorageConfigurationError, match="is not supported"):
        chosen(env)


def test_a_client_certificate_is_refused_rather_than_taken_for_a_managed_identity() -> None:
    env = {
        "AZURE_TENANT_ID": "t",
        "AZURE_CLIENT_ID": "app-id",
        "AZURE_CLIENT_CERTIFICATE_PATH": "/certs/app.pem",
    }
    with pytest.raises(StorageConfigurationError, match="client certificates"):
        chosen(env)


def test_a_tenant_id_that_could_change_the_token_url_is_refused() -> None:
    with pytest.raises(StorageConfigurationError, match="tenant id"):
        chosen({**SP, "AZURE_TENANT_ID": "../evil"})


def test_bearer_tokens_need_version_2017_11_09() -> None:
    with pytest.raises(StorageConfigurationError, match="2017-11-09"):
        AzureStorage(AzureConfig(container="box", account_url=URL, api_version="2017-04-17"))


def test_reprs_hide_the_secret_and_the_identity_header() -> None:
    env = {**SP, "IDENTITY_ENDPOINT": "http://localhost:1/msi", "IDENTITY_HEADER": "hdr-secret"}
    config = AzureConfig(container="box", account_url=URL, client_secret="cfg-secret")
    settings = resolve_settings(config, env)
    source = resolve_credential(settings)
    texts = [repr(config), repr(settings), repr(settings.identity), repr(source), source.describe()]
    for text in texts:
        assert "cfg-secret" not in text
        assert "sp-secret-value" not in text
        assert "hdr-secret" not in text
