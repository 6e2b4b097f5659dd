"""S3 presigned URLs (SigV4, computed locally) fetched with a plain HTTP client, and a browser
form upload through a presigned POST policy.

    AWS_ENDPOINT_URL=http://127.0.0.1:5000 AWS_ACCESS_KEY_ID=testing \\
    AWS_SECRET_ACCESS_KEY=testing S3_BUCKET=my-bucket python s3_presigned_urls.py
"""

from __future__ import annotations

import os
from datetime import timedelta

import anyio
import httpx

from litestar_storages import S3Config, S3Storage


async def main() -> None:
    config = S3Config(
        bucket=os.environ.get("S3_BUCKET", "my-bucket"),
        prefix="examples/presigned",
        presigned_expiry=timedelta(minutes=15),  # the default validity of url()
    )
    async with S3Storage(config) as storage, httpx.AsyncClient() as http:
        await storage.put("report.pdf", b"%PDF-1.7 ...", content_type="application/pdf")

        # A download link, saved under another name by the browser.
        url = await storage.url(
            "report.pdf",
            expires_in=timedelta(minutes=5),
            content_disposition='attachment; filename="q1-report.pdf"',
        )
        response = await http.get(url)
        print("GET:", response.status_code, response.headers.get("content-disposition"))

        # An upload link: PUT only, and only with this Content-Type (it is signed).
        put_url = await storage.url("uploads/photo.jpg", method="PUT", content_type="image/jpeg")
        response = await http.put(
            put_url, content=b"\xff\xd8\xff jpeg", headers={"content-type": "image/jpeg"}
        )
        print("PUT:", response.status_code, (await storage.info("uploads/photo.jpg")).size)

        # An HTML form upload: the browser posts the fields, then the file, to form["url"].
        # "${filename}" is replaced by the name of the file the user picked.
        form = await storage.presigned_post(
            "forms/${filename}",
            content_type="text/plain",
            max_size=1024 * 1024,  # the policy refuses larger files
            expires_in=timedelta(minutes=10),
        )
        response = await http.post(
            form["url"],
            data=form["fields"],
            files={"file": ("notes.txt", b"posted by a browser", "text/plain")},
        )
        print("POST:", response.status_code, await storage.get_bytes("forms/notes.txt"))

        for key in ("report.pdf", "uploads/photo.jpg", "forms/notes.txt"):
            await storage.delete(key)


if __name__ == "__main__":
    anyio.run(main)
