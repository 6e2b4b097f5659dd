"""AzureConfig, connection strings and where each setting comes from."""

from __future__ import annotations

from datetime import timedelta

import pytest

from litestar_storages.backends.azure.config import (
    DEVELOPMENT_ACCOUNT_KEY,
    DEVELOPMENT_BLOB_ENDPOINT,
    AzureConfig,
    parse_connection_string,
    resolve_settings,
    split_sas_token,
)
from litestar_storages.exceptions import StorageConfigurationError

from ._azure_helpers import KEY

AZURITE_KEY = DEVELOPMENT_ACCOUNT_KEY


# --------------------------------------------------------------------------- connection strings
@pytest.mark.parametrize(
    ("text", "endpoint", "name", "has_key", "sas"),
    [
        (
            f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={KEY};"
            "EndpointSuffix=core.windows.net",
            "https://acct.blob.core.windows.net",
            "acct",
            True,
            None,
        ),
        (  # defaults: https and the public cloud's suffix
            f"AccountName=acct;AccountKey={KEY}",
            "https://acct.blob.core.windows.net",
            "acct",
            True,
            None,
        ),
        (  # a sovereign cloud and plain http
            f"DefaultEndpointsProtocol=http;AccountName=acct;AccountKey={KEY};"
            "EndpointSuffix=core.chinacloudapi.cn",
            "http://acct.blob.core.chinacloudapi.cn",
            "acct",
            True,
            None,
        ),
        (  # BlobEndpoint wins over the derived endpoint (Azurite on its own port)
            f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
            "BlobEndpoint=http://127.0.0.1:19020/devstoreaccount1;",
            "http://127.0.0.1:19020/devstoreaccount1",
            "devstoreaccount1",
            True,
            None,
        ),
        (  # SAS connection string: no account name, no key
            "BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=2025-11-05&sig=abc",
            "https://acct.blob.core.windows.net/",
            None,
            False,
            "sv=2025-11-05&sig=abc",
        ),
        (  # the development shortcut
            "UseDevelopmentStorage=true",
            DEVELOPMENT_BLOB_ENDPOINT,
            "devstoreaccount1",
            True,
            None,
        ),
        (  # names are case-insensitive, whitespace and empty parts are ignored
            f" accountname = acct ; ACCOUNTKEY={KEY} ;; ",
            "https://acct.blob.core.windows.net",
            "acct",
            True,
            None,
        ),
        (  # other services' endpoints are ignored
            f"AccountName=acct;AccountKey={KEY};QueueEndpoint=https://q;TableSecondaryEndpoint=x",
            "https://acct.blob.core.windows.net",
            "acct",
            True,
            None,
        ),
    ],
    ids=[
        "full",
        "defaults",
        "sovereign-http",
        "blob-endpoint",
        "sas",
        "development",
        "case-and-spaces",
        "other-services",
    ],
)
def test_connection_string_is_parsed(
    text: str, endpoint: str, name: str | None, has_key: bool, sas: str | None
) -> None:
    parsed = parse_connection_string(text)
    assert parsed.blob_endpoint == endpoint
    assert parsed.account_name == name
    assert (parsed.account_key is not None) is has_key
    assert parsed.sas_token == sas


def test_account_key_keeps_its_equals_signs() -> None:
    parsed = parse_connection_string(f"AccountName=a;AccountKey={AZURITE_KEY}")
    assert parsed.account_key == AZURITE_KEY


def test_development_storage_means_the_well_known_account_on_port_10000() -> None:
    parsed = parse_connection_string("UseDevelopmentStorage=true")
    assert parsed.development
    assert parsed.blob_endpoint == "http://127.0.0.1:10000/devstoreaccount1"
    assert parsed.account_key == AZURITE_KEY


def test_development_storage_proxy_keeps_the_blob_port() -> None:
    parsed = parse_connection_string(
        "UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://myproxy"
    )
    assert parsed.blob_endpoint == "http://myproxy:10000/devstoreaccount1"


