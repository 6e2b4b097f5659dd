"""S3 side by side: litestar-storages against a bare httpx loop, aioboto3, obstore and boto3.

Same local server, same run (Ceph radosgw or moto from ``scripts/emulators.sh up``). Every case
runs in its own child process, so peak RSS (``ru_maxrss``) and CPU time are the case's alone:

* ``get``: one object of ``--size`` bytes (default 1 GiB) streamed and discarded: MB/s, peak RSS.
* ``put``: ``--size`` bytes streamed from a generator (never held in memory): MB/s, peak RSS.
* ``small``: ``--count`` GETs (default 10,000) of a 4 KiB object at concurrency 64: client CPU
  seconds per 1,000 operations (process CPU, all threads: obstore does its work in Rust threads).
``ours`` is ``S3Storage`` as shipped (the library's own transport); ``ours-stock`` the same over
httpx's stock transport, to show what the transport is worth.

* ``cold``: a fresh interpreter imports the library, builds a client and presigns one URL: wall
  time and peak RSS (median of ``--cold-runs``).

Targets (issue 4): streaming at least 90% of the bare httpx loop; CPU per small GET at most half
of aioboto3's; cold start at most a fifth of boto3's; peak RSS independent of object size.

Peers are optional (``bench/requirements.txt``; install into ``.venv-bench``); a missing one is
reported and skipped. Run::

    scripts/emulators.sh up && eval "$(scripts/emulators.sh env)"
    .venv-bench/bin/python bench/s3_bench.py [--size 256M] [--count 2000] [--server radosgw]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

CHUNK = 1024 * 1024
SMALL = 4 * 1024
CONCURRENCY = 64
BIG_KEY = "bench/big.bin"
SMALL_KEY = "bench/small.bin"
PUT_KEY = "bench/put-{client}.bin"

Case = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


# ---------------------------------------------------------------------- environment
def server_settings(server: str) -> dict[str, str]:
    prefix = "LITESTAR_STORAGES_S3_RADOSGW_" if server == "radosgw" else "LITESTAR_STORAGES_S3_"
    names = ("ENDPOINT", "BUCKET", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY")
    missing = [prefix + name for name in names if not os.environ.get(prefix + name)]
    if missing:
        sys.exit(f"set {', '.join(missing)} (scripts/emulators.sh up; eval its env)")
    settings = {name.lower(): os.environ[prefix + name] for name in names}
    settings["region"] = os.environ.get(prefix + "REGION", "us-east-1")
    return settings


def parse_size(text: str) -> int:
    units = {"K": 1024, "M": 1024**2, "G": 1024**3}
    unit = text[-1].upper()
    return int(float(text[:-1]) * units[unit]) if unit in units else int(text)


def peak_rss_mib() -> float:
    # VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec, so a child would report the
    # benchmark parent's peak rather than its own.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def body(size: int) -> AsyncIterator[bytes]:
    """``size`` bytes in 1 MiB chunks, generated (the same buffer each time: no allocation)."""
    block = os.urandom(CHUNK)
    sent = 0
    while sent < size:
        piece = block if size - sent >= CHUNK else block[: size - sent]
        sent += len(piece)
        yield piece


class BodyFile:
    """A read()-able view of :func:`body` for clients that want a file (aioboto3)."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.block = os.urandom(CHUNK)

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        out = (self.block * (n // CHUNK + 1))[:n] if n > CHUNK else self.block[:n]
        self.left -= n
        return out


# ---------------------------------------------------------------------- clients
def ours(settings: dict[str, str], *, stock: bool = False, pool: int = CONCURRENCY) -> Any:
    """Our S3Storage: its own transport by default, httpx's with ``stock`` (for comparison)."""
    from litestar_storages import S3Config, S3Storage

    factory = None
    if stock:
        from litestar_storages._http.pool import stock_transport_factory

        factory = stock_transport_factory

    return S3Storage(
        S3Config(
            bucket=settings["bucket"],
            endpoint_url=settings["endpoint"],
            region=settings["region"],
            access_key_id=settings["access_key_id"],
            secret_access_key=settings["secret_access_key"],
            max_pool_connections=pool,
        ),
        transport_factory=factory,
    )


async def presigned(settings: dict[str, str], key: str, method: str = "GET") -> str:
    async with ours(settings) as storage:
        return str(await storage.url(key, method=method))


def aioboto3_client(settings: dict[str, str]) -> Any:
    import aioboto3
    from botocore.config import Config

    return aioboto3.Session().client(
        "s3",
        endpoint_url=settings["endpoint"],
        region_name=settings["region"],
        aws_access_key_id=settings["access_key_id"],
        aws_secret_access_key=settings["secret_access_key"],
        config=Config(max_pool_connections=CONCURRENCY, s3={"addressing_style": "path"}),
    )


def obstore_store(settings: dict[str, str]) -> Any:
    from obstore.store import S3Store

    return S3Store(
        settings["bucket"],
        endpoint=settings["endpoint"],
        region=settings["region"],
        access_key_id=settings["access_key_id"],
        secret_access_key=settings["secret_access_key"],
        virtual_hosted_style_request=False,
        client_options={"allow_http": True, "pool_max_idle_per_host": str(CONCURRENCY)},
    )


# ---------------------------------------------------------------------- cases (in a child)
async def case_get(args: dict[str, Any]) -> dict[str, Any]:
    settings, client = args["settings"], args["client"]
    received = 0
    start = time.perf_counter()
    if client in ("ours", "ours-stock"):
        async with ours(settings, stock=client == "ours-stock") as storage:
            async for chunk in storage.get(BIG_KEY):
                received += len(chunk)
    elif client == "httpx":
        import httpx

        url = await presigned(settings, BIG_KEY)
        start = time.perf_counter()
        async with httpx.AsyncClient() as http, http.stream("GET", url) as response:
            async for chunk in response.aiter_raw():
                received += len(chunk)
    elif client == "aioboto3":
        async with aioboto3_client(settings) as s3:
            response = await s3.get_object(Bucket=settings["bucket"], Key=BIG_KEY)
            async for chunk in response["Body"].iter_chunks(CHUNK):
                received += len(chunk)
    elif client == "obstore":
        import obstore

        result = await obstore.get_async(obstore_store(settings), BIG_KEY)
        async for chunk in result.stream(min_chunk_size=CHUNK):
            received += len(chunk)
    seconds = time.perf_counter() - start
    return {"bytes": received, "seconds": seconds}


async def case_put(args: dict[str, Any]) -> dict[str, Any]:
    settings, client, size = args["settings"], args["client"], args["size"]
    key = PUT_KEY.format(client=client)
    start = time.perf_counter()
    if client in ("ours", "ours-stock"):
        async with ours(settings, stock=client == "ours-stock") as storage:
            await storage.put(key, body(size))
            await storage.delete(key)
    elif client == "httpx":
        import httpx

        url = await presigned(settings, key, "PUT")
        start = time.perf_counter()
        async with httpx.AsyncClient(timeout=600) as http:
            response = await http.put(
                url, content=body(size), headers={"content-length": str(size)}
            )
            response.raise_for_status()
    elif client == "aioboto3":
        async with aioboto3_client(settings) as s3:
            await s3.upload_fileobj(BodyFile(size), settings["bucket"], key)
            await s3.delete_object(Bucket=settings["bucket"], Key=key)
    elif client == "obstore":
        import obstore

        store = obstore_store(settings)
        await obstore.put_async(store, key, body(size), chunk_size=8 * CHUNK)
        await obstore.delete_async(store, key)
    seconds = time.perf_counter() - start
    return {"bytes": size, "seconds": seconds}


async def case_small(args: dict[str, Any]) -> dict[str, Any]:
    settings, client, count = args["settings"], args["client"], args["count"]
    pending = iter(range(count))
    get: Callable[[], Awaitable[Any]]
    cleanup: list[Any] = []
    if client in ("ours", "ours-stock"):
        storage = ours(settings, stock=client == "ours-stock")
        cleanup.append(storage)

        async def get() -> Any:
            return await storage.get_bytes(SMALL_KEY)
    elif client == "httpx":
        import httpx

        url = await presigned(settings, SMALL_KEY)
        limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
        http = httpx.AsyncClient(limits=limits)
        cleanup.append(http)

        async def get() -> Any:
            return (await http.get(url)).content
    elif client == "aioboto3":
        s3 = await aioboto3_client(settings).__aenter__()
        cleanup.append(s3)

        async def get() -> Any:
            response = await s3.get_object(Bucket=settings["bucket"], Key=SMALL_KEY)
            return await response["Body"].read()
    else:
        import obstore

        store = obstore_store(settings)

        async def get() -> Any:
            return await (await obstore.get_async(store, SMALL_KEY)).bytes_async()

    async def worker() -> None:
        for _ in pending:
            assert len(await get()) == SMALL

    await get()  # warm: connection, credentials, imports
    cpu, start = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    for item in cleanup:
        await (item.aclose() if hasattr(item, "aclose") else item.__aexit__(None, None, None))
    return {"ops": count, "seconds": seconds, "cpu": cpu}


CASES: dict[str, Case] = {"get": case_get, "put": case_put, "small": case_small}


def child(spec: str) -> None:
    args = json.loads(spec)
    result = asyncio.run(CASES[args["case"]](args))
    result["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(result))


# ---------------------------------------------------------------------- parent
def run_case(case: str, client: str, **args: Any) -> dict[str, Any] | None:
    spec = json.dumps({"case": case, "client": client, **args})
    done = subprocess.run(
        [sys.executable, __file__, "--child", spec], capture_output=True, text=True, check=False
    )
    lines = done.stdout.strip().splitlines()
    if lines and lines[-1].startswith("{"):
        if done.returncode != 0:  # obstore's runtime may abort at interpreter exit
            print(f"  ({client} exited with {done.returncode} after reporting its result)")
        return dict(json.loads(lines[-1]))
    last = (done.stderr.strip().splitlines() or lines or ["?"])[-1]
    print(f"  {case:6} {client:10} FAILED (exit {done.returncode}): {last[:200]}")
    return None


COLD = {
    "ours": (
        "from litestar_storages import S3Config, S3Storage\n"
        "s = S3Storage(S3Config(bucket='b', region='us-east-1', endpoint_url='{endpoint}',"
        " access_key_id='AKIAIOSFODNN7EXAMPLE', secret_access_key='secret'))\n"
        "url = asyncio.run(s.url('photos/a b.jpg'))\n"
    ),
    "boto3": (
        "import boto3\n"
        "c = boto3.client('s3', region_name='us-east-1', endpoint_url='{endpoint}',"
        " aws_access_key_id='AKIAIOSFODNN7EXAMPLE', aws_secret_access_key='secret')\n"
        "url = c.generate_presigned_url('get_object',"
        " Params={{'Bucket': 'b', 'Key': 'photos/a b.jpg'}})\n"
    ),
    "obstore": (
        "import obstore\nfrom obstore.store import S3Store\n"
        "s = S3Store('b', region='us-east-1', endpoint='{endpoint}',"
        " access_key_id='AKIAIOSFODNN7EXAMPLE', secret_access_key='secret',"
        " client_options={{'allow_http': True}})\n"
        "url = obstore.sign(s, 'GET', 'photos/a b.jpg', timedelta(hours=1))\n"
    ),
}
"""Each snippet imports the library, builds a client and presigns one URL. ``asyncio`` (ours
needs a loop: ``url()`` is async) and ``timedelta`` are imported before the clock starts, so
the in-process figure is the library's own cost; the wall figure includes everything."""


def cold_start(client: str, endpoint: str, runs: int) -> dict[str, float] | None:
    code = (
        "import asyncio, time\nfrom datetime import timedelta\n"
        "asyncio.run(asyncio.sleep(0))\nstart = time.perf_counter()\n"
        + COLD[client].format(endpoint=endpoint)
        + "library_ms = (time.perf_counter() - start) * 1000\n"
        "assert url.startswith('http'), url\n"
        "hwm = [int(l.split()[1]) / 1024 for l in open('/proc/self/status')"
        " if l.startswith('VmHWM:')][0]\n"
        "print(library_ms, hwm)\n"
    )
    # Installed packages carry compiled bytecode; an editable checkout gets it on first import,
    # unless PYTHONDONTWRITEBYTECODE forbids it (then every start would compile every module).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    walls, library, rss = [], [], []
    for attempt in range(runs + 1):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
        )
        if attempt == 0 and done.returncode == 0:
            continue  # the warm-up run writes the bytecode caches
        walls.append(time.perf_counter() - start)
        if done.returncode != 0:
            print(f"  cold   {client:10} FAILED: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
            return None
        in_process, peak = done.stdout.split()[-2:]
        library.append(float(in_process))
        rss.append(float(peak))
    return {
        "wall_ms": statistics.median(walls) * 1000,
        "library_ms": statistics.median(library),
        "peak_rss_mib": statistics.median(rss),
    }


def available(client: str) -> bool:
    module = {"aioboto3": "aioboto3", "obstore": "obstore", "boto3": "boto3", "httpx": "httpx"}
    name = module.get(client)
    if name is None:
        return True
    import importlib.util

    if importlib.util.find_spec(name) is None:
        print(f"  peer {client} not installed (pip install -r bench/requirements.txt)")
        return False
    return True


async def prepare(settings: dict[str, str], size: int) -> None:
    async with ours(settings) as storage:
        if not await storage.exists(BIG_KEY) or (await storage.info(BIG_KEY)).size != size:
            await storage.put(BIG_KEY, body(size))
        await storage.put(SMALL_KEY, os.urandom(SMALL))


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "n/a"


Results = dict[tuple[str, str], dict[str, Any]]


def metric(results: Results, case: str, client: str, name: str) -> float | None:
    value = results.get((case, client), {}).get(name)
    return None if value is None else float(value)


def report_cold(results: Results, endpoint: str, runs: int) -> None:
    print("cold start (import + build + presign one URL); medians:")
    print(f"  {'':10} {'process':>10} {'library':>10} {'peak RSS':>10}")
    for client in ("ours", "boto3", "obstore"):
        found = cold_start(client, endpoint, runs) if available(client) else None
        if found:
            results[("cold", client)] = found
            print(
                f"  {client:10} {found['wall_ms']:7.1f} ms {found['library_ms']:7.1f} ms "
                f"{found['peak_rss_mib']:6.1f} MiB"
            )
    for name in ("wall_ms", "library_ms"):
        ours, boto = (metric(results, "cold", c, name) for c in ("ours", "boto3"))
        print(f"  ours/boto3 {name[:-3]}: {ratio(ours, boto)} (target <= 0.20x)")


def report_stream(results: Results, case: str, clients: list[str], **args: Any) -> None:
    print(f"{case}: {args['size'] / 2**20:.0f} MiB streamed, MB/s / peak RSS:")
    for client in clients:
        found = run_case(case, client, **args)
        if found:
            found["mbps"] = found["bytes"] / found["seconds"] / 1e6
            results[(case, client)] = found
            print(f"  {client:10} {found['mbps']:8.1f} MB/s {found['peak_rss_mib']:8.1f} MiB")
    base = metric(results, case, "httpx", "mbps")
    for client in ("ours", "ours-stock"):
        got = metric(results, case, client, "mbps")
        print(f"  {client}/httpx throughput: {ratio(got, base)} (target >= 0.90x)")


def report_small(results: Results, clients: list[str], **args: Any) -> None:
    print(f"small: {args['count']} x 4 KiB GET at concurrency {CONCURRENCY}, CPU s per 1,000:")
    for client in clients:
        found = run_case("small", client, **args)
        if found:
            found["cpu_per_1000"] = found["cpu"] / found["ops"] * 1000
            results[("small", client)] = found
            rate = found["ops"] / found["seconds"]
            print(f"  {client:10} {found['cpu_per_1000']:8.3f} s {rate:8.0f} ops/s")
    base = metric(results, "small", "aioboto3", "cpu_per_1000")
    for client in ("ours", "ours-stock"):
        got = metric(results, "small", client, "cpu_per_1000")
        print(f"  {client}/aioboto3 CPU: {ratio(got, base)} (target <= 0.50x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--server", choices=["radosgw", "moto"], default="radosgw")
    parser.add_argument("--size", default="1G", help="streamed object size (e.g. 256M, 1G)")
    parser.add_argument("--count", type=int, default=10_000, help="small GETs")
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--clients", default="ours,ours-stock,httpx,aioboto3,obstore")
    parser.add_argument("--cases", default="cold,get,put,small", help="comma-separated")
    options = parser.parse_args()
    if options.child:
        child(options.child)
        return
    settings = server_settings(options.server)
    size = parse_size(options.size)
    cases = options.cases.split(",")
    clients = [c for c in options.clients.split(",") if available(c)]
    print(
        f"server {options.server} at {settings['endpoint']}; object {size / 2**20:.0f} MiB; "
        f"{options.count} small GETs; python {sys.version.split()[0]}"
    )
    results: Results = {}
    if "cold" in cases:
        report_cold(results, settings["endpoint"], options.cold_runs)
    if {"get", "put", "small"} & set(cases):
        asyncio.run(prepare(settings, size))
    for case in ("get", "put"):
        if case in cases:
            report_stream(results, case, clients, settings=settings, size=size)
    if "small" in cases:
        report_small(results, clients, settings=settings, count=options.count)


if __name__ == "__main__":
    main()
