"""``azure.BlobSasSigner``: the fast blob SAS, checked against the general builders."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest

from litestar_storages.signing import SigningError, azure

CREDENTIAL = azure.AzureSharedKey("acct", base64.b64encode(b"0123456789abcdef" * 4).decode())
NOW = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=timezone.utc)


def general(
    blob: str,
    *,
    permissions: str,
    window: azure.SasWindow,
    protocol: str | None,
    version: str,
    content_disposition: str | None = None,
) -> str:
    """What the general builders write for the same blob SAS."""
    pairs = azure.blob_sas(
        CREDENTIAL,
        container="box",
        blob=blob,
        permissions=permissions,
        start=window.start,
        expiry=window.expiry,
        protocol=protocol,
        version=version,
        content_disposition=content_disposition,
    )
    return azure.encode_sas(pairs)


@pytest.mark.parametrize("blob", ["k", "dir/a b+c.txt", "ünï/cödé 😀", "q=1&r=2"])
@pytest.mark.parametrize("permissions", ["r", "cw", "d", "racwd"])
@pytest.mark.parametrize("protocol", ["https", None, "https,http"])
def test_fast_signer_writes_exactly_what_the_general_builders_write(
    blob: str, permissions: str, protocol: str | None
) -> None:
    signer = azure.BlobSasSigner(
        CREDENTIAL, container="box", version="2025-11-05", protocol=protocol
    )
    window = azure.sas_window(NOW, timedelta(hours=2), skew=timedelta(minutes=15))
    expected = general(
        blob, permissions=permissions, window=window, protocol=protocol, version="2025-11-05"
    )
    for _ in range(2):  # the second call uses the cached time strings
        query = signer.query(
            blob,
            permissions=permissions,
            now=NOW,
            expires_in=timedelta(hours=2),
            skew=timedelta(minutes=15),
        )
        assert query == expected


@pytest.mark.parametrize(
    ("version", "disposition"), [("2025-11-05", "attachment"), ("2019-12-12", None)]
)
def test_fast_signer_defers_overrides_and_old_versions_to_the_general_builders(
    version: str, disposition: str | None
) -> None:
    now = NOW.replace(microsecond=0)
    window = azure.sas_window(now, timedelta(hours=1), skew=timedelta(0))
    signer = azure.BlobSasSigner(CREDENTIAL, container="box", version=version, protocol=None)
    query = signer.query(
        "k",
        permissions="r",
        now=now,
        expires_in=timedelta(hours=1),
        skew=timedelta(0),
        content_disposition=disposition,
    )
    assert query == general(
        "k",
        permissions="r",
        window=window,
        protocol=None,
        version=version,
        content_disposition=disposition,
    )


def test_sas_window_starts_skew_before_now_in_whole_seconds() -> None:
    window = azure.sas_window(NOW, timedelta(hours=1), skew=timedelta(minutes=15))
    assert window.start == datetime(2026, 3, 4, 4, 51, 7, tzinfo=timezone.utc)
    assert window.expiry == datetime(2026, 3, 4, 6, 6, 7, tzinfo=timezone.utc)


@pytest.mark.parametrize("expires_in", [timedelta(0), timedelta(seconds=-5), 3600])
def test_sas_window_refuses_a_lifetime_that_is_not_a_positive_timedelta(
    expires_in: object,
) -> None:
    with pytest.raises(SigningError, match="expires_in"):
        azure.sas_window(NOW, expires_in, skew=timedelta(0))  # type: ignore[arg-type]


@pytest.mark.parametrize("version", ["2025-11-05", "2019-12-12"])
def test_fast_signer_refuses_a_bad_lifetime_on_either_path(version: str) -> None:
    signer = azure.BlobSasSigner(CREDENTIAL, container="box", version=version, protocol=None)
    with pytest.raises(SigningError, match="expires_in must be positive"):
        signer.query("k", permissions="r", now=NOW, expires_in=timedelta(0), skew=timedelta(0))
