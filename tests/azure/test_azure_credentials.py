"""The credential chain: which source wins, what it reports, and that secrets stay hidden."""

from __future__ import annotations

import pytest

from litestar_storages.backends.azure import AzureConfig, AzureStorage
from litestar_storages.backends.azure.config import resolve_settings
from litestar_storages.backends.azure.credentials import (
    DEFAULT_CHAIN,
    SasToken,
    from_account_key,
    from_connection_string,
    from_managed_identity,
    from_sas_token,
    from_service_principal,
    from_workload_identity,
    resolve_credential,
)
from litestar_storages.exceptions import StorageConfigurationError
from litestar_storages.signing.azure import AzureSharedKey

from ._azure_helpers import KEY

URL = "https://acct.blob.core.windows.net"
OTHER_KEY = "b3RoZXIta2V5"


def test_chain_order_is_connection_string_then_account_key_then_sas_then_entra_id() -> None:
    assert DEFAULT_CHAIN == (
        from_connection_string,
        from_account_key,
        from_sas_token,
        from_service_principal,
        from_workload_identity,
        from_managed_identity,
    )


def test_connection_string_key_comes_first() -> None:
    settings = resolve_settings(
        AzureConfig(
            container="box",
            connection_string=f"AccountName=acct;AccountKey={KEY}",
            account_key=OTHER_KEY,
            sas_token="sv=1&sig=s",
        ),
        {},
    )
    chosen = resolve_credential(settings)
    assert chosen.kind == "shared_key"
    assert isinstance(chosen.credential, AzureSharedKey)
    assert chosen.credential.account_key_b64 == KEY
    assert chosen.source == "connection string (config.connection_string)"


def test_connection_string_sas_is_used_when_it_has_no_key() -> None:
    settings = resolve_settings(
        AzureConfig(
            container="box",
            connection_string=f"BlobEndpoint={URL};SharedAccessSignature=sv=1&sig=s",
        ),
        {},
    )
    chosen = resolve_credential(settings)
    assert chosen.kind == "sas"
    assert isinstance(chosen.credential, SasToken)


def test_account_key_comes_before_sas_token() -> None:
    settings = resolve_settings(
        AzureConfig(container="box", account_url=URL, account_key=KEY, sas_token="sv=1&sig=s"), {}
    )
    assert (
        resolve_credential(settings).describe()
        == "shared_key from account key (config.account_key)"
    )


def test_sas_token_alone() -> None:
    settings = resolve_settings(
        AzureConfig(container="box", account_url=URL, sas_token="?sv=1&sp=r&sig=s"), {}
    )
    chosen = resolve_credential(settings)
    assert chosen.describe() == "sas from SAS token (config.sas_token)"
    assert isinstance(chosen.credential, SasToken)
    assert chosen.credential.permissions == "r"


def test_environment_key_is_named_as_the_source() -> None:
    settings = resolve_settings(
        AzureConfig(container="box", account_url=URL), {"AZURE_STORAGE_KEY": KEY}
    )
    assert resolve_credential(settings).source == "account key (AZURE_STORAGE_KEY)"


def test_no_credential_lists_what_was_tried() -> None:
    settings = resolve_settings(AzureConfig(container="box", account_url=URL), {})
    without_managed_identity = DEFAULT_CHAIN[:-1]  # the last resort always applies
    with pytest.raises(StorageConfigurationError, match="AZURE_STORAGE_KEY") as caught:
        resolve_credential(settings, without_managed_identity)
    assert "Entra ID" in str(caught.value)


def test_a_source_can_be_added_before_the_last_resort() -> None:
    settings = resolve_settings(AzureConfig(container="box", account_url=URL), {})
    token = SasToken.parse("sv=1&sig=from-elsewhere")

    def custom(_settings: object) -> object:
        from litestar_storages.backends.azure.credentials import CredentialSource

        return CredentialSource("sas", "custom", token)

    chain = (*DEFAULT_CHAIN[:-1], custom, DEFAULT_CHAIN[-1])
    chosen = resolve_credential(settings, chain)  # type: ignore[arg-type]
    assert chosen.source == "custom"


def test_sas_token_repr_hides_the_signature() -> None:
    token = SasToken.parse("sv=1&sp=r&sig=very-secret")
    assert "very-secret" not in repr(token)
    assert "sp" in repr(token)


def test_storage_repr_and_source_never_show_the_key() -> None:
    storage = AzureStorage(AzureConfig(container="box", account_url=URL, account_key=KEY))
    assert KEY not in repr(storage)
    assert storage.credential_source == "shared_key from account key (config.account_key)"
    assert KEY not in repr(storage.credential)


def test_building_a_storage_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", f"AccountName=envacct;AccountKey={KEY}")
    storage = AzureStorage(AzureConfig(container="box"))
    assert storage.settings.account_name == "envacct"
    assert (
        storage.credential_source
        == "shared_key from connection string (AZURE_STORAGE_CONNECTION_STRING)"
    )


def test_storage_with_only_an_account_url_uses_the_platforms_managed_identity() -> None:
    # 004_f42d634ffb614e22.txt: AZURE_STORAGE_ACCOUNT_URL alone "uses DefaultAzureCredential".
    storage = AzureStorage(AzureConfig(container="box", account_url=URL))
    assert storage.credential.kind == "bearer"
    assert storage.credential_source.startswith("bearer from managed identity (IMDS ")


def test_storage_needs_an_azure_config() -> None:
    with pytest.raises(StorageConfigurationError, match="AzureConfig"):
        AzureStorage(object())  # type: ignore[arg-type]
