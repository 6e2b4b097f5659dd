"""Presigning throughput, side by side with the vendor SDKs, in one process run.

Three groups, each printing calls per second and the ratio to the peers:

* S3 presigned GET: ``litestar_storages.signing.sigv4.presign_url`` (with a signing-key cache)
  against botocore's ``generate_presigned_url`` (``signature_version="s3v4"``) and obstore's
  ``sign``. Target: at least 20x botocore, and no slower than obstore.
* GCS V4 signed URL (RSA): ``gcs.generate_signed_url`` against google-cloud-storage's
  ``Blob.generate_signed_url(version="v4")`` and against the bare cost of one RSA-SHA256
  signature with ``cryptography``. Target: within 1.2x of the bare RSA sign.
* Azure blob SAS: ``azure.blob_sas`` + ``encode_sas`` against azure-storage-blob's
  ``generate_blob_sas``. Target: at least 10x the SDK.

Every contender reads the clock per call (ours too), as a server presigning on demand does.
Before timing, each peer's output is compared with ours for the same inputs where the peer
lets us pin them (same timestamp, same version), so the numbers compare equal work.

Peers are optional (``bench/requirements.txt``; never project dependencies): a missing one
prints ``peer X not installed``. Run: ``python bench/presign.py [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from litestar_storages.signing import azure, gcs, sigv4

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
BUCKET = "examplebucket"
KEY = "photos/2024/summer holiday/IMG_0001.jpg"
REGION = "us-east-1"

# A throwaway 2048-bit RSA key (generated once for this benchmark; it signs nothing real).
# GCS's conformance suite ships a public dummy key too, but it lives outside this repository.
_SA_EMAIL = "bench@example-project.iam.gserviceaccount.com"

AZ_ACCOUNT = "benchaccount"
AZ_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
AZ_CONTAINER = "photos"


def now() -> datetime:
    return datetime.now(timezone.utc)


ROUNDS = 20


def race(contenders: dict[str, Callable[[], object]], *, seconds: float) -> dict[str, float]:
    """Best observed seconds per call of each contender, measured in interleaved rounds.

    Each round times every contender for a short slice, one after the other, and the best
    slice is kept. Interleaving matters on a shared machine: a load spike then hits every
    contender of the round instead of skewing one of them, and the ratios stay meaningful.
    """
    slice_seconds = seconds / ROUNDS
    timers = {name: timeit.Timer(fn) for name, fn in contenders.items()}
    numbers = {}
    for name, timer in timers.items():
        number, elapsed = timer.autorange()
        numbers[name] = max(1, int(number * slice_seconds / max(elapsed, 1e-9)))
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(ROUNDS):
        for name, timer in timers.items():
            best[name] = min(best[name], timer.timeit(numbers[name]) / numbers[name])
    return best


def report(title: str, results: dict[str, float]) -> None:
    print(f"\n{title}")
    for name, seconds in results.items():
        print(f"  {name:<44} {1 / seconds:>12,.0f} /s   {seconds * 1e6:>9.2f} us/call")


def ratio(label: str, value: float, target: str) -> None:
    print(f"  ratio {label:<40} {value:>8.2f}x   (target {target})")


def same_query(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.netloc, pa.path) == (pb.scheme, pb.netloc, pb.path) and sorted(
        parse_qsl(pa.query)
    ) == sorted(parse_qsl(pb.query))


# --- S3 ----------------------------------------------------------------------------------------


def bench_s3(seconds: float) -> None:
    creds = sigv4.AwsCredentials(ACCESS_KEY, SECRET_KEY)
    cache = sigv4.SigningKeyCache()
    host = f"{BUCKET}.s3.amazonaws.com"
    path = sigv4.uri_encode_path(f"/{KEY}")

    def ours(when: datetime | None = None, host: str = host, path: str = path) -> str:
        return sigv4.presign_url(
            "GET",
            host=host,
            path=path,
            credentials=creds,
            region=REGION,
            now=when or now(),
            expires_in=3600,
            key_cache=cache,
        )

    contenders: dict[str, Callable[[], object]] = {"litestar-storages sigv4.presign_url": ours}

    try:
        import botocore.session
        from botocore.config import Config
    except ImportError:
        print("\npeer botocore not installed")
    else:
        client = botocore.session.get_session().create_client(
            "s3",
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(signature_version="s3v4"),
        )

        def boto() -> str:
            url: str = client.generate_presigned_url(
                "get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=3600
            )
            return url

        sample = boto()
        stamp = dict(parse_qsl(urlsplit(sample).query))["X-Amz-Date"]
        pinned = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        match = same_query(ours(pinned), sample)
        print(f"\nS3: our URL equals botocore's at the same timestamp: {match}")
        contenders["botocore generate_presigned_url (s3v4)"] = boto

    try:
        import obstore
        from obstore.store import S3Store
    except ImportError:
        print("peer obstore not installed")
    else:
        store = S3Store(
            BUCKET, region=REGION, access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY
        )

        def obs() -> str:
            url: str = obstore.sign(store, "GET", KEY, timedelta(hours=1))
            return url

        sample = obs()
        parts = urlsplit(sample)
        stamp = dict(parse_qsl(parts.query))["X-Amz-Date"]
        pinned = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        mine = ours(pinned, host=parts.netloc, path=sigv4.uri_encode_path(f"/{BUCKET}/{KEY}"))
        print(f"S3: our URL equals obstore's at the same timestamp: {same_query(mine, sample)}")
        contenders["obstore sign"] = obs

    results = race(contenders, seconds=seconds)
    report("S3 presigned GET URL", results)
    base = results["litestar-storages sigv4.presign_url"]
    if "botocore generate_presigned_url (s3v4)" in results:
        ratio(
            "ours / botocore throughput",
            results["botocore generate_presigned_url (s3v4)"] / base,
            ">= 20",
        )
    if "obstore sign" in results:
        ratio("ours / obstore throughput", results["obstore sign"] / base, ">= 1")


# --- GCS ---------------------------------------------------------------------------------------


def _service_account() -> tuple[gcs.GcsServiceAccount, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    # Deterministic inputs matter for the signer, not for the key: a fresh key per run is fine.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return gcs.GcsServiceAccount(_SA_EMAIL, pem, private_key_id="bench"), key


def bench_gcs(seconds: float) -> None:
    try:
        from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
        from cryptography.hazmat.primitives.hashes import SHA256
    except ImportError:
        print("\npeer cryptography not installed (needed for RSA signing)")
        return
    account, raw_key = _service_account()
    account.private_key()  # load once, as a long-lived process would

    def ours() -> str:
        return gcs.generate_signed_url(
            account, "GET", bucket=BUCKET, blob=KEY, now=now(), expires_in=3600
        )

    sts = gcs.prepare_signed_url(
        "GET", credential_id=_SA_EMAIL, bucket=BUCKET, blob=KEY, now=now(), expires_in=3600
    ).string_to_sign.encode()

    def bare_rsa() -> bytes:
        signature: bytes = raw_key.sign(sts, PKCS1v15(), SHA256())
        return signature

    contenders: dict[str, Callable[[], object]] = {
        "litestar-storages gcs.generate_signed_url": ours,
        "bare RSA-SHA256 sign (cryptography)": bare_rsa,
    }
    try:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage
        from google.oauth2 import service_account
    except ImportError:
        print("\npeer google-cloud-storage not installed")
    else:
        info = {
            "type": "service_account",
            "client_email": _SA_EMAIL,
            "private_key": account.private_key_pem,
            "private_key_id": "bench",
            "token_uri": gcs.TOKEN_URI,
        }
        g_creds = service_account.Credentials.from_service_account_info(info)
        client = storage.Client(project="bench", credentials=AnonymousCredentials())
        blob = client.bucket(BUCKET).blob(KEY)

        def google() -> str:
            url: str = blob.generate_signed_url(
                version="v4", expiration=timedelta(hours=1), method="GET", credentials=g_creds
            )
            return url

        google()
        contenders["google-cloud-storage generate_signed_url(v4)"] = google

    results = race(contenders, seconds=seconds)
    report("GCS V4 signed URL (GOOG4-RSA-SHA256)", results)
    base = results["litestar-storages gcs.generate_signed_url"]
    ratio(
        "ours / bare RSA sign (time)",
        base / results["bare RSA-SHA256 sign (cryptography)"],
        "<= 1.2",
    )
    if "google-cloud-storage generate_signed_url(v4)" in results:
        ratio(
            "ours / google-cloud-storage throughput",
            results["google-cloud-storage generate_signed_url(v4)"] / base,
            "(informative)",
        )


# --- Azure -------------------------------------------------------------------------------------


def bench_azure(seconds: float) -> None:
    key = azure.AzureSharedKey(AZ_ACCOUNT, AZ_KEY)
    version = azure.DEFAULT_VERSION

    def ours(expiry: datetime | None = None, version: str = azure.DEFAULT_VERSION) -> str:
        return azure.encode_sas(
            azure.blob_sas(
                key,
                container=AZ_CONTAINER,
                blob=KEY,
                permissions="r",
                expiry=expiry or now() + timedelta(hours=1),
                version=version,
            )
        )

    contenders: dict[str, Callable[[], object]] = {
        "litestar-storages azure.blob_sas + encode_sas": ours
    }
    try:
        from azure.storage.blob import generate_blob_sas
        from azure.storage.blob._shared.constants import X_MS_VERSION
    except ImportError:
        print("\npeer azure-storage-blob not installed")
    else:

        def sdk(expiry: datetime | None = None) -> str:
            token: str = generate_blob_sas(
                AZ_ACCOUNT,
                AZ_CONTAINER,
                KEY,
                account_key=AZ_KEY,
                permission="r",
                expiry=expiry or now() + timedelta(hours=1),
            )
            return token

        pinned = now().replace(microsecond=0) + timedelta(hours=1)
        # The SDK always signs with its own newest version; sign ours with the same one.
        match = sorted(parse_qsl(sdk(pinned))) == sorted(parse_qsl(ours(pinned, X_MS_VERSION)))
        print(f"\nAzure: our SAS equals azure-storage-blob's (sv={X_MS_VERSION}): {match}")
        contenders["azure-storage-blob generate_blob_sas"] = sdk

    results = race(contenders, seconds=seconds)
    report(f"Azure blob SAS (service SAS, sv={version})", results)
    if "azure-storage-blob generate_blob_sas" in results:
        base = results["litestar-storages azure.blob_sas + encode_sas"]
        ratio(
            "ours / azure-storage-blob throughput",
            results["azure-storage-blob generate_blob_sas"] / base,
            ">= 10",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="0.5 s per contender")
    parser.add_argument("--seconds", type=float, default=2.0, help="time per contender")
    args = parser.parse_args()
    seconds = 0.5 if args.quick else args.seconds
    print(
        f"Python {sys.version.split()[0]}; {seconds:.1f} s per contender, best of {ROUNDS} rounds"
    )
    bench_s3(seconds)
    bench_gcs(seconds)
    bench_azure(seconds)


if __name__ == "__main__":
    main()
