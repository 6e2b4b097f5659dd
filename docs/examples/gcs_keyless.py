"""GCS on Google Cloud without a key file: the metadata server, impersonation, keyless URLs.

On Compute Engine, GKE (workload identity) or Cloud Run, configure only the bucket: requests
carry the attached service account's token, and url() is signed by the IAM Credentials
signBlob API as that account. Building the storages below makes no request; the first
operation asks the metadata server.
"""

from __future__ import annotations

import anyio

from litestar_storages.backends.gcs import GCSConfig, GCSStorage


async def main() -> None:
    # The attached service account (the last link of Application Default Credentials).
    async with GCSStorage(GCSConfig(bucket="my-bucket")) as storage:
        print("requests:", storage.credential_source)
        print("signed URLs:", storage.signing_source)
        # await storage.put("report.csv", b"...")   # token from the metadata server
        # await storage.url("report.csv")           # signed by signBlob, no key anywhere

    # Acting as another service account: the credentials found above obtain its tokens
    # (generateAccessToken) and URLs are signed as it.
    config = GCSConfig(
        bucket="my-bucket",
        impersonate_service_account="uploader@my-project.iam.gserviceaccount.com",
    )
    async with GCSStorage(config) as storage:
        print("impersonating:", storage.credential_source)


if __name__ == "__main__":
    anyio.run(main)
