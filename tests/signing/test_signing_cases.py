"""The project's own known-answer cases, transcribed from the providers' documentation.

They live in the repository's top-level ``signing/cases/`` (``signing/README.md`` states the
source of each) and are always run; they cover what the published vector sets do not: S3's
chunked upload and POST policy, Azure's SharedKey layout, and the RS256 primitive.
"""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import urlsplit

from litestar_storages.signing import azure, gcs, sigv4

from ._signing_vectors import load_case_file, parse_amz_date, parse_query, rfc7515_account

# --- AWS chunked upload ------------------------------------------------------------------------

CHUNKED = load_case_file("aws-s3-chunked-upload.json")


def _chunked_creds() -> sigv4.AwsCredentials:
    c = CHUNKED["credentials"]
    return sigv4.AwsCredentials(c["access_key_id"], c["secret_access_key"])


def _chunks() -> list[bytes]:
    return [c["byte"].encode() * c["length"] for c in CHUNKED["request"]["chunks"]]


def test_chunked_upload_encoded_length() -> None:
    req = CHUNKED["request"]
    length = sigv4.encoded_content_length(req["decoded_content_length"], req["chunk_size"])
    assert str(length) == CHUNKED["expected"]["content_length"]


def test_chunked_upload_seed_canonical_request_and_string_to_sign() -> None:
    req, expected = CHUNKED["request"], CHUNKED["expected"]
    headers = [
        ("host", req["host"]),
        ("content-encoding", "aws-chunked"),
        ("content-length", expected["content_length"]),
        ("x-amz-content-sha256", sigv4.STREAMING_PAYLOAD),
        ("x-amz-date", CHUNKED["timestamp"]),
        ("x-amz-decoded-content-length", str(req["decoded_content_length"])),
        *[tuple(h) for h in req["headers"]],
    ]
    creq = sigv4.canonical_request(
        req["method"],
        path=req["path"],
        query=None,
        headers=headers,
        payload_hash=sigv4.STREAMING_PAYLOAD,
    )
    assert creq == expected["canonical_request"]
    scope = sigv4.credential_scope(CHUNKED["timestamp"][:8], CHUNKED["region"], CHUNKED["service"])
    assert sigv4.string_to_sign(CHUNKED["timestamp"], scope, creq) == expected["string_to_sign"]


def test_chunked_upload_seed_signature_and_headers() -> None:
    req, expected = CHUNKED["request"], CHUNKED["expected"]
    added, signer = sigv4.sign_streaming(
        req["method"],
        host=req["host"],
        path=req["path"],
        query=None,
        headers=[tuple(h) for h in req["headers"]],
        credentials=_chunked_creds(),
        region=CHUNKED["region"],
        now=parse_amz_date(CHUNKED["timestamp"]),
        decoded_content_length=req["decoded_content_length"],
        chunk_size=req["chunk_size"],
    )
    assert signer.previous_signature == expected["seed_signature"]
    assert added["authorization"] == expected["authorization"].replace(",", ", ")
    assert added["content-length"] == expected["content_length"]
    assert added["content-encoding"] == "aws-chunked"
    assert added["x-amz-content-sha256"] == sigv4.STREAMING_PAYLOAD
    assert added["x-amz-decoded-content-length"] == str(req["decoded_content_length"])


def test_chunked_upload_first_chunk_string_to_sign() -> None:
    scope = sigv4.credential_scope(CHUNKED["timestamp"][:8], CHUNKED["region"], CHUNKED["service"])
    sts = sigv4.chunk_string_to_sign(
        CHUNKED["timestamp"],
        scope,
        CHUNKED["expected"]["seed_signature"],
        hashlib.sha256(_chunks()[0]).hexdigest(),
    )
    assert sts == CHUNKED["expected"]["first_chunk_string_to_sign"]


def test_chunked_upload_chunk_signatures_chain() -> None:
    expected = CHUNKED["expected"]
    key = sigv4.signing_key(
        CHUNKED["credentials"]["secret_access_key"],
        CHUNKED["timestamp"][:8],
        CHUNKED["region"],
        CHUNKED["service"],
    )
    signer = sigv4.ChunkSigner(
        signing_key=key,
        amz_date=CHUNKED["timestamp"],
        scope=sigv4.credential_scope(CHUNKED["timestamp"][:8], CHUNKED["region"], "s3"),
        seed_signature=expected["seed_signature"],
    )
    got = [signer.sign(chunk) for chunk in [*_chunks(), b""]]
    assert got == expected["chunk_signatures"]


def test_chunked_upload_body_frames_and_length() -> None:
    req, expected = CHUNKED["request"], CHUNKED["expected"]
    _, signer = sigv4.sign_streaming(
        req["method"],
        host=req["host"],
        path=req["path"],
        query=None,
        headers=[tuple(h) for h in req["headers"]],
        credentials=_chunked_creds(),
        region=CHUNKED["region"],
        now=parse_amz_date(CHUNKED["timestamp"]),
        decoded_content_length=req["decoded_content_length"],
        chunk_size=req["chunk_size"],
    )
    body = b"".join(signer.frame(chunk) for chunk in _chunks()) + signer.final_frame()
    assert len(body) == int(expected["content_length"])
    first, second, final = expected["chunk_signatures"]
    assert body.startswith(f"10000;chunk-signature={first}\r\n".encode())
    assert f"\r\n400;chunk-signature={second}\r\n".encode() in body
    assert body.endswith(f"0;chunk-signature={final}\r\n\r\n".encode())


# --- AWS POST policy ---------------------------------------------------------------------------

POST = load_case_file("aws-s3-post-policy.json")


def test_post_policy_signature() -> None:
    key = sigv4.signing_key(
        POST["credentials"]["secret_access_key"], POST["date"], POST["region"], POST["service"]
    )
    assert sigv4.post_policy_signature(POST["policy_base64"], key) == POST["expected"]["signature"]


def test_post_policy_credential_matches_the_example() -> None:
    decoded = base64.b64decode(POST["policy_base64"]).decode()
    scope = sigv4.credential_scope(POST["date"], POST["region"], POST["service"])
    credential = f"{POST['credentials']['access_key_id']}/{scope}"
    assert credential == POST["expected"]["x_amz_credential"]
    assert json.dumps({"x-amz-credential": credential}) in decoded


# --- Azure SharedKey ---------------------------------------------------------------------------

AZURE = load_case_file("azure-shared-key.json")


def test_azure_shared_key_string_to_sign_examples() -> None:
    for case in AZURE["string_to_sign_cases"]:
        sts = azure.shared_key_string_to_sign(
            case["method"],
            account_name=AZURE["account_name"],
            path=case["path"],
            query=[tuple(q) for q in case["query"]],
            headers=[tuple(h) for h in case["headers"]],
        )
        assert sts == case["expected"], case["id"]


def test_azure_canonicalized_resource_examples() -> None:
    for case in AZURE["canonicalized_resource_cases"]:
        parts = urlsplit(case["url"])
        got = azure.canonicalized_resource(
            AZURE["account_name"], parts.path, parse_query(parts.query)
        )
        assert got == case["expected"], case["id"]


# --- RS256 -------------------------------------------------------------------------------------

RS256 = load_case_file("rfc7515-a2-rs256.json")


def test_rs256_signature_is_rfc7515_a2() -> None:
    signature = gcs.rsa_sign(rfc7515_account(), RS256["signing_input"].encode("ascii"))
    assert (
        base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
        == RS256["expected_signature_b64url"]
    )
