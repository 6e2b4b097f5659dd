"""The registry of backends the conformance suite runs against: a factory and capabilities each.

Adding a backend is one entry in ``BACKENDS``: a function that opens a storage on a
:class:`Location` (a fresh key prefix and a fresh directory per test), the environment variables
it needs, and its :class:`~conformance.capabilities.Capabilities`. Backend modules are imported
inside the factories, so the suite runs while a backend does not exist yet.

Every cloud backend is registered twice: on the library's own HTTP transport (``s3``,
``gcs``...) and on httpx's stock transport (``s3-httpx``, ``gcs-httpx``...), so the two stay
interchangeable (``test_transport.py`` checks which one carried the requests). Their environment
variables are documented in ``conformance/README.md``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from conformance.capabilities import Capabilities

if TYPE_CHECKING:
    from litestar_storages import BaseStorage
    from litestar_storages._http.settings import HttpTransport

__all__ = [
    "BACKENDS",
    "BackendSpec",
    "Factory",
    "Location",
    "ci_mode",
    "missing_environment",
    "why_unavailable",
]


@dataclass(frozen=True)
class Location:
    """Where one test's objects live; opening a storage twice on it sees the same objects.

    Attributes:
        prefix: A fresh random key prefix ending in ``/`` (cloud backends: the config ``prefix``).
        path: A fresh directory that does not exist yet (local backends: the storage root).
        env: The process environment (endpoints and credentials of cloud backends).
    """

    prefix: str
    path: Path
    env: Mapping[str, str]


Factory = Callable[[Location], "BaseStorage"]
"""Opens a storage on a location. Called once per test (twice by the persistence test)."""


@dataclass(frozen=True)
class BackendSpec:
    """One backend of the suite.

    Attributes:
        name: The test id (``memory``, ``filesystem``, ``s3``, ...).
        capabilities: How it differs where backends may differ.
        factory: Opens a storage; ``None`` while the backend is not implemented yet.
        required_env: Environment variables without which the backend cannot run (an emulator
            endpoint and credentials). When one is missing the backend's tests are skipped
            loudly, or fail when ``CI=true``.
        cleanup: Delete what a test stored when it ends (remote backends; the local ones use a
            fresh instance or directory per test).
        module: The backend's module, imported to check that the backend exists.
        http_transport: The HTTP transport the factory configures (``"fast"`` or ``"httpx"``);
            ``None`` for backends that speak no HTTP.
    """

    name: str
    capabilities: Capabilities
    factory: Factory | None
    required_env: tuple[str, ...] = ()
    cleanup: bool = False
    module: str | None = None
    http_transport: str | None = None


def ci_mode(env: Mapping[str, str]) -> bool:
    """Whether we run under CI, where a backend that cannot run is a failure, not a skip."""
    return env.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing_environment(spec: BackendSpec, env: Mapping[str, str]) -> list[str]:
    """The required environment variables of ``spec`` that are unset or empty."""
    return [name for name in spec.required_env if not env.get(name)]


def why_unavailable(spec: BackendSpec, env: Mapping[str, str]) -> str | None:
    """Why ``spec`` cannot run here (``None``: it can). Imports the backend module to check."""
    if spec.factory is None:
        return (
            f"{spec.name} conformance NOT RUN: the {spec.name} backend has no factory yet "
            f"(fill in its entry in conformance/backends.py)"
        )
    missing = missing_environment(spec, env)
    if missing:
        return (
            f"{spec.name} conformance NOT RUN: set {', '.join(missing)} "
            f"(an emulator endpoint and credentials; see conformance/README.md)"
        )
    if spec.module is not None:
        try:
            importlib.import_module(spec.module)
        except ImportError as exc:
            if spec.required_env:
                return f"{spec.name} conformance NOT RUN: cannot import the backend ({exc})"
            return f"{spec.name} backend not yet available ({exc})"
    return None


# --------------------------------------------------------------------------- local backends
def _open_memory(location: Location) -> BaseStorage:
    from litestar_storages import MemoryStorage

    return MemoryStorage()


def _open_filesystem(location: Location) -> BaseStorage:
    from litestar_storages import FileSystemConfig, FileSystemStorage

    return FileSystemStorage(FileSystemConfig(path=location.path))


MEMORY = BackendSpec(
    name="memory",
    factory=_open_memory,
    module="litestar_storages.backends.memory",
    capabilities=Capabilities(url_scheme="memory", persistent=False),
)

FILESYSTEM = BackendSpec(
    name="filesystem",
    factory=_open_filesystem,
    module="litestar_storages.backends.filesystem",
    capabilities=Capabilities(
        supports_empty_segments=False,  # no empty file or directory names
        supports_key_and_subkeys=False,  # `a` cannot be a file and a directory
        url_scheme="file",  # no base_url: a file:// URL of the stored file
    ),
)


# --------------------------------------------------------------------------- cloud backends
def _s3_opener(variables: str, provider: str, transport: HttpTransport = "fast") -> Factory:
    """S3 on one emulator: ``<variables>ENDPOINT``, ``BUCKET``, ``ACCESS_KEY_ID``, ...;
    ``provider`` selects the emulator's measured traits (conditional writes, checksums)."""

    def open_s3(location: Location) -> BaseStorage:
        from litestar_storages import S3Config, S3Storage

        env = location.env
        return S3Storage(
            S3Config(
                bucket=env[f"{variables}BUCKET"],
                endpoint_url=env[f"{variables}ENDPOINT"],
                region=env.get(f"{variables}REGION") or "us-east-1",
                access_key_id=env[f"{variables}ACCESS_KEY_ID"],
                secret_access_key=env[f"{variables}SECRET_ACCESS_KEY"],
                provider=provider,
                prefix=location.prefix,
                http_transport=transport,
            )
        )

    return open_s3