def test_sas_connection_string_drops_the_leading_question_mark() -> None:
    parsed = parse_connection_string(
        "BlobEndpoint=https://h.blob.x/;SharedAccessSignature=?sv=1&sig=s"
    )
    assert parsed.sas_token == "sv=1&sig=s"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        (";;", "empty"),
        ("AccountName", "Name=value"),
        ("AcountKey=abc;AccountName=a", "unknown setting 'AcountKey'"),
        ("AccountName=a;AccountName=b", "given twice"),
        ("AccountKey=" + KEY, "needs AccountName"),
        ("AccountName=a;AccountKey=not*base64", "not valid base64"),
        ("UseDevelopmentStorage=false", "must be 'true'"),
        (f"UseDevelopmentStorage=true;AccountName=a;AccountKey={KEY}", "cannot be combined"),
        ("DevelopmentStorageProxyUri=http://p", "needs UseDevelopmentStorage"),
        ("DefaultEndpointsProtocol=ftp;AccountName=a", "http or https"),
        ("DefaultEndpointsProtocol=https", "names no account"),
    ],
)
def test_bad_connection_strings_are_refused(text: str, reason: str) -> None:
    with pytest.raises(StorageConfigurationError, match=reason):
        parse_connection_string(text)


def test_connection_string_errors_never_quote_the_key() -> None:
    with pytest.raises(StorageConfigurationError) as caught:
        parse_connection_string(f"AccountName=a;AccountKey={KEY};Bogus=1")
    assert KEY not in str(caught.value)


def test_connection_string_repr_hides_secrets() -> None:
    parsed = parse_connection_string(f"AccountName=a;AccountKey={KEY};SharedAccessSignature=sig=s")
    assert KEY not in repr(parsed)
    assert "sig=s" not in repr(parsed)


# --------------------------------------------------------------------------- SAS tokens
def test_sas_token_is_split_into_unencoded_pairs() -> None:
    pairs = split_sas_token("?sv=2025-11-05&se=2026-01-01T00%3A00%3A00Z&sig=a%2Bb%2F%3D")
    assert pairs == [("sv", "2025-11-05"), ("se", "2026-01-01T00:00:00Z"), ("sig", "a+b/=")]


def test_a_raw_plus_in_a_signature_stays_a_plus() -> None:
    assert split_sas_token("sv=1&sig=a+b")[-1] == ("sig", "a+b")


def test_sas_token_without_signature_is_refused() -> None:
    with pytest.raises(StorageConfigurationError, match="sig"):
        split_sas_token("sv=1&sp=r")


# --------------------------------------------------------------------------- AzureConfig
@pytest.mark.parametrize("name", ["ab", "A-bc", "-abc", "abc-", "a--b", "a_b", "x" * 64, ""])
def test_invalid_container_names_are_refused(name: str) -> None:
    with pytest.raises(StorageConfigurationError, match="container"):
        AzureConfig(container=name)


@pytest.mark.parametrize("name", ["abc", "a-b-c", "0box", "x" * 63, "$root", "$web"])
def test_valid_container_names_are_accepted(name: str) -> None:
    assert AzureConfig(container=name).container == name


@pytest.mark.parametrize(
    "changes",
    [
        {"presigned_expiry": timedelta(0)},
        {"sas_start_skew": timedelta(seconds=-1)},
        {"copy_timeout": timedelta(0)},
        {"list_page_size": 0},
        {"list_page_size": 5001},
        {"max_concurrency": 0},
        {"max_pool_connections": 0},
        {"api_version": "latest"},
    ],
)
def test_out_of_range_settings_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(StorageConfigurationError):
        AzureConfig(container="box", **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("prefix", "normalised"),
    [("", ""), ("uploads", "uploads/"), ("uploads/", "uploads/"), ("/a/b/", "a/b/")],
)
def test_prefix_is_normalised_to_one_trailing_slash(prefix: str, normalised: str) -> None:
    assert AzureConfig(container="box", prefix=prefix).key_prefix == normalised


def test_config_repr_hides_key_sas_and_connection_string() -> None:
    config = AzureConfig(
        container="box",
        account_url="https://acct.blob.core.windows.net/?sv=1&sig=secret-sas",
        account_key=KEY,
        connection_string=f"AccountName=a;AccountKey={KEY}",
        sas_token="sv=1&sig=another",
    )
    text = repr(config)
    assert KEY not in text
    assert "secret-sas" not in text
    assert "another" not in text


# --------------------------------------------------------------------------- resolution
def test_explicit_url_and_key() -> None:
    settings = resolve_settings(
        AzureConfig(
            container="box", account_url="https://acct.blob.core.windows.net/", account_key=KEY
        ),
        {},
    )
    assert settings.account_name == "acct"
    assert settings.account_url == "https://acct.blob.core.windows.net"
    assert not settings.path_style
    assert settings.account_key == KEY
    assert settings.sources["account_key"] == "config.account_key"


def test_path_style_url_names_the_account_in_its_path() -> None:
    settings = resolve_settings(
        AzureConfig(
            container="box", account_url="http://127.0.0.1:19020/devstoreaccount1/", account_key=KEY
        ),
        {},
    )
    assert settings.account_name == "devstoreaccount1"
    assert settings.account_url == "http://127.0.0.1:19020/devstoreaccount1"
    assert settings.path_style


