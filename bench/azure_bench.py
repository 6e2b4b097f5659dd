"""Azure benchmarks: cold start, SAS URLs per second, streamed transfer memory.

* ``cold``: a fresh process imports the library, builds a storage (or client) from a
  connection string and computes one blob SAS URL. Wall time and peak RSS (median of runs),
  ours against azure-storage-blob (``BlobClient`` + ``generate_blob_sas``).
* ``sas``: blob SAS per second. Whole URLs: ``AzureStorage.url`` (key check, path encoding,
  token) against ``generate_blob_sas`` plus the URL around it. Tokens alone: the storage's
  signer against ``generate_blob_sas``. Also the shared, general signer
  (``signing.azure.blob_sas`` + ``encode_sas``). Target: at least 10x ``generate_blob_sas``.
* ``rss``: peak RSS of a fresh process that streams N MiB up (``put`` of an async generator:
  8 MiB blocks, 4 at a time) and back down (``get``) against Azurite: it should not grow with N.

Peers are optional (``bench/requirements.txt``); a missing one prints ``not installed``. The
``rss`` group needs Azurite: ``--endpoint``/``--key``/``--container`` or
``LITESTAR_STORAGES_AZURE_*`` (``scripts/emulators.sh up`` exports them).

    python bench/azure_bench.py [--quick] [--only cold,sas,rss]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path

MIB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

ACCOUNT = "benchaccount"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CONNECTION = (
    f"DefaultEndpointsProtocol=https;AccountName={ACCOUNT};AccountKey={KEY};"
    "EndpointSuffix=core.windows.net"
)
BLOB = "photos/2024/summer holiday/IMG_0001.jpg"


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
from litestar_storages import AzureConfig, AzureStorage
storage = AzureStorage(AzureConfig(container="bench", connection_string=sys.argv[1]))
url = anyio.run(storage.url, sys.argv[2])
assert "sig=" in url
print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
      "httpx" in sys.modules)
"""

COLD_AZURE = """
import time, resource, sys, datetime
t0 = time.perf_counter()
from azure.storage.blob import BlobClient, BlobSasPermissions, generate_blob_sas
blob = BlobClient.from_connection_string(sys.argv[1], container_name="bench", blob_name=sys.argv[2])
token = generate_blob_sas(
    blob.account_name, "bench", sys.argv[2], account_key=blob.credential.account_key,
    permission=BlobSasPermissions(read=True),
    expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1))
url = f"{blob.url}?{token}"
assert "sig=" in url
print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
      "httpx" in sys.modules)
"""


def cold(runs: int) -> None:
    print(f"\n== cold start: import + build + one SAS URL, fresh process, median of {runs}")
    print(f"{'contender':<22} {'process ms':>11} {'in-process ms':>14} {'peak RSS MiB':>13} httpx")
    contenders = [
        ("litestar-storages", COLD_OURS, True),
        ("azure-storage-blob", COLD_AZURE, have("azure.storage.blob")),
    ]
    results: dict[str, tuple[float, float]] = {}
    for name, code, available in contenders:
        if not available:
            print(f"{name:<22} not installed")
            continue
        walls, inner, rss, httpx_loaded = [], [], [], "?"
        for _ in range(runs):
            started = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", code, CONNECTION, BLOB],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            ).stdout.split()
            walls.append(time.perf_counter() - started)
            inner.append(float(out[0]))
            rss.append(float(out[1]))
            httpx_loaded = out[2]
        results[name] = (statistics.median(walls), statistics.median(rss))
        print(
            f"{name:<22} {statistics.median(walls) * 1000:>11.1f} "
            f"{statistics.median(inner) * 1000:>14.1f} {statistics.median(rss):>13.1f} "
            f"{httpx_loaded}"
        )
    if len(results) == 2:
        ours, peer = results["litestar-storages"], results["azure-storage-blob"]
        print(
            f"azure-storage-blob / litestar-storages: {peer[0] / ours[0]:.2f}x process time, "
            f"{peer[1] / ours[1]:.2f}x peak RSS"
        )


# ----------------------------------------------------------------------------- SAS URLs
def per_call(fn: Callable[[], object], seconds: float) -> float:
    """Best seconds per call over 5 repeats of about ``seconds / 5`` each."""
    timer = timeit.Timer(fn)
    number, elapsed = timer.autorange()
    number = max(1, int(number * (seconds / 5) / max(elapsed, 1e-9)))
    return min(timer.repeat(repeat=5, number=number)) / number


