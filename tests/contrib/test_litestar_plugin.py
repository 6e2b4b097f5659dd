"""StoragePlugin in a real Litestar app: injection, name clashes, shutdown, error mapping.

Every app runs on asyncio and on trio (``anyio_backend``); see ``_support`` for why these tests
use the sync ``TestClient``.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import anyio
import pytest
from litestar import Litestar, Request, Response, get
from litestar.di import Provide
from litestar.exceptions import LitestarDeprecationWarning

from litestar_storages import (
    MemoryStorage,
    Storage,
    StorageConfigurationError,
    StorageConnectionError,
    StorageError,
    StorageFileExistsError,
    StorageFileNotFoundError,
    StorageInvalidKeyError,
    StoragePermissionError,
    StoragePlugin,
    StorageTimeoutError,
)
from litestar_storages.contrib import StorageDependency, provide_storage

from ._support import client_on


class ClosingStorage(MemoryStorage):
    """Records ``close()``; optionally fails it."""

    def __init__(self, *, fail: bool = False) -> None:
        super().__init__()
        self.closed = 0
        self.fail = fail

    async def close(self) -> None:
        self.closed += 1
        if self.fail:
            raise StorageConnectionError("pool already gone", backend="memory")


@get("/default")
async def which_default(storage: StorageDependency) -> str:
    return (await storage.get_bytes("whoami")).decode()


@get("/images")
async def which_images(images_storage: StorageDependency) -> str:
    return (await images_storage.get_bytes("whoami")).decode()


def _labelled(label: str) -> MemoryStorage:
    storage = MemoryStorage()
    anyio.run(storage.put, "whoami", label.encode())  # MemoryStorage is not bound to a loop
    return storage


# --------------------------------------------------------------------------- injection
def test_default_storage_is_injected_as_storage(anyio_backend: str) -> None:
    app = Litestar([which_default], plugins=[StoragePlugin(_labelled("main"))])
    with client_on(app, anyio_backend) as client:
        response = client.get("/default")
    assert response.text == "main"


def test_named_storage_is_injected_as_name_storage(anyio_backend: str) -> None:
    plugin = StoragePlugin(default=_labelled("main"), images=_labelled("images"))
    app = Litestar([which_default, which_images], plugins=[plugin])
    with client_on(app, anyio_backend) as client:
        assert (client.get("/default")).text == "main"
        assert (client.get("/images")).text == "images"


def test_the_same_instance_is_injected_on_every_request(anyio_backend: str) -> None:
    storage = MemoryStorage()
    seen: list[int] = []

    @get("/id")
    async def identity(storage: StorageDependency) -> None:
        seen.append(id(storage))

    app = Litestar([identity], plugins=[StoragePlugin(storage)])
    with client_on(app, anyio_backend) as client:
        client.get("/id")
        client.get("/id")
    assert seen == [id(storage), id(storage)]


def test_handlers_written_for_0_2_3_with_a_plain_storage_annotation_still_work(
    anyio_backend: str,
) -> None:
    @get("/legacy")
    async def legacy(storage: Storage) -> str:
        return (await storage.get_bytes("whoami")).decode()

    with warnings.catch_warnings():
        # Litestar >= 2.23 warns that inferred dependencies end with 3.0 (not our warning).
        warnings.simplefilter("ignore", LitestarDeprecationWarning)
        app = Litestar([legacy], plugins=[StoragePlugin(_labelled("legacy"))])
    with client_on(app, anyio_backend) as client:
        assert (client.get("/legacy")).text == "legacy"


def test_dependency_names_follow_0_2_3() -> None:
    plugin = StoragePlugin(default=MemoryStorage(), images=MemoryStorage(), docs=MemoryStorage())
    assert plugin.dependency_names == ["storage", "images_storage", "docs_storage"]
    assert set(plugin.storages) == {"default", "images", "docs"}


def test_provide_storage_returns_the_storage() -> None:
    storage = MemoryStorage()
    assert provide_storage(storage)() is storage


# --------------------------------------------------------------------------- configuration errors
def test_a_clash_with_an_app_dependency_is_a_configuration_error() -> None:
    existing = MemoryStorage()
    with pytest.raises(StorageConfigurationError, match="'storage'"):
        Litestar(
            [],
            dependencies={"storage": Provide(provide_storage(existing), sync_to_thread=False)},
            plugins=[StoragePlugin(MemoryStorage())],
        )


def test_a_clash_between_two_plugins_is_a_configuration_error() -> None:
    with pytest.raises(StorageConfigurationError, match="'images_storage'"):
        Litestar(
            [],
            plugins=[StoragePlugin(images=MemoryStorage()), StoragePlugin(images=MemoryStorage())],
        )


def test_names_that_are_not_identifiers_are_refused() -> None:
    with pytest.raises(StorageConfigurationError, match="identifier"):
        StoragePlugin(**{"user-files": MemoryStorage()})  # type: ignore[arg-type]


def test_values_that_are_not_storages_are_refused() -> None:
    with pytest.raises(StorageConfigurationError, match="must be a storage"):
        StoragePlugin(images="s3://bucket")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- lifespan
def test_shutdown_closes_every_storage(anyio_backend: str) -> None:
    first, second = ClosingStorage(), ClosingStorage()
    app = Litestar([], plugins=[StoragePlugin(first, images=second)])
    with client_on(app, anyio_backend):
        assert (first.closed, second.closed) == (0, 0)
    assert (first.closed, second.closed) == (1, 1)


def test_a_failing_close_is_logged_and_the_others_are_still_closed(
    anyio_backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    failing, healthy = ClosingStorage(fail=True), ClosingStorage()
    # logging_config=None: Litestar's own logging setup would replace caplog's root handler.
    app = Litestar([], plugins=[StoragePlugin(failing, images=healthy)], logging_config=None)
    with (
        caplog.at_level(logging.ERROR, logger="litestar_storages"),
        client_on(app, anyio_backend),
    ):
        pass
    assert (failing.closed, healthy.closed) == (1, 1)
    assert "closing storage 'default' failed" in caplog.text


def test_a_storage_registered_twice_is_closed_once(anyio_backend: str) -> None:
    shared = ClosingStorage()
    app = Litestar([], plugins=[StoragePlugin(shared, images=shared)])
    with client_on(app, anyio_backend):
        pass
    assert shared.closed == 1


def test_storages_are_closed_after_the_apps_own_shutdown_hooks(anyio_backend: str) -> None:
    storage = ClosingStorage()
    order: list[str] = []

    async def app_shutdown() -> None:
        order.append(f"app hook sees closed={storage.closed}")

    app = Litestar([], on_shutdown=[app_shutdown], plugins=[StoragePlugin(storage)])
    with client_on(app, anyio_backend):
        pass
    assert order == ["app hook sees closed=0"]
    assert storage.closed == 1


# --------------------------------------------------------------------------- error mapping
ERRORS: list[tuple[StorageError, int]] = [
    (StorageFileNotFoundError("missing", key="a"), 404),
    (StoragePermissionError("denied", key="a"), 403),
    (StorageFileExistsError("exists", key="a"), 409),
    (StorageInvalidKeyError("bad key", key="../a"), 400),
    (StorageConnectionError("unreachable"), 503),
    (StorageTimeoutError("timed out"), 503),
]


def _raising_app(exc: Exception, **plugin_options: Any) -> Litestar:
    @get("/boom")
    async def boom() -> None:
        raise exc

    return Litestar([boom], plugins=[StoragePlugin(MemoryStorage(), **plugin_options)])


@pytest.mark.parametrize(("exc", "status"), ERRORS, ids=lambda v: type(v).__name__)
def test_storage_errors_become_http_statuses(
    anyio_backend: str, exc: StorageError, status: int
) -> None:
    app = _raising_app(exc)
    with client_on(app, anyio_backend) as client:
        response = client.get("/boom")
    assert response.status_code == status
    assert response.json()["status_code"] == status


def test_error_details_do_not_leak_storage_messages(anyio_backend: str) -> None:
    app = _raising_app(StorageFileNotFoundError("s3://secret-bucket/a missing", key="a"))
    with client_on(app, anyio_backend) as client:
        response = client.get("/boom")
    assert response.json() == {"status_code": 404, "detail": "Not Found"}


def test_503_carries_retry_after(anyio_backend: str) -> None:
    app = _raising_app(StorageConnectionError("unreachable"))
    with client_on(app, anyio_backend) as client:
        response = client.get("/boom")
    assert response.headers["retry-after"] == "1"


def test_error_mapping_can_be_turned_off(anyio_backend: str) -> None:
    app = _raising_app(StorageFileNotFoundError("missing"), register_exception_handlers=False)
    with client_on(app, anyio_backend, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500


def _gone(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return Response({"mine": True}, status_code=410)


def test_a_handler_the_app_registered_for_the_same_type_is_kept(anyio_backend: str) -> None:
    @get("/boom")
    async def boom() -> None:
        raise StorageFileNotFoundError("missing")

    app = Litestar(
        [boom],
        exception_handlers={StorageFileNotFoundError: _gone},
        plugins=[StoragePlugin(MemoryStorage())],
    )
    with client_on(app, anyio_backend) as client:
        response = client.get("/boom")
    assert (response.status_code, response.json()) == (410, {"mine": True})


def test_a_handler_the_app_registered_for_a_base_class_is_kept(anyio_backend: str) -> None:
    @get("/boom")
    async def boom() -> None:
        raise StoragePermissionError("denied")

    app = Litestar(
        [boom],
        exception_handlers={StorageError: _gone},
        plugins=[StoragePlugin(MemoryStorage())],
    )
    with client_on(app, anyio_backend) as client:
        response = client.get("/boom")
    assert response.status_code == 410


def test_other_app_handlers_are_left_alone() -> None:
    app = Litestar(
        [], exception_handlers={KeyError: _gone}, plugins=[StoragePlugin(MemoryStorage())]
    )
    assert app.exception_handlers[KeyError] is _gone
    assert StorageFileNotFoundError in app.exception_handlers
