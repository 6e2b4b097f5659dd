"""Where S3 credentials come from, without an SDK: an ordered chain of sources.

The default chain is botocore's order:

1. ``explicit``: ``S3Config.access_key_id`` / ``secret_access_key`` / ``session_token``;
2. ``environment``: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``
   (skipped when ``S3Config.profile`` names a profile in code, as botocore skips it for an
   explicit ``profile_name``);
3. ``assume-role``: a profile with ``role_arn`` and ``source_profile`` or ``credential_source``
   (STS ``AssumeRole``, signed with the source's keys; ``_credentials_sts``);
4. ``web-identity``: ``AWS_WEB_IDENTITY_TOKEN_FILE`` + ``AWS_ROLE_ARN`` (or the profile's
   ``web_identity_token_file``): STS ``AssumeRoleWithWebIdentity`` (EKS IRSA);
5. ``shared-files``: static keys of the profile (``S3Config.profile``, ``AWS_PROFILE``,
   ``default``) in ``~/.aws/credentials`` (``AWS_SHARED_CREDENTIALS_FILE``) or
   ``~/.aws/config`` (``AWS_CONFIG_FILE``);
6. ``credential-process``: the profile's ``credential_process`` command, whose JSON output
   may expire (it is run again when it does);
7. ``container``: ECS task roles and EKS Pod Identity (``AWS_CONTAINER_CREDENTIALS_*``;
   ``_credentials_metadata``);
8. ``instance-metadata``: the EC2 instance profile, through IMDSv2 (``_credentials_metadata``).

3-4 and 7-8 fetch expiring credentials over the network (through ``_credentials_http``:
metadata endpoints on a short-timeout pool of their own, STS through the storage's pool).
Anonymous access is never a fallback: it must be asked for with ``S3Config(anonymous=True)``.

A source is anything with a ``name`` and an async ``load()`` returning an
``Expiring[AwsCredentials]`` or ``None`` ("not configured here, try the next"). The chain is a
plain list (``chain.sources``), so a custom source can be inserted anywhere. The chain itself is
the provider of the shared :class:`~litestar_storages._http.credentials.CredentialCache`; once a
source has answered, refreshes go back to that source.

The modules only some sources need (``configparser``, ``json``, ``shlex``, the HTTP stack) are
imported by those sources when they run, so explicit or environment credentials add nothing to
start-up time.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import anyio

from litestar_storages._http.credentials import CredentialCache, Expiring
from litestar_storages.backends.s3._credentials_http import AwsHttp
from litestar_storages.exceptions import StorageConfigurationError
from litestar_storages.signing._canonical import EMPTY_SHA256, SigningError
from litestar_storages.signing.sigv4 import (
    UNSIGNED_PAYLOAD,
    AwsCredentials,
    SigningKeyCache,
    sign_headers,
)

if TYPE_CHECKING:
    import configparser

    from litestar_storages._http.request import HttpRequest

__all__ = [
    "CredentialChain",
    "CredentialSource",
    "EnvironmentSource",
    "ExplicitSource",
    "Profile",
    "ProfileSource",
    "ProcessSource",
    "S3Signer",
    "SharedProfile",
    "default_chain",
    "load_profile",
    "shared_file_paths",
]

_PROCESS_TIMEOUT = 60.0


class CredentialSource(Protocol):
    """One place credentials may come from."""

    name: str

    async def load(self) -> Expiring[AwsCredentials] | None:
        """Fresh credentials, or ``None`` when this source is not configured."""
        ...


def _error(message: str) -> StorageConfigurationError:
    return StorageConfigurationError(message, backend="s3")


def _pair(
    key_id: str | None, secret: str | None, token: str | None, where: str
) -> AwsCredentials | None:
    if not key_id and not secret:
        return None
    if not key_id or not secret:
        raise _error(f"{where}: an access key id needs its secret access key (and vice versa)")
    return AwsCredentials(key_id, secret, token or None)


@dataclass
class ExplicitSource:
    """Credentials given in ``S3Config``."""

    access_key_id: str | None
    secret_access_key: str | None
    session_token: str | None = None
    name: str = "explicit"

    async def load(self) -> Expiring[AwsCredentials] | None:
        """The configured keys (they never expire as far as we can tell)."""
        pair = _pair(self.access_key_id, self.secret_access_key, self.session_token, "S3Config")
        return None if pair is None else Expiring(pair)


@dataclass
class EnvironmentSource:
    """``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``."""

    environ: Mapping[str, str]
    name: str = "environment"

    async def load(self) -> Expiring[AwsCredentials] | None:
        """The keys in the environment."""
        env = self.environ
        token = env.get("AWS_SESSION_TOKEN") or env.get("AWS_SECURITY_TOKEN")
        pair = _pair(
            env.get("AWS_ACCESS_KEY_ID"),
            env.get("AWS_SECRET_ACCESS_KEY"),
            token,
            "environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)",
        )
        return None if pair is None else Expiring(pair)


# ---------------------------------------------------------------------- shared files
@dataclass(frozen=True)
class Profile:
    """One profile of the shared files: the config file's values overlaid by the credentials
    file's (as the AWS CLI merges them)."""

    name: str
    values: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        """A value of the profile, or ``None``."""
        value = self.values.get(key)
        return value.strip() if value else None