def sas(seconds: float) -> None:
    from datetime import datetime, timedelta, timezone

    import anyio

    from litestar_storages import AzureConfig, AzureStorage
    from litestar_storages.signing.azure import AzureSharedKey, blob_sas, encode_sas

    print("\n== blob SAS URLs per second (read, 1 h, one key), single thread, best of 3 rounds")
    storage = AzureStorage(AzureConfig(container="bench", connection_string=CONNECTION))
    credential = AzureSharedKey(ACCOUNT, KEY)

    async def ours_rate(budget: float) -> float:
        # One event loop for the whole measurement: starting a loop per batch would cost more
        # than the URLs themselves.
        best = float("inf")
        deadline = time.perf_counter() + budget
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            for _ in range(1000):
                await storage.url(BLOB)
            best = min(best, (time.perf_counter() - started) / 1000)
        return 1 / best

    def floor() -> str:
        now = datetime.now(timezone.utc)
        pairs = blob_sas(
            credential,
            container="bench",
            blob=BLOB,
            permissions="r",
            start=now - timedelta(minutes=15),
            expiry=now + timedelta(hours=1),
            protocol="https",
        )
        return encode_sas(pairs)

    anyio.run(storage.url, BLOB)  # builds the storage's signer
    signer = storage._sas_signer
    assert signer is not None

    def token() -> str:
        return signer.query(
            BLOB,
            permissions="r",
            now=datetime.now(timezone.utc),
            expires_in=timedelta(hours=1),
            skew=timedelta(minutes=15),
        )

    contenders: dict[str, Callable[[float], float]] = {
        "ours: url()": lambda budget: anyio.run(ours_rate, budget),
        "ours: token only": lambda budget: 1 / per_call(token, budget),
        "signing.azure.blob_sas": lambda budget: 1 / per_call(floor, budget),
    }
    if have("azure.storage.blob"):
        from urllib.parse import quote

        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        def peer_token() -> str:
            now = datetime.now(timezone.utc)
            return generate_blob_sas(
                ACCOUNT,
                "bench",
                BLOB,
                account_key=KEY,
                permission=BlobSasPermissions(read=True),
                start=now - timedelta(minutes=15),
                expiry=now + timedelta(hours=1),
                protocol="https",
            )

        account_url = f"https://{ACCOUNT}.blob.core.windows.net"

        def peer_url() -> str:
            return f"{account_url}/bench/{quote(BLOB)}?{peer_token()}"

        contenders["azure: generate_blob_sas"] = lambda budget: 1 / per_call(peer_token, budget)
        contenders["azure: + URL around it"] = lambda budget: 1 / per_call(peer_url, budget)
    else:
        print("azure-storage-blob      not installed")
    # Rounds interleave the contenders, so a busy moment of the machine hurts all of them.
    rates = dict.fromkeys(contenders, 0.0)
    for _ in range(3):
        for name, measure in contenders.items():
            rates[name] = max(rates[name], measure(seconds / 3))
    for name, rate in rates.items():
        print(f"{name:<26} {rate:>10.0f} /s")
    if "azure: generate_blob_sas" in rates:
        print(
            f"URL vs URL:     {rates['ours: url()'] / rates['azure: + URL around it']:.1f}x\n"
            f"token vs token: {rates['ours: token only'] / rates['azure: generate_blob_sas']:.1f}x"
            " (target >= 10x)"
        )


# ----------------------------------------------------------------------------- RSS
RSS_CHILD = """
import resource, sys, anyio
from litestar_storages import AzureConfig, AzureStorage
MIB = 1024 * 1024
endpoint, key, container, size, mode = sys.argv[1:6]
size = int(size)

async def produce(total):
    for start in range(0, total, MIB):
        yield bytes([start // MIB % 251]) * min(MIB, total - start)

async def main():
    config = AzureConfig(container=container, account_url=endpoint, account_key=key,
                         prefix="bench-rss")
    async with AzureStorage(config) as storage:
        await storage.exists("warm-up")  # import the HTTP stack before the baseline
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if mode == "put":
            stored = await storage.put("big.bin", produce(size * MIB))
            assert stored.size == size * MIB
        else:
            received = 0
            async for chunk in storage.get("big.bin"):
                received += len(chunk)
            assert received == size * MIB
            await storage.delete("big.bin")
        print(base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

anyio.run(main)
"""


def rss(sizes: list[int], endpoint: str | None, key: str | None, container: str | None) -> None:
    print("\n== peak RSS of a streamed put (8 MiB blocks, 4 in flight) and of a streamed get,")
    print("   each in a fresh process (baseline: after importing and one request)")
    if not (endpoint and key and container):
        print("no Azurite: pass --endpoint/--key/--container or run scripts/emulators.sh up")
        return
    head = ("size MiB", "baseline MiB", "put peak MiB", "put s", "get peak MiB", "get s")
    print("{:>9} {:>13} {:>13} {:>6} {:>13} {:>6}".format(*head))
    for size in sizes:
        row: list[float] = []
        for mode in ("put", "get"):
            started = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", RSS_CHILD, endpoint, key, container, str(size), mode],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            ).stdout.split()
            base, peak = (float(x) for x in out)
            row += [base, peak, time.perf_counter() - started]
        print(
            f"{size:>9} {row[0]:>13.1f} {row[1]:>13.1f} {row[2]:>6.1f} {row[4]:>13.1f} "
            f"{row[5]:>6.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, smaller sizes")
    parser.add_argument("--only", default="cold,sas,rss")
    parser.add_argument("--endpoint", default=os.environ.get("LITESTAR_STORAGES_AZURE_ENDPOINT"))
    parser.add_argument("--key", default=os.environ.get("LITESTAR_STORAGES_AZURE_ACCOUNT_KEY"))
    parser.add_argument("--container", default=os.environ.get("LITESTAR_STORAGES_AZURE_CONTAINER"))
    args = parser.parse_args()
    groups = set(args.only.split(","))
    print(f"Python {sys.version.split()[0]} on {sys.platform}")
    if "cold" in groups:
        cold(runs=3 if args.quick else 9)
    if "sas" in groups:
        sas(seconds=1.0 if args.quick else 3.0)
    if "rss" in groups:
        sizes = [16, 64] if args.quick else [16, 64, 256, 1024]
        rss(sizes, args.endpoint, args.key, args.container)


if __name__ == "__main__":
    main()
