"""Every Azure error code the backend meets, mapped to the StorageError tree (and retried
where the service says "try again")."""

from __future__ import annotations

import httpx
import pytest
import respx

from litestar_storages.backends.azure import AzureStorage
from litestar_storages.exceptions import (
    StorageConfigurationError,
    StorageError,
    StorageFileExistsError,
    StorageFileNotFoundError,
    StorageIntegrityError,
    StoragePermissionError,
    StoragePreconditionFailedError,
    StorageServerError,
    StorageTimeoutError,
)

from ._azure_helpers import ENDPOINT, error, properties_headers

pytestmark = pytest.mark.anyio

URL = f"{ENDPOINT}/box/k"


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (404, "BlobNotFound", StorageFileNotFoundError),
        (404, "ContainerNotFound", StorageConfigurationError),
        (403, "AuthenticationFailed", StoragePermissionError),
        (403, "AuthorizationFailure", StoragePermissionError),
        (403, "AuthorizationPermissionMismatch", StoragePermissionError),
        (403, "InsufficientAccountPermissions", StoragePermissionError),
        (400, "Md5Mismatch", StorageIntegrityError),
        (400, "InvalidMetadata", StorageError),
    ],
)
async def test_error_codes_map_to_storage_errors(
    router: respx.MockRouter,
    storage: AzureStorage,
    status: int,
    code: str,
    expected: type[Exception],
) -> None:
    router.put(URL).mock(return_value=error(status, code))
    with pytest.raises(expected) as caught:
        await storage.put("k", b"x")
    assert caught.value.code == code  # type: ignore[attr-defined]
    assert caught.value.status == status  # type: ignore[attr-defined]
    assert caught.value.request_id == "req-1"  # type: ignore[attr-defined]
    assert caught.value.key == "k"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("status", "code"), [(503, "ServerBusy"), (500, "OperationTimedOut"), (500, "InternalError")]
)
async def test_transient_codes_are_retried_then_raised(
    router: respx.MockRouter, storage: AzureStorage, status: int, code: str
) -> None:
    route = router.head(URL).mock(return_value=error(status, code, head=True))
    with pytest.raises(StorageServerError) as caught:
        await storage.info("k")
    assert route.call_count == 3
    assert caught.value.code == code


