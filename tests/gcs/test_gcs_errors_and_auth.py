"""Error mapping (JSON, XML and OAuth2 bodies), retries, and the bearer-token lifecycle."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx

from litestar_storages.backends.gcs.client import parse_error
from litestar_storages.exceptions import (
    StorageConnectionError,
    StorageError,
    StorageFileNotFoundError,
    StoragePermissionError,
    StoragePreconditionFailedError,
    StorageQuotaExceededError,
    StorageServerError,
)
from litestar_storages.retry import RetryConfig

from ._gcs_helpers import Opener, Script, json_error, ok_json, resource

pytestmark = pytest.mark.anyio

HOST = "storage.googleapis.com"
TOKEN_URL = "https://oauth2.googleapis.com/token"


def script(router: respx.MockRouter, *answers: httpx.Response | Exception) -> Script:
    recorded = Script(*answers)
    router.route(host=HOST).mock(side_effect=recorded)
    return recorded


def token_answer(token: str, expires_in: int = 3600) -> httpx.Response:
    return httpx.Response(200, json={"access_token": token, "expires_in": expires_in})


# ----------------------------------------------------------------------------- the parser
def test_json_error_reason_is_the_code() -> None:
    body = b'{"error": {"code": 403, "message": "no", "errors": [{"reason": "forbidden"}]}}'
    error = parse_error(403, httpx.Headers(), body)
    assert error is not None
    assert (error.status, error.code, error.message) == (403, "forbidden", "no")


def test_oauth_error_is_read() -> None:
    body = b'{"error": "invalid_grant", "error_description": "Invalid JWT Signature."}'
    error = parse_error(400, httpx.Headers(), body)
    assert error is not None
    assert (error.code, error.message) == ("invalid_grant", "Invalid JWT Signature.")


def test_xml_error_is_read() -> None:
    body = b"<?xml version='1.0'?><Error><Code>NoSuchUpload</Code><Message>m</Message></Error>"
    error = parse_error(404, httpx.Headers(), body)
    assert error is not None
    assert error.code == "NoSuchUpload"


def test_unreadable_error_body_keeps_the_status() -> None:
    error = parse_error(502, httpx.Headers(), b"<html>bad gateway")
    assert error is not None
    assert (error.status, error.code) == (502, None)


def test_success_is_not_an_error() -> None:
    assert parse_error(200, httpx.Headers(), b"{}") is None


# ----------------------------------------------------------------------------- mapping
@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (json_error(404, "notFound"), StorageFileNotFoundError),
        (json_error(403, "forbidden"), StoragePermissionError),
        (json_error(401, "required"), StoragePermissionError),
        (json_error(412, "conditionNotMet"), StoragePreconditionFailedError),
        (json_error(413, "uploadTooLarge"), StorageQuotaExceededError),
        (json_error(400, "invalid"), StorageError),
        (
            httpx.Response(403, content=b"<Error><Code>AccessDenied</Code></Error>"),
            StoragePermissionError,
        ),
    ],
)
async def test_error_responses_map_to_the_storage_errors(
    router: respx.MockRouter,
    open_storage: Opener,
    answer: httpx.Response,
    expected: type[StorageError],
) -> None:
    script(router, answer)
    with pytest.raises(expected) as caught:
        await open_storage().info("k")
    assert caught.value.backend == "gcs"
    assert caught.value.key == "k"
    assert caught.value.status == answer.status_code


async def test_request_id_is_kept(router: respx.MockRouter, open_storage: Opener) -> None:
    answer = json_error(403, "forbidden")
    answer.headers["x-guploader-uploadid"] = "UPLOAD-ID-1"
    script(router, answer)
    with pytest.raises(StoragePermissionError) as caught:
        await open_storage().info("k")
    assert caught.value.request_id == "UPLOAD-ID-1"


@pytest.mark.parametrize(
    "transient",
    [
        json_error(429, "rateLimitExceeded"),
        json_error(503, "backendError"),
        json_error(500, "internalError"),
        httpx.ConnectError("refused"),
    ],
)
async def test_transient_failures_are_retried(
    router: respx.MockRouter, open_storage: Opener, transient: Any
) -> None:
    calls = script(router, transient, ok_json(resource("k")))
    assert (await open_storage().info("k")).key == "k"
    assert len(calls.requests) == 2


async def test_retries_give_up_after_max_attempts(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(router, *[json_error(503, "backendError") for _ in range(2)])
    storage = open_storage(retry=RetryConfig(max_attempts=2, base_delay=0, jitter=False))
    with pytest.raises(StorageServerError):
        await storage.info("k")
    assert len(calls.requests) == 2


async def test_network_failures_are_connection_errors(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    script(router, *[httpx.ConnectError("refused") for _ in range(3)])
    with pytest.raises(StorageConnectionError):
        await open_storage().info("k")


# ----------------------------------------------------------------------------- tokens
async def test_service_account_token_is_fetched_once_and_reused(
    router: respx.MockRouter, open_storage: Opener, service_account: dict[str, str]
) -> None:
    token = router.post(TOKEN_URL).mock(side_effect=[token_answer("ya29.first")])
    calls = script(router, ok_json(resource("a")), ok_json(resource("b")))
    storage = open_storage(service_account_info=service_account)
    await storage.info("a")
    await storage.info("b")
    assert token.call_count == 1
    assert [r.headers["authorization"] for r in calls.requests] == ["Bearer ya29.first"] * 2
    form = token.calls[0].request.content.decode()
    assert "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" in form
    assert "authorization" not in token.calls[0].request.headers


async def test_token_is_refreshed_when_it_nears_expiry(
    router: respx.MockRouter, open_storage: Opener, service_account: dict[str, str]
) -> None:
    token = router.post(TOKEN_URL).mock(
        side_effect=[token_answer("ya29.first"), token_answer("ya29.second")]
    )
    calls = script(router, ok_json(resource("a")), ok_json(resource("a")), ok_json(resource("a")))
    storage = open_storage(service_account_info=service_account)
    await storage.info("a")
    storage.clock.now += timedelta(minutes=30)  # type: ignore[attr-defined]
    await storage.info("a")
    storage.clock.now += timedelta(minutes=20)  # type: ignore[attr-defined]
    await storage.info("a")
    assert token.call_count == 2
    assert [r.headers["authorization"] for r in calls.requests] == [
        "Bearer ya29.first",
        "Bearer ya29.first",
        "Bearer ya29.second",
    ]


async def test_a_401_is_answered_by_one_refresh_and_one_resend(
    router: respx.MockRouter, open_storage: Opener, service_account: dict[str, str]
) -> None:
    token = router.post(TOKEN_URL).mock(
        side_effect=[token_answer("ya29.revoked"), token_answer("ya29.fresh")]
    )
    calls = script(router, json_error(401, "authError"), ok_json(resource("a")))
    storage = open_storage(service_account_info=service_account)
    assert (await storage.info("a")).key == "a"
    assert token.call_count == 2
    assert [r.headers["authorization"] for r in calls.requests] == [
        "Bearer ya29.revoked",
        "Bearer ya29.fresh",
    ]


async def test_a_second_401_is_not_retried_again(
    router: respx.MockRouter, open_storage: Opener, service_account: dict[str, str]
) -> None:
    router.post(TOKEN_URL).mock(side_effect=[token_answer("t1"), token_answer("t2")])
    calls = script(router, json_error(401, "authError"), json_error(401, "authError"))
    with pytest.raises(StoragePermissionError):
        await open_storage(service_account_info=service_account).info("a")
    assert len(calls.requests) == 2


async def test_a_fixed_token_is_not_refreshed_on_401(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    calls = script(router, json_error(401, "authError"))
    with pytest.raises(StoragePermissionError):
        await open_storage(token="expired").info("a")
    assert len(calls.requests) == 1


async def test_refused_credentials_are_a_permission_error(
    router: respx.MockRouter, open_storage: Opener, service_account: dict[str, str]
) -> None:
    refused = httpx.Response(
        400, json={"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
    )
    router.post(TOKEN_URL).mock(return_value=refused)
    script(router)
    with pytest.raises(StoragePermissionError) as caught:
        await open_storage(service_account_info=service_account).info("a")
    assert caught.value.code == "invalid_grant"
    assert "PRIVATE KEY" not in str(caught.value)


async def test_authorized_user_refresh_token_grant(
    router: respx.MockRouter, open_storage: Opener
) -> None:
    user = {
        "type": "authorized_user",
        "client_id": "cid",
        "client_secret": "cs",
        "refresh_token": "rt",
    }
    token = router.post(TOKEN_URL).mock(return_value=token_answer("ya29.user"))
    calls = script(router, ok_json(resource("a")))
    await open_storage(service_account_info=user).info("a")
    assert "grant_type=refresh_token" in token.calls[0].request.content.decode()
    assert calls.requests[0].headers["authorization"] == "Bearer ya29.user"
