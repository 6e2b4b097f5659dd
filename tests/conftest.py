"""Shared fixtures: every async test runs on asyncio and trio; the environment is scrubbed."""

from __future__ import annotations

import os
import socket

import pytest

_CLOUD_PREFIXES = (
    "AWS_",
    "GOOGLE_",
    "GCE_",
    "AZURE_",
    "STORAGE_EMULATOR_HOST",
    "LITESTAR_STORAGES_",
    # cloud runtimes: App Service / Functions / Arc managed identity, ECS, google-auth's switch
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IMDS_ENDPOINT",
    "MSI_",
    "ECS_CONTAINER_METADATA_URI",
    "NO_GCE_CHECK",
)


def _closed_local_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_NOWHERE = f"127.0.0.1:{_closed_local_port()}"


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
    # The instance metadata services stay in the default credential chains, but point at a
    # closed local port: a unit test that reaches them fails at once instead of asking the
    # network (169.254.169.254 answers in some sandboxes). Tests of these providers point the
    # same variables at their fakes.
    monkeypatch.setenv("GCE_METADATA_HOST", _NOWHERE)
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", f"http://{_NOWHERE}")
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", f"http://{_NOWHERE}")
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config-absent"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials-absent"))
