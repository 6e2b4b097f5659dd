"""SigV4 POST policies: browser form uploads to S3 (a signed base64 policy document)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from litestar_storages.signing._canonical import (
    PolicyCondition,
    add_seconds,
    check_expiry,
    format_amz_date,
    format_iso8601,
)
from litestar_storages.signing.sigv4._keys import AwsCredentials, SigningKeyCache, derived_key
from litestar_storages.signing.sigv4._stages import ALGORITHM, credential_scope, signature

__all__ = ["post_policy_document", "post_policy_signature", "presigned_post"]

_FILENAME_VARIABLE = "${filename}"


def post_policy_document(expiration: datetime, conditions: Sequence[PolicyCondition]) -> str:
    """The base64 policy document of an S3 POST upload (it is also the string to sign).

    Compact JSON (``{"expiration": ..., "conditions": [...]}``) encoded as base64.
    """
    # Imported here: the S3 backend imports this module, and json is the costliest import of
    # its presigning path, needed only when a POST policy is signed.
    import json

    document = {"expiration": format_iso8601(expiration), "conditions": list(conditions)}
    text = json.dumps(document, separators=(",", ":"))
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def post_policy_signature(policy_b64: str, key: bytes) -> str:
    """Hex HMAC-SHA256 of the base64 policy under the signing key (S3 POST, SigV4)."""
    return signature(key, policy_b64)


def presigned_post(
    *,
    bucket_url: str,
    bucket: str,
    key: str,
    credentials: AwsCredentials,
    region: str,
    now: datetime,
    expires_in: int,
    fields: Mapping[str, str] | None = None,
    conditions: Sequence[PolicyCondition] = (),
    key_cache: SigningKeyCache | None = None,
) -> tuple[str, dict[str, str]]:
    """Sign an S3 POST policy for a browser form upload.

    Args:
        bucket_url: The URL the form posts to (virtual-hosted
            ``https://bucket.s3.region.amazonaws.com/`` or path-style
            ``http://localhost:9000/bucket/``); returned unchanged.
        bucket: Bucket name (a ``bucket`` condition is added).
        key: Object key; a key ending in ``${filename}`` becomes a ``starts-with`` condition on
            the part before it, so the browser's file name fills it in.
        credentials: The access key.
        region: Region of the bucket.
        now: Signing time, timezone-aware.
        expires_in: Validity of the policy in seconds, 1 to 604800.
        fields: Extra form fields; each becomes an exact-match condition.
        conditions: Extra conditions (see ``content_length_range`` and ``starts_with`` in
            ``litestar_storages.signing``).
        key_cache: Optional cache of derived signing keys.

    Returns:
        ``(url, fields)``: the form's action URL and every field the form must send before
        the ``file`` field.

    Raises:
        SigningError: ``expires_in`` is out of range or ``now`` is naive.
    """
    check_expiry(expires_in)
    amz_date, date = format_amz_date(now)
    scope = credential_scope(date, region, "s3")
    form: dict[str, str] = dict(fields or {})
    form["key"] = key
    form["x-amz-algorithm"] = ALGORITHM
    form["x-amz-credential"] = f"{credentials.access_key_id}/{scope}"
    form["x-amz-date"] = amz_date
    if credentials.session_token is not None:
        form["x-amz-security-token"] = credentials.session_token
    policy_conditions: list[Any] = [*conditions, {"bucket": bucket}]
    for name, value in form.items():
        if name == "key" and value.endswith(_FILENAME_VARIABLE):
            policy_conditions.append(["starts-with", "$key", value[: -len(_FILENAME_VARIABLE)]])
        else:
            policy_conditions.append({name: value})
    policy = post_policy_document(add_seconds(now, expires_in), policy_conditions)
    form["policy"] = policy
    form["x-amz-signature"] = derived_key(credentials, date, region, "s3", key_cache).sign(policy)
    return bucket_url, form
