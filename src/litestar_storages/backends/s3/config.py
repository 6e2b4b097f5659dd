"""``S3Config`` and what is derived from it: provider traits, addressing, endpoint and region.

Everything here is pure and cheap (no httpx, no file or network I/O), so building an
``S3Storage`` and presigning a URL stay fast. Values missing from the config are looked up in
the environment given to :func:`resolve_endpoint`; the shared config files are read by
``credentials.load_profile`` only when a profile is in play.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from litestar_storages._http.settings import HttpTransport, check_http_settings
from litestar_storages.exceptions import StorageConfigurationError

__all__ = [
    "PROVIDERS",
    "AddressingStyle",
    "ProviderTraits",
    "S3Config",
    "S3Endpoint",
    "detect_provider",
    "resolve_endpoint",
]

AddressingStyle = Literal["auto", "virtual", "path"]

MIB = 1024 * 1024


@dataclass(frozen=True)
class ProviderTraits:
    """What an S3-compatible service accepts, where it differs from AWS.

    Attributes:
        name: Short name (``aws``, ``r2``, ``b2``, ``minio``, ``spaces``, ``ceph``, ``generic``).
        conditional_writes: Honours ``If-None-Match: *`` on PutObject (create-only writes).
            Without it, ``overwrite=False`` checks with HeadObject first, which is racy.
        conditional_complete: Honours ``If-None-Match: *`` on CompleteMultipartUpload too.
        checksum_sha256: Accepts (and returns) ``x-amz-checksum-sha256`` on PutObject.
        path_style: Path-style addressing (``host/bucket/key``) by default.
        default_region: Signing region when none is configured.
    """

    name: str
    conditional_writes: bool
    checksum_sha256: bool
    path_style: bool
    default_region: str = "us-east-1"
    conditional_complete: bool | None = None

    def __post_init__(self) -> None:
        if self.conditional_complete is None:
            object.__setattr__(self, "conditional_complete", self.conditional_writes)


PROVIDERS: dict[str, ProviderTraits] = {
    # AWS: conditional writes since 2024-08 (PutObject) and 2024-11 (CompleteMultipartUpload);
    # flexible checksums since 2022.
    "aws": ProviderTraits("aws", conditional_writes=True, checksum_sha256=True, path_style=False),
    # Cloudflare R2: If-None-Match on PutObject; signs with region "auto".
    "r2": ProviderTraits(
        "r2", conditional_writes=True, checksum_sha256=False, path_style=True, default_region="auto"
    ),
    # Backblaze B2: neither conditional writes nor x-amz-checksum-* headers.
    "b2": ProviderTraits("b2", conditional_writes=False, checksum_sha256=False, path_style=True),
    # MinIO: conditional writes and flexible checksums.
    "minio": ProviderTraits(
        "minio", conditional_writes=True, checksum_sha256=True, path_style=True
    ),
    # DigitalOcean Spaces: neither.
    "spaces": ProviderTraits(
        "spaces", conditional_writes=False, checksum_sha256=False, path_style=True
    ),
    # Ceph radosgw 16.2 (Pacific), as measured: If-None-Match honoured on PutObject but ignored
    # on CompleteMultipartUpload; no flexible checksums (Reef and later).
    "ceph": ProviderTraits(
        "ceph",
        conditional_writes=True,
        checksum_sha256=False,
        path_style=True,
        conditional_complete=False,
    ),
    # moto (the test emulator), as measured: both conditional writes; flexible checksums.
    "moto": ProviderTraits("moto", conditional_writes=True, checksum_sha256=True, path_style=True),
    # Anything else: assume only the classic API.
    "generic": ProviderTraits(
        "generic", conditional_writes=False, checksum_sha256=False, path_style=True
    ),
}

_AWS_HOST = re.compile(
    r"^(?:[a-z0-9.-]+\.)?s3(?:[.-]dualstack)?(?:[.-](?P<region>[a-z0-9-]+))?\.amazonaws\.com(?:\.cn)?$"
)
_SPACES_HOST = re.compile(r"^(?:[a-z0-9.-]+\.)?(?P<region>[a-z0-9]+)\.digitaloceanspaces\.com$")
_B2_HOST = re.compile(r"^(?:[a-z0-9.-]+\.)?s3\.(?P<region>[a-z0-9-]+)\.backblazeb2\.com$")
_R2_HOST = re.compile(r"\.r2\.cloudflarestorage\.com$")


def detect_provider(endpoint_url: str | None) -> str:
    """The provider an endpoint belongs to (``aws`` when there is no custom endpoint)."""
    if not endpoint_url:
        return "aws"
    host = (urlsplit(_with_scheme(endpoint_url, True)).hostname or "").lower()
    if _AWS_HOST.match(host):
        return "aws"
    if _R2_HOST.search(host):
        return "r2"
    if _B2_HOST.match(host):
        return "b2"
    if _SPACES_HOST.match(host):
        return "spaces"
    return "generic"


def _region_from_host(host: str) -> str | None:
    for pattern in (_AWS_HOST, _SPACES_HOST, _B2_HOST):
        match = pattern.match(host)
        if match and match.group("region"):
            region = match.group("region")
            return None if region in ("external-1",) else region
    return None


def _with_scheme(url: str, use_ssl: bool) -> str:
    return url if "://" in url else f"{'https' if use_ssl else 'http'}://{url}"


@dataclass
class S3Config:
    """Configuration of :class:`~litestar_storages.backends.s3.S3Storage`.

    The first eleven fields are litestar-storages 0.2.3's; the rest are additions. Where a field
    is ``None`` it is looked up as noted.

    Attributes:
        bucket: Bucket name.
        region: Signing region. Env: ``AWS_REGION``, then ``AWS_DEFAULT_REGION``; then the
            profile's ``region``; then read from an AWS/Spaces/B2 endpoint host; else the
            provider's default (``us-east-1``, R2: ``auto``). For AWS without an explicit
            region, a bucket in another region is detected from S3's redirect and used.
        endpoint_url: Custom endpoint for S3-compatible services (``https://host[:port]``).
            Env: ``AWS_ENDPOINT_URL_S3``, then ``AWS_ENDPOINT_URL``. Default: AWS.
        access_key_id: Access key id. Env: ``AWS_ACCESS_KEY_ID`` (see the credential chain).
        secret_access_key: Secret access key. Env: ``AWS_SECRET_ACCESS_KEY``.
        session_token: Session token of temporary credentials. Env: ``AWS_SESSION_TOKEN``.
        prefix: Key prefix applied to every operation (``"uploads/"``).
        presigned_expiry: Default validity of ``url()`` (1 second to 7 days).
        use_ssl: Use ``https`` when the endpoint has no scheme (and for AWS).
        verify_ssl: Verify TLS certificates (or the path of a CA bundle).
        max_pool_connections: Most connections the shared pool opens to this endpoint.
        addressing_style: ``virtual`` (``bucket.host/key``), ``path`` (``host/bucket/key``) or
            ``auto``: virtual for AWS when the bucket name allows it, path otherwise.
        provider: ``aws``, ``r2``, ``b2``, ``minio``, ``spaces``, ``ceph``, ``moto`` or
            ``generic``;
            ``None`` detects it from the endpoint (custom endpoints: ``generic``).
        conditional_writes: Override the provider's support for ``If-None-Match: *`` (on
            PutObject and CompleteMultipartUpload).
        checksum_sha256: Override whether ``x-amz-checksum-sha256`` is sent with PutObject.
        profile: Shared-config profile. Env: ``AWS_PROFILE``; default ``default``.
        anonymous: Send unsigned requests (public buckets). Never chosen implicitly.
        part_size: Part size for ``put`` of large or streamed bodies (at least 5 MiB).
        multipart_concurrency: Parts uploaded at once by ``put`` and ``put_large``.
        connect_timeout: Seconds to connect (DNS, TCP, TLS).
        read_timeout: Seconds to wait for each read (and write, and for a free connection).
        http2: Use HTTP/2 when the ``h2`` package is installed.
        proxy_url: HTTP(S) proxy for every request (environment proxies are not read); sent
            through httpx's stock transport. Hidden from ``repr`` (it may hold a password).
        ec2_metadata_v1: Let the instance-metadata source fall back to IMDSv1 (requests without
            a session token) when IMDSv2 is refused. Off by default: IMDSv1 is what SSRF attacks
            on instance credentials use. Env: none (``AWS_EC2_METADATA_DISABLED=true`` turns
            instance metadata off; ``AWS_EC2_METADATA_SERVICE_ENDPOINT`` moves it).
        http_transport: ``"fast"`` (the library's HTTP/1.1 transport) or ``"httpx"`` (httpx's
            stock transport). Env: ``LITESTAR_STORAGES_HTTP_TRANSPORT``; default ``"fast"``.
        unsigned_payload: Sign ``UNSIGNED-PAYLOAD`` instead of the SHA-256 of PutObject and
            UploadPart bodies. Saves hashing every uploaded byte (about 0.7 CPU s per GiB), at
            the cost of S3's check that the body arrived as sent: only TLS then protects it in
            transit (PutObject's ETag is still compared with the body's MD5). Meant for
            ``https`` endpoints; over plain ``http`` nothing protects the body.
    """

    bucket: str
    region: str | None = None
    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    prefix: str = ""
    presigned_expiry: timedelta = field(default_factory=lambda: timedelta(hours=1))
    use_ssl: bool = True
    verify_ssl: bool | str = True
    max_pool_connections: int = 10
    addressing_style: AddressingStyle = "auto"
    provider: str | None = None
    conditional_writes: bool | None = None
    checksum_sha256: bool | None = None
    profile: str | None = None
    anonymous: bool = False
    part_size: int = 8 * MIB
    multipart_concurrency: int = 4
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    http2: bool = False
    proxy_url: str | None = field(default=None, repr=False)  # may carry a password
    ec2_metadata_v1: bool = False
    http_transport: HttpTransport | None = None
    unsigned_payload: bool = False

    def __post_init__(self) -> None:
        problems = check_http_settings(self)
        if not self.bucket:
            problems.append("bucket is required")
        if self.addressing_style not in ("auto", "virtual", "path"):
            problems.append("addressing_style must be 'auto', 'virtual' or 'path'")
        if self.provider is not None and self.provider not in PROVIDERS:
            problems.append(f"provider must be one of {sorted(PROVIDERS)}")
        if self.part_size < 5 * MIB:
            problems.append("part_size must be at least 5 MiB (S3's minimum part size)")
        if self.multipart_concurrency < 1:
            problems.append("multipart_concurrency must be at least 1")
        if (self.access_key_id is None) != (self.secret_access_key is None):
            problems.append("give both access_key_id and secret_access_key, or neither")
        if self.prefix.startswith("/"):
            problems.append("prefix must not start with '/'")
        if problems:
            raise StorageConfigurationError("; ".join(problems), backend="s3")


@dataclass
class S3Endpoint:
    """Where requests for one bucket go, and how they are signed (mutable: the region can be
    corrected once S3 tells us where the bucket lives).

    Attributes:
        scheme: ``http`` or ``https``.
        host: Service host, with ``:port`` when not the default.
        bucket: The bucket.
        path_style: Whether the bucket is in the path rather than the host name.
        region: Signing region.
        region_fixed: Whether the region was configured (and must not be auto-corrected).
        traits: The provider's traits (with the config's overrides applied).
        aws_default_host: Whether ``host`` was derived from the region (no custom endpoint),
            so it follows a corrected region.
    """

    scheme: str
    host: str
    bucket: str
    path_style: bool
    region: str
    region_fixed: bool
    traits: ProviderTraits
    aws_default_host: bool = False

    def relocate(self, region: str) -> bool:
        """Move to the region S3 says the bucket is in; ``False`` if the region is fixed.

        S3 answers a request signed for the wrong region with ``PermanentRedirect`` (301) or
        ``AuthorizationHeaderMalformed`` (400), naming the bucket's region in the
        ``x-amz-bucket-region`` header or the ``<Region>`` element.
        """
        if self.region_fixed or region == self.region or not region:
            return False
        self.region = region
        if self.aws_default_host:
            self.host = _aws_host(region)
        return True

    @property
    def origin(self) -> str:
        """``scheme://host`` of requests for this bucket."""
        host = self.host if self.path_style else f"{self.bucket}.{self.host}"
        return f"{self.scheme}://{host}"

    @property
    def host_header(self) -> str:
        """The ``Host`` header of requests for this bucket."""
        return self.host if self.path_style else f"{self.bucket}.{self.host}"

    def path(self, encoded_key: str = "") -> str:
        """The wire path of an (already encoded) key, or of the bucket when empty."""
        if self.path_style:
            return f"/{self.bucket}/{encoded_key}" if encoded_key else f"/{self.bucket}"
        return f"/{encoded_key}"


