"""``import litestar_storages`` never imports Litestar; asking for ``StoragePlugin`` does."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_importing_the_package_imports_no_litestar() -> None:
    assert _run("import sys, litestar_storages; print('litestar' in sys.modules)") == "False"


def test_importing_the_contrib_package_imports_no_litestar() -> None:
    code = "import sys, litestar_storages.contrib; print('litestar' in sys.modules)"
    assert _run(code) == "False"


def test_listing_the_contrib_names_imports_no_litestar() -> None:
    code = (
        "import sys, litestar_storages.contrib as c; names = dir(c); "
        "print('StoragePlugin' in names, 'litestar' in sys.modules)"
    )
    assert _run(code) == "True False"


def test_using_storage_plugin_from_the_top_level_imports_litestar_then() -> None:
    code = (
        "import sys, litestar_storages as ls; before = 'litestar' in sys.modules; "
        "plugin = ls.StoragePlugin; print(before, 'litestar' in sys.modules, plugin.__name__)"
    )
    assert _run(code) == "False True StoragePlugin"


def test_storage_plugin_is_one_class_under_all_its_names() -> None:
    code = (
        "from litestar_storages import StoragePlugin as a\n"
        "from litestar_storages.contrib import StoragePlugin as b\n"
        "from litestar_storages.contrib.litestar import StoragePlugin as c\n"
        "from litestar_storages.contrib.plugin import StoragePlugin as d\n"
        "print(a is b is c is d)"
    )
    assert _run(code) == "True"


def test_contrib_names_load_without_importing_each_other_eagerly() -> None:
    # The filename rules are pure: using them does not load Litestar.
    code = (
        "import sys; from litestar_storages.contrib import sanitize_filename; "
        "print(sanitize_filename('a b.txt', fallback=str), 'litestar' in sys.modules)"
    )
    assert _run(code) == "a_b.txt False"


def test_without_litestar_the_error_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['litestar'] = None\n"
        "import litestar_storages as ls\n"
        "for get in (lambda: ls.StoragePlugin, lambda: __import__('litestar_storages.contrib', "
        "fromlist=['file_response']).file_response):\n"
        "    try:\n"
        "        get()\n"
        "    except ImportError as exc:\n"
        "        print('litestar-storages[litestar]' in str(exc))\n"
    )
    assert _run(code).split() == ["True", "True"]
