"""docs/litestar.md: its examples are the files in docs/examples (included by the site build's
snippets, so the page cannot drift from them), and those files work."""

from __future__ import annotations

import importlib.util
import re
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from litestar import Litestar

from ._support import client_on

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "litestar.md"
EXAMPLES = ROOT / "docs" / "examples"
INCLUDE = re.compile(r'^--8<-- "(docs/examples/[^"]+\.py)"$', re.MULTILINE)


def load(name: str) -> ModuleType:
    """A fresh copy of ``docs/examples/<name>.py`` (its storages start empty)."""
    spec = importlib.util.spec_from_file_location(
        f"_doc_{name}_{uuid.uuid4().hex}", EXAMPLES / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # Litestar resolves handler annotations through it
    spec.loader.exec_module(module)
    return module


def app_of(name: str) -> Litestar:
    app = load(name).app
    assert isinstance(app, Litestar)
    return app


def test_the_page_includes_every_litestar_example() -> None:
    shown = set(INCLUDE.findall(PAGE.read_text(encoding="utf-8")))
    assert shown == {f"docs/examples/{p.name}" for p in EXAMPLES.glob("litestar_*.py")}


def test_plugin_example(anyio_backend: str) -> None:
    with client_on(app_of("litestar_plugin"), anyio_backend) as client:
        saved = client.post("/notes/todo", json={"text": "buy milk"})
        assert saved.status_code == 201
        assert saved.json()["key"] == "notes/todo.txt"
        assert "metadata" not in saved.json()
        assert client.get("/notes/todo").text == "buy milk"
        assert client.get("/notes/missing").status_code == 404
        assert client.get("/avatars/nobody").status_code == 404


def test_downloads_example(anyio_backend: str) -> None:
    module = load("litestar_downloads")
    storage = module.app.plugins.get("StoragePlugin").storages["default"]
    with client_on(module.app, anyio_backend) as client:
        client.blocking_portal.call(storage.put, "report.txt", b"0123456789")
        full = client.get("/files/report.txt")
        assert (full.status_code, full.content) == (200, b"0123456789")
        assert full.headers["cache-control"] == "private, max-age=3600"
        part = client.get("/files/report.txt", headers={"Range": "bytes=-4"})
        assert (part.status_code, part.content) == (206, b"6789")
        cached = client.get("/files/report.txt", headers={"If-None-Match": full.headers["etag"]})
        assert cached.status_code == 304
        redirect = client.get("/direct/report.txt", follow_redirects=False)
        assert (redirect.status_code, redirect.headers["location"]) == (307, "memory://report.txt")


def test_uploads_example(anyio_backend: str) -> None:
    with client_on(app_of("litestar_uploads"), anyio_backend) as client:
        response = client.post(
            "/documents",
            files=[
                ("document", ("Q3 report.pdf", b"%PDF-1.7 ...", "application/pdf")),
                ("document", ("Q3 report.pdf", b"%PDF-1.7 again", "application/pdf")),
                ("cover", ("cover.PNG", b"\x89PNG...", "image/png")),
            ],
            data={"title": "Quarterly"},
        )
        assert response.status_code == 201
        body: dict[str, Any] = response.json()
        keys = [upload["file"]["key"] for upload in body["uploads"]]
        assert keys[:2] == ["documents/Q3_report.pdf", "documents/Q3_report-1.pdf"]
        assert re.fullmatch(r"covers/[0-9a-f]{32}\.png", keys[2])
        assert body["values"] == {"title": ["Quarterly"]}
        refused = client.post(
            "/documents", files={"document": ("x.exe", b"MZ", "application/x-msdownload")}
        )
        assert refused.status_code == 415


@pytest.mark.parametrize("name", ["litestar_plugin", "litestar_downloads", "litestar_uploads"])
def test_examples_build_without_warnings(name: str) -> None:
    # pytest turns warnings into errors here, so a deprecated Litestar idiom fails this.
    assert isinstance(app_of(name), Litestar)
