"""Litestar DTOs for :class:`~litestar_storages.StoredFile` (the module path of 0.2.3).

``StoredFileDTO`` leaves out ``metadata`` (user metadata is often internal: uploader ids, original
paths); ``StoredFileReadDTO`` includes every field.

```python
@post("/upload", return_dto=StoredFileDTO)
async def upload(request: Request, storage: StorageDependency) -> StoredFile: ...
```
"""

from __future__ import annotations

from litestar.dto import DataclassDTO, DTOConfig

from litestar_storages import StoredFile

__all__ = ["StoredFileDTO", "StoredFileReadDTO"]


class StoredFileDTO(DataclassDTO[StoredFile]):
    """Serialises a ``StoredFile`` without its ``metadata``.

    Fields: ``key``, ``size``, ``content_type``, ``etag``, ``last_modified``.
    """

    config = DTOConfig(exclude={"metadata"})


class StoredFileReadDTO(DataclassDTO[StoredFile]):
    """Serialises a ``StoredFile`` with every field, ``metadata`` included."""

    config = DTOConfig()
