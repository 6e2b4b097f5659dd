"""Fixtures of the credential tests: the clock, RSA keys, and the started fakes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ._aws import FakeAws
from ._azure import FakeAzure
from ._google import FakeGoogle, new_key
from ._support import Clock

VM_ACCOUNT = "vm@proj.iam.gserviceaccount.com"


@pytest.fixture
def clock() -> Clock:
    """The time of the storage under test and of the fakes."""
    return Clock()


@pytest.fixture(scope="session")
def rsa_keys() -> Iterator[rsa.RSAPrivateKey]:
    """Fresh 2048-bit RSA keys (generated once per session, handed out in turn)."""
    keys = [new_key() for _ in range(4)]

    def cycle() -> Iterator[rsa.RSAPrivateKey]:
        while True:
            yield from keys

    return cycle()


@pytest.fixture
def google(clock: Clock, rsa_keys: Iterator[rsa.RSAPrivateKey]) -> Iterator[FakeGoogle]:
    """The Google fake, started; the VM's account can sign (its Google-managed key)."""
    fake = FakeGoogle(clock, vm_account=VM_ACCOUNT)
    fake.keys[VM_ACCOUNT] = next(rsa_keys)
    with fake:
        yield fake


@pytest.fixture
def azure(clock: Clock, rsa_keys: Iterator[rsa.RSAPrivateKey]) -> Iterator[FakeAzure]:
    """The Entra ID / managed identity / Blob service fake, started."""
    fake = FakeAzure(clock, issuer_key=next(rsa_keys))
    with fake:
        yield fake


@pytest.fixture
def aws(clock: Clock, rsa_keys: Iterator[rsa.RSAPrivateKey]) -> Iterator[FakeAws]:
    """The IMDS / container / STS / S3 fake, started."""
    fake = FakeAws(clock, oidc_key=next(rsa_keys))
    with fake:
        yield fake
