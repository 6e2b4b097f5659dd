"""The worked SigV4 examples of the Amazon S3 API Reference (5 signatures + 1 derived key).

Header examples publish the canonical request, string to sign, signature and Authorization
value; the presigned-URL example publishes the string to sign, signature and URL. The S3
documentation prints the Authorization components separated by ``","`` (the SDKs send
``", "``; S3 accepts both).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from litestar_storages.signing import gcs, sigv4

from ._signing_vectors import load_json, parse_amz_date, parse_query, vectors_path

DATA = load_json(vectors_path("aws", "s3-docs-examples.json"))
CREDS = sigv4.AwsCredentials(
    DATA["credentials"]["access_key_id"], DATA["credentials"]["secret_access_key"]
)
REGION = DATA["region"]
SERVICE = DATA["service"]
HEADER_CASES = [c for c in DATA["cases"] if c["kind"] == "header"]
QUERY_CASES = [c for c in DATA["cases"] if c["kind"] == "query"]
KEY_CASES = DATA["derived_signing_key_examples"]


def _header(case: dict[str, Any], name: str) -> str:
    return str(next(v for k, v in case["headers"] if k.lower() == name))


def _wire(url: str) -> tuple[str, str, list[tuple[str, str]]]:
    """``(host, wire path, query pairs)``: the doc URLs show raw paths (``test$file.text``)."""
    parts = urlsplit(url)
    return parts.netloc, sigv4.uri_encode_path(unquote(parts.path)), parse_query(parts.query)


def test_set_has_five_signatures_and_one_derived_key() -> None:
    assert len(HEADER_CASES) + len(QUERY_CASES) == 5
    assert len(KEY_CASES) == 1


@pytest.mark.parametrize("case", HEADER_CASES, ids=lambda c: c["id"])
def test_header_canonical_request(case: dict[str, Any]) -> None:
    _, path, query = _wire(case["url"])
    creq = sigv4.canonical_request(
        case["method"],
        path=path,
        query=query,
        headers=[tuple(h) for h in case["headers"]],
        payload_hash=hashlib.sha256(case["body"].encode()).hexdigest(),
        s3=True,
    )
    assert creq == case["expected"]["canonical_request"]


@pytest.mark.parametrize("case", HEADER_CASES, ids=lambda c: c["id"])
def test_header_string_to_sign(case: dict[str, Any]) -> None:
    amz_date = _header(case, "x-amz-date")
    scope = sigv4.credential_scope(amz_date[:8], REGION, SERVICE)
    sts = sigv4.string_to_sign(amz_date, scope, case["expected"]["canonical_request"])
    assert sts == case["expected"]["string_to_sign"]


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: c["id"])
def test_signature(case: dict[str, Any]) -> None:
    key = sigv4.signing_key(CREDS.secret_access_key, "20130524", REGION, SERVICE)
    assert sigv4.signature(key, case["expected"]["string_to_sign"]) == case["expected"]["signature"]


@pytest.mark.parametrize("case", HEADER_CASES, ids=lambda c: c["id"])
def test_authorization_header(case: dict[str, Any]) -> None:
    amz_date = _header(case, "x-amz-date")
    scope = sigv4.credential_scope(amz_date[:8], REGION, SERVICE)
    _, signed = sigv4.canonical_headers([tuple(h) for h in case["headers"]])
    authorization = sigv4.authorization_header(
        CREDS.access_key_id, scope, signed, case["expected"]["signature"], separator=","
    )
    assert authorization == case["expected"]["authorization"]


@pytest.mark.parametrize("case", HEADER_CASES, ids=lambda c: c["id"])
def test_sign_headers_end_to_end(case: dict[str, Any]) -> None:
    host, path, query = _wire(case["url"])
    added = sigv4.sign_headers(
        case["method"],
        host=host,
        path=path,
        query=query,
        headers=[(k, v) for k, v in case["headers"] if k.lower() != "host"],
        payload_hash=hashlib.sha256(case["body"].encode()).hexdigest(),
        credentials=CREDS,
        region=REGION,
        service=SERVICE,
        now=parse_amz_date(_header(case, "x-amz-date")),
    )
    assert added["authorization"] == case["expected"]["authorization"].replace(",", ", ")
    assert added["x-amz-content-sha256"] == _header(case, "x-amz-content-sha256")


@pytest.mark.parametrize("case", QUERY_CASES, ids=lambda c: c["id"])
def test_presign_string_to_sign(case: dict[str, Any]) -> None:
    _, path, query = _wire(case["unsigned_url"])
    scope = sigv4.credential_scope(case["timestamp"][:8], REGION, SERVICE)
    host = urlsplit(case["unsigned_url"]).netloc
    x_amz = [
        ("X-Amz-Algorithm", sigv4.ALGORITHM),
        ("X-Amz-Credential", f"{CREDS.access_key_id}/{scope}"),
        ("X-Amz-Date", case["timestamp"]),
        ("X-Amz-Expires", str(case["expires"])),
        ("X-Amz-SignedHeaders", case["signed_headers"]),
    ]
    creq = sigv4.canonical_request(
        case["method"],
        path=path,
        query=[*query, *x_amz],
        headers=[("host", host)],
        payload_hash=sigv4.UNSIGNED_PAYLOAD,
    )
    assert (
        sigv4.string_to_sign(case["timestamp"], scope, creq) == case["expected"]["string_to_sign"]
    )


@pytest.mark.parametrize("case", QUERY_CASES, ids=lambda c: c["id"])
def test_presigned_url_end_to_end(case: dict[str, Any]) -> None:
    host, path, query = _wire(case["unsigned_url"])
    url = sigv4.presign_url(
        case["method"],
        scheme=urlsplit(case["unsigned_url"]).scheme,
        host=host,
        path=path,
        query=query,
        credentials=CREDS,
        region=REGION,
        service=SERVICE,
        now=parse_amz_date(case["timestamp"]),
        expires_in=case["expires"],
        key_cache=sigv4.SigningKeyCache(),
    )
    assert url == case["expected"]["url"]


@pytest.mark.parametrize("case", KEY_CASES, ids=lambda c: c["id"])
def test_derived_signing_key(case: dict[str, Any]) -> None:
    key = sigv4.signing_key(
        case["secret_access_key"], case["date"], case["region"], case["service"]
    )
    assert key.hex() == case["expected_k_signing_hex"]


@pytest.mark.parametrize("case", KEY_CASES, ids=lambda c: c["id"])
def test_goog4_hmac_key_derivation_is_sigv4s_with_another_prefix(case: dict[str, Any]) -> None:
    """No Google-published GOOG4-HMAC vector exists (see the vectors README).

    GCS derives the HMAC signing key with SigV4's chain, prefix ``GOOG4`` and terminator
    ``goog4_request``. The chain itself is checked against AWS's published key above; here the
    GCS function is checked to be that chain with GCS's constants, computed independently.
    """
    secret, date = case["secret_access_key"], case["date"]

    def step(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    expected = step(
        step(step(step(f"GOOG4{secret}".encode(), date), "auto"), "storage"), "goog4_request"
    )
    assert gcs.hmac_signing_key(secret, date) == expected
    aws_chain = sigv4.signing_key(
        secret, date, case["region"], case["service"], prefix="AWS4", terminator="aws4_request"
    )
    assert aws_chain.hex() == case["expected_k_signing_hex"]
