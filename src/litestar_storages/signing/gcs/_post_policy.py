"""GCS V4 POST policies (browser form uploads): prepared, then finished with any signature."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar_storages.signing._canonical import (
    PolicyCondition,
    add_seconds,
    check_expiry,
    format_amz_date,
    format_iso8601,
)
from litestar_storages.signing.gcs._keys import (
    GOOG4_RSA,
    GcsHmacKey,
    GcsServiceAccount,
    algorithm_and_id,
    sign_string,
)
from litestar_storages.signing.gcs._stages import UrlStyle, credential_scope, resource_location

__all__ = [
    "PreparedPostPolicy",
    "finish_post_policy",
    "generate_signed_post_policy",
    "post_policy_document",
    "prepare_post_policy",
]


@dataclass(frozen=True)
class PreparedPostPolicy:
    """A POST policy up to its signature: sign ``string_to_sign`` (the base64 policy).

    Attributes:
        url: The form's action URL.
        fields: Every form field except ``x-goog-signature``.
        string_to_sign: The base64 policy document (also the ``policy`` field).
    """

    url: str
    fields: Mapping[str, str]
    string_to_sign: str


def post_policy_document(expiration: datetime, conditions: Sequence[PolicyCondition]) -> str:
    """The base64 policy document: compact JSON ``{"conditions": [...], "expiration": ...}``.

    Non-ASCII text is written as ``\\uXXXX`` escapes, as Google's client libraries do (and as
    the conformance suite's policies are encoded).
    """
    document = {"conditions": list(conditions), "expiration": format_iso8601(expiration)}
    return base64.b64encode(json.dumps(document, separators=(",", ":")).encode("ascii")).decode(
        "ascii"
    )


def prepare_post_policy(
    *,
    credential_id: str,
    algorithm: str = GOOG4_RSA,
    bucket: str,
    key: str,
    now: datetime,
    expires_in: int,
    conditions: Sequence[PolicyCondition] = (),
    fields: Mapping[str, str] | None = None,
    scheme: str = "https",
    host: str | None = None,
    url_style: UrlStyle = "path",
    bucket_bound_hostname: str | None = None,
) -> PreparedPostPolicy:
    """Build a V4 POST policy up to the string to sign.

    The conditions are, in order: ``conditions``, one exact match per field of ``fields``
    (sorted by name; ``x-ignore-*`` fields are sent but not part of the policy), then
    ``bucket``, ``key``, ``x-goog-date``, ``x-goog-credential`` and ``x-goog-algorithm``, the
    order Google's client libraries use.

    Args:
        credential_id: Service-account e-mail or HMAC access id.
        algorithm: :data:`GOOG4_RSA` or :data:`GOOG4_HMAC`.
        bucket: Bucket name.
        key: Object name the form uploads to.
        now: Signing time, timezone-aware.
        expires_in: Validity in seconds, 1 to 604800.
        conditions: Extra conditions (``content_length_range``, ``starts_with``...).
        fields: Extra form fields (``content-type``, ``success_action_status``,
            ``x-goog-meta-*``...).
        scheme: ``https`` or ``http``.
        host: Endpoint host (default ``storage.googleapis.com``).
        url_style: ``path``, ``virtual`` or ``bucket_bound``.
        bucket_bound_hostname: Host serving the bucket, for ``bucket_bound``.

    Raises:
        SigningError: bad expiry, naive ``now`` or a ``bucket_bound`` style without hostname.
    """
    check_expiry(expires_in)
    url_host, _ = resource_location(
        bucket=bucket,
        blob=None,
        host=host,
        url_style=url_style,
        bucket_bound_hostname=bucket_bound_hostname,
    )
    url_path = f"/{bucket}/" if url_style == "path" else "/"
    timestamp, date = format_amz_date(now)
    credential = f"{credential_id}/{credential_scope(date)}"
    policy_conditions: list[Any] = list(conditions)
    form: dict[str, str] = {}
    for name, value in sorted((fields or {}).items()):
        form[name] = value
        if not name.startswith("x-ignore-"):
            policy_conditions.append({name: value})
    policy_conditions += [
        {"bucket": bucket},
        {"key": key},
        {"x-goog-date": timestamp},
        {"x-goog-credential": credential},
        {"x-goog-algorithm": algorithm},
    ]
    policy = post_policy_document(add_seconds(now, expires_in), policy_conditions)
    form.update(
        {
            "key": key,
            "x-goog-algorithm": algorithm,
            "x-goog-credential": credential,
            "x-goog-date": timestamp,
            "policy": policy,
        }
    )
    return PreparedPostPolicy(
        url=f"{scheme}://{url_host}{url_path}", fields=form, string_to_sign=policy
    )


def finish_post_policy(
    prepared: PreparedPostPolicy, signature: bytes | str
) -> tuple[str, dict[str, str]]:
    """Return ``(url, fields)`` with ``x-goog-signature`` (hex) added to the prepared fields."""
    fields = dict(prepared.fields)
    fields["x-goog-signature"] = signature.hex() if isinstance(signature, bytes) else signature
    return prepared.url, fields


def generate_signed_post_policy(
    credentials: GcsServiceAccount | GcsHmacKey,
    *,
    bucket: str,
    key: str,
    now: datetime,
    expires_in: int,
    conditions: Sequence[PolicyCondition] = (),
    fields: Mapping[str, str] | None = None,
    scheme: str = "https",
    host: str | None = None,
    url_style: UrlStyle = "path",
    bucket_bound_hostname: str | None = None,
) -> tuple[str, dict[str, str]]:
    """Sign a V4 POST policy with a local key; see :func:`prepare_post_policy`.

    Returns:
        ``(url, fields)`` for an HTML form upload.
    """
    algorithm, credential_id = algorithm_and_id(credentials)
    prepared = prepare_post_policy(
        credential_id=credential_id,
        algorithm=algorithm,
        bucket=bucket,
        key=key,
        now=now,
        expires_in=expires_in,
        conditions=conditions,
        fields=fields,
        scheme=scheme,
        host=host,
        url_style=url_style,
        bucket_bound_hostname=bucket_bound_hostname,
    )
    date = format_amz_date(now)[1]
    return finish_post_policy(
        prepared, sign_string(credentials, prepared.string_to_sign, date=date)
    )
