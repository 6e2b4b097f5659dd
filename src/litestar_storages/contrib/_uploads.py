"""Streaming ``multipart/form-data`` uploads straight into storages.

``receive_uploads(request, storage, UploadField("document", count=3, max_size=...))`` reads the
request body as it arrives (never through Litestar's form parsing, which spools every file) and
hands each file part to ``storage.put`` as an async iterator, so memory stays bounded by one
network chunk plus what the backend buffers for one part.

The behaviours follow the ``filestore`` seed: per-field rules (how many files, how large, which
content types), sanitised filenames, collision-safe keys (``doc.pdf``, ``doc-1.pdf``, ... or
generated ids) and nothing left behind when a rule is broken or the client goes away mid-upload.

Collision-safe names without races: a name is *claimed* with a create-only write of an empty
object (``put(key, b"", overwrite=False)``, which exactly one writer can win), and the file is
then streamed onto the claimed key. A streamed body cannot be replayed, so trying create-only
writes of the body itself under successive names would lose the data on the first conflict
detected after streaming. While a file streams, its key holds the empty placeholder.

Cleanup: every key this request stored or claimed is deleted (shielded from cancellation, with a
time limit) when anything fails: a broken rule, a malformed body, a client disconnect, a storage
error, cancellation. The interrupted ``put`` itself leaves nothing, because the backends' writes
are atomic (memory stores on completion, the filesystem renames a finished temporary file, cloud
multipart uploads are aborted).
"""

from __future__ import annotations

import contextlib
import logging
import mimetypes
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

import anyio
from litestar.exceptions import ClientException

from litestar_storages import (
    Storage,
    StorageConfigurationError,
    StorageFileExistsError,
    StoredFile,
    UploadResult,
)
from litestar_storages.contrib._filenames import numbered_names, sanitize_filename, split_extension
from litestar_storages.contrib._multipart import (
    MultipartFormatError,
    MultipartLimitError,
    MultipartReader,
    PartHeaders,
)

if TYPE_CHECKING:
    from litestar import Request

__all__ = [
    "StoredUpload",
    "UploadContentTypeError",
    "UploadError",
    "UploadField",
    "UploadTooLargeError",
    "UploadedForm",
    "receive_uploads",
]

logger = logging.getLogger("litestar_storages")

MAX_NUMBERED_ATTEMPTS = 100
"""Names tried (``doc.pdf`` ... ``doc-99.pdf``) before falling back to a random suffix."""

MAX_RANDOM_ATTEMPTS = 10
"""Random suffixes tried after that; more failures mean a broken ``id_factory``."""

CLEANUP_TIMEOUT = 30.0
"""Seconds the shielded cleanup may take before it gives up (and logs what it left)."""

Naming = Literal["filename", "uuid"]


# --------------------------------------------------------------------------- errors
class UploadError(ClientException):
    """The upload was refused (400): malformed body, too many files, missing or unknown field.

    Attributes:
        field: The form field concerned, when there is one.
    """

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail=detail, extra={"field": field} if field is not None else None)
        self.field = field


class UploadTooLargeError(UploadError):
    """A file, a form value or the number of parts exceeded its limit (413)."""

    status_code = 413


class UploadContentTypeError(UploadError):
    """A file's content type is not allowed, or the request is not multipart/form-data (415)."""

    status_code = 415


