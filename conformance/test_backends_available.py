"""One entry per registered backend: passes when the backend runs here, else says why not.

The rest of the suite is generated only for backends that can run; this is where the others show
up (as skips, or as failures under ``CI=true`` when a registered cloud backend lacks its emulator).
"""

from __future__ import annotations

import os

import pytest

from conformance.backends import BACKENDS, ci_mode, why_unavailable


@pytest.mark.parametrize("name", list(BACKENDS))
def test_backend_can_run(name: str) -> None:
    spec = BACKENDS[name]
    reason = why_unavailable(spec, os.environ)
    if reason is None:
        return
    if ci_mode(os.environ) and spec.factory is not None and spec.required_env:
        pytest.fail(f"{reason}; CI=true, so a missing emulator is a failure", pytrace=False)
    pytest.skip(reason)
