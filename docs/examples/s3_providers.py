"""S3-compatible providers: what S3Storage derives from each configuration.

Nothing is sent: building a storage and presigning a URL are local. The keys are placeholders.

Run it: ``python s3_providers.py``
"""

from __future__ import annotations

import anyio

from litestar_storages import S3Config, S3Storage

ID, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

configs = {
    "AWS": S3Config(
        bucket="my-uploads", region="eu-west-1", access_key_id=ID, secret_access_key=SECRET
    ),
    "Cloudflare R2": S3Config(
        bucket="my-bucket",
        endpoint_url="https://ACCOUNT_ID.r2.cloudflarestorage.com",
        access_key_id=ID,
        secret_access_key=SECRET,
    ),
    "Backblaze B2": S3Config(
        bucket="my-bucket",
        endpoint_url="https://s3.us-west-004.backblazeb2.com",
        access_key_id=ID,
        secret_access_key=SECRET,
    ),
    "DigitalOcean Spaces": S3Config(
        bucket="my-space",
        endpoint_url="https://nyc3.digitaloceanspaces.com",
        access_key_id=ID,
        secret_access_key=SECRET,
    ),
    "MinIO": S3Config(
        bucket="test-bucket",
        endpoint_url="http://localhost:9000",
        provider="minio",  # not recognisable from a host name: say which it is
        access_key_id="minioadmin",
        secret_access_key="minioadmin",
    ),
    "Ceph radosgw": S3Config(
        bucket="my-bucket",
        endpoint_url="https://rgw.example.internal",
        provider="ceph",
        access_key_id=ID,
        secret_access_key=SECRET,
    ),
}


async def main() -> None:
    for name, config in configs.items():
        storage = S3Storage(config)
        ep = storage.endpoint
        style = "path" if ep.path_style else "virtual-hosted"
        print(f"{name}: {ep.origin} ({style}, region {ep.region}, provider {ep.traits.name})")
        print("  create-only writes enforced by the server:", ep.traits.conditional_writes)
        url = await storage.url("reports/q1.pdf")
        print("  presigned:", url.split("?")[0], "+ X-Amz-* query")


if __name__ == "__main__":
    anyio.run(main)
