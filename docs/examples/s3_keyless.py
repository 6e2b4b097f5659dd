"""S3 on AWS compute without keys: the role of the instance, task, pod or function.

On EC2 (instance profile), ECS (task role), EKS (IRSA or Pod Identity) or Lambda (the runtime's
environment variables), configure no keys: the default chain finds the platform's temporary
credentials at the first request and refreshes them before they expire. Nothing below sends
a request.
"""

from __future__ import annotations

import os

import anyio

from litestar_storages.backends.s3 import S3Config, S3Storage
from litestar_storages.backends.s3.credentials import default_chain


async def main() -> None:
    async with S3Storage(S3Config(bucket="my-bucket", region="eu-west-1")) as storage:
        # None until the first request has resolved it: "instance-metadata", "container",
        # "web-identity", "assume-role"...
        print("resolved so far:", storage.credential_source)
        # await storage.put("report.csv", b"...")

    # The order the chain tries (botocore's):
    chain = default_chain(
        access_key_id=None,
        secret_access_key=None,
        session_token=None,
        profile=None,
        environ=os.environ,
    )
    print("chain:", " -> ".join(chain.describe()))
    await chain.aclose()


if __name__ == "__main__":
    anyio.run(main)
