"""SigV4 streaming uploads: ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` and chunk signatures.

The request's headers are signed first (their signature is the seed), then each chunk of the
aws-chunked body is signed, chaining the previous signature (S3 API Reference, "Transferring
Payload in Multiple Chunks").
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from litestar_storages.signing._canonical import (
    EMPTY_SHA256,
    HeadersInput,
    QueryInput,
    SigningError,
    header_pairs,
)
from litestar_storages.signing.sigv4._headers import sign_headers_and_seed
from litestar_storages.signing.sigv4._keys import AwsCredentials, SigningKeyCache
from litestar_storages.signing.sigv4._stages import credential_scope, signature

__all__ = [
    "CHUNK_ALGORITHM",
    "MIN_CHUNK_SIZE",
    "STREAMING_PAYLOAD",
    "ChunkSigner",
    "chunk_string_to_sign",
    "encoded_content_length",
    "sign_streaming",
]

STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
"""Payload hash announcing an aws-chunked body whose chunks are signed one by one."""

CHUNK_ALGORITHM = "AWS4-HMAC-SHA256-PAYLOAD"
"""First line of each chunk's string to sign in a streaming upload."""

MIN_CHUNK_SIZE = 8 * 1024
"""S3 refuses aws-chunked chunks below 8 KiB, except the last data chunk."""

_STREAMING_EMPTY_HASH = EMPTY_SHA256


def chunk_string_to_sign(
    amz_date: str, scope: str, previous_signature: str, chunk_hash: str
) -> str:
    """String to sign of one chunk of an aws-chunked upload.

    ``AWS4-HMAC-SHA256-PAYLOAD``, timestamp, scope, the previous signature (the seed signature
    for the first chunk), the hash of the empty string, and the hash of the chunk data (S3 API
    Reference, "Transferring Payload in Multiple Chunks").
    """
    return (
        f"{CHUNK_ALGORITHM}\n{amz_date}\n{scope}\n{previous_signature}\n"
        f"{_STREAMING_EMPTY_HASH}\n{chunk_hash}"
    )


def encoded_content_length(decoded_length: int, chunk_size: int) -> int:
    """``Content-Length`` of an aws-chunked body: data plus each chunk's metadata.

    Each chunk is ``hex(size);chunk-signature=<64 hex>\\r\\n<data>\\r\\n``, and the body ends
    with a zero-length chunk.

    Raises:
        SigningError: a length is negative or the chunk size is not positive.
    """
    if decoded_length < 0 or chunk_size < 1:
        raise SigningError("lengths must be non-negative and the chunk size positive")
    full, rest = divmod(decoded_length, chunk_size)
    sizes = [chunk_size] * full + ([rest] if rest else []) + [0]
    overhead = len(";chunk-signature=") + 64 + 2 + 2
    return sum(len(f"{size:x}") + overhead + size for size in sizes)


class ChunkSigner:
    """Signs the chunks of one aws-chunked upload, in order.

    Each chunk's signature chains the previous one (the seed signature of the request for the
    first chunk), so the signer carries that one value of state. Send every data chunk with
    :meth:`frame`, then :meth:`final_frame` (the zero-length chunk that ends the body).
    """

    __slots__ = ("_amz_date", "_finished", "_key", "_previous", "_scope")

    def __init__(
        self, *, signing_key: bytes, amz_date: str, scope: str, seed_signature: str
    ) -> None:
        """Start the chain at ``seed_signature`` (the signature of the request headers)."""
        self._key = signing_key
        self._amz_date = amz_date
        self._scope = scope
        self._previous = seed_signature
        self._finished = False

    def __repr__(self) -> str:
        return f"ChunkSigner(scope={self._scope!r}, finished={self._finished})"

    @property
    def previous_signature(self) -> str:
        """The last signature of the chain (the seed signature before the first chunk)."""
        return self._previous

    def sign(self, chunk: bytes) -> str:
        """Sign the next chunk and return its signature; an empty chunk ends the chain.

        Raises:
            SigningError: the final (empty) chunk was already signed.
        """
        if self._finished:
            raise SigningError("the final chunk was already signed")
        sts = chunk_string_to_sign(
            self._amz_date, self._scope, self._previous, hashlib.sha256(chunk).hexdigest()
        )
        self._previous = signature(self._key, sts)
        if not chunk:
            self._finished = True
        return self._previous

    def frame(self, chunk: bytes) -> bytes:
        """Sign ``chunk`` and return it framed for the aws-chunked body."""
        sig = self.sign(chunk)
        return b"".join(
            (f"{len(chunk):x};chunk-signature={sig}\r\n".encode("ascii"), chunk, b"\r\n")
        )

    def final_frame(self) -> bytes:
        """The signed zero-length chunk that ends the body."""
        return self.frame(b"")


def sign_streaming(
    method: str,
    *,
    host: str,
    path: str,
    query: QueryInput | None,
    headers: HeadersInput | None,
    credentials: AwsCredentials,
    region: str,
    service: str = "s3",
    now: datetime,
    decoded_content_length: int,
    chunk_size: int,
    key_cache: SigningKeyCache | None = None,
) -> tuple[dict[str, str], ChunkSigner]:
    """Sign the headers of a ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` upload.

    The body is sent aws-chunked: the caller cuts it into ``chunk_size`` pieces (the last may
    be shorter) and writes ``signer.frame(piece)`` for each, then ``signer.final_frame()``.

    Args:
        method: HTTP method (``PUT`` for PutObject / UploadPart).
        host: ``Host`` header value.
        path: Wire path (already encoded once).
        query: Unencoded query pairs.
        headers: Other headers to sign. A ``content-encoding`` given here is kept after
            ``aws-chunked``.
        credentials: The access key.
        region: Region of the credential scope.
        service: Service of the credential scope.
        now: Signing time, timezone-aware.
        decoded_content_length: Length of the object data in bytes
            (``x-amz-decoded-content-length``).
        chunk_size: Size of every data chunk but the last, at least 8 KiB.
        key_cache: Optional cache of derived signing keys.

    Returns:
        ``(headers, signer)``: the headers to add (``authorization``, ``x-amz-date``,
        ``x-amz-content-sha256``, ``content-encoding``, ``content-length``,
        ``x-amz-decoded-content-length``, and ``x-amz-security-token`` if any) and the chunk
        signer seeded with the request's signature.

    Raises:
        SigningError: the chunk size is below 8 KiB or a length is negative.
    """
    if chunk_size < MIN_CHUNK_SIZE:
        raise SigningError(f"aws-chunked chunks must be at least {MIN_CHUNK_SIZE} bytes")
    pairs = header_pairs(headers)
    encodings = [v for n, v in pairs if n.strip().lower() == "content-encoding"]
    rest = [(n, v) for n, v in pairs if n.strip().lower() != "content-encoding"]
    extra = (
        ("content-encoding", ",".join(["aws-chunked", *encodings])),
        ("content-length", str(encoded_content_length(decoded_content_length, chunk_size))),
        ("x-amz-decoded-content-length", str(decoded_content_length)),
    )
    added, seed, amz_date, key = sign_headers_and_seed(
        method,
        host=host,
        path=path,
        query=query,
        headers=rest,
        payload_hash=STREAMING_PAYLOAD,
        credentials=credentials,
        region=region,
        service=service,
        now=now,
        s3=True,
        key_cache=key_cache,
        content_sha256_header=True,
        extra=extra,
    )
    scope = credential_scope(amz_date[:8], region, service)
    return added, ChunkSigner(signing_key=key, amz_date=amz_date, scope=scope, seed_signature=seed)