def _s3_env(variables: str) -> tuple[str, ...]:
    return tuple(
        variables + name for name in ("ENDPOINT", "BUCKET", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY")
    )


_S3_CAPABILITIES = Capabilities(
    min_part_size=5 * 1024 * 1024,  # S3: every part but the last >= 5 MiB
    list_includes_metadata=False,  # ListObjectsV2 carries neither content type nor metadata
    list_page_size=1000,
    url_scheme="http",  # the local emulators speak plain HTTP
    url_fetchable=True,  # presigned GET
    prefix_in_key_limit=True,  # S3 counts the whole object name (prefix + key): 1024 bytes
)

# moto: fast and broad, verifies no signature.
S3 = BackendSpec(
    name="s3",
    module="litestar_storages.backends.s3",
    factory=_s3_opener("LITESTAR_STORAGES_S3_", "moto"),
    required_env=_s3_env("LITESTAR_STORAGES_S3_"),
    http_transport="fast",
    cleanup=True,
    capabilities=_S3_CAPABILITIES,
)

# Ceph radosgw: a production S3 implementation that verifies every SigV4 signature.
S3_RADOSGW = BackendSpec(
    name="s3-radosgw",
    module="litestar_storages.backends.s3",
    factory=_s3_opener("LITESTAR_STORAGES_S3_RADOSGW_", "ceph"),
    required_env=_s3_env("LITESTAR_STORAGES_S3_RADOSGW_"),
    http_transport="fast",
    cleanup=True,
    capabilities=_S3_CAPABILITIES,
)


@functools.cache
def _gcs_signing_key() -> dict[str, str]:
    """A throw-away service-account key: the emulator checks no signature, but url() needs one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "type": "service_account",
        "client_email": "conformance@litestar-storages.iam.gserviceaccount.com",
        "private_key": pem.decode(),
    }


def _gcs_opener(transport: HttpTransport = "fast") -> Factory:
    def open_gcs(location: Location) -> BaseStorage:
        from litestar_storages import GCSConfig, GCSStorage

        env = location.env
        return GCSStorage(
            GCSConfig(
                bucket=env["LITESTAR_STORAGES_GCS_BUCKET"],
                project=env.get("LITESTAR_STORAGES_GCS_PROJECT") or None,
                api_root=env["LITESTAR_STORAGES_GCS_ENDPOINT"],
                anonymous=True,  # requests: the emulator checks nothing
                service_account_info=_gcs_signing_key(),  # signed URLs
                prefix=location.prefix,
                http_transport=transport,
            )
        )

    return open_gcs


GCS = BackendSpec(
    name="gcs",
    module="litestar_storages.backends.gcs",
    factory=_gcs_opener(),
    required_env=("LITESTAR_STORAGES_GCS_ENDPOINT", "LITESTAR_STORAGES_GCS_BUCKET"),
    http_transport="fast",
    cleanup=True,
    capabilities=Capabilities(
        # Against an emulator the multipart API is compose-based (no minimum part size); on
        # Google's endpoints it is the XML API, whose parts but the last are >= 5 MiB.
        min_part_size=1,
        list_page_size=1000,
        url_scheme="http",
        url_fetchable=True,  # V4 signed URL
        prefix_in_key_limit=True,  # 1024 bytes for the whole object name
    ),
)

AZURE_LIST_PAGE = 100
"""List Blobs page size of the Azure storages under test: small, so the pagination tests cross a
page boundary with 125 blobs rather than 5025 (the service's default page)."""


def _azure_opener(transport: HttpTransport = "fast") -> Factory:
    def open_azure(location: Location) -> BaseStorage:
        from litestar_storages import AzureConfig, AzureStorage

        env = location.env
        return AzureStorage(
            AzureConfig(
                container=env["LITESTAR_STORAGES_AZURE_CONTAINER"],
                account_url=env["LITESTAR_STORAGES_AZURE_ENDPOINT"],  # path-style: the account
                account_key=env["LITESTAR_STORAGES_AZURE_ACCOUNT_KEY"],
                prefix=location.prefix,
                list_page_size=AZURE_LIST_PAGE,
                http_transport=transport,
            )
        )

    return open_azure


AZURE = BackendSpec(
    name="azure",
    module="litestar_storages.backends.azure",
    factory=_azure_opener(),
    required_env=(
        "LITESTAR_STORAGES_AZURE_ENDPOINT",
        "LITESTAR_STORAGES_AZURE_ACCOUNT_KEY",
        "LITESTAR_STORAGES_AZURE_CONTAINER",
    ),
    http_transport="fast",
    cleanup=True,
    capabilities=Capabilities(
        list_page_size=AZURE_LIST_PAGE,  # the factory's List Blobs maxresults
        url_scheme="http",
        url_fetchable=True,  # SAS URL
        prefix_in_key_limit=True,  # 1024 for the whole blob name
    ),
)


def _on_stock_httpx(spec: BackendSpec, factory: Factory) -> BackendSpec:
    """``spec`` again, on httpx's stock transport (``factory`` configures it)."""
    return replace(spec, name=f"{spec.name}-httpx", factory=factory, http_transport="httpx")


S3_HTTPX = _on_stock_httpx(S3, _s3_opener("LITESTAR_STORAGES_S3_", "moto", "httpx"))
S3_RADOSGW_HTTPX = _on_stock_httpx(
    S3_RADOSGW, _s3_opener("LITESTAR_STORAGES_S3_RADOSGW_", "ceph", "httpx")
)
GCS_HTTPX = _on_stock_httpx(GCS, _gcs_opener("httpx"))
AZURE_HTTPX = _on_stock_httpx(AZURE, _azure_opener("httpx"))

BACKENDS: dict[str, BackendSpec] = {
    spec.name: spec
    for spec in (
        MEMORY,
        FILESYSTEM,
        S3,
        S3_RADOSGW,
        GCS,
        AZURE,
        S3_HTTPX,
        S3_RADOSGW_HTTPX,
        GCS_HTTPX,
        AZURE_HTTPX,
    )
}
"""Every backend of the suite, by test id. ``conftest.py`` parametrises over all of them."""
