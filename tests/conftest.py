"""Shared fixtures: every async test runs on asyncio and trio; the environment is scrubbed."""

from __future__ import annotations

import os

import pytest

_CLOUD_PREFIXES = (
    "AWS_",
    "GOOGLE_",
    "GCE_",
    "AZURE_",
    "STORAGE_EMULATOR_HOST",
    "LITESTAR_STORAGES_",
)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every ``@pytest.mark.anyio`` test on both event loops."""
    return str(request.param)


@pytest.fixture(autouse=True)
def _scrubbed_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Unit tests never see the developer's cloud credentials or config files."""
    for name in list(os.environ):
        if name.startswith(_CLOUD_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config-absent"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials-absent"))