def test_ip_endpoint_without_path_gets_the_account_appended() -> None:
    settings = resolve_settings(
        AzureConfig(
            container="box",
            account_url="http://127.0.0.1:10000",
            account_name="dev",
            account_key=KEY,
        ),
        {},
    )
    assert settings.account_url == "http://127.0.0.1:10000/dev"
    assert settings.path_style


def test_custom_domain_needs_an_account_name() -> None:
    config = AzureConfig(container="box", account_url="https://files.example.com", account_key=KEY)
    with pytest.raises(StorageConfigurationError, match="account name"):
        resolve_settings(config, {})
    settings = resolve_settings(config, {"AZURE_STORAGE_ACCOUNT_NAME": "acct"})
    assert settings.account_name == "acct"
    assert settings.sources["account_name"] == "AZURE_STORAGE_ACCOUNT_NAME"


def test_sas_on_the_account_url_becomes_the_sas_token() -> None:
    settings = resolve_settings(
        AzureConfig(container="box", account_url="https://acct.blob.core.windows.net?sv=1&sig=s"),
        {},
    )
    assert settings.account_url == "https://acct.blob.core.windows.net"
    assert settings.sas_token == "sv=1&sig=s"


def test_environment_fills_an_empty_config() -> None:
    settings = resolve_settings(
        AzureConfig(container="box"),
        {"AZURE_STORAGE_CONNECTION_STRING": f"AccountName=envacct;AccountKey={KEY}"},
    )
    assert settings.account_name == "envacct"
    assert settings.sources["connection_string"] == "AZURE_STORAGE_CONNECTION_STRING"


def test_environment_url_and_key() -> None:
    settings = resolve_settings(
        AzureConfig(container="box"),
        {
            "AZURE_STORAGE_ACCOUNT_URL": "https://envacct.blob.core.windows.net",
            "AZURE_STORAGE_KEY": KEY,
            "AZURE_STORAGE_SAS_TOKEN": "sv=1&sig=s",
        },
    )
    assert settings.account_name == "envacct"
    assert settings.sources == {
        "account_url": "AZURE_STORAGE_ACCOUNT_URL",
        "account_name": "AZURE_STORAGE_ACCOUNT_URL",
        "account_key": "AZURE_STORAGE_KEY",
        "sas_token": "AZURE_STORAGE_SAS_TOKEN",
    }


def test_explicit_config_is_never_mixed_with_a_connection_string_from_the_environment() -> None:
    settings = resolve_settings(
        AzureConfig(
            container="box", account_url="https://mine.blob.core.windows.net", account_key=KEY
        ),
        {"AZURE_STORAGE_CONNECTION_STRING": f"AccountName=other;AccountKey={KEY}"},
    )
    assert settings.account_name == "mine"
    assert settings.connection_string is None


def test_explicit_url_wins_over_the_connection_string_endpoint() -> None:
    settings = resolve_settings(
        AzureConfig(
            container="box",
            account_url="http://127.0.0.1:1234/acct",
            connection_string=f"AccountName=acct;AccountKey={KEY}",
        ),
        {},
    )
    assert settings.account_url == "http://127.0.0.1:1234/acct"


def test_no_endpoint_anywhere_is_a_configuration_error() -> None:
    with pytest.raises(StorageConfigurationError, match="AZURE_STORAGE_CONNECTION_STRING"):
        resolve_settings(AzureConfig(container="box"), {})


@pytest.mark.parametrize("url", ["ftp://acct.blob.core.windows.net", "acct.blob.core.windows.net"])
def test_account_url_must_be_http(url: str) -> None:
    with pytest.raises(StorageConfigurationError, match="http"):
        resolve_settings(AzureConfig(container="box", account_url=url, account_key=KEY), {})


def test_bad_account_key_is_refused_without_quoting_it() -> None:
    with pytest.raises(StorageConfigurationError, match="base64") as caught:
        resolve_settings(
            AzureConfig(
                container="box",
                account_url="https://a.blob.core.windows.net",
                account_key="n0t*b64",
            ),
            {},
        )
    assert "n0t*b64" not in str(caught.value)


def test_settings_repr_names_sources_not_secrets() -> None:
    settings = resolve_settings(
        AzureConfig(container="box", connection_string=f"AccountName=a;AccountKey={KEY}"), {}
    )
    assert KEY not in repr(settings)
    assert "config.connection_string" in repr(settings)
