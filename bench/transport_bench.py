"""The HTTP/1.1 transport side by side with aiohttp, stock httpx, obstore and curl, on nginx,
and ``S3Storage`` over it.

One run, one nginx on loopback (``bench/nginx.conf``; installed with apt-get when missing and
running as root), nginx pinned to the first CPU and every client to the second, each measurement
in its own child process (so CPU time is the client's alone, all threads included: obstore works
in Rust threads), rounds interleaved and medians reported:

* ``small``: ``--count`` GETs (default 10,000) of a 4 KiB file at concurrency 64: ops/s and
  client CPU ms per request;
* ``get``: one ``--size`` file (default 1 GiB) streamed and discarded: MB/s and CPU seconds;
* ``put``: ``--size`` bytes uploaded from memory in 1 MiB pieces (Content-Length known) to an
  nginx WebDAV location that answers once the whole body is stored: MB/s and CPU seconds. After
  every upload the bytes nginx stored are counted; a short upload is reported as a failure.

Clients: ``aiohttp`` (asyncio), ``httpx`` (stock transport), ``fast`` (``FastTransport`` under
``httpx.AsyncClient``), ``fast-direct`` (``FastTransport.handle_async_request``, what the
library's own hot path calls), each of the httpx ones on asyncio and trio; ``obstore`` (its
``HTTPStore``) and ``curl`` (PUT and GET) where installed. Ratios are to aiohttp (and to curl for
PUT). Targets (issue 9): 1 GiB GET at >= 0.95x aiohttp's MB/s with <= 1.15x its CPU; small GETs
at >= 0.6x aiohttp's ops/s and no slower than obstore; 1 GiB PUT at >= 0.9x curl.

``s3`` is ``S3Storage`` (asyncio and trio) on the same nginx, which also serves the files as
objects of a path-style bucket ``bench`` and answers a multipart upload (``bench/nginx.conf``;
signatures are not checked, but every request is built, signed and its answer parsed as against
S3): ``get_bytes("small.bin")``; ``async for chunk in get("large.bin")``; ``put`` of the same
1 MiB pieces as an async iterator, which becomes a multipart upload (CreateMultipartUpload,
``--size`` / 8 MiB UploadParts four at a time, each hashed with SHA-256 for its signature,
CompleteMultipartUpload, HeadObject). ``s3-unsigned`` (PUT only) is the same with
``S3Config(unsigned_payload=True)``: the parts are not hashed, as a TLS deployment may choose. A
second table sets both against ``fast-direct`` on the same loop. Target (issue 9):
``S3Storage`` within 1.3x of the bare transport, i.e. >= 0.77x its throughput at <= 1.3x its
CPU.

Peers are optional (``bench/requirements.txt``, in ``.venv-bench``)::

    .venv-bench/bin/python bench/transport_bench.py [--rounds 5] [--size 1G] [--count 10000]
        [--cases small,get,put] [--clients fast-direct,s3] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

CHUNK = 1024 * 1024
CONCURRENCY = 64
WARMUP = 512
HTTPX_CLIENTS = ("httpx", "fast", "fast-direct")
LOOP_CLIENTS = (*HTTPX_CLIENTS, "s3")  # run on asyncio and on trio
S3_TARGET = 1.3  # S3Storage within this factor of fast-direct (throughput and CPU)


# -- nginx ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_nginx() -> str:
    path = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if path:
        return path
    if os.geteuid() != 0:
        sys.exit("nginx is not installed (apt-get install nginx, or run as root to let me)")
    print("installing nginx (apt-get install -y nginx)...", flush=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "nginx"], check=True, stdout=subprocess.DEVNULL
    )
    return shutil.which("nginx") or "/usr/sbin/nginx"


def write_file(path: Path, size: int) -> None:
    block = os.urandom(CHUNK)
    with path.open("wb") as out:
        left = size
        while left > 0:
            out.write(block[: min(left, CHUNK)])
            left -= CHUNK


class Nginx:
    """nginx serving ``small.bin`` and ``large.bin`` and accepting ``PUT /put/...``; the same
    as the S3 bucket ``bench`` (``/bench/<key>``, multipart uploads of ``put/<name>`` included)."""

    def __init__(self, size: int, cpu: int | None) -> None:
        base = "/dev/shm" if Path("/dev/shm").is_dir() else None  # tmpfs: no disk in the way
        self.dir = Path(tempfile.mkdtemp(prefix="transport-bench-", dir=base))
        self.root = self.dir / "root"
        (self.root / "put").mkdir(parents=True)
        (self.dir / "client_body").mkdir()
        write_file(self.root / "small.bin", 4096)
        write_file(self.root / "large.bin", size)
        for path in [self.dir, *self.dir.rglob("*")]:
            path.chmod(0o777 if path.is_dir() else 0o666)  # nginx workers drop to "nobody"
        self.port = free_port()
        template = (ROOT / "bench" / "nginx.conf").read_text()
        config = (
            template.replace("@TMP@", str(self.dir))
            .replace("@ROOT@", str(self.root))
            .replace("@PORT@", str(self.port))
        )
        (self.dir / "nginx.conf").write_text(config)
        pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
        self.process = subprocess.Popen(
            [ensure_nginx(), "-c", str(self.dir / "nginx.conf"), "-p", str(self.dir)],
            preexec_fn=pin,  # noqa: PLW1509 - pinning only, before exec
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    sys.exit(f"nginx did not start; see {self.dir / 'error.log'}")
                time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"

    def stored_bytes(self) -> int:
        """Bytes of the files uploaded so far (plain PUTs and S3 parts alike)."""
        return sum(path.stat().st_size for path in (self.root / "put").glob("*"))

    def clear_uploads(self) -> None:
        for stored in (self.root / "put").glob("*"):
            stored.unlink()  # tmpfs is memory: keep one uploaded GiB at most

    def stop(self) -> None:
        self.process.terminate()  # the master we started; it stops its worker
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


# -- the clients, each run in a child process -----------------------------------------------------


async def body(size: int) -> AsyncIterator[bytes]:
    block = b"p" * CHUNK
    left = size
    while left > 0:
        yield block if left >= CHUNK else block[:left]
        left -= CHUNK


class Body:
    """The upload body as a plain async iterator (what httpx and the transport are given)."""

    def __init__(self, size: int) -> None:
        self._left = size
        self._block = b"p" * CHUNK

    def __aiter__(self) -> Body:
        return self

    async def __anext__(self) -> bytes:
        if self._left <= 0:
            raise StopAsyncIteration
        size = min(self._left, CHUNK)
        self._left -= size
        return self._block if size == CHUNK else self._block[:size]


async def concurrently(
    count: int, one: Callable[[], Coroutine[Any, Any, None]], backend: str
) -> None:
    """``count`` calls of ``one`` by ``CONCURRENCY`` workers."""
    left = [count]

    async def worker() -> None:
        while left[0] > 0:
            left[0] -= 1
            await one()

    import anyio

    async with anyio.create_task_group() as tg:
        for _ in range(CONCURRENCY):
            tg.start_soon(worker)


def measure() -> Callable[[], dict[str, float]]:
    wall, cpu = time.perf_counter(), time.process_time()
    return lambda: {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}


async def run_httpx(  # noqa: PLR0917 - called through anyio.run's positional arguments
    client_name: str, case: str, url: str, size: int, count: int, backend: str
) -> dict[str, float]:
    import httpx

    from litestar_storages._http.transport import FastTransport, NullCookieJar

    limits = httpx.Limits(
        max_connections=CONCURRENCY * 2, max_keepalive_connections=CONCURRENCY * 2
    )
    timeout = httpx.Timeout(120)
    if client_name == "httpx":
        client = httpx.AsyncClient(limits=limits, timeout=timeout)
        transport = None
    else:
        transport = FastTransport(limits=limits, timeout=timeout)
        client = httpx.AsyncClient(transport=transport, timeout=timeout, cookies=NullCookieJar())
    direct = client_name == "fast-direct"
    async with client:
        if case == "small":
            small = url + "/small.bin"

            async def one() -> None:
                if direct:
                    assert transport is not None
                    response = await transport.handle_async_request(httpx.Request("GET", small))
                    content = await response.aread()
                else:
                    content = (await client.get(small)).content
                assert len(content) == 4096

            await concurrently(WARMUP, one, backend)
            done = measure()
            await concurrently(count, one, backend)
            return {**done(), "ops": count}
        if case == "get":
            large = url + "/large.bin"
            done = measure()
            received = 0
            if direct:
                assert transport is not None
                response = await transport.handle_async_request(httpx.Request("GET", large))
                async for chunk in response.aiter_raw():
                    received += len(chunk)
            else:
                async with client.stream("GET", large) as response:
                    async for chunk in response.aiter_raw():
                        received += len(chunk)
            assert received == size, received
            return {**done(), "bytes": received}
        target = url + f"/put/{client_name}-{backend}.bin"
        headers = {"Content-Length": str(size)}
        done = measure()
        if direct:
            assert transport is not None
            request = httpx.Request("PUT", target, content=Body(size), headers=headers)
            response = await transport.handle_async_request(request)
            await response.aread()
        else:
            response = await client.put(target, content=Body(size), headers=headers)
        assert response.status_code in (201, 204), response.status_code
        return {**done(), "bytes": size}


async def run_s3(  # noqa: PLR0917 - called through anyio.run's positional arguments
    case: str, url: str, size: int, count: int, backend: str, unsigned: bool = False
) -> dict[str, float]:
    """``S3Storage`` on the nginx bucket ``bench``: signing, checks and XML parsing included."""
    # The storage's pool is the library's own transport (the default), whatever the environment.
    os.environ.pop("LITESTAR_STORAGES_HTTP_TRANSPORT", None)
    from litestar_storages import S3Config, S3Storage

    config = S3Config(
        bucket="bench",
        endpoint_url=url,
        addressing_style="path",
        region="us-east-1",
        provider="generic",  # no conditional writes, no x-amz-checksum-*: nginx has neither
        access_key_id="AKIDBENCHMARKEXAMPLE",
        secret_access_key="bench/secret/key/not/checked/by/nginx",
        max_pool_connections=CONCURRENCY * 2,
        connect_timeout=120,
        read_timeout=120,
        unsigned_payload=unsigned,
    )
    async with S3Storage(config) as storage:
        if case == "small":

            async def one() -> None:
                assert len(await storage.get_bytes("small.bin")) == 4096

            await concurrently(WARMUP, one, backend)
            done = measure()
            await concurrently(count, one, backend)
            return {**done(), "ops": count}
        # Outside the measurement, like the bare clients' set-up: the HTTP stack and the signer
        # are imported on the first request (one HeadObject).
        assert await storage.exists("small.bin")
        if case == "get":
            done = measure()
            received = 0
            async with storage.get("large.bin") as stream:
                async for chunk in stream:
                    received += len(chunk)
            assert received == size, received
            return {**done(), "bytes": received}
        done = measure()
        stored = await storage.put(f"put/s3-{backend}.bin", Body(size))
        assert stored.key == f"put/s3-{backend}.bin", stored
        return {**done(), "bytes": size}


async def run_aiohttp(case: str, url: str, size: int, count: int) -> dict[str, float]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=CONCURRENCY * 2)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=600)
    ) as session:
        if case == "small":
            small = url + "/small.bin"

            async def one() -> None:
                async with session.get(small) as response:
                    assert len(await response.read()) == 4096

            await concurrently(WARMUP, one, "asyncio")
            done = measure()
            await concurrently(count, one, "asyncio")
            return {**done(), "ops": count}
        if case == "get":
            done = measure()
            received = 0
            async with session.get(url + "/large.bin") as response:
                async for chunk in response.content.iter_any():
                    received += len(chunk)
            assert received == size
            return {**done(), "bytes": received}
        done = measure()
        async with session.put(
            url + "/put/aiohttp.bin", data=body(size), headers={"Content-Length": str(size)}
        ) as response:
            await response.read()
            assert response.status in (201, 204), response.status
        return {**done(), "bytes": size}


async def run_obstore(case: str, url: str, size: int, count: int) -> dict[str, float]:
    import obstore
    from obstore.store import HTTPStore

    store = HTTPStore.from_url(url, client_options={"allow_http": True, "timeout": "600s"})
    if case == "small":

        async def one() -> None:
            result = await obstore.get_async(store, "small.bin")
            assert len(await result.bytes_async()) == 4096

        await concurrently(WARMUP, one, "asyncio")
        done = measure()
        await concurrently(count, one, "asyncio")
        return {**done(), "ops": count}
    if case == "get":
        done = measure()
        received = 0
        result = await obstore.get_async(store, "large.bin")
        async for chunk in result.stream(min_chunk_size=CHUNK):
            received += len(memoryview(chunk))
        assert received == size
        return {**done(), "bytes": received}
    data = b"p" * size
    done = measure()
    await obstore.put_async(store, "put/obstore.bin", data, use_multipart=False)
    return {**done(), "bytes": size}


def run_curl(case: str, url: str, size: int, root: str) -> dict[str, float]:
    before = os.times()
    wall = time.perf_counter()
    if case == "put":
        command = [
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "-H",
            "Expect:",
            "-T",
            f"{root}/large.bin",
            url + "/put/curl.bin",
        ]
    else:
        command = ["curl", "-sS", "-o", "/dev/null", url + "/large.bin"]
    subprocess.run(command, check=True)
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return {"wall": time.perf_counter() - wall, "cpu": cpu, "bytes": size}


def worker(args: argparse.Namespace) -> None:
    client, backend, case = args.worker
    if client == "curl":
        result = run_curl(case, args.url, args.size, args.root)
    elif client == "aiohttp":
        result = asyncio.run(run_aiohttp(case, args.url, args.size, args.count))
    elif client == "obstore":
        result = asyncio.run(run_obstore(case, args.url, args.size, args.count))
    elif client in ("s3", "s3-unsigned"):
        import anyio

        unsigned = client == "s3-unsigned"
        result = anyio.run(
            run_s3, case, args.url, args.size, args.count, backend, unsigned, backend=backend
        )
    else:
        import anyio

        result = anyio.run(
            run_httpx, client, case, args.url, args.size, args.count, backend, backend=backend
        )
    print(json.dumps(result))


# -- orchestration --------------------------------------------------------------------------------


def available(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def plan(cases: list[str], clients: set[str] | None) -> list[tuple[str, str, str]]:
    runs = []
    for case in cases:
        if available("aiohttp"):
            runs.append(("aiohttp", "asyncio", case))
        for backend in ("asyncio", "trio"):
            if backend == "trio" and not available("trio"):
                continue
            runs += [(client, backend, case) for client in LOOP_CLIENTS]
            if case == "put":
                runs.append(("s3-unsigned", backend, case))
        if available("obstore"):
            runs.append(("obstore", "asyncio", case))
        if case in ("get", "put") and shutil.which("curl"):
            runs.append(("curl", "-", case))
    return [run for run in runs if clients is None or run[0] in clients]


def parse_size(text: str) -> int:
    units = {"K": 1024, "M": 1024**2, "G": 1024**3}
    return int(text[:-1]) * units[text[-1].upper()] if text[-1].upper() in units else int(text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--size", type=parse_size, default=1024**3)
    parser.add_argument("--cases", default="small,get,put")
    parser.add_argument(
        "--clients", help="comma-separated subset, e.g. fast-direct,s3 (default: all installed)"
    )
    parser.add_argument("--quick", action="store_true", help="3 rounds, 256 MiB, 2,000 small GETs")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if args.quick:
        args.rounds, args.size, args.count = 3, 256 * 1024**2, 2000

    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, client_cpu = (cpus[0], cpus[1]) if len(cpus) > 1 else (None, None)
    version = sys.version.split()[0]
    print(f"python {version}, CPUs {cpus}: nginx on {server_cpu}, clients on {client_cpu}")
    nginx = Nginx(args.size, server_cpu)
    clients = set(args.clients.split(",")) if args.clients else None
    runs = plan(args.cases.split(","), clients)
    results: dict[tuple[str, str, str], list[dict[str, float]]] = {run: [] for run in runs}
    try:
        for round_number in range(1, args.rounds + 1):
            print(f"round {round_number}/{args.rounds}", flush=True)
            for run in runs:
                pin = (
                    (lambda: os.sched_setaffinity(0, {client_cpu}))
                    if client_cpu is not None
                    else None
                )
                command = [
                    sys.executable,
                    __file__,
                    "--worker",
                    *run,
                    "--url",
                    nginx.url,
                    "--root",
                    str(nginx.root),
                    "--size",
                    str(args.size),
                    "--count",
                    str(args.count),
                ]
                done = subprocess.run(
                    command,
                    capture_output=True,
                    text=True,
                    preexec_fn=pin,
                    timeout=900,
                    check=False,
                )
                stored = nginx.stored_bytes()
                nginx.clear_uploads()
                lines = done.stdout.strip().splitlines()
                if not lines or not lines[-1].startswith("{"):
                    print(f"  {' '.join(run)} failed:\n{done.stderr[-2000:]}", flush=True)
                    continue
                if run[2] == "put" and stored != args.size:
                    print(f"  {' '.join(run)} failed: nginx stored {stored} bytes", flush=True)
                    continue
                if done.returncode != 0:
                    # obstore's runtime aborts at interpreter exit after a streamed GET; the
                    # measurement before it stands.
                    print(f"  ({' '.join(run)} exited with {done.returncode} after measuring)")
                results[run].append(json.loads(lines[-1]))
    finally:
        nginx.stop()
    report(results, args)


def median(samples: list[dict[str, float]], key: Callable[[dict[str, float]], float]) -> float:
    return statistics.median(key(sample) for sample in samples) if samples else float("nan")


def table(columns: list[tuple[str, str]], rows: list[list[object]]) -> None:
    """Print rows under headers; each column is (header, format spec)."""
    widths = [max(9, len(header)) for header, _ in columns]
    widths[0], widths[1] = 20, 8
    print(
        "  "
        + " ".join(
            f"{h:<{w}}" if i < 2 else f"{h:>{w}}"
            for i, ((h, _), w) in enumerate(zip(columns, widths, strict=True))
        )
    )
    for row in rows:
        cells = [
            f"{value:<{width}}" if i < 2 else f"{value:>{width}{spec}}"
            for i, (value, (_, spec), width) in enumerate(zip(row, columns, widths, strict=True))
        ]
        print("  " + " ".join(cells))


Sample = dict[str, float]


def report(results: dict[tuple[str, str, str], list[Sample]], args: argparse.Namespace) -> None:
    def ref(client: str, case: str, key: Callable[[Sample], float]) -> float:
        return median(results.get((client, "asyncio" if client != "curl" else "-", case), []), key)

    def ops(s: Sample) -> float:
        return s["ops"] / s["wall"]

    def cpu_ms(s: Sample) -> float:
        return s["cpu"] / s["ops"] * 1000

    def rate(s: Sample) -> float:
        return s["bytes"] / s["wall"] / 1e6

    def cpu_s(s: Sample) -> float:
        return s["cpu"]

    print(f"\nmedians of {args.rounds} rounds; ratios to aiohttp (and to obstore, curl)")
    for case in args.cases.split(","):
        measured = [
            (run, samples) for run, samples in results.items() if run[2] == case and samples
        ]
        rows: list[list[object]] = []
        if case == "small":
            base_ops, base_cpu = ref("aiohttp", case, ops), ref("aiohttp", case, cpu_ms)
            obstore_ops = ref("obstore", case, ops)
            print(f"\n{args.count} x 4 KiB GET, concurrency {CONCURRENCY}")
            for (client, backend, _), samples in measured:
                o, c = median(samples, ops), median(samples, cpu_ms)
                rows.append([client, backend, o, o / base_ops, o / obstore_ops, c, c / base_cpu])
            columns = [("client", ""), ("loop", ""), ("ops/s", ".0f"), ("x aiohttp", ".2f")]
            columns += [("x obstore", ".2f"), ("CPU ms/op", ".3f"), ("x aiohttp", ".2f")]
        else:
            base_rate, base_cpu = ref("aiohttp", case, rate), ref("aiohttp", case, cpu_s)
            curl_rate = ref("curl", case, rate)
            print(f"\n{args.size / 1024**3:g} GiB {'GET' if case == 'get' else 'PUT'}")
            for (client, backend, _), samples in measured:
                r, c = median(samples, rate), median(samples, cpu_s)
                rows.append([client, backend, r, r / base_rate, r / curl_rate, c, c / base_cpu])
            columns = [("client", ""), ("loop", ""), ("MB/s", ".0f"), ("x aiohttp", ".2f")]
            columns += [("x curl", ".2f"), ("CPU s", ".2f"), ("x aiohttp", ".2f")]
        table(columns, rows)

    # S3Storage against the bare transport it sends through, loop by loop.
    rows = []
    for case in args.cases.split(","):
        throughput, cpu, unit = (ops, cpu_ms, "ops/s") if case == "small" else (rate, cpu_s, "MB/s")
        for backend, client in itertools.product(("asyncio", "trio"), ("s3", "s3-unsigned")):
            s3 = results.get((client, backend, case))
            bare = results.get(("fast-direct", backend, case))
            if not s3 or not bare:
                continue
            t_s3, t_bare = median(s3, throughput), median(bare, throughput)
            c_s3, c_bare = median(s3, cpu), median(bare, cpu)
            met = t_s3 / t_bare >= 1 / S3_TARGET and c_s3 / c_bare <= S3_TARGET
            label = f"{case} {unit}" + (" unsigned" if client == "s3-unsigned" else "")
            rows.append([label, backend, t_s3, t_bare, t_s3 / t_bare])
            rows[-1] += [c_s3, c_bare, c_s3 / c_bare, "yes" if met else "MISSED"]
    if rows:
        print(
            f"\nS3Storage vs bare transport (fast-direct), same loop: target >= "
            f"{1 / S3_TARGET:.2f}x throughput, <= {S3_TARGET}x CPU (CPU: ms per small GET, "
            "seconds per large GET/PUT)"
        )
        columns = [("case", ""), ("loop", ""), ("s3", ".0f"), ("fast-direct", ".0f")]
        columns += [("x thruput", ".2f"), ("s3 CPU", ".3f"), ("bare CPU", ".3f")]
        columns += [("x CPU", ".2f"), ("target", "")]
        table(columns, rows)


if __name__ == "__main__":
    main()
