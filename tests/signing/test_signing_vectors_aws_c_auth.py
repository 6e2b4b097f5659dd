"""awslabs/aws-c-auth's SigV4 suite: 38 cases, each signed in a header and in the query.

Every case publishes the canonical request, the string to sign, the signature and the signed
request for both modes; each stage is compared byte for byte.

Conventions of the suite (``context.json``):

* ``normalize: true`` is the generic-service rule (normalise the path and encode it again,
  ``s3=False``); ``normalize: false`` is S3's (the path is used as sent, ``s3=True``), so the
  wire path passed is the request path encoded once.
* ``sign_body: true`` adds and signs ``x-amz-content-sha256`` (header mode).
* ``omit_session_token: true`` signs without the token and adds it afterwards.
* In query mode every request header is signed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from litestar_storages.signing import sigv4
from litestar_storages.signing._canonical import format_amz_date

from ._signing_vectors import HttpRequest, load_json, parse_http_request, parse_query, vectors_path

SUITE = vectors_path("aws", "aws-c-auth-sigv4")
CASES = sorted(p for p in SUITE.iterdir() if (p / "context.json").exists())


def _read(case: Path, name: str) -> str:
    return (case / name).read_text(encoding="utf-8")


def _context(case: Path) -> dict[str, Any]:
    context: dict[str, Any] = load_json(case / "context.json")
    return context


def _now(context: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(context["timestamp"].replace("Z", "+00:00"))


def _request(case: Path) -> HttpRequest:
    return parse_http_request(_read(case, "request.txt"))


def _wire_path(req: HttpRequest, context: dict[str, Any]) -> tuple[str, bool]:
    """``(path, s3)`` for the signer: see the module docstring."""
    if context["normalize"]:
        return req.raw_path, False
    return sigv4.uri_encode_path(req.raw_path), True


def _credentials(context: dict[str, Any], *, for_signing: bool = True) -> sigv4.AwsCredentials:
    creds = context["credentials"]
    token = creds.get("token")
    if for_signing and context.get("omit_session_token"):
        token = None
    return sigv4.AwsCredentials(creds["access_key_id"], creds["secret_access_key"], token)


def _payload_hash(req: HttpRequest) -> str:
    return hashlib.sha256(req.body).hexdigest()


def _scope(context: dict[str, Any]) -> str:
    date = format_amz_date(_now(context))[1]
    return sigv4.credential_scope(date, context["region"], context["service"])


def test_suite_has_all_38_cases() -> None:
    assert len(CASES) == 38


# --- header signing ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_header_canonical_request(case: Path) -> None:
    context, req = _context(case), _request(case)
    path, s3 = _wire_path(req, context)
    headers = [*req.headers, ("X-Amz-Date", format_amz_date(_now(context))[0])]
    token = _credentials(context).session_token
    if token:
        headers.append(("X-Amz-Security-Token", token))
    if context["sign_body"]:
        headers.append(("x-amz-content-sha256", _payload_hash(req)))
    creq = sigv4.canonical_request(
        req.method,
        path=path,
        query=req.query,
        headers=headers,
        payload_hash=_payload_hash(req),
        s3=s3,
    )
    assert creq == _read(case, "header-canonical-request.txt")


@pytest.mark.parametrize("mode", ["header", "query"])
@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_string_to_sign(case: Path, mode: str) -> None:
    context = _context(case)
    amz_date = format_amz_date(_now(context))[0]
    sts = sigv4.string_to_sign(
        amz_date, _scope(context), _read(case, f"{mode}-canonical-request.txt")
    )
    assert sts == _read(case, f"{mode}-string-to-sign.txt")


@pytest.mark.parametrize("mode", ["header", "query"])
@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_signature(case: Path, mode: str) -> None:
    context = _context(case)
    date = format_amz_date(_now(context))[1]
    key = sigv4.signing_key(
        context["credentials"]["secret_access_key"], date, context["region"], context["service"]
    )
    sig = sigv4.signature(key, _read(case, f"{mode}-string-to-sign.txt"))
    assert sig == _read(case, f"{mode}-signature.txt").strip()


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_header_signed_request(case: Path) -> None:
    context, req = _context(case), _request(case)
    path, s3 = _wire_path(req, context)
    host = req.header("host")
    assert host is not None
    added = sigv4.sign_headers(
        req.method,
        host=host,
        path=path,
        query=req.query,
        headers=req.headers_without("host"),
        payload_hash=_payload_hash(req),
        credentials=_credentials(context),
        region=context["region"],
        service=context["service"],
        now=_now(context),
        s3=s3,
        content_sha256_header=context["sign_body"],
    )
    signed = parse_http_request(_read(case, "header-signed-request.txt"))
    assert added["authorization"] == signed.header("authorization")
    assert added["x-amz-date"] == signed.header("x-amz-date")
    if context["sign_body"]:
        assert added["x-amz-content-sha256"] == signed.header("x-amz-content-sha256")
    signed_token = _credentials(context).session_token
    # With omit_session_token the token is sent but not signed: it is added after signing.
    assert added.get("x-amz-security-token") == signed_token


# --- query signing -----------------------------------------------------------------------------


def _x_amz_query(context: dict[str, Any], signed_headers: str) -> list[tuple[str, str]]:
    amz_date = format_amz_date(_now(context))[0]
    creds = _credentials(context)
    pairs = [
        ("X-Amz-Algorithm", sigv4.ALGORITHM),
        ("X-Amz-Credential", f"{creds.access_key_id}/{_scope(context)}"),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Expires", str(context["expiration_in_seconds"])),
        ("X-Amz-SignedHeaders", signed_headers),
    ]
    if creds.session_token:
        pairs.append(("X-Amz-Security-Token", creds.session_token))
    return pairs


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_query_canonical_request(case: Path) -> None:
    context, req = _context(case), _request(case)
    path, s3 = _wire_path(req, context)
    _, signed = sigv4.canonical_headers(req.headers)
    creq = sigv4.canonical_request(
        req.method,
        path=path,
        query=[*req.query, *_x_amz_query(context, signed)],
        headers=req.headers,
        payload_hash=_payload_hash(req),
        s3=s3,
    )
    assert creq == _read(case, "query-canonical-request.txt")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_query_signed_request(case: Path) -> None:
    context, req = _context(case), _request(case)
    path, s3 = _wire_path(req, context)
    host = req.header("host")
    assert host is not None
    pairs = sigv4.presign_query(
        req.method,
        host=host,
        path=path,
        query=req.query,
        credentials=_credentials(context),
        region=context["region"],
        service=context["service"],
        now=_now(context),
        expires_in=context["expiration_in_seconds"],
        signed_headers=req.headers_without("host"),
        s3=s3,
        payload_hash=_payload_hash(req),
    )
    assert pairs[-1] == ("X-Amz-Signature", _read(case, "query-signature.txt").strip())
    token = context["credentials"].get("token")
    if token and context.get("omit_session_token"):
        # Sent, not signed: appended after the signature is computed.
        pairs.append(("X-Amz-Security-Token", token))
    signed_line = _read(case, "query-signed-request.txt").split("\n", 1)[0]
    target = signed_line.split(" ", 1)[1].rsplit(" ", 1)[0]
    expected = parse_query(target.partition("?")[2])
    # The suite lists the parameters in its own (unsigned) order: compare them as a multiset.
    assert Counter(pairs) == Counter(expected)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_query_encodes_exactly_as_signed(case: Path) -> None:
    """``encode_query(presign_query(...))`` is the signed canonical query plus the signature."""
    context, req = _context(case), _request(case)
    path, s3 = _wire_path(req, context)
    host = req.header("host")
    assert host is not None
    pairs = sigv4.presign_query(
        req.method,
        host=host,
        path=path,
        query=req.query,
        credentials=_credentials(context),
        region=context["region"],
        service=context["service"],
        now=_now(context),
        expires_in=context["expiration_in_seconds"],
        signed_headers=req.headers_without("host"),
        s3=s3,
        payload_hash=_payload_hash(req),
    )
    canonical_query = _read(case, "query-canonical-request.txt").split("\n")[2]
    signature = _read(case, "query-signature.txt").strip()
    assert sigv4.encode_query(pairs) == f"{canonical_query}&X-Amz-Signature={signature}"
