"""Azure Blob SAS vectors transcribed from azure-sdk-for-rust and opendal-reqsign (6 cases).

Each case gives the key, the resource and the expected ``sig`` (no string to sign is
published). Two checks per case: the stage functions (the string to sign is rebuilt from the
token's own query parameters, then signed) and, where the library has a builder for that kind
of SAS, the builder end to end. The 2020-06-12 and 2018-11-09 cases use the older layouts, so
they also check that ``sv`` selects the layout.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from litestar_storages.signing import azure

from ._signing_vectors import load_json, vectors_path

DATA = load_json(vectors_path("azure", "third-party-sas-vectors.json"))
CASES = DATA["cases"]


def _token(case: dict[str, Any]) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(case["url"]).query, keep_blank_values=True))


def _resource(case: dict[str, Any]) -> str:
    path = urlsplit(case["url"]).path
    return str(case.get("canonicalized_resource") or f"/blob/{case['account_name']}{path}")


def test_set_has_six_cases() -> None:
    assert len(CASES) == 6


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_signature_from_the_tokens_own_parameters(case: dict[str, Any]) -> None:
    params = _token(case)
    sig = params.pop("sig")
    key = azure.AzureSharedKey(case["account_name"], case["account_key"])
    if "srt" in params:
        sts = azure.account_sas_string_to_sign(params, account_name=case["account_name"])
    else:
        sts = azure.service_sas_string_to_sign(params, canonicalized_resource=_resource(case))
    assert azure.hmac_signature(key.key, sts) == case["expected_sig"] == sig


def _expiry(params: dict[str, str]) -> datetime:
    return datetime.strptime(params["se"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def _blob_location(case: dict[str, Any]) -> tuple[str, str]:
    """``(container, blob)`` whose canonicalised resource is the case's."""
    prefix = f"/blob/{case['account_name']}/"
    container, _, blob = _resource(case).removeprefix(prefix).partition("/")
    return container, blob


@pytest.mark.parametrize("case", [c for c in CASES if "sr=b&" in c["url"]], ids=lambda c: c["id"])
def test_blob_sas_builder(case: dict[str, Any]) -> None:
    params = _token(case)
    container, blob = _blob_location(case)
    pairs = azure.blob_sas(
        azure.AzureSharedKey(case["account_name"], case["account_key"]),
        container=container,
        blob=blob,
        permissions=params["sp"],
        expiry=_expiry(params),
        version=params["sv"],
    )
    assert Counter(pairs) == Counter(params.items())
    assert dict(pairs)["sig"] == case["expected_sig"]
    assert azure.encode_sas(pairs).count("&") == len(params) - 1


@pytest.mark.parametrize("case", [c for c in CASES if "srt=" in c["url"]], ids=lambda c: c["id"])
def test_account_sas_builder(case: dict[str, Any]) -> None:
    params = _token(case)
    pairs = azure.account_sas(
        azure.AzureSharedKey(case["account_name"], case["account_key"]),
        services=params["ss"],
        resource_types=params["srt"],
        permissions=params["sp"],
        expiry=_expiry(params),
        version=params["sv"],
    )
    assert Counter(pairs) == Counter(params.items())
    assert dict(pairs)["sig"] == case["expected_sig"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_encoded_token_matches_the_url(case: dict[str, Any]) -> None:
    """``encode_sas`` writes what the URL carries: RFC 3986, ``:``/``/``/``+``/``=`` escaped."""
    query = urlsplit(case["url"]).query
    pairs = parse_qsl(query, keep_blank_values=True)
    assert azure.encode_sas(pairs) == query
