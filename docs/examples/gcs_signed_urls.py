"""Signed URLs (V4, computed locally) fetched with a plain HTTP client, and a POST policy.

Signing needs a service-account key (``GOOGLE_APPLICATION_CREDENTIALS`` here) or an HMAC key.

    STORAGE_EMULATOR_HOST=http://127.0.0.1:4443 GCS_BUCKET=my-bucket \
    GOOGLE_APPLICATION_CREDENTIALS=key.json python gcs_signed_urls.py
"""

from __future__ import annotations

import os
from datetime import timedelta

import anyio
import httpx

from litestar_storages import GCSConfig, GCSStorage


async def main() -> None:
    config = GCSConfig(bucket=os.environ.get("GCS_BUCKET", "my-bucket"), prefix="examples/signed")
    async with GCSStorage(config) as storage, httpx.AsyncClient() as http:
        print("signing with:", storage.signing_source)

        # Let a browser upload without credentials: a signed PUT URL...
        put_url = await storage.url(
            "avatars/alice.png",
            method="PUT",
            headers={"content-type": "image/png"},
            expires_in=timedelta(minutes=10),
        )
        response = await http.put(
            put_url, content=b"\x89PNG", headers={"content-type": "image/png"}
        )
        print("signed PUT:", response.status_code)

        # ... and download it with a signed GET URL (any HTTP client, no credentials).
        get_url = await storage.url(
            "avatars/alice.png",
            expires_in=timedelta(minutes=5),
            response_content_disposition='attachment; filename="alice.png"',
        )
        response = await http.get(get_url)
        print("signed GET:", response.status_code, response.content)

        # An HTML form upload: post these fields, then the file as the last field.
        action, fields = await storage.signed_post_policy(
            "forms/report.txt",
            conditions=[["content-length-range", 0, 1024 * 1024]],
            fields={"content-type": "text/plain"},
        )
        response = await http.post(
            action, data=fields, files={"file": ("report.txt", b"from a form", "text/plain")}
        )
        print("POST policy upload:", response.status_code)
        print("stored by the form:", await storage.get_bytes("forms/report.txt"))

        for key in ("avatars/alice.png", "forms/report.txt"):
            await storage.delete(key)


if __name__ == "__main__":
    anyio.run(main)
