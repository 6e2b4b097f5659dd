"""SAS URLs: computed locally, least privilege, fetched with plain HTTP.

    AZURE_STORAGE_CONNECTION_STRING="UseDevelopmentStorage=true" \
    AZURE_STORAGE_CONTAINER=my-container python azure_sas_urls.py
"""

from __future__ import annotations

import os
from datetime import timedelta

import anyio
import httpx

from litestar_storages import AzureConfig, AzureStorage


async def main() -> None:
    config = AzureConfig(
        container=os.environ.get("AZURE_STORAGE_CONTAINER", "my-container"),
        prefix="examples/sas",
        presigned_expiry=timedelta(minutes=15),  # the default lifetime of url()
    )
    async with AzureStorage(config) as storage, httpx.AsyncClient() as http:
        await storage.put("report.pdf", b"%PDF-1.7 ...", content_type="application/pdf")

        # A download link: read permission only, served as an attachment.
        download = await storage.url(
            "report.pdf", content_disposition='attachment; filename="q1-report.pdf"'
        )
        response = await http.get(download)
        print("download:", response.status_code, response.headers["content-disposition"])

        # The same link cannot write: the service refuses it (403).
        refused = await http.put(download, content=b"x", headers={"x-ms-blob-type": "BlockBlob"})
        print("write with a read-only SAS:", refused.status_code)

        # An upload link for a browser or another service: create and write only, 5 minutes.
        upload = await storage.url(
            "incoming/photo.jpg", method="PUT", expires_in=timedelta(minutes=5)
        )
        response = await http.put(
            upload,
            content=b"\xff\xd8\xff\xe0 jpeg bytes",
            headers={"x-ms-blob-type": "BlockBlob", "x-ms-blob-content-type": "image/jpeg"},
        )
        print(
            "upload:", response.status_code, (await storage.info("incoming/photo.jpg")).content_type
        )

        # A container SAS that can list (and read) every blob of the container.
        listing = await storage.container_url(permissions="rl")
        response = await http.get(f"{listing}&restype=container&comp=list&prefix=examples/sas/")
        print("container listing:", response.status_code, response.text.count("<Blob>"), "blobs")

        # A link that can only delete that one blob.
        removal = await storage.url("incoming/photo.jpg", method="DELETE")
        print("delete:", (await http.delete(removal)).status_code)

        # An account SAS token (service level, here: read objects of every container).
        token = await storage.account_sas(permissions="r", resource_types="o")
        blob = f"{listing.split('?', 1)[0]}/examples/sas/report.pdf"
        print("account SAS read:", (await http.get(f"{blob}?{token}")).status_code)

        await storage.delete("report.pdf")


if __name__ == "__main__":
    anyio.run(main)