def shared_file_paths(environ: Mapping[str, str]) -> tuple[str, str]:
    """``(credentials file, config file)``, honouring ``AWS_SHARED_CREDENTIALS_FILE`` and
    ``AWS_CONFIG_FILE``."""
    home = environ.get("HOME") or os.path.expanduser("~")
    credentials = environ.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.join(
        home, ".aws", "credentials"
    )
    config = environ.get("AWS_CONFIG_FILE") or os.path.join(home, ".aws", "config")
    return os.path.expanduser(credentials), os.path.expanduser(config)


def _read_ini(path: str) -> configparser.RawConfigParser | None:
    import configparser

    parser = configparser.RawConfigParser(default_section="__no_defaults__")
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        return None
    except (OSError, configparser.Error, UnicodeDecodeError) as exc:
        raise _error(f"cannot read AWS shared file {path}: {type(exc).__name__}") from None
    return parser


def load_profile(name: str, environ: Mapping[str, str]) -> Profile | None:
    """Read profile ``name`` from the shared files (blocking file I/O; ``None`` if absent).

    In the config file a profile is ``[profile NAME]`` (``[default]`` for the default); in the
    credentials file it is ``[NAME]``.
    """
    credentials_path, config_path = shared_file_paths(environ)
    values: dict[str, str] = {}
    found = False
    config = _read_ini(config_path)
    if config is not None:
        for section in (f"profile {name}", name) if name == "default" else (f"profile {name}",):
            if config.has_section(section):
                values.update(config.items(section))
                found = True
                break
    credentials = _read_ini(credentials_path)
    if credentials is not None and credentials.has_section(name):
        values.update(credentials.items(name))
        found = True
    return Profile(name, values) if found else None


class SharedProfile:
    """The profile in use, read once (in a worker thread) and shared by the sources that need
    it.

    Args:
        name: The profile's name.
        environ: Where to find the file paths.
        required: The profile was named explicitly, so its absence is an error.
    """

    def __init__(self, name: str, environ: Mapping[str, str], *, required: bool) -> None:
        self.name = name
        self.environ = environ
        self.required = required
        self._loaded = False
        self._profile: Profile | None = None

    async def get(self) -> Profile | None:
        """The profile, or ``None`` when the files do not define it."""
        if not self._loaded:
            paths = shared_file_paths(self.environ)
            # Two stat() calls spare a worker thread when there are no shared files at all, the
            # usual case in containers and serverless functions, where start-up time counts.
            if any(os.path.exists(path) for path in paths):  # noqa: ASYNC240
                import anyio.to_thread

                self._profile = await anyio.to_thread.run_sync(
                    load_profile, self.name, self.environ
                )
            self._loaded = True
        if self._profile is None and self.required:
            raise _error(f"the AWS profile {self.name!r} is not defined in the shared files")
        return self._profile


