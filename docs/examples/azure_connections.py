"""The ways to point AzureStorage at an account, and which credential each one picks.

Nothing here sends a request: resolving settings and credentials is local.

    python azure_connections.py
"""

from __future__ import annotations

from litestar_storages import AzureConfig, AzureStorage

# The emulator's well-known, published key (not a secret).
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

configs = {
    "development shortcut": AzureConfig(
        container="my-container", connection_string="UseDevelopmentStorage=true"
    ),
    "connection string": AzureConfig(
        container="my-container",
        connection_string=(
            "DefaultEndpointsProtocol=https;AccountName=myaccount;"
            f"AccountKey={AZURITE_KEY};EndpointSuffix=core.windows.net"
        ),
    ),
    "account URL and key": AzureConfig(
        container="my-container",
        account_url="https://myaccount.blob.core.windows.net",
        account_key=AZURITE_KEY,
    ),
    "account URL and SAS token": AzureConfig(
        container="my-container",
        account_url="https://myaccount.blob.core.windows.net",
        sas_token="sv=2025-11-05&ss=b&srt=co&sp=rwdlac&se=2030-01-01T00:00:00Z&sig=c2ln",
    ),
    "emulator on another port": AzureConfig(
        container="my-container",
        account_url="http://127.0.0.1:19020/devstoreaccount1",
        account_key=AZURITE_KEY,
    ),
}

for label, config in configs.items():
    storage = AzureStorage(config)
    print(f"{label}: {storage.settings.account_url} -> {storage.credential_source}")
