"""The exceptions every backend raises, and the one place HTTP statuses become them.

```
StorageError                          key, backend, status, code, request_id
├── StorageFileNotFoundError          also FileNotFoundError
├── StorageFileExistsError            also FileExistsError (create-only writes)
├── StoragePermissionError            also PermissionError (401/403, bad credentials)
├── StorageConnectionError            also ConnectionError (network failures)
│   └── StorageTimeoutError           also TimeoutError
├── StorageConfigurationError         also ValueError; alias ConfigurationError
├── StorageInvalidKeyError            also ValueError (empty, "..", absolute, NUL, too long)
├── StoragePreconditionFailedError    a conditional request failed (412, other than create-only)
├── StorageIntegrityError             truncated or corrupted body, checksum mismatch
├── StorageQuotaExceededError         size limit or provider quota reached
├── StorageUnsupportedOperationError  the backend cannot do this at all
└── StorageServerError                the provider failed (5xx) after every retry
```

Provider detail (the parsed XML/JSON error body, the httpx exception) stays available as
``__cause__``; messages name the key and the operation but never credentials, signatures or
presigned query strings.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "StorageConfigurationError",
    "StorageConnectionError",
    "StorageError",
    "StorageFileExistsError",
    "StorageFileNotFoundError",
    "StorageIntegrityError",
    "StorageInvalidKeyError",
    "StoragePermissionError",
    "StoragePreconditionFailedError",
    "StorageQuotaExceededError",
    "StorageServerError",
    "StorageTimeoutError",
    "StorageUnsupportedOperationError",
    "error_class_for_status",
]


class StorageError(Exception):
    """Base class of every error the library raises.

    Attributes:
        key: The object key involved, when there is one.
        backend: The backend's short name (``"s3"``, ``"filesystem"``, ...).
        status: The HTTP status of the failed response, for network backends.
        code: The provider's error code (``"NoSuchKey"``, ``"BlobNotFound"``, ...).
        request_id: The provider's request id, for support tickets.
    """

    def __init__(
        self,
        message: str = "",
        *,
        key: str | None = None,
        backend: str | None = None,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        # Pass only the message to the builtin base: OSError subclasses would otherwise try to
        # interpret extra positional arguments as (errno, strerror, filename).
        super().__init__(message)
        self.message = message
        self.key = key
        self.backend = backend
        self.status = status
        self.code = code
        self.request_id = request_id

    def __str__(self) -> str:
        parts = [self.message or type(self).__name__]
        details = [
            f"{name}={value!r}"
            for name, value in (
                ("key", self.key),
                ("backend", self.backend),
                ("status", self.status),
                ("code", self.code),
                ("request_id", self.request_id),
            )
            if value is not None and not (name == "key" and self.key and self.key in self.message)
        ]
        if details:
            parts.append(f"({', '.join(details)})")
        return " ".join(parts)

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}({self.message!r}, key={self.key!r}, backend={self.backend!r})"

    def __reduce__(self) -> tuple[object, ...]:
        # Keep the keyword attributes when pickled (multiprocessing, task queues).
        return (
            _rebuild,
            (
                type(self),
                self.message,
                self.key,
                self.backend,
                self.status,
                self.code,
                self.request_id,
            ),
        )


def _rebuild(  # noqa: PLR0917 - pickle calls it positionally
    cls: type[StorageError],
    message: str,
    key: str | None,
    backend: str | None,
    status: int | None,
    code: str | None,
    request_id: str | None,
) -> StorageError:
    return cls(message, key=key, backend=backend, status=status, code=code, request_id=request_id)


class StorageFileNotFoundError(StorageError, FileNotFoundError):
    """The key does not exist."""


class StorageFileExistsError(StorageError, FileExistsError):
    """A create-only write (``overwrite=False``) found the key already present."""


class StoragePermissionError(StorageError, PermissionError):
    """Access denied: missing or wrong credentials, or a policy forbids the operation."""


class StorageConnectionError(StorageError, ConnectionError):
    """The provider could not be reached, or the connection failed mid-request."""


class StorageTimeoutError(StorageConnectionError, TimeoutError):
    """A connect, read, write or pool timeout expired."""


class StorageConfigurationError(StorageError, ValueError):
    """The storage is misconfigured: missing bucket, no credentials, bad endpoint, ..."""


ConfigurationError = StorageConfigurationError
"""Alias of :class:`StorageConfigurationError` (the name litestar-storages 0.2.3 exported)."""


class StorageInvalidKeyError(StorageError, ValueError):
    """The key is not acceptable on any backend (see ``validate_key``)."""


class StoragePreconditionFailedError(StorageError):
    """A conditional request's precondition did not hold (HTTP 412)."""


