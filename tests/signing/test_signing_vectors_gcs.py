"""googleapis/conformance-tests ``v4_signatures.json``: 29 signed-URL and 11 POST-policy cases.

All are GOOG4-RSA-SHA256 with the suite's public dummy service account. Each signed-URL case
publishes the canonical request, the string to sign and the URL; all three are compared byte
for byte, and the URL is also assembled from an externally computed signature (the remote
``signBlob`` path).

Conventions of the suite (see the vectors README):

* the host comes from, in order of precedence, ``hostname``, ``clientEndpoint``,
  ``emulatorHostname``, ``universeDomain`` (``storage.<domain>``), else
  ``storage.googleapis.com``; a scheme in an endpoint overrides the case's ``scheme``;
* when the URL host has a port (``localhost:8080``), the suite signs the bare hostname, so the
  test passes ``signed_host`` explicitly;
* "Universe domain with virtual hosted style" is internally inconsistent and is skipped.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from litestar_storages.signing import gcs

from ._signing_vectors import load_json, parse_rfc3339, vectors_path

DIR = vectors_path("gcs", "googleapis-conformance-tests")
DATA = load_json(DIR / "v4_signatures.json")
ACCOUNT = gcs.GcsServiceAccount.from_info(load_json(DIR / "test_service_account.not-a-test.json"))
URL_CASES = DATA["signingV4Tests"]
POLICY_CASES = DATA["postPolicyV4Tests"]

INCONSISTENT = {
    "Universe domain with virtual hosted style": (
        "suite erratum: signs /test-bucket/test-object for https://test-bucket.storage.domain.com"
        "/test-object; its sibling 'Virtual Hosted Style' and google-cloud-storage sign "
        "/test-object"
    )
}

_STYLES: dict[str | None, gcs.UrlStyle] = {
    None: "path",
    "PATH_STYLE": "path",
    "VIRTUAL_HOSTED_STYLE": "virtual",
    "BUCKET_BOUND_HOSTNAME": "bucket_bound",
}


def _split_endpoint(endpoint: str, scheme: str) -> tuple[str, str]:
    if "://" in endpoint:
        scheme, _, host = endpoint.partition("://")
        return scheme, host
    return scheme, endpoint


def _location(case: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments locating the URL, resolved as the suite's clients do."""
    scheme = case.get("scheme", "https")
    host: str | None = None
    if case.get("hostname"):
        host = case["hostname"]
    elif case.get("clientEndpoint"):
        scheme, host = _split_endpoint(case["clientEndpoint"], scheme)
    elif case.get("emulatorHostname"):
        scheme, host = _split_endpoint(case["emulatorHostname"], scheme)
    elif case.get("universeDomain"):
        host = f"storage.{case['universeDomain']}"
    style = _STYLES[case.get("urlStyle")]
    bbh = case.get("bucketBoundHostname")
    url_host = {
        "path": host or gcs.DEFAULT_HOST,
        "virtual": f"{case['bucket']}.{host or gcs.DEFAULT_HOST}",
        "bucket_bound": bbh or "",
    }[style]
    bare = url_host.rsplit(":", 1)[0] if ":" in url_host else url_host
    return {
        "scheme": scheme,
        "host": host,
        "url_style": style,
        "bucket_bound_hostname": bbh,
        "signed_host": bare if bare != url_host else None,
    }


def _url_kwargs(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "bucket": case["bucket"],
        "blob": case.get("object"),
        "now": parse_rfc3339(case["timestamp"]),
        "expires_in": case["expiration"],
        "query": case.get("queryParameters"),
        "headers": case.get("headers"),
        **_location(case),
    }


def _skip_inconsistent(case: dict[str, Any]) -> None:
    reason = INCONSISTENT.get(case["description"])
    if reason:
        pytest.skip(reason)


def test_suite_has_29_url_and_11_policy_cases() -> None:
    assert (len(URL_CASES), len(POLICY_CASES)) == (29, 11)


