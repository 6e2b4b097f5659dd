"""``signing`` stays pure and light: what its modules may import (DESIGN.md, import direction).

* no I/O, clock, randomness or logging modules, and no HTTP stack;
* nothing from ``litestar_storages`` outside ``litestar_storages.signing``;
* ``cryptography`` and ``jwt`` only inside functions (or under ``TYPE_CHECKING``), so that
  importing the S3 signer does not load them: presigning is paid for by serverless cold starts.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import litestar_storages.signing

SIGNING_DIR = Path(litestar_storages.signing.__file__).parent
MODULES = sorted(SIGNING_DIR.rglob("*.py"))
FORBIDDEN = {"httpx", "anyio", "os", "time", "random", "logging", "secrets", "socket", "asyncio"}
LAZY_ONLY = {"cryptography", "jwt"}


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        return ["." * node.level + (node.module or "")]
    return []


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _module_level_imports(tree: ast.Module) -> list[str]:
    """Imports executed when the module is imported (not in functions or TYPE_CHECKING)."""
    names: list[str] = []
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if _is_type_checking_block(node):
            continue
        names += _imported(node)
        stack.extend(ast.iter_child_nodes(node))
    return names


def _printed_by(code: str) -> str:
    """What ``code`` prints when run in a fresh interpreter (nothing imported yet)."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def _relative(module: Path) -> str:
    return module.relative_to(SIGNING_DIR).as_posix()


def test_the_package_has_its_modules() -> None:
    assert {_relative(p) for p in MODULES} >= {
        "__init__.py",
        "_canonical.py",
        "sigv4/__init__.py",
        "sigv4/_stages.py",
        "sigv4/_keys.py",
        "sigv4/_headers.py",
        "sigv4/_presign.py",
        "sigv4/_chunked.py",
        "sigv4/_post.py",
        "gcs/__init__.py",
        "gcs/_keys.py",
        "gcs/_stages.py",
        "gcs/_signed_url.py",
        "gcs/_post_policy.py",
        "gcs/_oauth.py",
        "azure/__init__.py",
        "azure/_keys.py",
        "azure/_shared_key.py",
        "azure/_sas_layouts.py",
        "azure/_sas_tokens.py",
        "azure/_blob_sas_signer.py",
    }


@pytest.mark.parametrize("module", MODULES, ids=_relative)
def test_no_forbidden_or_outside_imports(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        for name in _imported(node):
            top = name.split(".")[0]
            assert top not in FORBIDDEN, f"{module.name} imports {name}"
            if top == "litestar_storages":
                assert name == "litestar_storages.signing" or name.startswith(
                    "litestar_storages.signing."
                ), f"{module.name} imports {name} from outside signing"


@pytest.mark.parametrize("module", MODULES, ids=_relative)
def test_optional_crypto_is_imported_lazily(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    eager = [n for n in _module_level_imports(tree) if n.split(".")[0] in LAZY_ONLY]
    assert not eager, f"{module.name} imports {eager} at import time"


def test_importing_the_signers_loads_no_crypto_library() -> None:
    code = (
        "import sys\n"
        "import litestar_storages.signing.sigv4\n"
        "import litestar_storages.signing.azure\n"
        "import litestar_storages.signing.gcs\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'cryptography', 'jwt'})\n"
        "print(','.join(loaded))\n"
    )
    assert _printed_by(code) == ""


def test_the_sigv4_signer_alone_loads_no_crypto_library() -> None:
    code = (
        "import sys\n"
        "from litestar_storages.signing import sigv4\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'cryptography', 'jwt'}))\n"
    )
    assert _printed_by(code) == "[]"


def test_presigning_with_sigv4_loads_neither_chunked_uploads_nor_post_policies() -> None:
    code = """
import sys
from datetime import datetime, timezone
from litestar_storages.signing import sigv4
now, credentials = datetime(2026, 1, 1, tzinfo=timezone.utc), sigv4.AwsCredentials("a", "s")
sigv4.presign_url(
    "GET", host="h", path="/k", credentials=credentials, region="r", now=now, expires_in=60
)
sigv4.sign_headers(
    "GET", host="h", path="/k", query=None, headers=None, payload_hash=sigv4.UNSIGNED_PAYLOAD,
    credentials=credentials, region="r", service="s3", now=now,
)
package = "litestar_storages.signing.sigv4"
print(sorted({"json", f"{package}._chunked", f"{package}._post"} & set(sys.modules)))
"""
    assert _printed_by(code) == "[]"


def test_importing_the_sigv4_post_policy_signer_defers_json_to_the_first_policy() -> None:
    code = (
        "import sys\n"
        "from litestar_storages.signing.sigv4 import presigned_post\n"
        "print('json' in sys.modules)\n"
    )
    assert _printed_by(code) == "False"


def test_sigv4_names_of_lazily_imported_modules_resolve_to_their_definitions() -> None:
    from litestar_storages.signing import sigv4
    from litestar_storages.signing.sigv4 import _chunked, _post

    for name in sigv4.__all__:
        value = getattr(sigv4, name)
        for module in (_chunked, _post):
            if name in module.__all__:
                assert value is getattr(module, name)
    assert set(dir(sigv4)) >= set(sigv4.__all__)


def test_sigv4_unknown_attribute_is_an_attribute_error() -> None:
    from litestar_storages.signing import sigv4

    with pytest.raises(AttributeError, match="NoSuchThing"):
        sigv4.NoSuchThing  # noqa: B018
