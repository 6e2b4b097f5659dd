"""Every S3 example of the product documents (``../shared/seeds``) run as written, against moto.

Each snippet below is a verbatim copy (``test_snippets_are_verbatim_copies_of_the_seeds`` checks
it against the seed files) run with top-level ``await``. The examples that name no endpoint
reach moto through ``AWS_ENDPOINT_URL`` (the environment the credential and endpoint rules read,
as on a developer machine with a local S3); the MinIO example's ``http://localhost:9000`` is the
one substitution, pointed at the emulator. The R2 and Spaces examples name real cloud hosts:
they are built (no I/O) and their endpoint, region and signing are checked offline.

moto's address is read at import time (the suite's fixtures scrub ``LITESTAR_STORAGES_*``);
without it these tests are skipped loudly, or fail under ``CI=true``.
"""

from __future__ import annotations

import ast
import io
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from litestar_storages import S3Config, S3Storage

pytestmark = pytest.mark.anyio

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
MOTO = os.environ.get("LITESTAR_STORAGES_S3_ENDPOINT", "")
_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
needs_moto = pytest.mark.skipif(
    not MOTO, reason="moto not configured (see test_moto_is_configured)"
)

AWS_EXPLICIT = """from litestar_storages import S3Storage, S3Config

# Using explicit credentials
storage = S3Storage(
    config=S3Config(
        bucket="my-uploads",
        region="us-east-1",
        access_key_id="AKIAIOSFODNN7EXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
)
"""

AWS_ENVIRONMENT = """# Using environment variables or IAM role (recommended for production)
storage = S3Storage(
    config=S3Config(
        bucket="my-uploads",
        region="us-east-1",
    )
)
"""

R2 = """storage = S3Storage(
    config=S3Config(
        bucket="my-bucket",
        endpoint_url="https://ACCOUNT_ID.r2.cloudflarestorage.com",
        access_key_id="R2_ACCESS_KEY",
        secret_access_key="R2_SECRET_KEY",
    )
)
"""

SPACES = """storage = S3Storage(
    config=S3Config(
        bucket="my-space",
        endpoint_url="https://nyc3.digitaloceanspaces.com",
        region="nyc3",
        access_key_id="DO_SPACES_KEY",
        secret_access_key="DO_SPACES_SECRET",
    )
)
"""

MINIO = """storage = S3Storage(
    config=S3Config(
        bucket="test-bucket",
        endpoint_url="http://localhost:9000",
        access_key_id="minioadmin",
        secret_access_key="minioadmin",
        use_ssl=False,
    )
)
"""

PREFIX = """storage = S3Storage(
    config=S3Config(
        bucket="my-bucket",
        region="us-east-1",
        prefix="uploads/2024/",
    )
)

# Key "photo.jpg" becomes "uploads/2024/photo.jpg" in S3
await storage.put("photo.jpg", data)
"""

PRESIGNED = """from datetime import timedelta

# Use default expiry (1 hour)
url = await storage.url("documents/report.pdf")

# Custom expiry
url = await storage.url(
    "documents/report.pdf",
    expires_in=timedelta(hours=24),
)
"""

DEFAULT_EXPIRY = """# Configure default expiry
storage = S3Storage(
    config=S3Config(
        bucket="my-bucket",
        presigned_expiry=timedelta(hours=6),
    )
)
"""

SERVER_SIDE = """# Server-side copy (fast, no data transfer through client)
await storage.copy("source.txt", "destination.txt")

# Server-side move (copy + delete)
await storage.move("old-path.txt", "new-path.txt")
"""

LANDING = """from litestar_storages import S3Storage, S3Config

storage = S3Storage(S3Config(bucket="my-uploads"))

# Store a file
await storage.put("photos/vacation.jpg", image_data)

# Get a presigned URL
url = await storage.url("photos/vacation.jpg", expires_in=timedelta(hours=1))
"""

RETRY = """from litestar_storages import RetryConfig

storage = S3Storage(
    config=S3Config(bucket="my-bucket"),
    retry_config=RetryConfig(
        max_attempts=5,
        base_delay=1.0,
        max_delay=30.0,
        exponential_base=2.0,
        jitter=True,
    ),
)
"""

MIGRATION = """from litestar_storages import S3Storage, S3Config

storage = S3Storage(S3Config(bucket="my-bucket"))
stored = await storage.put("uploads/file.txt", file.read())
url = await storage.url(stored.key)
"""

SNIPPETS = {
    "003": [
        AWS_EXPLICIT,
        AWS_ENVIRONMENT,
        R2,
        SPACES,
        MINIO,
        PREFIX,
        PRESIGNED,
        DEFAULT_EXPIRY,
        SERVER_SIDE,
    ],
    "001": [LANDING],
    "002": [LANDING],
    "000": [RETRY, MIGRATION],
}


