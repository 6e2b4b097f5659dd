"""Fixtures for the transport tests: transports to compare, a throwaway CA, fd counting."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio.lowlevel
import httpx
import pytest

from litestar_storages._http.transport import FastTransport

TransportFactory = Callable[..., httpx.AsyncBaseTransport]


class Chunks:
    """A body as a plain async iterator (an async generator abandoned mid-way would be left to
    the garbage collector by httpx's wrapper, which trio reports)."""

    def __init__(self, *chunks: bytes) -> None:
        self._chunks = list(chunks)

    def __aiter__(self) -> Chunks:
        return self

    async def __anext__(self) -> bytes:
        if not self._chunks:
            raise StopAsyncIteration
        await anyio.lowlevel.checkpoint()
        return self._chunks.pop(0)


def open_fds() -> int:
    """How many file descriptors this process has open (Linux)."""
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture(params=["fast", "stock"])
def any_transport(request: pytest.FixtureRequest) -> TransportFactory:
    """Build either transport with the same options: the two must be interchangeable."""

    def build(**options: object) -> httpx.AsyncBaseTransport:
        if request.param == "fast":
            return FastTransport(**options)  # type: ignore[arg-type]
        options.pop("timeout", None)
        return httpx.AsyncHTTPTransport(**options)  # type: ignore[arg-type]

    return build


@dataclass
class Certificates:
    """A CA and certificates it signed, written as PEM files."""

    ca: Path
    localhost: tuple[Path, Path]  # cert, key: valid for DNS:localhost only
    expired: tuple[Path, Path]  # valid for localhost and 127.0.0.1, but expired

    def server_context(self, which: str = "localhost") -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert, key = getattr(self, which)
        context.load_cert_chain(cert, key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.timezone.utc)

    def write(
        name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
    ) -> tuple[Path, Path]:
        cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cert_path, key_path

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "transport test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(
        names: list[x509.GeneralName], start: datetime.datetime, end: datetime.datetime
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "transport test")]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        return cert, key

    ca_path = directory / "ca.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    localhost = write(
        "localhost",
        *leaf(
            [x509.DNSName("localhost")],
            now - datetime.timedelta(days=1),
            now + datetime.timedelta(days=10),
        ),
    )
    expired = write(
        "expired",
        *leaf(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
            now - datetime.timedelta(days=10),
            now - datetime.timedelta(days=1),
        ),
    )
    return Certificates(ca=ca_path, localhost=localhost, expired=expired)
