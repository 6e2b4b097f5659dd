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
MODULES = sorted(SIGNING_DIR.glob("*.py"))
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


def test_the_package_has_its_modules() -> None:
    assert {p.name for p in MODULES} >= {
        "__init__.py",
        "_canonical.py",
        "sigv4.py",
        "gcs.py",
        "azure.py",
    }


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
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


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
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
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_the_sigv4_signer_alone_loads_no_crypto_library() -> None:
    code = (
        "import sys\n"
        "from litestar_storages.signing import sigv4\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'cryptography', 'jwt'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
