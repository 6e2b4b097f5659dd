"""``StoragePlugin``: storages as Litestar dependencies, closed on shutdown, errors as HTTP.

```python
app = Litestar(
    route_handlers=[...],
    plugins=[StoragePlugin(default=MemoryStorage(), images=S3Storage(S3Config(bucket="img")))],
)
```
registers the dependencies ``storage`` and ``images_storage`` (litestar-storages 0.2.3's names),
closes both storages after the application's own shutdown hooks, and maps the storage errors a
handler lets escape to HTTP responses:

| exception                  | status |
|----------------------------|--------|
| StorageFileNotFoundError   | 404    |
| StoragePermissionError     | 403    |
| StorageFileExistsError     | 409    |
| StorageInvalidKeyError     | 400    |
| StorageConnectionError     | 503    |

The plugin starts no background task; storages create their connection pools lazily on first
use, inside the running event loop.
"""

from __future__ import annotations

import keyword
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeAlias

try:
    from litestar.di import Provide
    from litestar.plugins import InitPluginProtocol
    from litestar.response import Response
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "StoragePlugin needs Litestar: pip install 'litestar-storages[litestar]'"
    ) from exc

from litestar_storages import (
    Storage,
    StorageConfigurationError,
    StorageConnectionError,
    StorageError,
    StorageFileExistsError,
    StorageFileNotFoundError,
    StorageInvalidKeyError,
    StoragePermissionError,
)

if TYPE_CHECKING:
    from litestar import Request
    from litestar.config.app import AppConfig
    from litestar.types import ExceptionHandlersMap

__all__ = [
    "EXCEPTION_STATUS",
    "StorageDependency",
    "StoragePlugin",
    "provide_storage",
    "storage_exception_handler",
]

logger = logging.getLogger("litestar_storages")

EXCEPTION_STATUS: dict[type[StorageError], int] = {
    StorageFileNotFoundError: 404,
    StoragePermissionError: 403,
    StorageFileExistsError: 409,
    StorageInvalidKeyError: 400,
    StorageConnectionError: 503,
}
"""The HTTP status of each storage error the plugin handles (subclasses included: a
``StorageTimeoutError`` is a ``StorageConnectionError``, so 503)."""

# Handlers for these are too general to count as the application's choice for storage errors.
_GENERIC_BASES = frozenset({object, BaseException, Exception})

# Annotation for an injected storage parameter: ``storage: StorageDependency``. On Litestar
# >= 2.23 it is ``NamedDependency[Storage]`` (a plain ``storage: Storage`` still works, but
# Litestar warns that inferred dependencies end with 3.0); on older versions it is ``Storage``.
if TYPE_CHECKING:
    StorageDependency: TypeAlias = Storage
else:
    try:
        from litestar.di import NamedDependency
    except ImportError:  # pragma: no cover - Litestar < 2.23 infers dependencies by name
        StorageDependency = Storage
    else:
        StorageDependency = NamedDependency[Storage]


def provide_storage(storage: Storage) -> Callable[[], Storage]:
    """A dependency provider returning ``storage`` (for registering one without the plugin).

    ``Litestar(dependencies={"storage": Provide(provide_storage(s), sync_to_thread=False)})``
    """

    def provider() -> Storage:
        return storage

    return provider


