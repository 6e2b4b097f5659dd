"""Azure SAS strings to sign: the field layout of each kind of SAS, chosen by ``sv``.

The string to sign is a function of the SAS query parameters (keyed by their query names,
``sp``, ``st``, ``se``...) and the canonicalised resource. Specifications: "Create a service
SAS", "Create an account SAS", "Create a user delegation SAS".
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from litestar_storages.signing._canonical import SigningError

__all__ = [
    "LATEST_USER_DELEGATION_LAYOUT",
    "account_sas_string_to_sign",
    "canonicalized_sas_resource",
    "service_sas_string_to_sign",
    "user_delegation_sas_string_to_sign",
]

LATEST_USER_DELEGATION_LAYOUT = "2025-11-05"
"""Newest ``sv`` whose user-delegation string-to-sign layout this module knows.

Later versions add fields (signed request headers and query parameters); signing them with an
older layout would produce a signature the service rejects, so they are refused.
"""

_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")


_CR = "<canonicalized resource>"

# Service SAS layouts, by first version ("Create a service SAS", "Version 2020-12-06 and later"
# etc.). Each name is the SAS query parameter whose value fills the line; ``snapshot`` is the
# signed snapshot time (or version id).
_SERVICE_LAYOUTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "2020-12-06",
        ("sp", "st", "se", _CR, "si", "sip", "spr", "sv", "sr", "snapshot", "ses",
         "rscc", "rscd", "rsce", "rscl", "rsct"),
    ),
    (
        "2018-11-09",
        ("sp", "st", "se", _CR, "si", "sip", "spr", "sv", "sr", "snapshot",
         "rscc", "rscd", "rsce", "rscl", "rsct"),
    ),
    (
        "2015-04-05",
        ("sp", "st", "se", _CR, "si", "sip", "spr", "sv", "rscc", "rscd", "rsce", "rscl", "rsct"),
    ),
)  # fmt: skip

# User delegation SAS layouts ("Create a user delegation SAS").
_UDK_LAYOUTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "2025-07-05",
        ("sp", "st", "se", _CR, "skoid", "sktid", "skt", "ske", "sks", "skv",
         "saoid", "suoid", "scid", "skdutid", "sduoid", "sip", "spr", "sv", "sr", "snapshot",
         "ses", "rscc", "rscd", "rsce", "rscl", "rsct"),
    ),
    (
        "2020-12-06",
        ("sp", "st", "se", _CR, "skoid", "sktid", "skt", "ske", "sks", "skv",
         "saoid", "suoid", "scid", "sip", "spr", "sv", "sr", "snapshot", "ses",
         "rscc", "rscd", "rsce", "rscl", "rsct"),
    ),
    (
        "2020-02-10",
        ("sp", "st", "se", _CR, "skoid", "sktid", "skt", "ske", "sks", "skv",
         "saoid", "suoid", "scid", "sip", "spr", "sv", "sr", "snapshot",
         "rscc", "rscd", "rsce", "rscl", "rsct"),
    ),
    (
        "2018-11-09",
        ("sp", "st", "se", _CR, "skoid", "sktid", "skt", "ske", "sks", "skv",
         "sip", "spr", "sv", "sr", "snapshot", "rscc", "rscd", "rsce", "rscl", "rsct"),
    ),
)  # fmt: skip

# Account SAS: every field is followed by a newline, including the last.
_ACCOUNT_LAYOUTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("2020-12-06", ("sp", "ss", "srt", "st", "se", "sip", "spr", "sv", "ses")),
    ("2015-04-05", ("sp", "ss", "srt", "st", "se", "sip", "spr", "sv")),
)


def _unsigned_by(
    layouts: tuple[tuple[str, tuple[str, ...]], ...],
) -> dict[tuple[str, ...], frozenset[str]]:
    # For each layout, the fields that some other version signs but this one does not. ``sr``
    # is exempt: it is a query parameter of every service SAS, signed only since 2018-11-09.
    every = {f for _, fields in layouts for f in fields}
    return {fields: frozenset(every - set(fields) - {"sr"}) for _, fields in layouts}


_UNSIGNED_BY = {
    **_unsigned_by(_SERVICE_LAYOUTS),
    **_unsigned_by(_UDK_LAYOUTS),
    **_unsigned_by(_ACCOUNT_LAYOUTS),
}


def _layout(
    layouts: tuple[tuple[str, tuple[str, ...]], ...], params: Mapping[str, str], kind: str
) -> tuple[str, ...]:
    version = _version(params)
    if not _VERSION.fullmatch(version):
        raise SigningError(f"sv {version!r} is not a service version (YYYY-MM-DD)")
    usable = [fields for first, fields in layouts if version >= first]
    if not usable:
        raise SigningError(f"{kind} with sv {version} is not supported (oldest {layouts[-1][0]})")
    fields = usable[0]
    # A field this version does not sign would be sent unsigned and rejected by the service
    # (for example ``ses`` before 2020-12-06): refuse it rather than produce a bad token.
    stray = sorted(f for f in _UNSIGNED_BY[fields] if params.get(f))
    if stray:
        raise SigningError(f"{kind} with sv {version} cannot carry {', '.join(stray)}")
    return fields


def _version(params: Mapping[str, str]) -> str:
    try:
        return params["sv"]
    except KeyError:
        raise SigningError("SAS parameters need sv (the signed version)") from None


def service_sas_string_to_sign(params: Mapping[str, str], *, canonicalized_resource: str) -> str:
    """String to sign of a service SAS signed with the account key, laid out for ``sv``.

    Args:
        params: The SAS query parameters by name (``sp``, ``st``, ``se``, ``si``, ``sip``,
            ``spr``, ``sv``, ``sr``, ``snapshot``, ``ses``, ``rscc``...); absent ones sign as
            empty lines. ``sdd`` (directory depth) is not signed.
        canonicalized_resource: ``/blob/account/container[/blob]``
            (see :func:`canonicalized_sas_resource`).

    Raises:
        SigningError: ``sv`` is missing, malformed or older than 2015-04-05.
    """
    fields = _layout(_SERVICE_LAYOUTS, params, "a service SAS")
    return "\n".join(canonicalized_resource if f == _CR else params.get(f, "") for f in fields)


def user_delegation_sas_string_to_sign(
    params: Mapping[str, str], *, canonicalized_resource: str
) -> str:
    """String to sign of a user delegation SAS, laid out for ``sv``.

    ``params`` also holds the delegation key's fields as their query names (``skoid``,
    ``sktid``, ``skt``, ``ske``, ``sks``, ``skv``, ``skdutid``) and the optional ``saoid``,
    ``suoid``, ``scid``, ``sduoid``.

    Raises:
        SigningError: ``sv`` is missing, older than 2018-11-09, or newer than
            :data:`LATEST_USER_DELEGATION_LAYOUT`.
    """
    version = _version(params)
    fields = _layout(_UDK_LAYOUTS, params, "a user delegation SAS")
    if version > LATEST_USER_DELEGATION_LAYOUT:
        raise SigningError(
            f"the user delegation SAS layout of sv {version} is not known "
            f"(newest supported {LATEST_USER_DELEGATION_LAYOUT})"
        )
    return "\n".join(canonicalized_resource if f == _CR else params.get(f, "") for f in fields)


def account_sas_string_to_sign(params: Mapping[str, str], *, account_name: str) -> str:
    """String to sign of an account SAS: the account name, then one line per field.

    Raises:
        SigningError: ``sv`` is missing, malformed or older than 2015-04-05.
    """
    fields = _layout(_ACCOUNT_LAYOUTS, params, "an account SAS")
    return f"{account_name}\n" + "".join(f"{params.get(f, '')}\n" for f in fields)


def canonicalized_sas_resource(
    account_name: str, container: str, blob: str | None = None, *, service: str = "blob"
) -> str:
    """``/blob/account/container`` or ``/blob/account/container/blob`` (unencoded names)."""
    resource = f"/{service}/{account_name}/{container}"
    return resource if blob is None else f"{resource}/{blob}"
