"""The S3 credential chain, with temporary HOME and shared files (never the developer's)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import respx

from litestar_storages.backends.s3 import S3Config, S3Storage
from litestar_storages.backends.s3.credentials import (
    CredentialChain,
    ProcessSource,
    SharedProfile,
    default_chain,
    load_profile,
)
from litestar_storages.exceptions import StorageConfigurationError
from litestar_storages.signing.sigv4 import AwsCredentials

from ._s3_helpers import open_storage

pytestmark = pytest.mark.anyio


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME with an empty ~/.aws; the default file locations point there."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("AWS_CONFIG_FILE", raising=False)
    monkeypatch.delenv("AWS_SHARED_CREDENTIALS_FILE", raising=False)
    return tmp_path


def chain(
    env: dict[str, str], *, profile: str | None = None, key: str | None = None
) -> CredentialChain:
    # The chain ends with EC2 instance metadata: never ask the network from a unit test.
    env = {"AWS_EC2_METADATA_DISABLED": "true", **env}
    return default_chain(
        access_key_id=key,
        secret_access_key="explicit-secret" if key else None,
        session_token=None,
        profile=profile,
        environ=env,
    )


async def test_explicit_credentials_come_first(home: Path) -> None:
    resolver = chain({"AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "s"}, key="EXPLICIT")
    found = await resolver()
    assert found.value.access_key_id == "EXPLICIT"
    assert resolver.source_name == "explicit"


async def test_environment_credentials_with_a_session_token(home: Path) -> None:
    env = {"AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"}
    resolver = chain(env)
    found = await resolver()
    assert found.value == AwsCredentials("ENV", "s", "t")
    assert found.expires_at is None
    assert resolver.source_name == "environment"


async def test_half_a_key_pair_in_the_environment_is_an_error(home: Path) -> None:
    with pytest.raises(StorageConfigurationError, match="AWS_ACCESS_KEY_ID"):
        await chain({"AWS_ACCESS_KEY_ID": "ENV"})()


async def test_the_default_profile_of_the_credentials_file(home: Path) -> None:
    write(
        home / ".aws" / "credentials",
        "[default]\naws_access_key_id = FILE\naws_secret_access_key = s\n",
    )
    resolver = chain({"HOME": str(home)})
    assert (await resolver()).value.access_key_id == "FILE"
    assert resolver.source_name == "shared-files"


async def test_aws_profile_selects_a_profile_of_either_file(home: Path) -> None:
    write(
        home / ".aws" / "credentials",
        "[default]\naws_access_key_id = DEFAULT\naws_secret_access_key = s\n",
    )
    write(
        home / ".aws" / "config",
        "[profile work]\naws_access_key_id = WORK\naws_secret_access_key = s\nregion = eu-west-2\n",
    )
    resolver = chain({"HOME": str(home), "AWS_PROFILE": "work"})
    assert (await resolver()).value.access_key_id == "WORK"


async def test_the_credentials_file_overrides_the_config_file(home: Path) -> None:
    write(
        home / ".aws" / "config",
        "[profile p]\naws_access_key_id = CONFIG\naws_secret_access_key = s\n",
    )
    write(
        home / ".aws" / "credentials", "[p]\naws_access_key_id = CREDS\naws_secret_access_key = s\n"
    )
    profile = load_profile("p", {"HOME": str(home)})
    assert profile is not None
    assert profile.get("aws_access_key_id") == "CREDS"


async def test_file_locations_come_from_the_environment(tmp_path: Path) -> None:
    creds = write(
        tmp_path / "elsewhere" / "c",
        "[default]\naws_access_key_id = MOVED\naws_secret_access_key = s\n",
    )
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(creds), "AWS_CONFIG_FILE": str(tmp_path / "none")}
    assert (await chain(env)()).value.access_key_id == "MOVED"


async def test_a_named_profile_that_does_not_exist_is_an_error(home: Path) -> None:
    write(home / ".aws" / "config", "[default]\nregion = us-east-1\n")
    with pytest.raises(StorageConfigurationError, match="'nope'"):
        await chain({"HOME": str(home)}, profile="nope")()


async def test_a_profile_named_in_code_skips_the_environment(home: Path) -> None:
    write(
        home / ".aws" / "credentials",
        "[p]\naws_access_key_id = PROFILE\naws_secret_access_key = s\n",
    )
    env = {"HOME": str(home), "AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "s"}
    assert (await chain(env, profile="p")()).value.access_key_id == "PROFILE"


async def test_nothing_found_names_every_source_tried(home: Path) -> None:
    with pytest.raises(StorageConfigurationError) as caught:
        await chain({"HOME": str(home)})()
    message = str(caught.value)
    for name in ("explicit", "environment", "shared-files", "credential-process", "anonymous=True"):
        assert name in message


def process_output(expiration: datetime | None) -> str:
    data: dict[str, object] = {
        "Version": 1,
        "AccessKeyId": "PROC",
        "SecretAccessKey": "proc-secret",
        "SessionToken": "proc-token",
    }
    if expiration is not None:
        data["Expiration"] = expiration.strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(data)


async def test_credential_process_runs_a_real_command(home: Path, tmp_path: Path) -> None:
    expires = datetime(2030, 1, 1, tzinfo=timezone.utc)
    script = write(tmp_path / "creds.py", f"print({process_output(expires)!r})")
    write(home / ".aws" / "config", f"[default]\ncredential_process = {sys.executable} {script}\n")
    resolver = chain({"HOME": str(home)})
    found = await resolver()
    assert found.value == AwsCredentials("PROC", "proc-secret", "proc-token")
    assert found.expires_at == expires
    assert resolver.source_name == "credential-process"


class FakeRunner:
    def __init__(self, *outputs: tuple[int, bytes]) -> None:
        self.outputs = list(outputs)
        self.commands: list[Sequence[str]] = []

    async def __call__(self, command: Sequence[str]) -> tuple[int, bytes]:
        self.commands.append(command)
        return self.outputs.pop(0)


def process_source(
    home: Path, runner: FakeRunner, command: str = "get-creds --profile 'a b'"
) -> ProcessSource:
    write(home / ".aws" / "config", f"[default]\ncredential_process = {command}\n")
    return ProcessSource(SharedProfile("default", {"HOME": str(home)}, required=False), run=runner)


async def test_credential_process_command_is_split_like_a_shell(home: Path) -> None:
    runner = FakeRunner((0, process_output(None).encode()))
    await process_source(home, runner).load()
    assert runner.commands == [["get-creds", "--profile", "a b"]]


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        ((1, b""), "status 1"),
        ((0, b"not json"), "JSON"),
        ((0, b'{"Version": 2}'), "Version 1"),
        ((0, b'{"Version": 1}'), "AccessKeyId"),
    ],
)
async def test_credential_process_failures_are_configuration_errors(
    home: Path, output: tuple[int, bytes], problem: str
) -> None:
    with pytest.raises(StorageConfigurationError, match=problem) as caught:
        await process_source(home, FakeRunner(output)).load()
    assert "proc-secret" not in str(caught.value)


async def test_expiring_process_credentials_are_refreshed_by_the_storage(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ._s3_helpers import T0, FrozenClock

    clock = FrozenClock()
    runner = FakeRunner(
        (0, process_output(T0 + timedelta(minutes=30)).encode()),
        (0, process_output(T0 + timedelta(hours=2)).encode()),
    )
    write(home / ".aws" / "config", "[default]\ncredential_process = get-creds\n")
    resolver = default_chain(
        access_key_id=None,
        secret_access_key=None,
        session_token=None,
        profile=None,
        environ={"HOME": str(home)},
        run=runner,
    )
    router = respx.Router()
    router.get("http://s3.test:9000/bucket/k").respond(200, content=b"x")
    storage = S3Storage(
        S3Config(bucket="bucket", endpoint_url="http://s3.test:9000"),
        credential_chain=resolver,
        clock=clock,
        transport_factory=lambda _o: __import__("httpx").MockTransport(router.async_handler),
    )
    async with storage:
        await storage.get_bytes("k")
        await storage.get_bytes("k")
        assert len(runner.commands) == 1
        clock.now = T0 + timedelta(minutes=25)  # inside the mandatory window: refresh
        await storage.get_bytes("k")
        assert len(runner.commands) == 2
    assert storage.credential_source == "credential-process"


async def test_the_chain_can_be_extended(home: Path) -> None:
    from litestar_storages._http.credentials import Expiring

    class Metadata:
        name = "instance-metadata"

        async def load(self) -> Expiring[AwsCredentials] | None:
            return Expiring(AwsCredentials("IMDS", "s"))

    resolver = chain({"HOME": str(home)})
    resolver.sources.append(Metadata())
    assert (await resolver()).value.access_key_id == "IMDS"
    assert resolver.describe()[-1] == "instance-metadata"


async def test_the_storage_reports_its_source_without_secrets(home: Path) -> None:
    storage = open_storage(respx.Router())
    assert storage.credential_source == "explicit"  # static keys: known without any I/O
    assert "wJalr" not in repr(storage)


async def test_a_chain_source_is_reported_once_resolved(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    storage = S3Storage(S3Config(bucket="b", region="us-east-1"))
    before = storage.credential_source
    await storage.url("k")
    assert before is None
    assert storage.credential_source == "environment"


async def test_the_profile_region_is_used(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(home / ".aws" / "config", "[default]\nregion = ap-northeast-1\n")
    storage = S3Storage(S3Config(bucket="bkt", access_key_id="A", secret_access_key="s"))
    url = await storage.url("k")
    assert "bkt.s3.ap-northeast-1.amazonaws.com" in url
    assert "%2Fap-northeast-1%2Fs3%2F" in url
