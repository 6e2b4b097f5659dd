"""The documentation's code: every page includes its examples from ``docs/examples`` (no code is
copied into a page), and every example there runs.

* Local examples (memory, filesystem, offline presigning) run always, each on asyncio and trio
  unless it is written for one of them (``*_asyncio.py``, ``*_trio.py``, ``trio_*.py``).
* Cloud examples run against the emulators ``make test`` starts, configured the way a user
  would (``AWS_*``, ``STORAGE_EMULATOR_HOST``, ``AZURE_STORAGE_*``) from the
  ``LITESTAR_STORAGES_*`` variables of ``conformance/README.md``, read at import (the unit-test
  fixtures scrub the environment). Without them they are skipped loudly; under ``CI=true`` they
  fail.
* ``memory_pytest.py`` and ``custom_conformance.py`` are pytest files and plugins: they run in
  a child pytest, exactly as the pages tell readers to run them.
* The ``litestar_*.py`` apps are served and exercised by ``tests/contrib/test_docs_litestar.py``.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
EMULATORS = {k: v for k, v in os.environ.items() if k.startswith("LITESTAR_STORAGES_")}

INCLUDE = re.compile(r'^[ \t]*--8<--[ \t]+"(?P<path>[^"]+)"[ \t]*$', re.MULTILINE)
SNIPPET_MARK = re.compile(r"--8<--")
FENCE = re.compile(
    r"^(?P<fence>```+|~~~+)[ \t]*(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


# ----------------------------------------------------------------------------- the pages
def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def includes_of(page: Path) -> list[str]:
    """The files ``page`` includes (a ``path:section`` include names ``path``)."""
    text = page.read_text(encoding="utf-8")
    return [m["path"].split(":", 1)[0] for m in INCLUDE.finditer(text)]


def test_every_snippet_line_is_a_single_file_include() -> None:
    for page in pages():
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if SNIPPET_MARK.search(line):
                assert INCLUDE.fullmatch(line), (
                    f"{page.relative_to(ROOT)}:{number}: write includes as "
                    f'--8<-- "docs/examples/<file>.py" on a line of their own'
                )


def test_every_include_points_to_an_existing_file() -> None:
    for page in pages():
        for path in includes_of(page):
            assert (ROOT / path).is_file(), f"{page.relative_to(ROOT)} includes missing {path}"


def test_every_example_is_included_by_a_page() -> None:
    included = {path for page in pages() for path in includes_of(page)}
    orphans = [
        p.name for p in sorted(EXAMPLES.glob("*.py")) if f"docs/examples/{p.name}" not in included
    ]
    assert orphans == [], f"examples no page includes: {orphans}"


def test_python_code_on_the_pages_is_only_included_from_examples() -> None:
    # Code typed into a page is code no test runs; only shell, text and config may be inline.
    for page in pages():
        for fence in FENCE.finditer(page.read_text(encoding="utf-8")):
            language = fence["info"].split()[0].lstrip(".") if fence["info"].strip() else ""
            if language in {"python", "py", "pycon"}:
                body = fence["body"].strip()
                assert INCLUDE.fullmatch(body), (
                    f"{page.relative_to(ROOT)}: a python block must be one include of a file in "
                    f"docs/examples, not inline code:\n{body[:200]}"
                )


# ----------------------------------------------------------------------------- the examples
LOCAL = {
    # name: text its output must contain
    "first_program": ["Hello, World!", "['hello.txt']"],
    "getting_started_asyncio": ["b'note 1'", "notes/1.txt 6 text/plain", "notes/missing.txt"],
    "getting_started_trio": ["b'note 1'", "['notes/0.txt', 'notes/1.txt', 'notes/2.txt']"],
    "memory_basics": ["b'\\x89PNG'", "refused: avatars/bob.png", "memory://avatars/alice.png"],
    "filesystem_basics": [
        "21 text/csv {'author': 'alice'}",
        "https://cdn.example.com/media/reports/q1%20final.csv",
        "kept the first version",
        "invalid key: ../outside.txt",
        "refused: ELOOP",
        "['reports/q1.csv']",
    ],
    "multipart_uploads": ["videos/intro.mp4 2098152", "-3", "backups/db.dump 1048586", "False"],
    "progress_callbacks": ["upload a.bin: 100%", "put_large: 5 reports, 4194304 bytes"],
    "retry_policies": ["stored after 3 attempts", "not found: not retried"],
    "custom_backend": ["b'hello'", "['c.txt']"],
    "custom_protocol": ["True", "13", "refused: reports/q1.csv"],
    "anyio_portable": ["10 objects copied", "image/png"],
    "trio_cancellation": ["2097152 True", "True False", "too slow: True"],
    "s3_providers": ["Cloudflare R2: https://account_id.r2.cloudflarestorage.com (path"],
    "azure_connections": ["development shortcut: http://127.0.0.1:10000/devstoreaccount1"],
    # Keyless credentials: offline, they show which source the chain chose.
    "gcs_keyless": [
        "requests: metadata from metadata server",
        "signed URLs: metadata from metadata server",
        "impersonating: impersonated uploader@my-project.iam.gserviceaccount.com from config",
    ],
    "azure_keyless": ["bearer from managed identity (IMDS http://"],
    "s3_keyless": [
        "resolved so far: None",
        "chain: explicit -> environment -> assume-role -> web-identity -> shared-files -> "
        "credential-process -> container -> instance-metadata",
    ],
}
S3 = {
    "s3_quickstart": ("moto",),
    "s3_presigned_urls": ("moto", "radosgw"),
    "s3_http_settings": ("moto", "radosgw"),
}
CHILD_PYTEST = {"memory_pytest", "custom_conformance"}
PREFIXES = {"gcs_": "gcs", "azure_": "azure", "litestar_": "litestar"}


def example_names() -> list[str]:
    return sorted(p.stem for p in EXAMPLES.glob("*.py"))


def kind_of(name: str) -> str:
    if name in LOCAL:
        return "local"
    if name in S3:
        return "s3"
    if name in CHILD_PYTEST:
        return "pytest"
    for prefix, kind in PREFIXES.items():
        if name.startswith(prefix):
            return kind
    return "unknown"


def loops_of(name: str) -> tuple[str, ...]:
    if name.endswith("_asyncio"):
        return ("asyncio",)
    if name.endswith("_trio") or name.startswith("trio_"):
        return ("trio",)
    return ("asyncio", "trio")


def test_every_example_has_a_runner() -> None:
    unknown = [name for name in example_names() if kind_of(name) == "unknown"]
    assert unknown == [], f"add these examples to a group in {Path(__file__).name}: {unknown}"


def load(name: str) -> ModuleType:
    """A fresh copy of ``docs/examples/<name>.py`` (importing runs its top-level code)."""
    spec = importlib.util.spec_from_file_location(
        f"_docs_example_{name}_{uuid.uuid4().hex}", EXAMPLES / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


async def run(name: str) -> None:
    """Run an example: its ``main()``, or (without one) its top-level code."""
    module = load(name)
    main: Callable[[], Any] | None = getattr(module, "main", None)
    if main is not None:
        await main()


def cases(kind: str) -> list[Any]:
    return [
        pytest.param(name, loop, id=f"{name}-{loop}")
        for name in example_names()
        if kind_of(name) == kind
        for loop in loops_of(name)
    ]


@pytest.fixture
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The loop each example case names (``loop`` parameter), instead of always both."""
    return str(request.node.callspec.params["loop"])


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Examples write to ``./uploads`` and the like: run them in a fresh directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "loop"), cases("local"))
async def test_local_example_runs(
    name: str, loop: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await run(name)
    output = capsys.readouterr().out
    for expected in LOCAL[name]:
        assert expected in output, f"{name}: {expected!r} not in its output:\n{output}"


# ----------------------------------------------------------------------------- the emulators
def emulator(variables: tuple[str, ...], what: str) -> dict[str, str]:
    """The emulator's settings, or a loud skip (a failure under ``CI=true``)."""
    missing = [name for name in variables if not EMULATORS.get(name)]
    if missing:
        reason = (
            f"!!! {what} docs examples NOT RUN: set {', '.join(missing)} "
            "(scripts/emulators.sh up; make test does it) !!!"
        )
        if CI:
            pytest.fail(f"{reason}; CI=true, so a missing emulator is a failure", pytrace=False)
        pytest.skip(reason)
    return {name: EMULATORS[name] for name in variables}


S3_SERVERS = {"moto": "LITESTAR_STORAGES_S3_", "radosgw": "LITESTAR_STORAGES_S3_RADOSGW_"}


def s3_cases() -> list[Any]:
    return [
        pytest.param(name, server, loop, id=f"{name}-{server}-{loop}")
        for name, servers in S3.items()
        for server in servers
        for loop in loops_of(name)
    ]


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "server", "loop"), s3_cases())
async def test_s3_example_runs_against_the_emulator(
    name: str, server: str, loop: str, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = S3_SERVERS[server]
    names = ("ENDPOINT", "BUCKET", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY")
    env = emulator(tuple(prefix + n for n in names), f"S3 ({server})")
    monkeypatch.setenv("AWS_ENDPOINT_URL", env[prefix + "ENDPOINT"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", env[prefix + "ACCESS_KEY_ID"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", env[prefix + "SECRET_ACCESS_KEY"])
    monkeypatch.setenv("AWS_REGION", EMULATORS.get(prefix + "REGION") or "us-east-1")
    monkeypatch.setenv("S3_BUCKET", env[prefix + "BUCKET"])
    await run(name)


@functools.cache
def gcs_key() -> dict[str, str]:
    """A made-up service-account key: the emulator checks no signature, url() needs a key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "type": "service_account",
        "client_email": "docs@litestar-storages.iam.gserviceaccount.com",
        "private_key": pem.decode(),
        "token_uri": "https://oauth2.googleapis.com/token",
    }


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "loop"), cases("gcs"))
async def test_gcs_example_runs_against_the_emulator(
    name: str, loop: str, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = emulator(
        ("LITESTAR_STORAGES_GCS_ENDPOINT", "LITESTAR_STORAGES_GCS_BUCKET"), "GCS (fake-gcs-server)"
    )
    key_file = in_tmp / "key.json"
    key_file.write_text(json.dumps(gcs_key()))
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", env["LITESTAR_STORAGES_GCS_ENDPOINT"])
    monkeypatch.setenv("GCS_BUCKET", env["LITESTAR_STORAGES_GCS_BUCKET"])
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    await run(name)


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "loop"), cases("azure"))
async def test_azure_example_runs_against_the_emulator(
    name: str, loop: str, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    variables = ("ENDPOINT", "ACCOUNT_KEY", "CONTAINER")
    env = emulator(tuple(f"LITESTAR_STORAGES_AZURE_{n}" for n in variables), "Azure (Azurite)")
    endpoint = env["LITESTAR_STORAGES_AZURE_ENDPOINT"]
    connection = (
        f"DefaultEndpointsProtocol=http;AccountName={endpoint.rstrip('/').rsplit('/', 1)[-1]};"
        f"AccountKey={env['LITESTAR_STORAGES_AZURE_ACCOUNT_KEY']};BlobEndpoint={endpoint};"
    )
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", connection)
    monkeypatch.setenv("AZURE_STORAGE_CONTAINER", env["LITESTAR_STORAGES_AZURE_CONTAINER"])
    await run(name)


# ----------------------------------------------------------------------------- child runs
def child_env() -> dict[str, str]:
    """The environment without cloud settings, and with the examples importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITESTAR_STORAGES_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(EXAMPLES), env.get("PYTHONPATH")]))
    return env


def child_pytest(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result.stdout


def test_memory_pytest_example_passes_on_both_loops() -> None:
    output = child_pytest("docs/examples/memory_pytest.py")
    assert "4 passed" in output


def test_conformance_suite_passes_against_the_custom_backend() -> None:
    # The command custom_conformance.py documents.
    output = child_pytest("conformance", "-p", "custom_conformance", "-k", "dict")
    assert re.search(r"\b\d{3,} passed", output), output[-2000:]
    assert " failed" not in output


def test_litestar_examples_are_served_by_the_contrib_tests() -> None:
    runner = ROOT / "tests" / "contrib" / "test_docs_litestar.py"
    assert runner.is_file()
    text = runner.read_text(encoding="utf-8")
    for name in example_names():
        if kind_of(name) == "litestar":
            assert f'"{name}"' in text, f"tests/contrib/test_docs_litestar.py does not run {name}"
