"""Azure Blob Storage without an account key: managed identity, workload identity, or a
service principal, as with the Azure SDKs' DefaultAzureCredential.

On an Azure VM, AKS or App Service, the account URL is all the configuration there is: the
platform's managed identity provides tokens, and url() signs user delegation SAS URLs.
Building the storage makes no request; the first operation asks for a token.
"""

from __future__ import annotations

import anyio

from litestar_storages.backends.azure import AzureConfig, AzureStorage


async def main() -> None:
    config = AzureConfig(
        container="my-container",
        account_url="https://myaccount.blob.core.windows.net",
        # AKS workload identity or a service principal instead: set AZURE_TENANT_ID,
        # AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE (or AZURE_CLIENT_SECRET), or pass
        # tenant_id=..., client_id=..., client_secret=... here.
    )
    async with AzureStorage(config) as storage:
        print(storage.credential_source)
        # await storage.put("report.csv", b"...")  # Authorization: Bearer <token>
        # await storage.url("report.csv")          # a user delegation SAS, no key anywhere


if __name__ == "__main__":
    anyio.run(main)
