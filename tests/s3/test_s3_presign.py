"""Presigned URLs and POST policies: local, SigV4, validated expiry, no httpx import."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import respx

from litestar_storages.exceptions import StorageConfigurationError
from litestar_storages.signing.sigv4 import AwsCredentials, presign_query, uri_encode_path

from ._s3_helpers import KEY_ID, SECRET, S3Storage, open_storage

pytestmark = pytest.mark.anyio


@pytest.fixture
def offline() -> S3Storage:
    """A storage that must not send anything (the router has no routes)."""
    return open_storage(respx.Router(assert_all_mocked=True), prefix="p/")


def params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


async def test_presigned_get_url_shape(offline: S3Storage) -> None:
    url = await offline.url("a b/ü.txt")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("http", "s3.test:9000")
    assert parts.path == "/bucket/p/a%20b/%C3%BC.txt"  # '/' kept, everything else encoded once
    query = params(url)
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Credential"] == f"{KEY_ID}/20260102/us-east-1/s3/aws4_request"
    assert query["X-Amz-Date"] == "20260102T030405Z"
    assert query["X-Amz-Expires"] == "3600"
    assert query["X-Amz-SignedHeaders"] == "host"
    assert len(query["X-Amz-Signature"]) == 64


async def test_the_signature_is_what_the_server_recomputes(offline: S3Storage) -> None:
    from ._s3_helpers import T0

    url = await offline.url("k", expires_in=timedelta(minutes=5))
    expected = presign_query(
        "GET",
        host="s3.test:9000",
        path="/bucket/p/k",
        query=[],
        credentials=AwsCredentials(KEY_ID, SECRET),
        region="us-east-1",
        service="s3",
        now=T0,
        expires_in=300,
    )
    assert params(url)["X-Amz-Signature"] == dict(expected)["X-Amz-Signature"]


async def test_presigned_url_keeps_slashes_unencoded(offline: S3Storage) -> None:
    url = await offline.url("a/b/c")
    assert urlsplit(url).path == "/bucket/p/a/b/c"


async def test_response_overrides_are_signed_query_parameters(offline: S3Storage) -> None:
    url = await offline.url(
        "k", content_disposition='attachment; filename="report 1.pdf"', response_content_type="a/b"
    )
    query = params(url)
    assert query["response-content-disposition"] == 'attachment; filename="report 1.pdf"'
    assert query["response-content-type"] == "a/b"
    assert "response-content-disposition=attachment%3B%20filename%3D%22report%201.pdf%22" in url


async def test_a_put_url_signs_the_content_type(offline: S3Storage) -> None:
    url = await offline.url("k", method="put", content_type="image/png")
    assert params(url)["X-Amz-SignedHeaders"] == "content-type;host"


@pytest.mark.parametrize("method", ["DELETE", "HEAD"])
async def test_other_methods_can_be_presigned(offline: S3Storage, method: str) -> None:
    get = await offline.url("k")
    other = await offline.url("k", method=method)
    assert params(get)["X-Amz-Signature"] != params(other)["X-Amz-Signature"]


@pytest.mark.parametrize(
    "expires", [timedelta(0), timedelta(seconds=-1), timedelta(days=7, seconds=1), 0, 1.5]
)
async def test_out_of_range_expiry_is_refused(offline: S3Storage, expires: Any) -> None:
    with pytest.raises(StorageConfigurationError):
        await offline.url("k", expires_in=expires)


async def test_seven_days_is_the_longest_expiry(offline: S3Storage) -> None:
    url = await offline.url("k", expires_in=timedelta(days=7))
    assert params(url)["X-Amz-Expires"] == "604800"


async def test_the_configured_default_expiry_is_used() -> None:
    storage = open_storage(respx.Router(), presigned_expiry=timedelta(hours=6))
    assert params(await storage.url("k"))["X-Amz-Expires"] == "21600"


async def test_session_tokens_travel_in_the_query() -> None:
    storage = open_storage(respx.Router(), session_token="TOKEN/+=")
    assert params(await storage.url("k"))["X-Amz-Security-Token"] == "TOKEN/+="


async def test_anonymous_urls_are_plain() -> None:
    storage = open_storage(respx.Router(), anonymous=True)
    assert await storage.url("a b") == "http://s3.test:9000/bucket/a%20b"


async def test_virtual_hosted_urls_sign_the_bucket_host() -> None:
    storage = open_storage(
        respx.Router(), bucket="my-bucket", endpoint_url=None, region="eu-west-1"
    )
    url = await storage.url("k")
    assert url.startswith("https://my-bucket.s3.eu-west-1.amazonaws.com/k?")


async def test_presigned_post_policy(offline: S3Storage) -> None:
    form = await offline.presigned_post(
        "uploads/${filename}", content_type="image/png", max_size=1024, expires_in=600
    )
    assert form["url"] == "http://s3.test:9000/bucket"
    fields = form["fields"]
    assert fields["key"] == "p/uploads/${filename}"
    assert fields["Content-Type"] == "image/png"
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert {"policy", "x-amz-signature", "x-amz-credential", "x-amz-date"} <= set(fields)


def test_presigning_does_not_import_httpx() -> None:
    code = (
        "import sys, anyio\n"
        "from litestar_storages import S3Storage, S3Config\n"
        "s = S3Storage(S3Config(bucket='b', region='us-east-1', access_key_id='A',"
        " secret_access_key='s'))\n"
        "url = anyio.run(s.url, 'k')\n"
        "assert url.startswith('https://s3.amazonaws.com/b/k?'), url\n"
        "assert 'httpx' not in sys.modules, 'httpx imported'\n"
        "assert 'litestar_storages._http.send' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_path_is_encoded_once() -> None:
    assert uri_encode_path("a%2Fb c") == "a%252Fb%20c"