@dataclass
class ProfileSource:
    """Static keys of the shared profile (``aws_access_key_id``, ``aws_secret_access_key``)."""

    profile: SharedProfile
    name: str = "shared-files"

    async def load(self) -> Expiring[AwsCredentials] | None:
        """The profile's static keys."""
        profile = await self.profile.get()
        if profile is None:
            return None
        pair = _pair(
            profile.get("aws_access_key_id"),
            profile.get("aws_secret_access_key"),
            profile.get("aws_session_token"),
            f"profile {profile.name!r}",
        )
        return None if pair is None else Expiring(pair)


ProcessRunner = Callable[[Sequence[str]], Awaitable[tuple[int, bytes]]]
"""Runs a command and returns ``(exit code, stdout)``."""


async def _run_process(command: Sequence[str]) -> tuple[int, bytes]:
    with anyio.fail_after(_PROCESS_TIMEOUT):
        result = await anyio.run_process(list(command), check=False)
    return result.returncode, result.stdout


@dataclass
class ProcessSource:
    """The profile's ``credential_process``: a command printing JSON credentials.

    Output format (AWS CLI "Sourcing credentials with an external process")::

        {"Version": 1, "AccessKeyId": "...", "SecretAccessKey": "...",
         "SessionToken": "...", "Expiration": "2026-01-01T00:00:00Z"}

    Without ``Expiration`` the credentials never expire. The command is split like a shell
    would (``shlex``) and run without a shell. Its output is never logged or put in messages.
    """

    profile: SharedProfile
    run: ProcessRunner = _run_process
    name: str = "credential-process"

    async def load(self) -> Expiring[AwsCredentials] | None:
        """Run the command and parse its output."""
        profile = await self.profile.get()
        command = profile.get("credential_process") if profile is not None else None
        if profile is None or not command:
            return None
        import json
        import shlex

        from litestar_storages.backends._s3_xml import parse_iso8601

        where = f"credential_process of profile {profile.name!r}"
        code, stdout = await self.run(shlex.split(command))
        if code != 0:
            raise _error(f"{where} exited with status {code}")
        try:
            data = json.loads(stdout)
        except ValueError:
            raise _error(f"{where} did not print JSON") from None
        if not isinstance(data, dict) or data.get("Version") != 1:
            raise _error(f"{where} must print a JSON object with Version 1")
        pair = _pair(
            data.get("AccessKeyId"), data.get("SecretAccessKey"), data.get("SessionToken"), where
        )
        if pair is None:
            raise _error(f"{where} printed no AccessKeyId/SecretAccessKey")
        expires = data.get("Expiration")
        expires_at = parse_iso8601(expires) if isinstance(expires, str) else None
        if expires and expires_at is None:
            raise _error(f"{where} printed an unreadable Expiration")
        return Expiring(pair, expires_at)


# ---------------------------------------------------------------------- the chain
class CredentialChain:
    """Tries its sources in order; the first that answers is used from then on.

    Args:
        sources: The sources, in order. ``chain.sources`` may be extended.
        http: The senders of the network sources, released by :meth:`aclose`.
    """

    def __init__(self, sources: Iterable[CredentialSource], *, http: AwsHttp | None = None):
        self.sources: list[CredentialSource] = list(sources)
        self.resolved: CredentialSource | None = None
        self.http = http

    async def aclose(self) -> None:
        """Release the network sources' holds on the connection pools. Idempotent."""
        if self.http is not None:
            await self.http.release()

    @property
    def source_name(self) -> str | None:
        """The name of the source that supplied the credentials (no secrets), once resolved."""
        return None if self.resolved is None else self.resolved.name

    def describe(self) -> list[str]:
        """The names of the sources, in order."""
        return [source.name for source in self.sources]

    async def __call__(self) -> Expiring[AwsCredentials]:
        """Load credentials (the cache's provider).

        Raises:
            StorageConfigurationError: No source had credentials, or one was misconfigured.
        """
        if self.resolved is not None:
            # A refresh asks the source that answered before (its credentials expire).
            again = await self.resolved.load()
            if again is not None:
                return again
        for source in self.sources:
            found = await source.load()
            if found is not None:
                self.resolved = source
                return found
        raise _error(
            "no S3 credentials found (tried: "
            + ", ".join(self.describe())
            + "); configure access_key_id/secret_access_key, set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, define a profile, run with an IAM role (EC2, ECS, EKS), "
            "or use anonymous=True for public buckets"
        )