def storage_exception_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Turn a storage error into a JSON error response (``{"status_code", "detail"}``).

    The detail is the status phrase only: storage messages name keys, buckets and request ids,
    which are for the logs, not for clients. Errors that point at the server (403, 503) are
    logged as warnings.
    """
    status = next(
        (code for cls, code in EXCEPTION_STATUS.items() if isinstance(exc, cls)),
        500,
    )
    if status in (403, 500, 503):
        logger.warning("%s %s failed: %s", request.method, request.url.path, exc)
    detail = "Invalid storage key" if status == 400 else HTTPStatus(status).phrase
    return Response(
        {"status_code": status, "detail": detail},
        status_code=status,
        headers={"Retry-After": "1"} if status == 503 else None,
    )


class StoragePlugin(InitPluginProtocol):
    """Registers storages as dependencies, closes them on shutdown, maps their errors to HTTP.

    Args:
        default: Injected as ``storage``.
        register_exception_handlers: Map storage errors to 404/403/409/400/503 (see
            :data:`EXCEPTION_STATUS`). Handlers the application registered itself, for these
            exceptions or one of their bases (``StorageError``, ``FileNotFoundError``, ...), are
            kept.
        **named: Each injected as ``<name>_storage``.

    Raises:
        StorageConfigurationError: A name is not an identifier, or a value is not a storage.

    Example:
        >>> StoragePlugin(default=MemoryStorage(), images=MemoryStorage()).dependency_names
        ['storage', 'images_storage']
    """

    __slots__ = ("register_exception_handlers", "storages")

    def __init__(
        self,
        default: Storage | None = None,
        *,
        register_exception_handlers: bool = True,
        **named: Storage,
    ) -> None:
        storages: dict[str, Storage] = {}
        if default is not None:
            storages["default"] = default
        for name, storage in named.items():
            if not name.isidentifier() or keyword.iskeyword(name):
                raise StorageConfigurationError(
                    f"storage name {name!r} must be a Python identifier (it becomes the "
                    f"handler parameter '{name}_storage')"
                )
            storages[name] = storage
        for name, storage in storages.items():
            if not isinstance(storage, Storage):
                raise StorageConfigurationError(
                    f"StoragePlugin({name}=...) must be a storage, not {type(storage).__name__}"
                )
        self.storages = storages
        """The storages by name; the default one under ``"default"`` (as in 0.2.3)."""
        self.register_exception_handlers = register_exception_handlers

    @staticmethod
    def dependency_name(name: str) -> str:
        """The dependency a storage is injected as: ``storage`` or ``<name>_storage``."""
        return "storage" if name == "default" else f"{name}_storage"

    @property
    def dependency_names(self) -> list[str]:
        """Every dependency this plugin registers."""
        return [self.dependency_name(name) for name in self.storages]

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Add the dependencies, the shutdown hook and the exception handlers.

        Raises:
            StorageConfigurationError: The application already has a dependency of one of
                these names (silently replacing it would inject the wrong object).
        """
        dependencies = dict(app_config.dependencies)
        for name, storage in self.storages.items():
            dependency = self.dependency_name(name)
            if dependency in dependencies:
                raise StorageConfigurationError(
                    f"the application already has a dependency named {dependency!r}; "
                    f"StoragePlugin would replace it: rename one of them"
                )
            dependencies[dependency] = Provide(provide_storage(storage), sync_to_thread=False)
        app_config.dependencies = dependencies
        # Appended: Litestar runs on_shutdown hooks in order, after the lifespan context
        # managers, so the application's own shutdown code can still use its storages.
        app_config.on_shutdown = [*app_config.on_shutdown, self.close]
        if self.register_exception_handlers:
            app_config.exception_handlers = self._with_handlers(app_config.exception_handlers)
        return app_config

    @staticmethod
    def _with_handlers(existing: ExceptionHandlersMap) -> ExceptionHandlersMap:
        handlers = dict(existing)
        for exc_type in EXCEPTION_STATUS:
            bases = [cls for cls in exc_type.__mro__ if cls not in _GENERIC_BASES]
            if not any(cls in handlers for cls in bases):
                handlers[exc_type] = storage_exception_handler
        return handlers

    async def close(self) -> None:
        """Close every storage once; a failure is logged and the others are still closed."""
        seen: set[int] = set()
        for name, storage in self.storages.items():
            if id(storage) in seen:
                continue
            seen.add(id(storage))
            try:
                await storage.close()
            except Exception:
                logger.exception("closing storage %r failed", name)
