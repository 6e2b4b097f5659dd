"""Value types: StoredFile, MultipartUpload, ProgressInfo, exceptions."""

from __future__ import annotations

import json
import pickle
from datetime import datetime, timezone

import pytest

from litestar_storages import (
    ConfigurationError,
    MultipartUpload,
    ProgressInfo,
    StorageConfigurationError,
    StorageError,
    StorageFileExistsError,
    StorageFileNotFoundError,
    StoragePermissionError,
    StoredFile,
    UploadResult,
)
from litestar_storages.exceptions import (
    StorageConnectionError,
    StorageIntegrityError,
    StoragePreconditionFailedError,
    StorageQuotaExceededError,
    StorageServerError,
    StorageTimeoutError,
    error_class_for_status,
)


def test_stored_file_is_frozen() -> None:
    stored = StoredFile(key="a", size=1)
    with pytest.raises(AttributeError):
        stored.size = 2  # type: ignore[misc]


def test_stored_file_defaults() -> None:
    stored = StoredFile(key="a", size=0)
    assert (stored.content_type, stored.etag, stored.last_modified, stored.metadata) == (
        None,
        None,
        None,
        {},
    )


def test_upload_result_pairs_a_file_with_a_url() -> None:
    result = UploadResult(file=StoredFile(key="a", size=1), url="memory://a")
    assert result.url == "memory://a"


def test_multipart_upload_add_part_replaces_a_reuploaded_part() -> None:
    upload = MultipartUpload(upload_id="u", key="k")
    upload.add_part(2, "b")
    upload.add_part(1, "a")
    upload.add_part(2, "b2")
    assert sorted(upload.parts) == [(1, "a"), (2, "b2")]
    assert upload.completed_parts == 2


def test_multipart_upload_round_trips_through_json() -> None:
    upload = MultipartUpload(
        upload_id="u",
        key="k",
        part_size=6 * 1024 * 1024,
        total_parts=3,
        content_type="text/plain",
        metadata={"a": "1"},
    )
    upload.add_part(1, "etag1")
    restored = MultipartUpload.from_dict(json.loads(json.dumps(upload.to_dict())))
    assert restored == upload


def test_multipart_upload_pickles() -> None:
    upload = MultipartUpload(upload_id="u", key="k", parts=[(1, "e")])
    assert pickle.loads(pickle.dumps(upload)) == upload


@pytest.mark.parametrize(
    ("transferred", "total", "elapsed", "percentage", "rate", "eta"),
    [
        (50, 100, 2.0, 50.0, 25.0, 2.0),
        (0, 100, 0.0, 0.0, 0.0, None),
        (10, None, 1.0, None, 10.0, None),
        (0, 0, 0.0, 100.0, 0.0, None),
        (100, 100, 4.0, 100.0, 25.0, 0.0),
    ],
)
def test_progress_info_derived_values(
    transferred: int,
    total: int | None,
    elapsed: float,
    percentage: float | None,
    rate: float,
    eta: float | None,
) -> None:
    info = ProgressInfo(transferred, total, "upload", "k", elapsed_seconds=elapsed)
    assert info.percentage == percentage
    assert info.bytes_per_second == rate
    assert info.eta_seconds == eta


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (StorageFileNotFoundError, FileNotFoundError),
        (StorageFileExistsError, FileExistsError),
        (StoragePermissionError, PermissionError),
        (StorageConnectionError, ConnectionError),
        (StorageTimeoutError, TimeoutError),
        (StorageConfigurationError, ValueError),
    ],
)
def test_exceptions_subclass_the_matching_builtins(
    cls: type[StorageError], builtin: type[BaseException]
) -> None:
    exc = cls("message", key="k", backend="s3", status=404, code="NoSuchKey", request_id="r1")
    assert isinstance(exc, builtin)
    assert isinstance(exc, StorageError)
    assert (exc.key, exc.backend, exc.status, exc.code, exc.request_id) == (
        "k",
        "s3",
        404,
        "NoSuchKey",
        "r1",
    )
    assert str(exc).startswith("message")


def test_configuration_error_is_an_alias() -> None:
    assert ConfigurationError is StorageConfigurationError


def test_exception_str_carries_the_details_for_support() -> None:
    exc = StorageError("upload failed", key="a.txt", backend="s3", status=500, request_id="XYZ")
    text = str(exc)
    assert "a.txt" in text
    assert "500" in text
    assert "XYZ" in text


def test_exceptions_pickle_with_their_attributes() -> None:
    exc = StorageFileNotFoundError("gone", key="k", backend="gcs", status=404, code="x")
    clone = pickle.loads(pickle.dumps(exc))
    assert type(clone) is StorageFileNotFoundError
    assert (clone.key, clone.backend, clone.status, clone.code) == ("k", "gcs", 404, "x")


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (404, None, StorageFileNotFoundError),
        (403, None, StoragePermissionError),
        (401, None, StoragePermissionError),
        (403, "NoSuchKey", StorageFileNotFoundError),
        (409, "BlobAlreadyExists", StorageFileExistsError),
        (412, None, StoragePreconditionFailedError),
        (413, None, StorageQuotaExceededError),
        (400, "BadDigest", StorageIntegrityError),
        (500, None, StorageServerError),
        (503, "SlowDown", StorageServerError),
        (408, None, StorageTimeoutError),
        (400, None, StorageError),
        (404, "ContainerNotFound", StorageConfigurationError),
    ],
)
def test_status_and_code_map_to_one_error_class(
    status: int, code: str | None, expected: type[StorageError]
) -> None:
    assert error_class_for_status(status, code) is expected


def test_stored_file_last_modified_accepts_aware_datetimes() -> None:
    now = datetime.now(timezone.utc)
    assert StoredFile(key="a", size=1, last_modified=now).last_modified == now