def default_chain(
    *,
    access_key_id: str | None,
    secret_access_key: str | None,
    session_token: str | None,
    profile: str | None,
    environ: Mapping[str, str],
    run: ProcessRunner = _run_process,
    region: str | None = None,
    http: AwsHttp | None = None,
    ec2_metadata_v1: bool = False,
) -> CredentialChain:
    """The documented chain, in botocore's order (see the module docstring).

    Args:
        access_key_id: ``S3Config.access_key_id``.
        secret_access_key: ``S3Config.secret_access_key``.
        session_token: ``S3Config.session_token``.
        profile: ``S3Config.profile`` (then ``AWS_PROFILE``, ``default``).
        environ: The environment.
        run: Runs ``credential_process`` commands.
        region: The configured region (regional STS endpoints).
        http: The network sources' senders (the storage passes its pool settings).
        ec2_metadata_v1: Allow IMDSv1 when IMDSv2 is refused (``S3Config.ec2_metadata_v1``).
    """
    from litestar_storages.backends.s3._credentials_metadata import (
        ContainerSource,
        InstanceMetadataSource,
    )
    from litestar_storages.backends.s3._credentials_sts import (
        AssumeRoleSource,
        WebIdentitySource,
    )

    http = http or AwsHttp(environ)
    named = profile or environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE")
    shared = SharedProfile(named or "default", environ, required=bool(named))
    environment = EnvironmentSource(environ)
    container = ContainerSource(http, environ)
    instance = InstanceMetadataSource(http, environ, v1_fallback=ec2_metadata_v1)
    sources: list[CredentialSource] = [
        ExplicitSource(access_key_id, secret_access_key, session_token)
    ]
    if profile is None:
        sources.append(environment)
    sources += [
        AssumeRoleSource(
            http,
            environ,
            shared,
            region,
            # The profile's credential_source names (botocore's).
            base_sources={
                "Environment": environment,
                "EcsContainer": container,
                "Ec2InstanceMetadata": instance,
            },
            run=run,
        ),
        WebIdentitySource(http, environ, shared, region),
        ProfileSource(shared),
        ProcessSource(shared, run=run),
        container,
        instance,
    ]
    return CredentialChain(sources, http=http)


# ---------------------------------------------------------------------- the signer
class S3Signer:
    """Signs each attempt with SigV4 headers (the ``Signer`` hook of the send loop).

    The credential comes from the shared cache (refreshed there when close to expiry); the
    region is read on every call because it can be corrected once S3 names the bucket's region.

    Args:
        credentials: The credential cache.
        region: Returns the current signing region.
        key_cache: Derived signing keys (valid for a UTC day), owned by the storage.
    """

    def __init__(
        self,
        credentials: CredentialCache[AwsCredentials],
        region: Callable[[], str],
        key_cache: SigningKeyCache | None = None,
    ) -> None:
        self._credentials = credentials
        self._region = region
        self._keys = key_cache or SigningKeyCache()

    async def __call__(self, request: HttpRequest, now: datetime) -> dict[str, str]:
        """The ``authorization``, ``x-amz-date``, ``x-amz-content-sha256`` (and token) headers."""
        credentials = await self._credentials.get()
        payload = request.headers.get("x-amz-content-sha256")
        if payload is None:
            payload = EMPTY_SHA256 if not request.body else UNSIGNED_PAYLOAD
        try:
            return sign_headers(
                request.method,
                host=request.host,
                path=request.path,
                query=request.query,
                headers=request.headers,
                payload_hash=payload,
                credentials=credentials,
                region=self._region(),
                service="s3",
                now=now,
                key_cache=self._keys,
            )
        except SigningError as exc:
            raise StorageConfigurationError(
                f"cannot sign {request.operation or request.method}: {exc}",
                key=request.key,
                backend="s3",
            ) from exc