# --------------------------------------------------------------------------- rules and results
@dataclass(frozen=True)
class UploadField:
    """The rules for one file field of a form.

    Attributes:
        name: The form field name (``<input type="file" name="...">``).
        count: Most files accepted in this field (``<input multiple>`` sends several).
        max_size: Largest file in bytes, enforced while streaming; ``None``: no limit of ours
            (Litestar's ``request_max_body_size`` still applies to the whole request).
        content_types: Accepted media types, exact (``"application/pdf"``) or by major type
            (``"image/*"``); ``None`` accepts any. This is the type the client *declared*;
            check the content itself where that matters.
        destination: Key prefix, e.g. ``"uploads/documents"``.
        naming: ``"filename"``: the sanitised client filename, made unique with ``-1``, ``-2``
            ... (unless ``overwrite``); ``"uuid"``: a random id plus the file's extension.
        overwrite: With ``naming="filename"``, replace an existing object of the same name
            instead of choosing a new name.
        required: Refuse the form (400) when no file arrived in this field.
        storage: Where this field's files go; ``None``: the storage given to
            :func:`receive_uploads`.
        metadata: User metadata stored with every file of this field.
        generate_url: Fill :attr:`StoredUpload.url` with ``await storage.url(key)``.
    """

    name: str
    count: int = 1
    max_size: int | None = None
    content_types: Collection[str] | None = None
    destination: str = ""
    naming: Naming = "filename"
    overwrite: bool = False
    required: bool = False
    storage: Storage | None = field(default=None, compare=False)
    metadata: Mapping[str, str] | None = field(default=None, compare=False)
    generate_url: bool = False

    def __post_init__(self) -> None:
        if not self.name:
            raise StorageConfigurationError("UploadField.name must not be empty")
        if self.count < 1:
            raise StorageConfigurationError(f"UploadField {self.name!r}: count must be >= 1")
        if self.max_size is not None and self.max_size < 0:
            raise StorageConfigurationError(f"UploadField {self.name!r}: max_size must be >= 0")
        if self.naming not in ("filename", "uuid"):
            raise StorageConfigurationError(
                f"UploadField {self.name!r}: naming must be 'filename' or 'uuid'"
            )
        destination = self.destination.strip("/")
        if any(segment in ("", ".", "..") for segment in destination.split("/")) and destination:
            raise StorageConfigurationError(
                f"UploadField {self.name!r}: destination {self.destination!r} has an empty, "
                "'.' or '..' segment"
            )
        object.__setattr__(self, "destination", destination)
        if self.content_types is not None:
            types = frozenset(t.strip().lower() for t in self.content_types)
            object.__setattr__(self, "content_types", types)

    def accepts(self, content_type: str) -> bool:
        """Whether files declared as ``content_type`` may be stored in this field."""
        if self.content_types is None:
            return True
        major = content_type.split("/", 1)[0]
        return bool({content_type, f"{major}/*", "*/*"} & set(self.content_types))

    def key_for(self, name: str) -> str:
        """The key of a file called ``name`` (already sanitised) in this field."""
        return f"{self.destination}/{name}" if self.destination else name


@dataclass(frozen=True)
class StoredUpload(UploadResult):
    """One stored file of a form: an :class:`~litestar_storages.UploadResult` plus its origin.

    Attributes:
        file: What was stored (``file.key`` is where).
        url: A URL for it, when the field has ``generate_url=True``.
        field: The form field it came in.
        filename: The filename the client sent, unsanitised (``None`` if it sent none); for
            display only, never for paths.
    """

    field: str = ""
    filename: str | None = None


@dataclass(frozen=True)
class UploadedForm:
    """What :func:`receive_uploads` read (returned from a handler, it serialises as
    ``{"uploads": [...], "values": {...}}``).

    Attributes:
        uploads: Every stored file, in arrival order.
        values: The form's other (text) values by field name.
    """

    uploads: list[StoredUpload]
    values: dict[str, list[str]]

    @property
    def files(self) -> dict[str, list[StoredUpload]]:
        """The stored files by field name."""
        files: dict[str, list[StoredUpload]] = {}
        for upload in self.uploads:
            files.setdefault(upload.field, []).append(upload)
        return files

    def file(self, name: str) -> StoredUpload | None:
        """The first file of field ``name``, or ``None``."""
        return next((upload for upload in self.uploads if upload.field == name), None)

    def value(self, name: str, default: str | None = None) -> str | None:
        """The first text value of field ``name``, or ``default``."""
        values = self.values.get(name)
        return values[0] if values else default


# --------------------------------------------------------------------------- body of one part
class _PartBody:
    """One file part's body as the async iterator ``put`` consumes; enforces ``max_size``."""

    def __init__(self, reader: MultipartReader, field: UploadField) -> None:
        self._reader = reader
        self._field = field
        self._first: bytes | None = None
        self._peeked = False
        self.size = 0

    async def is_empty(self) -> bool:
        if not self._peeked:
            self._first = await self._reader.read_chunk()
            self._peeked = True
        return self._first is None

    def __aiter__(self) -> _PartBody:
        return self

    async def __anext__(self) -> bytes:
        if self._peeked:
            chunk, self._first, self._peeked = self._first, None, False
        else:
            chunk = await self._reader.read_chunk()
        if chunk is None:
            raise StopAsyncIteration
        self.size += len(chunk)
        limit = self._field.max_size
        if limit is not None and self.size > limit:
            raise UploadTooLargeError(
                f"file in field {self._field.name!r} is larger than {limit} bytes",
                field=self._field.name,
            )
        return chunk


