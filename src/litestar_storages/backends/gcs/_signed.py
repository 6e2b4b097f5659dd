"""Signed URLs and POST policies for ``GCSStorage``, through the pure ``signing.gcs`` module.

V4 signing ("V4 signing process with your own program"): ``GOOG4-RSA-SHA256`` with a
service-account key, or ``GOOG4-HMAC-SHA256`` with an HMAC key. URLs are path-style
(``https://storage.googleapis.com/bucket/object``) on the storage's endpoint, so they also work
against an emulator. The object name is encoded once with ``/`` kept (XML API paths).

Keyless signing is split as ``signing.gcs`` splits it: :func:`prepare_keyless_url` and
:func:`prepare_keyless_post_policy` build everything up to the string to sign for a
service-account e-mail (pure), the IAM Credentials ``signBlob`` API signs it (I/O, through
``_credentials_auth.GcsAuth``), and ``signing.gcs.finish_*`` assemble the result (pure);
:func:`keyless_url` and :func:`keyless_post_policy` chain the three.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from litestar_storages.backends.gcs.config import Endpoint
from litestar_storages.backends.gcs.credentials import ResolvedCredentials
from litestar_storages.exceptions import StorageConfigurationError
from litestar_storages.signing.gcs import (
    GOOG4_RSA,
    MAX_EXPIRES,
    GcsHmacKey,
    GcsServiceAccount,
    PreparedPostPolicy,
    PreparedSignedUrl,
    finish_post_policy,
    generate_signed_post_policy,
    generate_signed_url,
    prepare_post_policy,
    prepare_signed_url,
)

if TYPE_CHECKING:
    from litestar_storages._http.clock import Clock
    from litestar_storages.backends.gcs._credentials_auth import GcsAuth

__all__ = [
    "expiry_seconds",
    "finish_keyless_post_policy",
    "keyless_post_policy",
    "keyless_url",
    "prepare_keyless_post_policy",
    "prepare_keyless_url",
    "signed_post_policy",
    "signed_url",
]


def expiry_seconds(expires_in: timedelta | int | float) -> int:
    """Whole seconds of validity, checked against V4's limits (1 s to 7 days).

    Raises:
        StorageConfigurationError: Zero, negative, or longer than 7 days ("X-Goog-Expires:
            the maximum value is 604800 seconds").
    """
    seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
    whole = int(seconds)
    if whole < 1 or seconds > MAX_EXPIRES:
        raise StorageConfigurationError(
            f"expires_in must be between 1 second and 7 days, not {seconds:g} seconds",
            backend="gcs",
        )
    return whole


def _key(credentials: ResolvedCredentials) -> GcsServiceAccount | GcsHmacKey:
    key = credentials.hmac or credentials.account
    if key is None:  # resolve_signing never returns such credentials
        raise StorageConfigurationError("no key to sign with", backend="gcs")
    return key


def signed_url(
    credentials: ResolvedCredentials,
    endpoint: Endpoint,
    *,
    bucket: str,
    name: str,
    method: str,
    now: datetime,
    expires_in: timedelta,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
) -> str:
    """A V4 signed URL for ``name`` in ``bucket``.

    Raises:
        StorageConfigurationError: Bad expiry, method or key.
    """
    seconds = expiry_seconds(expires_in)
    if not method or not method.isalpha():
        raise StorageConfigurationError(f"invalid HTTP method {method!r}", backend="gcs")
    try:
        return generate_signed_url(
            _key(credentials),
            method.upper(),
            bucket=bucket,
            blob=name,
            now=now,
            expires_in=seconds,
            scheme=endpoint.scheme,
            host=endpoint.netloc,
            headers=headers,
            query=query,
        )
    except ValueError as exc:  # SigningError: bad input or an unusable key
        raise StorageConfigurationError(f"cannot sign the URL: {exc}", backend="gcs") from None


def prepare_keyless_url(
    email: str,
    endpoint: Endpoint,
    *,
    bucket: str,
    name: str,
    method: str,
    now: datetime,
    expires_in: timedelta,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
) -> PreparedSignedUrl:
    """A ``GOOG4-RSA-SHA256`` URL for ``email`` up to its string to sign (for ``signBlob``).

    Raises:
        StorageConfigurationError: Bad expiry or method.
    """
    seconds = expiry_seconds(expires_in)
    if not method or not method.isalpha():
        raise StorageConfigurationError(f"invalid HTTP method {method!r}", backend="gcs")
    try:
        return prepare_signed_url(
            method.upper(),
            credential_id=email,
            algorithm=GOOG4_RSA,
            bucket=bucket,
            blob=name,
            now=now,
            expires_in=seconds,
            scheme=endpoint.scheme,
            host=endpoint.netloc,
            headers=headers,
            query=query,
        )
    except ValueError as exc:
        raise StorageConfigurationError(f"cannot sign the URL: {exc}", backend="gcs") from None


def prepare_keyless_post_policy(
    email: str,
    endpoint: Endpoint,
    *,
    bucket: str,
    name: str,
    now: datetime,
    expires_in: timedelta,
    conditions: Sequence[Any] = (),
    fields: Mapping[str, str] | None = None,
) -> PreparedPostPolicy:
    """A ``GOOG4-RSA-SHA256`` POST policy for ``email`` up to its string to sign.

    Raises:
        StorageConfigurationError: Bad expiry.
    """
    seconds = expiry_seconds(expires_in)
    try:
        return prepare_post_policy(
            credential_id=email,
            algorithm=GOOG4_RSA,
            bucket=bucket,
            key=name,
            now=now,
            expires_in=seconds,
            conditions=conditions,
            fields=fields,
            scheme=endpoint.scheme,
            host=endpoint.netloc,
        )
    except ValueError as exc:
        raise StorageConfigurationError(f"cannot sign the policy: {exc}", backend="gcs") from None


def finish_keyless_post_policy(
    prepared: PreparedPostPolicy, signature: bytes
) -> tuple[str, dict[str, str]]:
    """The form's action URL and fields, from the prepared policy and its signature."""
    url, form = finish_post_policy(prepared, signature)
    return url.rstrip("/"), form  # see signed_post_policy


async def keyless_url(
    auth: GcsAuth,
    endpoint: Endpoint,
    *,
    clock: Clock,
    bucket: str,
    name: str,
    method: str,
    expires_in: timedelta,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
) -> str:
    """A V4 URL signed by ``signBlob`` as ``auth``'s service account.

    Raises:
        StorageConfigurationError: Bad expiry or method.
        StoragePermissionError: The account may not sign (``iam.serviceAccounts.signBlob``).
    """
    from litestar_storages.signing.gcs import finish_signed_url

    email = await auth.signer_email()
    prepared = prepare_keyless_url(
        email,
        endpoint,
        bucket=bucket,
        name=name,
        method=method,
        now=clock(),  # read after the e-mail lookup, which may have taken a round trip
        expires_in=expires_in,
        headers=headers,
        query=query,
    )
    return finish_signed_url(prepared, await auth.sign_blob(prepared.string_to_sign.encode()))


async def keyless_post_policy(
    auth: GcsAuth,
    endpoint: Endpoint,
    *,
    clock: Clock,
    bucket: str,
    name: str,
    expires_in: timedelta,
    conditions: Sequence[Any] = (),
    fields: Mapping[str, str] | None = None,
) -> tuple[str, dict[str, str]]:
    """A V4 POST policy signed by ``signBlob`` as ``auth``'s service account.

    Raises:
        StorageConfigurationError: Bad expiry.
        StoragePermissionError: The account may not sign.
    """
    email = await auth.signer_email()
    prepared = prepare_keyless_post_policy(
        email,
        endpoint,
        bucket=bucket,
        name=name,
        now=clock(),
        expires_in=expires_in,
        conditions=conditions,
        fields=fields,
    )
    signature = await auth.sign_blob(prepared.string_to_sign.encode())
    return finish_keyless_post_policy(prepared, signature)


def signed_post_policy(
    credentials: ResolvedCredentials,
    endpoint: Endpoint,
    *,
    bucket: str,
    name: str,
    now: datetime,
    expires_in: timedelta,
    conditions: Sequence[Any] = (),
    fields: Mapping[str, str] | None = None,
) -> tuple[str, dict[str, str]]:
    """A signed V4 POST policy: the form's action URL and its fields.

    Raises:
        StorageConfigurationError: Bad expiry or key.
    """
    seconds = expiry_seconds(expires_in)
    try:
        url, form = generate_signed_post_policy(
            _key(credentials),
            bucket=bucket,
            key=name,
            now=now,
            expires_in=seconds,
            conditions=conditions,
            fields=fields,
            scheme=endpoint.scheme,
            host=endpoint.netloc,
        )
    except ValueError as exc:
        raise StorageConfigurationError(f"cannot sign the policy: {exc}", backend="gcs") from None
    # The form's action is the bucket URL ("POST Object": action="https://storage.googleapis.com
    # /BUCKET"); the URL is not part of the policy, and emulators only route it without the
    # trailing slash that Google's client libraries add.
    return url.rstrip("/"), form