@pytest.mark.parametrize("case", URL_CASES, ids=lambda c: c["description"])
def test_canonical_request(case: dict[str, Any]) -> None:
    _skip_inconsistent(case)
    prepared = gcs.prepare_signed_url(
        case["method"], credential_id=ACCOUNT.client_email, **_url_kwargs(case)
    )
    assert prepared.canonical_request == case["expectedCanonicalRequest"]


@pytest.mark.parametrize("case", URL_CASES, ids=lambda c: c["description"])
def test_string_to_sign(case: dict[str, Any]) -> None:
    _skip_inconsistent(case)
    prepared = gcs.prepare_signed_url(
        case["method"], credential_id=ACCOUNT.client_email, **_url_kwargs(case)
    )
    assert prepared.string_to_sign == case["expectedStringToSign"]


@pytest.mark.parametrize("case", URL_CASES, ids=lambda c: c["description"])
def test_signed_url(case: dict[str, Any]) -> None:
    _skip_inconsistent(case)
    url = gcs.generate_signed_url(ACCOUNT, case["method"], **_url_kwargs(case))
    assert url == case["expectedUrl"]


@pytest.mark.parametrize("case", URL_CASES, ids=lambda c: c["description"])
def test_signed_url_from_a_remote_signature(case: dict[str, Any]) -> None:
    """Prepare, sign elsewhere (bytes, as IAM signBlob returns them), finish: same URL."""
    _skip_inconsistent(case)
    prepared = gcs.prepare_signed_url(
        case["method"], credential_id=ACCOUNT.client_email, **_url_kwargs(case)
    )
    remote_signature = gcs.rsa_sign(ACCOUNT, prepared.string_to_sign.encode())
    assert gcs.finish_signed_url(prepared, remote_signature) == case["expectedUrl"]


# --- POST policies -----------------------------------------------------------------------------

_CONDITIONS = {"startsWith": "starts-with", "contentLengthRange": "content-length-range"}


def _policy_kwargs(case: dict[str, Any]) -> dict[str, Any]:
    given = case["policyInput"]
    location = _location(given)
    location.pop("signed_host")
    conditions = [[_CONDITIONS[k], *v] for k, v in (given.get("conditions") or {}).items()]
    return {
        "bucket": given["bucket"],
        "key": given["object"],
        "now": parse_rfc3339(given["timestamp"]),
        "expires_in": given["expiration"],
        "conditions": conditions,
        "fields": given.get("fields"),
        **location,
    }


@pytest.mark.parametrize("case", POLICY_CASES, ids=lambda c: c["description"])
def test_policy_document(case: dict[str, Any]) -> None:
    prepared = gcs.prepare_post_policy(credential_id=ACCOUNT.client_email, **_policy_kwargs(case))
    expected = case["policyOutput"]["fields"]["policy"]
    assert prepared.string_to_sign == expected
    decoded = json.loads(base64.b64decode(prepared.string_to_sign))
    assert decoded == json.loads(case["policyOutput"]["expectedDecodedPolicy"])


@pytest.mark.parametrize("case", POLICY_CASES, ids=lambda c: c["description"])
def test_signed_policy(case: dict[str, Any]) -> None:
    url, fields = gcs.generate_signed_post_policy(ACCOUNT, **_policy_kwargs(case))
    assert url == case["policyOutput"]["url"]
    assert fields == case["policyOutput"]["fields"]


@pytest.mark.parametrize("case", POLICY_CASES, ids=lambda c: c["description"])
def test_signed_policy_from_a_remote_signature(case: dict[str, Any]) -> None:
    prepared = gcs.prepare_post_policy(credential_id=ACCOUNT.client_email, **_policy_kwargs(case))
    signature = gcs.rsa_sign(ACCOUNT, prepared.string_to_sign.encode())
    url, fields = gcs.finish_post_policy(prepared, signature)
    assert (url, fields) == (case["policyOutput"]["url"], case["policyOutput"]["fields"])
