"""Fixtures of the conformance suite: every test on asyncio and trio, and on every backend.

``storage`` is a fresh, empty storage for one test: a new ``MemoryStorage``, a
``FileSystemStorage`` on a new temporary directory, or a cloud storage under a new random key
prefix. It is closed (and, for cloud backends, emptied) when the test ends. ``caps`` is the
backend's :class:`~conformance.capabilities.Capabilities`.

Tests are generated for the backends that can run here. Each backend that cannot (no factory
yet, emulator settings missing, module missing) is reported once, loudly: as a skipped
``test_backend_can_run[<name>]`` and in a "conformance backends NOT RUN" section at the end of the
run. When the environment variable ``CI`` is ``true``, a registered cloud backend whose emulator
settings are missing is a failure instead (CI must not pass silently without its emulators).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import pytest

from conformance.backends import BACKENDS, BackendSpec, Location, why_unavailable
from conformance.support import STOCK_TRANSPORT_GENERATORS

if TYPE_CHECKING:
    from conformance.capabilities import Capabilities
    from litestar_storages import BaseStorage

_UNAVAILABLE: dict[str, str] = {
    name: reason
    for name, spec in BACKENDS.items()
    if (reason := why_unavailable(spec, os.environ)) is not None
}
"""Backends that cannot run in this session, with the reason (computed once, at import)."""

AVAILABLE = [name for name in BACKENDS if name not in _UNAVAILABLE]


_HTTPCORE_GENERATORS = pytest.mark.filterwarnings(
    *(f"ignore:{re.escape(start)}:ResourceWarning" for start in STOCK_TRANSPORT_GENERATORS)
)
"""The ``-httpx`` entries let trio's warnings about httpx's own generators through (see
``support.STOCK_TRANSPORT_GENERATORS``), and only those."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise every test that uses a storage over the backends that can run here (those
    that speak HTTP only, in modules that set ``HTTP_BACKENDS_ONLY = True``)."""
    if "backend" in metafunc.fixturenames:
        names = AVAILABLE
        if getattr(metafunc.module, "HTTP_BACKENDS_ONLY", False):
            names = [name for name in names if BACKENDS[name].http_transport is not None]
        params = [
            pytest.param(name, marks=_HTTPCORE_GENERATORS)
            if BACKENDS[name].http_transport == "httpx"
            else name
            for name in names
        ]
        metafunc.parametrize("backend", params, ids=names, indirect=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say loudly, at the end of the run, which backends the suite did not exercise."""
    if not _UNAVAILABLE:
        return
    terminalreporter.section("conformance backends NOT RUN", sep="!", yellow=True, bold=True)
    for reason in _UNAVAILABLE.values():
        terminalreporter.line(reason, yellow=True)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every ``@pytest.mark.anyio`` test on both event loops."""
    return str(request.param)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> BackendSpec:
    """The backend under test (parametrised by ``pytest_generate_tests``)."""
    return BACKENDS[str(request.param)]


@pytest.fixture
def caps(backend: BackendSpec) -> Capabilities:
    """What the backend under test can do, where backends may differ."""
    return backend.capabilities


@pytest.fixture
def location(tmp_path: Path) -> Location:
    """A fresh place for one test's objects: a random key prefix and a new directory."""
    return Location(
        prefix=f"conformance/{uuid.uuid4().hex}/",
        path=tmp_path / "storage-root",
        env=dict(os.environ),
    )


MAX_KEY_BYTES = 1024


@pytest.fixture
def key_budget(caps: Capabilities, location: Location) -> int:
    """The longest key, in UTF-8 bytes, the storage under test accepts."""
    if caps.prefix_in_key_limit:
        return MAX_KEY_BYTES - len(location.prefix.encode())
    return MAX_KEY_BYTES


def open_storage(spec: BackendSpec, location: Location) -> BaseStorage:
    """Open ``spec``'s storage on ``location``."""
    assert spec.factory is not None, f"{spec.name} has no factory"
    return spec.factory(location)


@pytest.fixture
async def storage_under_test(
    backend: BackendSpec, location: Location, anyio_backend: str
) -> AsyncIterator[BaseStorage]:
    """A fresh, empty storage of the backend under test, closed afterwards."""
    store = open_storage(backend, location)
    try:
        yield store
    finally:
        with anyio.CancelScope(shield=True):
            if backend.cleanup:
                stored = [item.key async for item in store.list()]
                for key in stored:
                    await store.delete(key)
            await store.close()


@pytest.fixture
def storage(storage_under_test: BaseStorage) -> BaseStorage:
    """The storage under test (``test_seed_examples.py`` shadows this name, as its seed does)."""
    return storage_under_test


@pytest.fixture
def open_again(backend: BackendSpec, location: Location) -> Callable[[], BaseStorage]:
    """Open another storage of the backend on the test's location; the caller closes it."""
    return lambda: open_storage(backend, location)
