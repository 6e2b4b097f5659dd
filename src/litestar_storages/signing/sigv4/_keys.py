"""SigV4 keys: the access key (:class:`AwsCredentials`) and the derived signing keys.

A derived key is valid for one (date, region, service) scope; :class:`SigningKeyCache` keeps the
ones a process uses, owned by the caller (nothing here keeps global state).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from litestar_storages.signing._canonical import SigningError, format_amz_date, mask
from litestar_storages.signing.sigv4._stages import credential_scope, signing_key

__all__ = ["AwsCredentials", "Scope", "SigningKeyCache", "derived_key", "signing_scope"]


@dataclass(frozen=True, repr=False)
class AwsCredentials:
    """An AWS access key, optionally temporary (with a session token).

    The ``repr`` shows the access key id (an identifier, not a secret) but never the secret
    key or the session token.
    """

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __repr__(self) -> str:
        return (
            f"AwsCredentials(access_key_id={self.access_key_id!r}, "
            f"secret_access_key={mask(self.secret_access_key)}, "
            f"session_token={mask(self.session_token)})"
        )


class _Keyed:
    """A derived key and an HMAC already keyed with it (copying it skips the key schedule)."""

    __slots__ = ("_mac", "key")

    def __init__(self, key: bytes) -> None:
        self.key = key
        self._mac = hmac.new(key, digestmod=hashlib.sha256)

    def sign(self, text: str) -> str:
        mac = self._mac.copy()
        mac.update(text.encode("utf-8"))
        return mac.hexdigest()


class Scope(NamedTuple):
    """What every request signed in one second of one scope shares."""

    amz_date: str  # X-Amz-Date: YYYYMMDD'T'HHMMSS'Z'
    date: str  # YYYYMMDD
    scope: str  # date/region/service/aws4_request
    keyed: _Keyed


class SigningKeyCache:
    """A bounded LRU of derived signing keys, keyed by (secret, date, region, service).

    Deriving a key costs four HMACs; a key is valid for a whole UTC day, so a process that
    presigns many URLs (or signs many requests) keeps one of these and passes it as
    ``key_cache``. The cache is owned by the caller: nothing in this module keeps global state.
    It is safe to share between threads.

    It also remembers the last second it was asked about (:func:`signing_scope`): requests
    signed in the same second share their date strings and key, which saves a tenth of the
    CPU of signing one. Keyed by the time given, never by a clock: signing stays pure.
    """

    __slots__ = ("_entries", "_last", "_lock", "maxsize")

    def __init__(self, maxsize: int = 64) -> None:
        """Create an empty cache holding at most ``maxsize`` keys.

        Raises:
            SigningError: ``maxsize`` is not positive.
        """
        if maxsize < 1:
            raise SigningError("SigningKeyCache maxsize must be at least 1")
        self.maxsize = maxsize
        self._entries: OrderedDict[tuple[str, str, str, str, str], _Keyed] = OrderedDict()
        self._lock = threading.Lock()
        # (whole second, secret, region, service) -> Scope: one entry, replaced as one value.
        self._last: tuple[tuple[datetime, str, str, str], Scope] | None = None

    def _keyed(
        self, secret: str, date: str, region: str, service: str, prefix: str = "AWS4"
    ) -> _Keyed:
        entry = (secret, date, region, service, prefix)
        with self._lock:
            keyed = self._entries.get(entry)
            if keyed is not None:
                self._entries.move_to_end(entry)
                return keyed
        terminator = "aws4_request" if prefix == "AWS4" else f"{prefix.lower()}_request"
        keyed = _Keyed(
            signing_key(secret, date, region, service, prefix=prefix, terminator=terminator)
        )
        with self._lock:
            self._entries[entry] = keyed
            self._entries.move_to_end(entry)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return keyed

    def get(
        self, secret: str, date: str, region: str, service: str, *, prefix: str = "AWS4"
    ) -> bytes:
        """Return the signing key for these inputs, deriving and remembering it if needed."""
        return self._keyed(secret, date, region, service, prefix).key

    def clear(self) -> None:
        """Forget every key (for example after a credential rotation)."""
        with self._lock:
            self._entries.clear()
            self._last = None

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        # The keys of the mapping contain secrets: show the size only.
        return f"SigningKeyCache(maxsize={self.maxsize}, size={len(self)})"


def signing_scope(
    credentials: AwsCredentials,
    now: datetime,
    region: str,
    service: str,
    key_cache: SigningKeyCache | None,
) -> Scope:
    """The date strings, credential scope and signing key for a request signed at ``now``.

    Raises:
        SigningError: ``now`` is naive.
    """
    entry = None
    if key_cache is not None:
        # The same instant to the second (equal datetimes: a naive ``now`` never equals the
        # aware one remembered, so it still reaches format_amz_date and is refused there).
        entry = (now.replace(microsecond=0), credentials.secret_access_key, region, service)
        last = key_cache._last
        if last is not None and last[0] == entry:
            return last[1]
    amz_date, date = format_amz_date(now)
    keyed = derived_key(credentials, date, region, service, key_cache)
    scope = Scope(amz_date, date, credential_scope(date, region, service), keyed)
    if key_cache is not None and entry is not None:
        key_cache._last = (entry, scope)
    return scope


def derived_key(
    credentials: AwsCredentials,
    date: str,
    region: str,
    service: str,
    key_cache: SigningKeyCache | None,
) -> _Keyed:
    """The signing key of this scope, from ``key_cache`` when given, ready to sign with."""
    if key_cache is not None:
        return key_cache._keyed(credentials.secret_access_key, date, region, service)
    return _Keyed(signing_key(credentials.secret_access_key, date, region, service))
