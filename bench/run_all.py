"""Run every side-by-side benchmark in one go (what `make bench` runs).

Each script runs in its own process (so import costs and peak RSS are per script) with the
interpreter running this file, which `make bench` points at `.venv-bench` (the project plus the
peers of bench/requirements.txt). The emulators are started for the scripts that need them
unless their endpoints are already in the environment. Only ratios measured in the same run are
meaningful: the machine is shared and noisy.

Usage: python bench/run_all.py [--quick] [--only presign,s3,gcs,azure,transport,rss]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# name -> (script, arguments, arguments added by --quick, needs the emulators)
SUITES: dict[str, tuple[str, list[str], list[str], bool]] = {
    "presign": ("presign.py", [], ["--quick"], False),
    "rss": ("put_large_rss.py", ["--size-mib", "512"], ["--size-mib", "128"], False),
    "s3": ("s3_bench.py", [], ["--size", "128M", "--count", "2000"], True),
    "gcs": ("gcs_bench.py", [], ["--quick"], True),
    "azure": ("azure_bench.py", [], ["--quick"], True),
    "transport": ("transport_bench.py", [], ["--quick"], False),
}


def load_emulator_env() -> dict[str, str]:
    env_file = ROOT / ".emulators" / "env"
    values: dict[str, str] = {}
    if not env_file.exists():
        return values
    for raw in env_file.read_text().splitlines():
        line = raw.strip().removeprefix("export ")
        if "=" in line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value.strip().strip("'\"")
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, shorter runs")
    parser.add_argument("--only", default=",".join(SUITES), help="comma-separated suites")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SUITES))
    if unknown:
        parser.error(f"unknown suites: {', '.join(unknown)}")

    env = dict(os.environ)
    started_emulators = False
    needs_emulators = any(SUITES[name][3] for name in chosen)
    if needs_emulators and "LITESTAR_STORAGES_S3_ENDPOINT" not in env:
        subprocess.run([str(ROOT / "scripts" / "emulators.sh"), "up"], check=True, cwd=ROOT)
        started_emulators = True
        env.update(load_emulator_env())

    failures: list[str] = []
    try:
        for name in chosen:
            script, arguments, quick, _ = SUITES[name]
            command = [sys.executable, str(ROOT / "bench" / script), *arguments]
            if args.quick:
                command += quick
            print(f"\n===== {name}: {' '.join(command[1:])}", flush=True)
            started = time.perf_counter()
            result = subprocess.run(command, cwd=ROOT, env=env, check=False)
            elapsed = time.perf_counter() - started
            status = "ok" if result.returncode == 0 else f"exit {result.returncode}"
            print(f"===== {name}: {status} in {elapsed:.0f} s", flush=True)
            if result.returncode != 0:
                failures.append(name)
    finally:
        if started_emulators:
            subprocess.run([str(ROOT / "scripts" / "emulators.sh"), "down"], check=False, cwd=ROOT)
    if failures:
        print(f"\nfailed: {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
