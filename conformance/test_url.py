"""``url()``: a string in the backend's scheme that names the key, percent-encoded."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import pytest

from conformance.capabilities import Capabilities
from litestar_storages import BaseStorage

pytestmark = pytest.mark.anyio

AWKWARD_KEY = "dir/a b#c?d%e+f&g=h.txt"


def _without_query(url: str) -> str:
    # A raw "?" only starts the query: one inside the key must have been encoded.
    return url.partition("?")[0]


async def test_url_is_a_string_in_the_backend_scheme(
    storage: BaseStorage, caps: Capabilities
) -> None:
    await storage.put("a.txt", b"x")
    url = await storage.url("a.txt")
    assert isinstance(url, str)
    assert urlsplit(url).scheme == caps.url_scheme


async def test_url_ends_with_the_percent_encoded_key(storage: BaseStorage) -> None:
    await storage.put(AWKWARD_KEY, b"x")
    url = _without_query(await storage.url(AWKWARD_KEY))
    for raw in (" ", "#"):
        assert raw not in url
    assert unquote(url).endswith("/" + AWKWARD_KEY)


async def test_url_keeps_the_key_slashes(storage: BaseStorage) -> None:
    await storage.put("a/b/c.txt", b"x")
    url = _without_query(await storage.url("a/b/c.txt"))
    assert url.endswith("/a/b/c.txt")


async def test_url_accepts_expires_in(storage: BaseStorage, caps: Capabilities) -> None:
    await storage.put("a.txt", b"x")
    url = await storage.url("a.txt", expires_in=timedelta(minutes=5))
    assert urlsplit(url).scheme == caps.url_scheme


async def test_url_fetches_the_object_where_fetchable(
    storage: BaseStorage, caps: Capabilities
) -> None:
    await storage.put(AWKWARD_KEY, b"fetched over http")
    url = await storage.url(AWKWARD_KEY)
    if not caps.url_fetchable:
        return  # memory:// and file:// URLs name the object; nothing serves them
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    assert response.content == b"fetched over http"


# --------------------------------------------------------------------------- filesystem base_url
async def test_filesystem_url_with_base_url_is_base_url_plus_encoded_key(tmp_path: Path) -> None:
    try:
        from litestar_storages import FileSystemConfig, FileSystemStorage
    except ImportError as exc:
        pytest.skip(f"filesystem backend not yet available ({exc})")
    config = FileSystemConfig(path=tmp_path / "media", base_url="https://cdn.example.com/media")
    async with FileSystemStorage(config) as storage:
        await storage.put(AWKWARD_KEY, b"x")
        url = await storage.url(AWKWARD_KEY)
    assert url.startswith("https://cdn.example.com/media/")
    suffix = url.removeprefix("https://cdn.example.com/media/")
    assert suffix.startswith("dir/")  # the separator stays a slash
    assert not set(" #?") & set(suffix)
    assert unquote(suffix) == AWKWARD_KEY