# --------------------------------------------------------------------------- the helper
def _random_id() -> str:
    return uuid.uuid4().hex


def _boundary(content_type: str) -> str:
    media_type, _, params = content_type.partition(";")
    if media_type.strip().lower() != "multipart/form-data":
        raise UploadContentTypeError("the request must be multipart/form-data")
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "boundary":
            boundary = value.strip().strip('"')
            if boundary:
                return boundary
    raise UploadError("multipart/form-data request without a boundary")


async def receive_uploads(
    request: Request[Any, Any, Any],
    storage: Storage | None,
    *fields: UploadField,
    max_values: int = 100,
    max_value_size: int = 64 * 1024,
    id_factory: Callable[[], str] = _random_id,
) -> UploadedForm:
    """Stream the files of a ``multipart/form-data`` request into storage.

    Call it from a handler that does not declare ``data`` (so Litestar leaves the body
    unread). Files of the declared ``fields`` are stored as they arrive; other text values are
    collected into :attr:`UploadedForm.values`; a file in an undeclared field is refused.

    Args:
        request: The Litestar request.
        storage: Where files go, unless their field names its own ``storage``.
        *fields: The rules of each file field.
        max_values: Most text values accepted.
        max_value_size: Largest text value in bytes.
        id_factory: Source of random names (``naming="uuid"`` and empty filenames).

    Returns:
        The stored files and the form's text values.

    Raises:
        UploadError: 400: malformed body, too many files, missing required or unknown file field.
        UploadTooLargeError: 413: a file, a value or the number of parts is over its limit.
        UploadContentTypeError: 415: a file type is not allowed, or the body is not a form.
        StorageError: From the storage (mapped to HTTP by the plugin's exception handlers).

    Whatever the failure, every object this call stored is deleted before the error propagates.
    """
    rules = _check_rules(storage, fields)
    boundary = _boundary(request.headers.get("content-type", ""))
    max_parts = sum(rule.count for rule in rules.values()) + max_values
    receiver = _Receiver(rules, storage, max_values, max_value_size, id_factory)
    async with contextlib.aclosing(request.stream()) as body:
        return await receiver.run(body, boundary, max_parts=max_parts)


def _check_rules(
    storage: Storage | None, fields: tuple[UploadField, ...]
) -> dict[str, UploadField]:
    rules: dict[str, UploadField] = {}
    for rule in fields:
        if not isinstance(rule, UploadField):
            raise TypeError(f"fields must be UploadField instances, not {type(rule).__name__}")
        if rule.name in rules:
            raise StorageConfigurationError(f"UploadField {rule.name!r} is declared twice")
        if rule.storage is None and storage is None:
            raise StorageConfigurationError(
                f"UploadField {rule.name!r} has no storage and receive_uploads() got none"
            )
        rules[rule.name] = rule
    return rules


