"""Errors are mapped once: httpx exceptions and provider error responses to StorageError."""

from __future__ import annotations

import httpx
import pytest

from litestar_storages._http.errors import (
    ProviderError,
    map_transport_error,
    redact,
    request_id_from,
    storage_error,
)
from litestar_storages.exceptions import (
    StorageConfigurationError,
    StorageConnectionError,
    StorageError,
    StorageFileNotFoundError,
    StoragePermissionError,
    StoragePreconditionFailedError,
    StorageQuotaExceededError,
    StorageServerError,
    StorageTimeoutError,
)


@pytest.mark.parametrize(
    ("exc", "cls", "kind"),
    [
        (httpx.ConnectError("refused"), StorageConnectionError, "connect"),
        (httpx.ConnectTimeout("slow"), StorageTimeoutError, "connect"),
        (httpx.PoolTimeout("busy"), StorageTimeoutError, "connect"),
        (httpx.ReadTimeout("slow"), StorageTimeoutError, "timeout"),
        (httpx.WriteTimeout("slow"), StorageTimeoutError, "timeout"),
        (httpx.ReadError("reset"), StorageConnectionError, "network"),
        (httpx.WriteError("broken pipe"), StorageConnectionError, "network"),
        (httpx.RemoteProtocolError("peer closed"), StorageConnectionError, "network"),
        (httpx.UnsupportedProtocol("ftp"), StorageConfigurationError, None),
    ],
)
def test_transport_errors_map_to_connection_errors(
    exc: httpx.HTTPError, cls: type[StorageError], kind: str | None
) -> None:
    error, got_kind = map_transport_error(exc, operation="GetObject", key="k", backend="s3")
    assert type(error) is cls
    assert got_kind == kind
    assert error.__cause__ is exc
    assert (error.key, error.backend) == ("k", "s3")


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (404, "NoSuchKey", StorageFileNotFoundError),
        (404, None, StorageFileNotFoundError),
        (403, "AccessDenied", StoragePermissionError),
        (403, "SignatureDoesNotMatch", StoragePermissionError),
        (400, "InvalidAccessKeyId", StoragePermissionError),
        (412, "PreconditionFailed", StoragePreconditionFailedError),
        (400, "EntityTooLarge", StorageQuotaExceededError),
        (503, "SlowDown", StorageServerError),
        (500, "InternalError", StorageServerError),
        (404, "NoSuchBucket", StorageConfigurationError),
        (400, "InvalidArgument", StorageError),
    ],
)
def test_responses_map_by_code_then_status(
    status: int, code: str | None, cls: type[StorageError]
) -> None:
    provider = ProviderError(status, code, "message", request_id="RID")
    error = storage_error(provider, operation="GetObject", key="a/b", backend="s3")
    assert type(error) is cls
    assert (error.status, error.code, error.request_id) == (status, code, "RID")
    assert error.__cause__ is provider


def test_messages_never_contain_presigned_query_strings() -> None:
    text = (
        "see https://b.s3.amazonaws.com/k?X-Amz-Signature=abc&X-Amz-Credential=AKIA/x for details"
    )
    assert redact(text) == "see https://b.s3.amazonaws.com/k?<redacted> for details"
    provider = ProviderError(403, "AccessDenied", text)
    error = storage_error(provider, operation="GetObject", key="k", backend="s3")
    assert "X-Amz-Signature" not in str(error)
    assert "abc" not in str(provider)


def test_transport_error_messages_are_redacted() -> None:
    exc = httpx.ConnectError("cannot reach http://h/k?sig=SECRET")
    error, _ = map_transport_error(exc, operation="GetObject", key="k", backend="s3")
    assert "SECRET" not in str(error)


def test_request_id_is_taken_from_the_first_present_header() -> None:
    headers = httpx.Headers({"x-amz-id-2": "HOST", "x-amz-request-id": "REQ"})
    assert request_id_from(headers, ("x-amz-request-id", "x-amz-id-2")) == "REQ"
    assert (
        request_id_from(httpx.Headers({"x-amz-id-2": "HOST"}), ("x-amz-request-id", "x-amz-id-2"))
        == "HOST"
    )
    assert request_id_from(httpx.Headers(), ("x-amz-request-id",)) is None


def test_long_provider_messages_are_shortened() -> None:
    assert len(str(ProviderError(500, "InternalError", "x" * 5000))) < 400