class StorageIntegrityError(StorageError):
    """The data arrived truncated or corrupted (short body, checksum mismatch)."""


class StorageQuotaExceededError(StorageError):
    """A size limit or the provider's quota was reached."""


class StorageUnsupportedOperationError(StorageError):
    """This backend cannot perform the operation."""


class StorageServerError(StorageError):
    """The provider reported an internal failure that retries did not overcome."""


# Provider error codes whose meaning is more precise than their HTTP status. Written once here so
# the S3, GCS and Azure backends agree (S3 sends 403 for a missing key without ListBucket rights,
# Azure sends 409 for "already exists", GCS 412 for create-only conflicts ...).
_CODE_CLASSES: dict[str, type[StorageError]] = {
    # S3 / S3-compatible
    "NoSuchKey": StorageFileNotFoundError,
    "NoSuchBucket": StorageConfigurationError,
    "NoSuchUpload": StorageFileNotFoundError,
    "InvalidPart": StoragePreconditionFailedError,
    "InvalidPartOrder": StoragePreconditionFailedError,
    "PreconditionFailed": StoragePreconditionFailedError,
    "EntityTooSmall": StoragePreconditionFailedError,
    "InvalidAccessKeyId": StoragePermissionError,
    "SignatureDoesNotMatch": StoragePermissionError,
    "AccessDenied": StoragePermissionError,
    "ExpiredToken": StoragePermissionError,
    "InvalidToken": StoragePermissionError,
    "QuotaExceeded": StorageQuotaExceededError,
    "EntityTooLarge": StorageQuotaExceededError,
    "BadDigest": StorageIntegrityError,
    "InvalidDigest": StorageIntegrityError,
    "IncompleteBody": StorageIntegrityError,
    "XAmzContentSHA256Mismatch": StorageIntegrityError,
    # Azure Blob
    "BlobNotFound": StorageFileNotFoundError,
    "ContainerNotFound": StorageConfigurationError,
    "BlobAlreadyExists": StorageFileExistsError,
    "AuthenticationFailed": StoragePermissionError,
    "AuthorizationFailure": StoragePermissionError,
    "AuthorizationPermissionMismatch": StoragePermissionError,
    "InsufficientAccountPermissions": StoragePermissionError,
    "Md5Mismatch": StorageIntegrityError,
    "Crc64Mismatch": StorageIntegrityError,
    "InvalidBlockList": StoragePreconditionFailedError,
}

_STATUS_CLASSES: dict[int, type[StorageError]] = {
    401: StoragePermissionError,
    403: StoragePermissionError,
    404: StorageFileNotFoundError,
    408: StorageTimeoutError,
    412: StoragePreconditionFailedError,
    413: StorageQuotaExceededError,
    507: StorageQuotaExceededError,
}


def error_class_for_status(status: int, code: str | None = None) -> type[StorageError]:
    """Return the exception class for an HTTP error response.

    The provider's error code wins over the status where it is known, because the same status
    means different things across providers.
    """
    if code is not None and code in _CODE_CLASSES:
        return _CODE_CLASSES[code]
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status >= 500:
        return StorageServerError
    return StorageError
