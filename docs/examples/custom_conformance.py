"""Run the conformance suite against ``DictStorage`` (``custom_backend.py``).

The suite lives in the ``conformance/`` directory of the litestar-storages repository. This
pytest plugin adds one backend to its registry; run it from a checkout, with this file and
your backend importable:

    PYTHONPATH=docs/examples python -m pytest conformance -p custom_conformance -k dict
"""

from __future__ import annotations

from conformance.backends import BACKENDS, BackendSpec, Location
from conformance.capabilities import Capabilities
from custom_backend import DictStorage

from litestar_storages import BaseStorage


def open_dict_storage(location: Location) -> BaseStorage:
    # A fresh, empty storage per test. Remote backends use `location.prefix` (a new random
    # key prefix) and `location.env` (endpoints, credentials); local ones `location.path`.
    return DictStorage(part_size=256 * 1024)


BACKENDS["dict"] = BackendSpec(
    name="dict",
    factory=open_dict_storage,
    capabilities=Capabilities(
        url_scheme="dict",  # url() returns dict://<key>
        persistent=False,  # a second DictStorage does not see the first one's objects
        download_progress=False,  # get() takes no progress_callback
    ),
)