_DNS_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


def _virtual_host_ok(bucket: str, scheme: str) -> bool:
    # S3 "Virtual hosting of buckets": the name must be a valid DNS label; with https a dot
    # would break the wildcard certificate (*.s3.amazonaws.com), so dotted names use paths.
    if "." in bucket:
        return scheme == "http" and all(_DNS_BUCKET.match(p) for p in bucket.split("."))
    return bool(_DNS_BUCKET.match(bucket))


def resolve_endpoint(
    config: S3Config,
    environ: Mapping[str, str],
    *,
    profile_region: str | None = None,
) -> S3Endpoint:
    """Derive the endpoint, addressing style, region and traits from config and environment.

    Raises:
        StorageConfigurationError: The endpoint URL is malformed.
    """
    endpoint = (
        config.endpoint_url or environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL")
    )
    provider = config.provider or detect_provider(endpoint)
    traits = PROVIDERS[provider]
    if config.conditional_writes is not None:
        traits = replace(
            traits,
            conditional_writes=config.conditional_writes,
            conditional_complete=config.conditional_writes,
        )
    if config.checksum_sha256 is not None:
        traits = replace(traits, checksum_sha256=config.checksum_sha256)
    region = config.region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    region = region or profile_region
    fixed = region is not None
    if endpoint:
        parts = urlsplit(_with_scheme(endpoint, config.use_ssl))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise StorageConfigurationError(
                f"endpoint_url must be http(s)://host[:port], not {endpoint!r}", backend="s3"
            )
        if parts.path not in ("", "/"):
            raise StorageConfigurationError(
                "endpoint_url must not contain a path; the bucket goes in S3Config.bucket",
                backend="s3",
            )
        scheme = parts.scheme
        host = parts.netloc.rsplit("@", 1)[-1].lower()
        default_port = ":443" if scheme == "https" else ":80"
        host = host.removesuffix(default_port)
        region = region or _region_from_host(parts.hostname.lower())
    else:
        scheme = "https" if config.use_ssl else "http"
        region = region or traits.default_region
        # Regional endpoints accept every region's buckets' requests signed for their region.
        host = _aws_host(region)
    region = region or traits.default_region
    if config.addressing_style == "path":
        path_style = True
    elif config.addressing_style == "virtual":
        path_style = False
    else:
        path_style = traits.path_style or not _virtual_host_ok(config.bucket, scheme)
    return S3Endpoint(
        scheme=scheme,
        host=host,
        bucket=config.bucket,
        path_style=path_style,
        region=region,
        region_fixed=fixed,
        traits=traits,
        aws_default_host=not endpoint,
    )


def _aws_host(region: str) -> str:
    # Regional endpoint names (S3 "Regions and endpoints"); us-east-1 also answers the global one.
    return "s3.amazonaws.com" if region == "us-east-1" else f"s3.{region}.amazonaws.com"
