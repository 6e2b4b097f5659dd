"""The AWS credential sources one by one against the fake: IMDSv2, container credentials,
web identity (IRSA) and assume-role profiles."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from litestar_storages.backends.s3._credentials_http import AwsHttp
from litestar_storages.backends.s3._credentials_metadata import (
    ContainerSource,
    InstanceMetadataSource,
    container_url,
)
from litestar_storages.backends.s3._credentials_sts import (
    AssumeRoleSource,
    WebIdentitySource,
    sts_endpoint,
)
from litestar_storages.backends.s3.credentials import EnvironmentSource, SharedProfile
from litestar_storages.exceptions import (
    StorageConfigurationError,
    StoragePermissionError,
    StorageServerError,
)

from ._aws import ACCOUNT, IRSA_SUBJECT, FakeAws
from ._support import Clock, assert_hidden, exception_text

ROLE = f"arn:aws:iam::{ACCOUNT}:role/uploader"


@pytest.fixture
async def http(clock: Clock) -> AsyncIterator[AwsHttp]:
    senders = AwsHttp({}, clock=clock)
    yield senders
    await senders.release()


def imds(aws: FakeAws, http: AwsHttp, **extra: Any) -> InstanceMetadataSource:
    env = {"AWS_EC2_METADATA_SERVICE_ENDPOINT": aws.origin, **extra.pop("env", {})}
    return InstanceMetadataSource(http, env, **extra)


# ----------------------------------------------------------------------------- IMDSv2
@pytest.mark.anyio
async def test_imdsv2_asks_a_session_token_then_the_role_then_its_credentials(
    aws: FakeAws, http: AwsHttp, clock: Clock
) -> None:
    found = await imds(aws, http).load()
    assert found is not None
    assert aws.keys[found.value.access_key_id].principal == "instance:app-instance-role"
    assert found.expires_at == clock() + timedelta(hours=1)
    put, listing, role = aws.requests
    assert (put.method, put.path) == ("PUT", "/latest/api/token")
    assert put.headers["x-aws-ec2-metadata-token-ttl-seconds"] == "21600"
    assert listing.path == "/latest/meta-data/iam/security-credentials/"
    assert role.path == "/latest/meta-data/iam/security-credentials/app-instance-role"
    assert listing.headers["x-aws-ec2-metadata-token"] in aws.imds_tokens
    assert aws.refusals == []


@pytest.mark.anyio
async def test_the_session_token_is_kept_and_renewed_after_a_401(
    aws: FakeAws, http: AwsHttp
) -> None:
    source = imds(aws, http)
    await source.load()
    await source.load()
    assert aws.paths("PUT") == ["/latest/api/token"]
    aws.imds_tokens.clear()  # IMDS forgot it (a restart): 401, then one new token
    assert await source.load() is not None
    assert aws.paths("PUT") == ["/latest/api/token"] * 2


@pytest.mark.anyio
async def test_an_instance_without_a_role_has_no_credentials(aws: FakeAws, http: AwsHttp) -> None:
    aws.instance_role = None
    assert await imds(aws, http).load() is None


@pytest.mark.anyio
async def test_imdsv1_is_not_used_unless_asked_for(aws: FakeAws, http: AwsHttp) -> None:
    aws.imds_v2 = False
    aws.http_tokens = "optional"
    assert await imds(aws, http).load() is None
    assert aws.paths("GET") == []  # no tokenless request was ever sent
    found = await imds(aws, http, v1_fallback=True).load()
    assert found is not None
    assert "x-aws-ec2-metadata-token" not in aws.requests[-1].headers


@pytest.mark.anyio
async def test_aws_ec2_metadata_disabled(aws: FakeAws, http: AwsHttp) -> None:
    assert await imds(aws, http, env={"AWS_EC2_METADATA_DISABLED": "true"}).load() is None
    assert aws.requests == []


@pytest.mark.anyio
async def test_a_hanging_imds_is_bounded_by_the_metadata_timeout(
    aws: FakeAws, clock: Clock
) -> None:
    aws.imds_mode = "hang"
    http = AwsHttp({"AWS_METADATA_SERVICE_TIMEOUT": "0.2"}, clock=clock)
    started = time.monotonic()
    assert await imds(aws, http).load() is None  # never answered: not on EC2
    assert time.monotonic() - started < 2
    await http.release()


@pytest.mark.anyio
async def test_imds_failing_after_it_answered_is_an_error(aws: FakeAws, http: AwsHttp) -> None:
    source = imds(aws, http)
    await source.load()
    aws.imds_mode = "fail"
    with pytest.raises(StorageServerError):
        await source.load()


@pytest.mark.anyio
async def test_expired_credentials_are_stretched_a_little_for_static_stability(
    aws: FakeAws, http: AwsHttp, clock: Clock
) -> None:
    aws.lifetime = timedelta(minutes=-5)
    found = await imds(aws, http).load()
    assert found is not None
    assert found.expires_at == clock() + timedelta(minutes=5)


@pytest.mark.anyio
async def test_the_region_comes_from_imds(aws: FakeAws, http: AwsHttp) -> None:
    assert await imds(aws, http).region() == "eu-west-1"


# ----------------------------------------------------------------------------- containers
@pytest.mark.parametrize(
    ("env", "url"),
    [
        (
            {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"},
            "http://169.254.170.2/v2/credentials/abc",
        ),
        (
            {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials"},
            "http://169.254.170.23/v1/credentials",
        ),
        (
            {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://[fd00:ec2::23]/v1/credentials"},
            "http://[fd00:ec2::23]/v1/credentials",
        ),
        ({"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/c"}, "http://127.0.0.1:9/c"),
        ({"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://localhost/c"}, "http://localhost/c"),
        (
            {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "https://agent.example/c"},
            "https://agent.example/c",
        ),
        ({}, None),
    ],
)
def test_container_endpoint_rules(env: dict[str, str], url: str | None) -> None:
    assert container_url(env) == url


@pytest.mark.parametrize(
    "full", ["http://agent.example/c", "http://169.254.169.254/latest", "ftp://127.0.0.1/c"]
)
def test_a_full_uri_to_another_host_in_clear_is_refused(full: str) -> None:
    with pytest.raises(StorageConfigurationError, match="FULL_URI"):
        container_url({"AWS_CONTAINER_CREDENTIALS_FULL_URI": full})


@pytest.mark.anyio
async def test_container_credentials_with_a_rotated_authorization_token_file(
    aws: FakeAws, http: AwsHttp, tmp_path: Path
) -> None:
    token_file = tmp_path / "eks-pod-identity-token"
    token_file.write_text("first-token\n")
    aws.container_token = "first-token"
    env = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{aws.origin}/v2/credentials/pod",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file),
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored-when-the-file-is-set",
    }
    source = ContainerSource(http, env)
    found = await source.load()
    assert found is not None
    assert aws.keys[found.value.access_key_id].principal == "container:task-role"
    token_file.write_text("second-token")
    aws.container_token = "second-token"
    assert await source.load() is not None
    assert [r.headers["authorization"] for r in aws.requests] == ["first-token", "second-token"]


@pytest.mark.anyio
async def test_a_refused_container_token_is_a_permission_error(aws: FakeAws, http: AwsHttp) -> None:
    aws.container_token = "the-agents-token"
    env = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{aws.origin}/creds",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "a-wrong-token",
    }
    with pytest.raises(StoragePermissionError) as caught:
        await ContainerSource(http, env).load()
    assert_hidden(["a-wrong-token"], exception_text(caught.value))


@pytest.mark.anyio
async def test_a_token_with_a_line_break_is_refused(aws: FakeAws, http: AwsHttp) -> None:
    env = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{aws.origin}/creds",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "a\r\nX-Injected: 1",
    }
    with pytest.raises(StorageConfigurationError, match="line break"):
        await ContainerSource(http, env).load()
    assert aws.requests == []


# ----------------------------------------------------------------------------- web identity
@pytest.mark.parametrize(
    ("env", "region", "origin"),
    [
        ({}, "eu-west-1", "https://sts.eu-west-1.amazonaws.com"),
        ({}, None, "https://sts.amazonaws.com"),
        ({}, "cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn"),
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:4566/"}, "eu-west-1", "http://127.0.0.1:4566"),
        (
            {"AWS_ENDPOINT_URL_STS": "https://sts.internal", "AWS_ENDPOINT_URL": "http://x"},
            None,
            "https://sts.internal",
        ),
    ],
)
def test_the_sts_endpoint_is_regional_when_a_region_is_known(
    env: dict[str, str], region: str | None, origin: str
) -> None:
    assert sts_endpoint(env, region) == origin


def web_identity_env(aws: FakeAws, token_file: Path) -> dict[str, str]:
    return {
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
        "AWS_ROLE_ARN": ROLE,
        "AWS_ROLE_SESSION_NAME": "pod-1",
        "AWS_ENDPOINT_URL_STS": aws.origin,
    }


@pytest.mark.anyio
async def test_web_identity_exchanges_the_token_file_for_the_role(
    aws: FakeAws, http: AwsHttp, tmp_path: Path
) -> None:
    aws.roles[ROLE] = {IRSA_SUBJECT}
    token_file = tmp_path / "token"
    token_file.write_text(aws.web_identity_token())
    env = web_identity_env(aws, token_file)
    found = await WebIdentitySource(
        http, env, SharedProfile("default", env, required=False), None
    ).load()
    assert found is not None
    assert aws.keys[found.value.access_key_id].principal == f"{ROLE}/pod-1"
    assert found.value.session_token is not None
    (request,) = aws.requests
    form = request.form()
    assert (form["Action"], form["RoleArn"], form["RoleSessionName"]) == (
        "AssumeRoleWithWebIdentity",
        ROLE,
        "pod-1",
    )
    assert form["WebIdentityToken"] == token_file.read_text()
    assert "authorization" not in request.headers  # the token is the proof
    assert aws.refusals == []


@pytest.mark.anyio
async def test_web_identity_for_an_untrusted_subject_is_refused(
    aws: FakeAws, http: AwsHttp, tmp_path: Path
) -> None:
    aws.roles[ROLE] = {"system:serviceaccount:other:app"}
    token_file = tmp_path / "token"
    token_file.write_text(aws.web_identity_token())
    env = web_identity_env(aws, token_file)
    source = WebIdentitySource(http, env, SharedProfile("default", env, required=False), None)
    with pytest.raises(StoragePermissionError, match="AccessDenied") as caught:
        await source.load()
    assert_hidden([token_file.read_text()], exception_text(caught.value))


@pytest.mark.anyio
async def test_web_identity_to_a_remote_sts_in_clear_is_refused(
    http: AwsHttp, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("t")
    env = {"AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file), "AWS_ROLE_ARN": ROLE}
    env["AWS_ENDPOINT_URL_STS"] = "http://sts.example.com"
    source = WebIdentitySource(http, env, SharedProfile("default", env, required=False), None)
    with pytest.raises(StorageConfigurationError, match="must be https"):
        await source.load()


# ----------------------------------------------------------------------------- assume role
def profiles(tmp_path: Path, text: str, aws: FakeAws) -> dict[str, str]:
    config = tmp_path / "config"
    config.write_text(text)
    return {
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials-absent"),
        "AWS_ENDPOINT_URL_STS": aws.origin,
    }


def assume_role(http: AwsHttp, env: dict[str, str], profile: str = "app") -> AssumeRoleSource:
    return AssumeRoleSource(
        http,
        env,
        SharedProfile(profile, env, required=True),
        None,
        base_sources={"Environment": EnvironmentSource(env)},
    )


@pytest.mark.anyio
async def test_a_role_profile_signs_assume_role_with_the_source_profiles_keys(
    aws: FakeAws, http: AwsHttp, tmp_path: Path, clock: Clock
) -> None:
    key_id, secret = aws.long_term("user:deployer")
    aws.roles[ROLE] = {"user:deployer"}
    aws.external_ids[ROLE] = "partner-42"
    env = profiles(
        tmp_path,
        f"[profile app]\nrole_arn = {ROLE}\nsource_profile = base\nexternal_id = partner-42\n"
        "duration_seconds = 1800\nrole_session_name = nightly\nregion = eu-west-1\n"
        f"[profile base]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n",
        aws,
    )
    found = await assume_role(http, env).load()
    assert found is not None
    assert aws.keys[found.value.access_key_id].principal == f"{ROLE}/nightly"
    assert found.expires_at == clock() + timedelta(seconds=1800)
    (request,) = aws.requests
    assert request.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={key_id}/")
    assert "/eu-west-1/sts/aws4_request" in request.headers["authorization"]
    form = request.form()
    assert (form["ExternalId"], form["DurationSeconds"]) == ("partner-42", "1800")
    assert aws.refusals == []


@pytest.mark.anyio
async def test_a_wrong_external_id_is_refused(aws: FakeAws, http: AwsHttp, tmp_path: Path) -> None:
    key_id, secret = aws.long_term("user:deployer")
    aws.roles[ROLE] = {"user:deployer"}
    aws.external_ids[ROLE] = "partner-42"
    env = profiles(
        tmp_path,
        f"[profile app]\nrole_arn = {ROLE}\nsource_profile = base\nexternal_id = guess\n"
        f"[profile base]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n",
        aws,
    )
    with pytest.raises(StoragePermissionError, match="AccessDenied") as caught:
        await assume_role(http, env).load()
    assert_hidden([secret], exception_text(caught.value))


@pytest.mark.anyio
async def test_credential_source_environment(aws: FakeAws, http: AwsHttp, tmp_path: Path) -> None:
    key_id, secret = aws.long_term("user:ci")
    aws.roles[ROLE] = {"user:ci"}
    env = profiles(
        tmp_path, f"[profile app]\nrole_arn = {ROLE}\ncredential_source = Environment\n", aws
    )
    env.update({"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret})
    found = await assume_role(http, env).load()
    assert found is not None
    assert aws.keys[found.value.access_key_id].principal.startswith(f"{ROLE}/litestar-storages-")


@pytest.mark.anyio
async def test_roles_can_be_chained(aws: FakeAws, http: AwsHttp, tmp_path: Path) -> None:
    hop = f"arn:aws:iam::{ACCOUNT}:role/hop"
    key_id, secret = aws.long_term("user:deployer")
    aws.roles[hop] = {"user:deployer"}
    aws.roles[ROLE] = {f"{hop}/s1"}
    env = profiles(
        tmp_path,
        f"[profile app]\nrole_arn = {ROLE}\nsource_profile = hop\n"
        f"[profile hop]\nrole_arn = {hop}\nsource_profile = base\nrole_session_name = s1\n"
        f"[profile base]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n",
        aws,
    )
    found = await assume_role(http, env).load()
    assert found is not None
    assert aws.keys[found.value.access_key_id].principal.startswith(f"{ROLE}/")
    assert len(aws.requests) == 2


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            f"[profile app]\nrole_arn = {ROLE}\nsource_profile = b\n"
            f"[profile b]\nrole_arn = {ROLE}\nsource_profile = app\n",
            "cycle",
        ),
        (f"[profile app]\nrole_arn = {ROLE}\nsource_profile = x\nmfa_serial = arn:mfa\n", "MFA"),
        (
            f"[profile app]\nrole_arn = {ROLE}\nsource_profile = x\n"
            "credential_source = Environment\n",
            "exactly one",
        ),
        (f"[profile app]\nrole_arn = {ROLE}\nsource_profile = nowhere\n", "not defined"),
        (f"[profile app]\nrole_arn = {ROLE}\ncredential_source = Ec2Magic\n", "credential_source"),
        (
            f"[profile app]\nrole_arn = {ROLE}\ncredential_source = Environment\n"
            "duration_seconds = 60\n",
            "duration_seconds",
        ),
    ],
)
@pytest.mark.anyio
async def test_role_profile_mistakes_are_configuration_errors(
    aws: FakeAws, http: AwsHttp, tmp_path: Path, text: str, problem: str
) -> None:
    env = profiles(tmp_path, text, aws)
    env.update({"AWS_ACCESS_KEY_ID": "AKIAX", "AWS_SECRET_ACCESS_KEY": "s"})
    with pytest.raises(StorageConfigurationError, match=problem):
        await assume_role(http, env).load()
    assert aws.requests == []
