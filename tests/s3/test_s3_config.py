"""S3Config and the endpoint rules: providers, addressing style, region resolution."""

from __future__ import annotations

from datetime import timedelta

import pytest

from litestar_storages.backends.s3 import S3Config
from litestar_storages.backends.s3.config import PROVIDERS, detect_provider, resolve_endpoint
from litestar_storages.exceptions import ConfigurationError, StorageConfigurationError


def test_the_seed_fields_and_defaults() -> None:
    config = S3Config(bucket="b")
    assert (config.region, config.endpoint_url, config.prefix) == (None, None, "")
    assert config.presigned_expiry == timedelta(hours=1)
    assert (config.use_ssl, config.verify_ssl, config.max_pool_connections) == (True, True, 10)


@pytest.mark.parametrize(
    "fields",
    [
        {"bucket": ""},
        {"bucket": "b", "access_key_id": "only-the-id"},
        {"bucket": "b", "part_size": 1024},
        {"bucket": "b", "addressing_style": "sideways"},
        {"bucket": "b", "provider": "unknown"},
        {"bucket": "b", "max_pool_connections": 0},
        {"bucket": "b", "prefix": "/abs"},
    ],
)
def test_invalid_configs_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        S3Config(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("endpoint", "provider"),
    [
        (None, "aws"),
        ("https://s3.eu-west-1.amazonaws.com", "aws"),
        ("https://ACCOUNT.r2.cloudflarestorage.com", "r2"),
        ("https://s3.us-west-004.backblazeb2.com", "b2"),
        ("https://nyc3.digitaloceanspaces.com", "spaces"),
        ("http://localhost:9000", "generic"),
    ],
)
def test_providers_are_detected_from_the_endpoint(endpoint: str | None, provider: str) -> None:
    assert detect_provider(endpoint) == provider


def test_every_provider_documents_its_traits() -> None:
    assert {"aws", "r2", "b2", "minio", "spaces", "ceph", "moto", "generic"} <= set(PROVIDERS)
    assert PROVIDERS["ceph"].conditional_writes
    assert not PROVIDERS["ceph"].conditional_complete
    assert not PROVIDERS["b2"].conditional_writes


def test_aws_uses_virtual_hosts_and_the_regional_endpoint() -> None:
    ep = resolve_endpoint(S3Config(bucket="my-bucket", region="eu-west-1"), {})
    assert ep.origin == "https://my-bucket.s3.eu-west-1.amazonaws.com"
    assert ep.path("a/b") == "/a/b"
    assert ep.region_fixed


def test_dotted_bucket_names_use_path_style_over_https() -> None:
    ep = resolve_endpoint(S3Config(bucket="my.bucket", region="us-east-1"), {})
    assert ep.origin == "https://s3.amazonaws.com"
    assert ep.path("k") == "/my.bucket/k"


def test_custom_endpoints_use_path_style() -> None:
    ep = resolve_endpoint(
        S3Config(bucket="test-bucket", endpoint_url="http://localhost:9000", use_ssl=False), {}
    )
    assert ep.origin == "http://localhost:9000"
    assert ep.path("x") == "/test-bucket/x"
    assert ep.region == "us-east-1"


def test_addressing_style_can_be_forced() -> None:
    ep = resolve_endpoint(
        S3Config(bucket="b1b", endpoint_url="https://minio.test", addressing_style="virtual"), {}
    )
    assert ep.origin == "https://b1b.minio.test"


def test_endpoint_without_scheme_follows_use_ssl() -> None:
    ep = resolve_endpoint(S3Config(bucket="b", endpoint_url="minio.test:9000", use_ssl=False), {})
    assert ep.origin == "http://minio.test:9000"


def test_default_ports_are_dropped_from_the_host() -> None:
    ep = resolve_endpoint(S3Config(bucket="b", endpoint_url="https://minio.test:443"), {})
    assert ep.host == "minio.test"


@pytest.mark.parametrize("endpoint", ["ftp://x", "https://host/path", "http://"])
def test_bad_endpoints_are_refused(endpoint: str) -> None:
    with pytest.raises(StorageConfigurationError):
        resolve_endpoint(S3Config(bucket="b", endpoint_url=endpoint), {})


@pytest.mark.parametrize(
    ("config_region", "env", "profile", "endpoint", "expected"),
    [
        ("eu-west-3", {"AWS_REGION": "x"}, "y", None, "eu-west-3"),
        (None, {"AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "x"}, "y", None, "ap-south-1"),
        (None, {"AWS_DEFAULT_REGION": "ca-central-1"}, "y", None, "ca-central-1"),
        (None, {}, "sa-east-1", None, "sa-east-1"),
        (None, {}, None, "https://s3.eu-north-1.amazonaws.com", "eu-north-1"),
        (None, {}, None, "https://nyc3.digitaloceanspaces.com", "nyc3"),
        (None, {}, None, "https://s3.us-west-004.backblazeb2.com", "us-west-004"),
        (None, {}, None, "https://acct.r2.cloudflarestorage.com", "auto"),
        (None, {}, None, None, "us-east-1"),
    ],
)
def test_region_resolution_order(
    config_region: str | None,
    env: dict[str, str],
    profile: str | None,
    endpoint: str | None,
    expected: str,
) -> None:
    config = S3Config(bucket="b", region=config_region, endpoint_url=endpoint)
    assert resolve_endpoint(config, env, profile_region=profile).region == expected


def test_endpoint_from_the_environment() -> None:
    env = {"AWS_ENDPOINT_URL": "http://general:1", "AWS_ENDPOINT_URL_S3": "http://s3only:2"}
    assert resolve_endpoint(S3Config(bucket="b"), env).origin == "http://s3only:2"
    assert (
        resolve_endpoint(S3Config(bucket="b"), {"AWS_ENDPOINT_URL": "http://g:1"}).origin
        == "http://g:1"
    )


def test_an_unfixed_region_can_be_relocated_and_moves_the_aws_host() -> None:
    ep = resolve_endpoint(S3Config(bucket="bkt"), {})
    assert ep.relocate("eu-central-1")
    assert ep.origin == "https://bkt.s3.eu-central-1.amazonaws.com"


def test_a_configured_region_is_not_relocated() -> None:
    ep = resolve_endpoint(S3Config(bucket="bkt", region="us-east-1"), {})
    assert not ep.relocate("eu-central-1")


def test_trait_overrides() -> None:
    ep = resolve_endpoint(
        S3Config(
            bucket="b", endpoint_url="http://x", conditional_writes=True, checksum_sha256=True
        ),
        {},
    )
    assert ep.traits.conditional_writes
    assert ep.traits.conditional_complete
    assert ep.traits.checksum_sha256