async def test_server_busy_then_success_succeeds(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    router.head(URL).mock(
        side_effect=[
            error(503, "ServerBusy", head=True),
            httpx.Response(200, headers=properties_headers()),
        ]
    )
    assert (await storage.info("k")).size == 5


async def test_bodiless_head_errors_use_the_error_code_header(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    router.head(URL).mock(return_value=error(404, "ContainerNotFound", head=True))
    with pytest.raises(StorageConfigurationError):
        await storage.exists("k")


async def test_missing_container_is_not_a_missing_key_on_delete(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    router.delete(URL).mock(return_value=error(404, "ContainerNotFound"))
    with pytest.raises(StorageConfigurationError):
        await storage.delete("k")


async def test_create_only_put_on_existing_blob_raises_file_exists(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    router.put(URL).mock(return_value=error(409, "BlobAlreadyExists"))
    with pytest.raises(StorageFileExistsError):
        await storage.put("k", b"x", overwrite=False)


async def test_create_only_refused_by_412_is_also_file_exists(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    router.put(URL).mock(return_value=error(412, "ConditionNotMet"))
    with pytest.raises(StorageFileExistsError):
        await storage.put("k", b"x", overwrite=False)


async def test_412_on_an_overwriting_put_stays_a_precondition_failure(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    router.put(URL).mock(return_value=error(412, "ConditionNotMet"))
    with pytest.raises(StoragePreconditionFailedError):
        await storage.put("k", b"x")


async def test_invalid_block_list_is_a_precondition_failure(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    router.put(URL).mock(side_effect=[httpx.Response(201), error(400, "InvalidBlockList")])
    upload = await storage.start_multipart_upload("k")
    await storage.upload_part(upload, 1, b"x")
    with pytest.raises(StoragePreconditionFailedError) as caught:
        await storage.complete_multipart_upload(upload)
    assert caught.value.code == "InvalidBlockList"


async def test_get_of_a_missing_blob_raises_on_the_first_chunk(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    router.get(URL).mock(return_value=error(404, "BlobNotFound"))
    stream = storage.get("k")  # no request yet
    with pytest.raises(StorageFileNotFoundError):
        await stream.read()


async def test_copy_of_a_missing_source_names_the_source(
    router: respx.MockRouter, storage: AzureStorage
) -> None:
    router.put(f"{ENDPOINT}/box/dst").mock(return_value=error(404, "CannotVerifyCopySource"))
    with pytest.raises(StorageFileNotFoundError) as caught:
        await storage.copy("src", "dst")
    assert caught.value.key == "src"


async def test_failed_copy_is_an_error(router: respx.MockRouter, storage: AzureStorage) -> None:
    router.put(f"{ENDPOINT}/box/dst").mock(
        return_value=httpx.Response(
            202, headers={"x-ms-copy-id": "c", "x-ms-copy-status": "pending"}
        )
    )
    router.head(f"{ENDPOINT}/box/dst").mock(
        return_value=httpx.Response(
            200,
            headers=properties_headers(
                x_ms_copy_id="c", x_ms_copy_status="failed", x_ms_copy_status_description="500 Oops"
            ),
        )
    )
    with pytest.raises(StorageError, match="500 Oops") as caught:
        await storage.copy("src", "dst")
    assert caught.value.code == "CopyFailed"


async def test_pending_copy_is_polled_until_it_succeeds(
    router: respx.MockRouter, storage: AzureStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    import anyio

    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(anyio, "sleep", fake_sleep)
    router.put(f"{ENDPOINT}/box/dst").mock(
        return_value=httpx.Response(
            202, headers={"x-ms-copy-id": "c", "x-ms-copy-status": "pending"}
        )
    )
    pending = httpx.Response(
        200, headers=properties_headers(x_ms_copy_id="c", x_ms_copy_status="pending")
    )
    done = httpx.Response(
        200, headers=properties_headers(x_ms_copy_id="c", x_ms_copy_status="success")
    )
    head = router.head(f"{ENDPOINT}/box/dst").mock(side_effect=[pending, pending, done])
    await storage.copy("src", "dst")
    assert head.call_count == 3
    assert slept == [0.1, 0.2, 0.4]


async def test_copy_still_pending_after_the_timeout_is_aborted(
    router: respx.MockRouter, make_storage: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time
    from datetime import timedelta

    import anyio

    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    monkeypatch.setattr(anyio, "sleep", fake_sleep)
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    storage = make_storage(copy_timeout=timedelta(seconds=1))  # type: ignore[operator]
    router.put(f"{ENDPOINT}/box/dst").mock(
        side_effect=[
            httpx.Response(202, headers={"x-ms-copy-id": "c9", "x-ms-copy-status": "pending"}),
            httpx.Response(204),  # Abort Copy Blob
        ]
    )
    router.head(f"{ENDPOINT}/box/dst").mock(
        return_value=httpx.Response(
            200, headers=properties_headers(x_ms_copy_id="c9", x_ms_copy_status="pending")
        )
    )
    with pytest.raises(StorageTimeoutError, match="aborted"):
        await storage.copy("src", "dst")
    abort = router.routes[0].calls.last.request
    assert abort.url.params["comp"] == "copy"
    assert abort.url.params["copyid"] == "c9"
    assert abort.headers["x-ms-copy-action"] == "abort"


async def test_error_messages_do_not_contain_the_sas(
    router: respx.MockRouter, make_storage: object
) -> None:
    storage = make_storage(  # type: ignore[operator]
        connection_string=None, account_url=ENDPOINT, sas_token="sv=1&sp=r&sig=TOPSECRET"
    )
    router.put(f"{ENDPOINT}/box/k").mock(return_value=error(403, "AuthorizationPermissionMismatch"))
    with pytest.raises(StoragePermissionError) as caught:
        await storage.put("k", b"x")
    assert "TOPSECRET" not in str(caught.value)
    assert "TOPSECRET" not in repr(caught.value)