def seed_text(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text()


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed documents not found at {SEEDS}")
@pytest.mark.parametrize("seed", sorted(SNIPPETS))
def test_snippets_are_verbatim_copies_of_the_seeds(seed: str) -> None:
    text = seed_text(seed)
    for snippet in SNIPPETS[seed]:
        assert snippet in text, snippet.splitlines()[0]


def test_moto_is_configured() -> None:
    if not MOTO:
        reason = (
            "S3 seed examples NOT RUN: set LITESTAR_STORAGES_S3_ENDPOINT (scripts/emulators.sh up)"
        )
        if _CI:
            pytest.fail(reason)
        pytest.skip(reason)


async def run(snippet: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """Run ``snippet`` with top-level ``await`` in ``namespace`` and return the namespace."""
    code = compile(snippet, "<seed>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)  # the documents' own examples, compiled above
    if result is not None:
        await result
    return namespace


@pytest.fixture
async def aws(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """AWS-style environment pointing at moto, with the seeds' buckets created."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", MOTO)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    async with httpx.AsyncClient() as client:
        for bucket in ("my-uploads", "my-bucket", "test-bucket"):
            await client.put(f"{MOTO}/{bucket}")  # moto's open mode needs no signature
    return {"timedelta": timedelta}


async def fetch(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(url)


@needs_moto
async def test_aws_examples(aws: dict[str, Any]) -> None:
    ns = await run(AWS_EXPLICIT, aws)
    async with ns["storage"] as storage:
        await storage.put("from-explicit.txt", b"explicit")
        assert storage.credential_source == "explicit"
    ns = await run(AWS_ENVIRONMENT, ns)
    async with ns["storage"] as storage:
        assert await storage.get_bytes("from-explicit.txt") == b"explicit"
        assert storage.credential_source == "environment"


async def test_r2_and_spaces_examples_build_offline() -> None:
    ns = await run(R2, {"S3Storage": S3Storage, "S3Config": S3Config})
    r2 = ns["storage"].endpoint
    assert (r2.origin, r2.region, r2.traits.name) == (
        "https://account_id.r2.cloudflarestorage.com",
        "auto",
        "r2",
    )
    assert (await ns["storage"].url("k")).startswith(
        "https://account_id.r2.cloudflarestorage.com/my-bucket/k?"
    )
    ns = await run(SPACES, ns)
    spaces = ns["storage"].endpoint
    assert (spaces.origin, spaces.region, spaces.traits.name) == (
        "https://nyc3.digitaloceanspaces.com",
        "nyc3",
        "spaces",
    )


@needs_moto
async def test_minio_example_against_the_emulator(aws: dict[str, Any]) -> None:
    ns = await run(
        MINIO.replace("http://localhost:9000", MOTO),
        {**aws, "S3Storage": S3Storage, "S3Config": S3Config},
    )
    async with ns["storage"] as storage:
        await storage.put("hello.txt", b"hello minio")
        assert await storage.get_bytes("hello.txt") == b"hello minio"
        assert storage.credential_source == "explicit"


@needs_moto
async def test_prefix_presigned_and_server_side_examples(aws: dict[str, Any]) -> None:
    ns = await run(PREFIX, {**aws, "S3Storage": S3Storage, "S3Config": S3Config, "data": b"photo"})
    storage = ns["storage"]
    async with S3Storage(S3Config(bucket="my-bucket")) as whole_bucket:
        assert await whole_bucket.get_bytes("uploads/2024/photo.jpg") == b"photo"
    await storage.put("documents/report.pdf", b"%PDF")
    ns = await run(PRESIGNED, ns)
    assert "X-Amz-Expires=86400" in ns["url"]
    assert (await fetch(ns["url"])).content == b"%PDF"
    await storage.put("source.txt", b"s")
    await storage.put("old-path.txt", b"o")
    ns = await run(SERVER_SIDE, ns)
    assert await storage.get_bytes("destination.txt") == b"s"
    assert await storage.get_bytes("new-path.txt") == b"o"
    assert not await storage.exists("old-path.txt")
    await storage.close()
    ns = await run(DEFAULT_EXPIRY, ns)
    assert "X-Amz-Expires=21600" in await ns["storage"].url("k")


@needs_moto
async def test_landing_page_example(aws: dict[str, Any]) -> None:
    ns = await run(LANDING, {**aws, "image_data": b"\xff\xd8jpeg"})
    async with ns["storage"] as storage:
        assert await storage.get_bytes("photos/vacation.jpg") == b"\xff\xd8jpeg"
    assert (await fetch(ns["url"])).content == b"\xff\xd8jpeg"


@needs_moto
async def test_comparison_page_examples(aws: dict[str, Any]) -> None:
    ns = await run(RETRY, {**aws, "S3Storage": S3Storage, "S3Config": S3Config})
    assert ns["storage"].retry_config.max_attempts == 5
    ns = await run(MIGRATION, {**aws, "file": io.BytesIO(b"migrated")})
    async with ns["storage"] as storage:
        assert await storage.get_bytes("uploads/file.txt") == b"migrated"
    assert (await fetch(ns["url"])).content == b"migrated"