class _Receiver:
    """The state of one ``receive_uploads`` call: what was stored, so it can be undone."""

    def __init__(
        self,
        rules: dict[str, UploadField],
        storage: Storage | None,
        max_values: int,
        max_value_size: int,
        id_factory: Callable[[], str],
    ) -> None:
        self._rules = rules
        self._storage = storage
        self._max_values = max_values
        self._max_value_size = max_value_size
        self._id_factory = id_factory
        self._written: list[tuple[Storage, str]] = []  # to delete if anything fails
        self._files: dict[str, list[StoredUpload]] = {}
        self._values: dict[str, list[str]] = {}
        self._uploads: list[StoredUpload] = []

    async def run(
        self, body: AsyncIterator[bytes], boundary: str, *, max_parts: int
    ) -> UploadedForm:
        try:
            reader = MultipartReader(body, boundary, max_parts=max_parts)
            while (part := await reader.next_part()) is not None:
                rule = self._rules.get(part.name)
                if rule is not None:
                    await self._receive_file(reader, part, rule)
                elif part.filename is not None:
                    raise UploadError(f"unexpected file field {part.name!r}", field=part.name)
                else:
                    await self._receive_value(reader, part)
            for rule in self._rules.values():
                if rule.required and not self._files.get(rule.name):
                    raise UploadError(f"field {rule.name!r} requires a file", field=rule.name)
        except MultipartLimitError as exc:
            await self._undo()
            raise UploadTooLargeError(f"too many form parts or oversized headers: {exc}") from None
        except MultipartFormatError as exc:
            await self._undo()
            raise UploadError(f"malformed multipart/form-data body: {exc}") from None
        except BaseException:
            await self._undo()
            raise
        return UploadedForm(uploads=self._uploads, values=self._values)

    async def _receive_value(self, reader: MultipartReader, part: PartHeaders) -> None:
        if sum(len(v) for v in self._values.values()) >= self._max_values:
            raise UploadTooLargeError(f"more than {self._max_values} form values")
        buffer = bytearray()
        while (chunk := await reader.read_chunk()) is not None:
            buffer += chunk
            if len(buffer) > self._max_value_size:
                raise UploadTooLargeError(
                    f"form value {part.name!r} is larger than {self._max_value_size} bytes",
                    field=part.name,
                )
        try:
            value = buffer.decode(part.charset or "utf-8")
        except (LookupError, UnicodeDecodeError):
            raise UploadError(
                f"form value {part.name!r} is not valid text", field=part.name
            ) from None
        self._values.setdefault(part.name, []).append(value)

    async def _receive_file(
        self, reader: MultipartReader, part: PartHeaders, rule: UploadField
    ) -> None:
        body = _PartBody(reader, rule)
        if not part.filename and await body.is_empty():
            return  # what browsers send for a file input left empty
        received = self._files.setdefault(rule.name, [])
        if len(received) >= rule.count:
            raise UploadError(
                f"field {rule.name!r} accepts at most {rule.count} file(s)", field=rule.name
            )
        name = sanitize_filename(part.filename, fallback=self._id_factory)
        content_type = part.content_type or mimetypes.guess_type(name)[0]
        content_type = content_type or "application/octet-stream"
        if not rule.accepts(content_type):
            raise UploadContentTypeError(
                f"content type {content_type!r} is not allowed in field {rule.name!r}",
                field=rule.name,
            )
        storage = cast("Storage", rule.storage or self._storage)  # checked by _check_rules
        stored = await self._store(storage, rule, name, body, content_type)
        url = await storage.url(stored.key) if rule.generate_url else None
        upload = StoredUpload(file=stored, url=url, field=rule.name, filename=part.filename)
        self._uploads.append(upload)
        received.append(upload)

    async def _store(
        self, storage: Storage, rule: UploadField, name: str, body: _PartBody, content_type: str
    ) -> StoredFile:
        options: dict[str, Any] = {"content_type": content_type, "metadata": rule.metadata}
        if rule.naming == "uuid":
            _, extension = split_extension(name)
            key = rule.key_for(f"{self._id_factory()}{extension.lower()}")
            stored = await storage.put(key, body, overwrite=False, **options)
        elif rule.overwrite:
            key = rule.key_for(name)
            # Only after success: a failed put leaves the previous object in place.
            stored = await storage.put(key, body, overwrite=True, **options)
        else:
            key = await self._claim(storage, rule, name)  # records the key for cleanup
            return await storage.put(key, body, overwrite=True, **options)
        self._written.append((storage, key))
        return stored

    async def _claim(self, storage: Storage, rule: UploadField, name: str) -> str:
        """Reserve the first free name of ``doc.pdf``, ``doc-1.pdf``, ... (create-only)."""
        candidates = numbered_names(name)
        for _ in range(MAX_NUMBERED_ATTEMPTS):
            key = rule.key_for(next(candidates))
            if await self._try_claim(storage, key):
                return key
        stem, extension = split_extension(name)
        for _ in range(MAX_RANDOM_ATTEMPTS):  # a crowded name: random suffixes rarely collide
            key = rule.key_for(f"{stem}-{self._id_factory()[:12]}{extension}")
            if await self._try_claim(storage, key):
                return key
        raise StorageFileExistsError(
            f"no free name for {name!r} in field {rule.name!r}", key=rule.key_for(name)
        )

    async def _try_claim(self, storage: Storage, key: str) -> bool:
        try:
            await storage.put(key, b"", overwrite=False)
        except StorageFileExistsError:
            return False
        self._written.append((storage, key))
        return True

    async def _undo(self) -> None:
        """Delete everything this request stored; shielded, so cancellation cannot skip it."""
        if not self._written:
            return
        with anyio.move_on_after(CLEANUP_TIMEOUT, shield=True) as scope:
            while self._written:
                storage, key = self._written[-1]
                try:
                    await storage.delete(key)
                except Exception:
                    logger.exception("could not delete %r after a failed upload", key)
                self._written.pop()
        if scope.cancelled_caught:
            logger.error(
                "cleanup after a failed upload timed out; left behind: %s",
                [key for _, key in self._written],
            )
