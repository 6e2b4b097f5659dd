"""Behaviour of the signers that the known-answer sets do not pin down."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from litestar_storages.signing import SigningError, azure, content_length_range, gcs, sigv4
from litestar_storages.signing._canonical import format_http_date, starts_with

from ._signing_vectors import rfc7515_account

NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
AWS = sigv4.AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
AWS_TEMP = sigv4.AwsCredentials("ASIAEXAMPLE", "secret/with+chars", "session+token/==")
AZURE = azure.AzureSharedKey("myaccount", base64.b64encode(b"k" * 64).decode())


def presign(**overrides: object) -> list[tuple[str, str]]:
    kwargs: dict[str, object] = {
        "host": "bucket.s3.us-east-1.amazonaws.com",
        "path": "/key.txt",
        "query": None,
        "credentials": AWS,
        "region": "us-east-1",
        "service": "s3",
        "now": NOW,
        "expires_in": 3600,
    }
    kwargs.update(overrides)
    return sigv4.presign_query("GET", **kwargs)  # type: ignore[arg-type]


# --- credentials never show secrets ------------------------------------------------------------


def test_repr_of_credentials_never_shows_secrets() -> None:
    pem = rfc7515_account().private_key_pem
    values = [
        (AWS_TEMP, ["secret/with+chars", "session+token/=="]),
        (gcs.GcsServiceAccount("sa@p.iam.gserviceaccount.com", pem), [pem, "PRIVATE KEY"]),
        (gcs.GcsHmacKey("GOOG1EXAMPLE", "hmac-secret"), ["hmac-secret"]),
        (AZURE, [AZURE.account_key_b64]),
        (
            azure.UserDelegationKey("oid", "tid", "s", "e", "b", "2025-11-05", "dmFsdWU="),
            ["dmFsdWU="],
        ),
    ]
    for credential, secrets in values:
        text = repr(credential)
        for secret in secrets:
            assert secret not in text, type(credential).__name__
        assert "***" in text


def test_repr_shows_identifiers() -> None:
    assert "AKIDEXAMPLE" in repr(AWS)
    assert "session_token=None" in repr(AWS)
    assert "myaccount" in repr(AZURE)


def test_signing_key_cache_repr_hides_its_keys() -> None:
    cache = sigv4.SigningKeyCache()
    cache.get(AWS.secret_access_key, "20240506", "us-east-1", "s3")
    assert AWS.secret_access_key not in repr(cache)
    assert "size=1" in repr(cache)


def test_credentials_are_frozen() -> None:
    with pytest.raises(AttributeError):
        AWS.secret_access_key = "x"  # type: ignore[misc]


# --- SigV4 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("expires_in", [0, -1, 604801, 10**9])
def test_presign_expiry_out_of_range_is_refused(expires_in: int) -> None:
    with pytest.raises(SigningError, match="between 1 and 604800"):
        presign(expires_in=expires_in)


@pytest.mark.parametrize("expires_in", [True, 1.5, "60"])
def test_presign_expiry_must_be_an_int(expires_in: object) -> None:
    with pytest.raises(SigningError):
        presign(expires_in=expires_in)


@pytest.mark.parametrize("expires_in", [1, 604800])
def test_presign_expiry_bounds_are_inclusive(expires_in: int) -> None:
    assert dict(presign(expires_in=expires_in))["X-Amz-Expires"] == str(expires_in)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(SigningError, match="timezone-aware"):
        presign(now=datetime(2024, 5, 6, 7, 8, 9))


def test_non_utc_datetime_is_converted() -> None:
    plus_two = NOW.astimezone(timezone(timedelta(hours=2)))
    assert presign(now=plus_two) == presign()


def test_signing_error_is_a_value_error() -> None:
    assert issubclass(SigningError, ValueError)


def test_presigned_url_keeps_slashes_unencoded() -> None:
    path = sigv4.uri_encode_path("/dir/sub dir/file+name~.txt")
    assert path == "/dir/sub%20dir/file%2Bname~.txt"
    url = sigv4.presign_url(
        "GET",
        host="b.s3.amazonaws.com",
        path=path,
        credentials=AWS,
        region="us-east-1",
        now=NOW,
        expires_in=60,
    )
    assert urlsplit(url).path == path


def test_generic_service_path_is_normalised_and_encoded_twice() -> None:
    assert sigv4.canonical_uri("/a/./b/../c%20d", s3=False) == "/a/c%2520d"
    assert sigv4.canonical_uri("/a/./b/../c%20d", s3=True) == "/a/./b/../c%20d"
    assert sigv4.canonical_uri("", s3=True) == "/"


def test_excluded_headers_are_never_signed() -> None:
    added = sigv4.sign_headers(
        "PUT",
        host="b.s3.amazonaws.com",
        path="/k",
        query=None,
        headers={
            "Authorization": "stale",
            "User-Agent": "client/1.0",
            "Connection": "keep-alive",
            "Transfer-Encoding": "chunked",
            "Expect": "100-continue",
            "X-Amzn-Trace-Id": "Root=1",
            "Content-Type": "text/plain",
        },
        payload_hash=sigv4.UNSIGNED_PAYLOAD,
        credentials=AWS,
        region="us-east-1",
        service="s3",
        now=NOW,
    )
    signed = added["authorization"].split("SignedHeaders=")[1].split(",")[0]
    assert signed == "content-type;host;x-amz-content-sha256;x-amz-date"


def test_sign_headers_returns_what_to_add() -> None:
    added = sigv4.sign_headers(
        "GET",
        host="b.s3.amazonaws.com",
        path="/k",
        query=[("versionId", "3")],
        headers=None,
        payload_hash=sigv4.EMPTY_SHA256,
        credentials=AWS_TEMP,
        region="eu-west-1",
        service="s3",
        now=NOW,
    )
    assert set(added) == {
        "authorization",
        "x-amz-date",
        "x-amz-content-sha256",
        "x-amz-security-token",
    }
    assert added["x-amz-date"] == "20240506T070809Z"
    assert added["x-amz-security-token"] == AWS_TEMP.session_token
    assert "x-amz-security-token" in added["authorization"]
    assert added["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20240506/eu-west-1/s3/aws4_request, "
    )


def test_caller_headers_cannot_override_computed_ones() -> None:
    base = {
        "host": "b.s3.amazonaws.com",
        "path": "/k",
        "query": None,
        "payload_hash": sigv4.EMPTY_SHA256,
        "credentials": AWS,
        "region": "us-east-1",
        "service": "s3",
        "now": NOW,
    }
    plain = sigv4.sign_headers("GET", headers=None, **base)  # type: ignore[arg-type]
    spoofed = sigv4.sign_headers(
        "GET",
        headers={"X-Amz-Date": "19990101T000000Z", "Host": "evil.example"},
        **base,  # type: ignore[arg-type]
    )
    assert plain == spoofed


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "options"])
def test_any_http_method_can_be_presigned(method: str) -> None:
    pairs = sigv4.presign_query(
        method,
        host="h",
        path="/k",
        query=None,
        credentials=AWS,
        region="r",
        service="s3",
        now=NOW,
        expires_in=60,
    )
    assert pairs[-1][0] == "X-Amz-Signature"


def test_presigned_methods_differ() -> None:
    get = sigv4.presign_query(
        "GET", host="h", path="/k", query=None, credentials=AWS, region="r", service="s3",
        now=NOW, expires_in=60,
    )  # fmt: skip
    put = sigv4.presign_query(
        "PUT", host="h", path="/k", query=None, credentials=AWS, region="r", service="s3",
        now=NOW, expires_in=60,
    )  # fmt: skip
    assert get[-1] != put[-1]


def test_response_header_overrides_are_signed_query_parameters() -> None:
    disposition = 'attachment; filename="report 2024.pdf"'
    pairs = presign(
        query={"response-content-disposition": disposition, "response-content-type": "app/pdf"}
    )
    assert ("response-content-disposition", disposition) in pairs
    assert pairs[-1] != presign()[-1]
    encoded = sigv4.encode_query(pairs)
    assert "response-content-disposition=attachment%3B%20filename%3D%22report%202024.pdf%22" in (
        encoded
    )


def test_presign_signs_extra_headers() -> None:
    pairs = dict(presign(signed_headers={"Content-Type": "text/plain", "x-amz-acl": "private"}))
    assert pairs["X-Amz-SignedHeaders"] == "content-type;host;x-amz-acl"


def test_presign_with_session_token_signs_it() -> None:
    pairs = dict(presign(credentials=AWS_TEMP))
    assert pairs["X-Amz-Security-Token"] == AWS_TEMP.session_token


def test_presign_refuses_signer_parameters_in_the_query() -> None:
    with pytest.raises(SigningError, match="X-Amz-Signature"):
        presign(query={"X-Amz-Signature": "forged"})


def test_encode_query_matches_presigned_url() -> None:
    kwargs = {
        "host": "h.example",
        "path": "/a%20b",
        "query": {"prefix": "x y/z", "list-type": "2"},
        "credentials": AWS,
        "region": "r",
        "service": "s3",
        "now": NOW,
        "expires_in": 60,
    }
    pairs = sigv4.presign_query("GET", **kwargs)  # type: ignore[arg-type]
    url = sigv4.presign_url("GET", **kwargs)  # type: ignore[arg-type]
    assert url == f"https://h.example/a%20b?{sigv4.encode_query(pairs)}"


def test_signing_key_cache_reuses_and_bounds() -> None:
    cache = sigv4.SigningKeyCache(maxsize=2)
    first = cache.get("s", "20240506", "us-east-1", "s3")
    assert first == sigv4.signing_key("s", "20240506", "us-east-1", "s3")
    assert cache.get("s", "20240506", "us-east-1", "s3") is first
    cache.get("s", "20240507", "us-east-1", "s3")
    cache.get("s", "20240506", "us-east-1", "s3")  # most recently used again
    cache.get("s", "20240508", "us-east-1", "s3")  # evicts 20240507
    assert len(cache) == 2
    assert cache.get("s", "20240506", "us-east-1", "s3") is first
    cache.clear()
    assert len(cache) == 0


def test_signing_key_cache_gives_the_same_signatures() -> None:
    assert presign(key_cache=sigv4.SigningKeyCache()) == presign()


def test_signing_key_cache_needs_a_positive_size() -> None:
    with pytest.raises(SigningError):
        sigv4.SigningKeyCache(maxsize=0)


def sign(now: datetime, **overrides: object) -> dict[str, str]:
    kwargs: dict[str, object] = {
        "host": "bucket.s3.us-east-1.amazonaws.com",
        "path": "/key.txt",
        "query": [("partNumber", "1")],
        "headers": {"range": "bytes=0-9", "x-amz-meta-a": "  two   words "},
        "payload_hash": sigv4.EMPTY_SHA256,
        "credentials": AWS_TEMP,
        "region": "us-east-1",
        "service": "s3",
        "now": now,
    }
    kwargs.update(overrides)
    return sigv4.sign_headers("GET", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "later",
    [
        timedelta(0),
        timedelta(microseconds=1),
        timedelta(seconds=1),
        timedelta(seconds=-1),
        timedelta(hours=17),  # the next UTC day
    ],
)
def test_a_shared_key_cache_signs_every_moment_as_a_fresh_signer_would(later: timedelta) -> None:
    cache = sigv4.SigningKeyCache()
    assert sign(NOW, key_cache=cache) == sign(NOW)
    assert sign(NOW + later, key_cache=cache) == sign(NOW + later)
    assert sign(NOW + later, region="eu-west-1", key_cache=cache) == sign(
        NOW + later, region="eu-west-1"
    )
    other = sigv4.AwsCredentials("AKIDOTHER", "another secret")
    assert sign(NOW + later, credentials=other, key_cache=cache) == sign(
        NOW + later, credentials=other
    )


def test_a_shared_key_cache_takes_the_same_instant_in_any_time_zone() -> None:
    cache = sigv4.SigningKeyCache()
    sign(NOW, key_cache=cache)
    elsewhere = NOW.astimezone(timezone(timedelta(hours=2)))
    assert sign(elsewhere, key_cache=cache) == sign(NOW)


def test_a_shared_key_cache_still_refuses_a_naive_time() -> None:
    cache = sigv4.SigningKeyCache()
    sign(NOW, key_cache=cache)
    with pytest.raises(SigningError):
        sign(NOW.replace(tzinfo=None), key_cache=cache)


def test_signed_headers_fold_and_join_like_the_canonical_stage() -> None:
    headers = [("X-Amz-Meta-A", " a \t b "), ("x-amz-meta-a", "c"), ("Range", "bytes=0-1")]
    added = sign(NOW, headers=headers)
    block, signed = sigv4.canonical_headers(
        [
            *headers,
            ("host", "bucket.s3.us-east-1.amazonaws.com"),
            ("x-amz-date", added["x-amz-date"]),
            ("x-amz-content-sha256", sigv4.EMPTY_SHA256),
            ("x-amz-security-token", AWS_TEMP.session_token or ""),
        ]
    )
    assert block.startswith("host:bucket.s3.us-east-1.amazonaws.com\nrange:bytes=0-1\n")
    assert "x-amz-meta-a:a b,c\n" in block
    assert f"SignedHeaders={signed}," in added["authorization"]


def test_chunk_signer_refuses_chunks_after_the_final_one() -> None:
    _, signer = sigv4.sign_streaming(
        "PUT",
        host="h",
        path="/k",
        query=None,
        headers=None,
        credentials=AWS,
        region="r",
        now=NOW,
        decoded_content_length=5,
        chunk_size=sigv4.MIN_CHUNK_SIZE,
    )
    signer.frame(b"hello")
    assert signer.final_frame().startswith(b"0;chunk-signature=")
    with pytest.raises(SigningError, match="final chunk"):
        signer.sign(b"more")


def test_streaming_rejects_small_chunks_and_keeps_other_encodings() -> None:
    kwargs = {
        "host": "h",
        "path": "/k",
        "query": None,
        "credentials": AWS,
        "region": "r",
        "now": NOW,
        "decoded_content_length": 10,
    }
    with pytest.raises(SigningError, match="8192"):
        sigv4.sign_streaming("PUT", headers=None, chunk_size=1024, **kwargs)  # type: ignore[arg-type]
    added, _ = sigv4.sign_streaming(
        "PUT",
        headers={"Content-Encoding": "gzip"},
        chunk_size=8192,
        **kwargs,  # type: ignore[arg-type]
    )
    assert added["content-encoding"] == "aws-chunked,gzip"


def test_encoded_content_length_counts_every_frame() -> None:
    assert sigv4.encoded_content_length(0, 8192) == 86
    body = 8192 * 2 + 1
    expected = 2 * (4 + 17 + 64 + 4 + 8192) + (1 + 17 + 64 + 4 + 1) + 86
    assert sigv4.encoded_content_length(body, 8192) == expected


def test_presigned_post_policy() -> None:
    url, fields = sigv4.presigned_post(
        bucket_url="https://bucket.s3.us-east-1.amazonaws.com/",
        bucket="bucket",
        key="uploads/${filename}",
        credentials=AWS_TEMP,
        region="us-east-1",
        now=NOW,
        expires_in=600,
        fields={"Content-Type": "image/png", "success_action_status": "201"},
        conditions=[content_length_range(1, 1024), starts_with("x-amz-meta-tag", "")],
    )
    assert url == "https://bucket.s3.us-east-1.amazonaws.com/"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert policy["expiration"] == "2024-05-06T07:18:09Z"
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 1024] in conditions
    assert ["starts-with", "$x-amz-meta-tag", ""] in conditions
    assert ["starts-with", "$key", "uploads/"] in conditions
    assert {"bucket": "bucket"} in conditions
    assert {"Content-Type": "image/png"} in conditions
    assert {"x-amz-security-token": AWS_TEMP.session_token} in conditions
    assert fields["key"] == "uploads/${filename}"
    assert fields["x-amz-credential"] == "ASIAEXAMPLE/20240506/us-east-1/s3/aws4_request"
    key = sigv4.signing_key(AWS_TEMP.secret_access_key, "20240506", "us-east-1", "s3")
    assert fields["x-amz-signature"] == sigv4.post_policy_signature(fields["policy"], key)


def test_content_length_range_must_be_ordered() -> None:
    with pytest.raises(SigningError):
        content_length_range(10, 1)


# --- GCS ---------------------------------------------------------------------------------------

HMAC_KEY = gcs.GcsHmacKey("GOOG1EEXAMPLE", "bGoa+V7g/yqDXvKRqq+JTFn4uQZbPiQJo4pf9RzJ")


def test_hmac_signed_url_is_an_hmac_over_the_string_to_sign() -> None:
    prepared = gcs.prepare_signed_url(
        "GET",
        credential_id=HMAC_KEY.access_id,
        algorithm=gcs.GOOG4_HMAC,
        bucket="bkt",
        blob="dir/obj.txt",
        now=NOW,
        expires_in=900,
    )
    url = gcs.generate_signed_url(
        HMAC_KEY, "GET", bucket="bkt", blob="dir/obj.txt", now=NOW, expires_in=900
    )
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["X-Goog-Algorithm"] == "GOOG4-HMAC-SHA256"
    assert query["X-Goog-Credential"] == "GOOG1EEXAMPLE/20240506/auto/storage/goog4_request"
    key = gcs.hmac_signing_key(HMAC_KEY.secret, "20240506")
    expected = hmac.new(key, prepared.string_to_sign.encode(), hashlib.sha256).hexdigest()
    assert query["X-Goog-Signature"] == expected
    assert url == gcs.finish_signed_url(prepared, expected)


def test_gcs_url_styles() -> None:
    def base(**kw: Any) -> str:
        prepared = gcs.prepare_signed_url(
            "GET", credential_id="c", bucket="bkt", blob="a b", now=NOW, expires_in=60, **kw
        )
        return prepared.base_url

    assert base() == "https://storage.googleapis.com/bkt/a%20b"
    assert base(url_style="virtual") == "https://bkt.storage.googleapis.com/a%20b"
    assert (
        base(url_style="bucket_bound", bucket_bound_hostname="cdn.example", scheme="http")
        == "http://cdn.example/a%20b"
    )
    with pytest.raises(SigningError, match="bucket_bound_hostname"):
        base(url_style="bucket_bound")


def test_gcs_signed_host_can_differ_from_the_url_host() -> None:
    prepared = gcs.prepare_signed_url(
        "GET",
        credential_id="c",
        bucket="b",
        blob="o",
        now=NOW,
        expires_in=60,
        scheme="http",
        host="localhost:4443",
        signed_host="localhost",
    )
    assert prepared.base_url == "http://localhost:4443/b/o"
    assert "\nhost:localhost\n" in prepared.canonical_request


@pytest.mark.parametrize("expires_in", [0, 604801])
def test_gcs_expiry_out_of_range_is_refused(expires_in: int) -> None:
    with pytest.raises(SigningError, match="604800"):
        gcs.generate_signed_url(
            HMAC_KEY, "GET", bucket="b", blob="o", now=NOW, expires_in=expires_in
        )


def test_gcs_refuses_signer_parameters_in_the_query() -> None:
    with pytest.raises(SigningError, match="X-Goog-Date"):
        gcs.generate_signed_url(
            HMAC_KEY, "GET", bucket="b", now=NOW, expires_in=60, query={"X-Goog-Date": "x"}
        )


def test_service_account_from_info() -> None:
    account = rfc7515_account()
    info = {
        "type": "service_account",
        "client_email": "sa@p.iam.gserviceaccount.com",
        "private_key": account.private_key_pem,
        "private_key_id": "abc",
    }
    loaded = gcs.GcsServiceAccount.from_info(info)
    assert (loaded.client_email, loaded.private_key_id, loaded.token_uri) == (
        "sa@p.iam.gserviceaccount.com",
        "abc",
        gcs.TOKEN_URI,
    )
    with pytest.raises(SigningError, match="private_key"):
        gcs.GcsServiceAccount.from_info({"client_email": "x"})


def test_service_account_key_is_loaded_once() -> None:
    account = rfc7515_account()
    assert account.private_key() is account.private_key()


def test_service_account_refuses_bad_keys() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    with pytest.raises(SigningError, match="not a valid PEM"):
        gcs.GcsServiceAccount("sa@x", "not a pem").private_key()
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(SigningError, match="not an RSA key"):
        gcs.GcsServiceAccount("sa@x", ec_pem).private_key()


def test_jwt_claims_follow_the_oauth2_service_account_flow() -> None:
    account = rfc7515_account()
    claims = gcs.jwt_claims(
        account,
        scopes=["https://www.googleapis.com/auth/devstorage.read_write", "openid"],
        now=NOW,
        subject="user@example.com",
    )
    issued = int(NOW.timestamp())
    assert claims == {
        "iss": account.client_email,
        "scope": "https://www.googleapis.com/auth/devstorage.read_write openid",
        "aud": "https://oauth2.googleapis.com/token",
        "iat": issued,
        "exp": issued + 3600,
        "sub": "user@example.com",
    }
    assert "sub" not in gcs.jwt_claims(account, scopes="s", now=NOW, lifetime=60)


@pytest.mark.parametrize("lifetime", [0, 3601])
def test_jwt_lifetime_is_at_most_an_hour(lifetime: int) -> None:
    with pytest.raises(SigningError, match="lifetime"):
        gcs.jwt_claims(rfc7515_account(), scopes="s", now=NOW, lifetime=lifetime)


def test_jwt_needs_a_scope() -> None:
    with pytest.raises(SigningError, match="scope"):
        gcs.jwt_claims(rfc7515_account(), scopes=[], now=NOW)


def test_jwt_assertion_is_rs256_and_verifies() -> None:
    import jwt

    account = gcs.GcsServiceAccount(
        rfc7515_account().client_email, rfc7515_account().private_key_pem, private_key_id="kid-1"
    )
    assertion = gcs.jwt_assertion(account, scopes="scope-a", now=NOW)
    assert assertion == gcs.jwt_assertion(account, scopes="scope-a", now=NOW)
    header = jwt.get_unverified_header(assertion)
    assert (header["alg"], header["kid"]) == ("RS256", "kid-1")
    claims = jwt.decode(
        assertion,
        account.private_key().public_key(),
        algorithms=["RS256"],
        audience=gcs.TOKEN_URI,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims == gcs.jwt_claims(account, scopes="scope-a", now=NOW)


def test_token_request_body() -> None:
    assert gcs.token_request_body("a.b.c") == (
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b.c"
    )


def test_gcs_post_policy_with_hmac_key() -> None:
    url, fields = gcs.generate_signed_post_policy(
        HMAC_KEY,
        bucket="bkt",
        key="k",
        now=NOW,
        expires_in=60,
        conditions=[content_length_range(0, 10)],
        fields={"x-ignore-note": "sent, not in the policy", "content-type": "text/plain"},
    )
    assert url == "https://storage.googleapis.com/bkt/"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert {"x-ignore-note": "sent, not in the policy"} not in policy["conditions"]
    assert {"content-type": "text/plain"} in policy["conditions"]
    assert fields["x-ignore-note"] == "sent, not in the policy"
    key = gcs.hmac_signing_key(HMAC_KEY.secret, "20240506")
    assert (
        fields["x-goog-signature"] == hmac.new(key, fields["policy"].encode(), "sha256").hexdigest()
    )


# --- Azure -------------------------------------------------------------------------------------


def test_azure_key_must_be_base64() -> None:
    with pytest.raises(SigningError, match="base64"):
        azure.AzureSharedKey("acct", "not base64!")
    with pytest.raises(SigningError, match="base64"):
        azure.UserDelegationKey("o", "t", "s", "e", "b", "v", "%%%")


def test_permissions_are_rewritten_in_canonical_order() -> None:
    assert azure.canonical_permissions("wrdca") == "racwd"
    assert azure.canonical_permissions("lwr", azure.ACCOUNT_PERMISSIONS) == "rwl"
    with pytest.raises(SigningError, match="z"):
        azure.canonical_permissions("rz")


def test_x_ms_headers_sort_like_the_service() -> None:
    """Expected order computed with azure-storage-blob's own comparator (``_storage_header_sort``).

    ``-`` and ``'`` only break ties, and ``_`` sorts before digits: not byte order.
    """
    names = [
        "x-ms-meta-ab",
        "x-ms-meta-a-c",
        "x-ms-meta-a_b",
        "x-ms-meta-a1",
        "x-ms-meta-a",
        "x-ms-date",
        "x-ms-version",
        "x-ms-meta-b'c",
        "x-ms-meta-bc",
        "x-ms-meta-b-c",
    ]
    block = azure.canonicalized_headers([(n, "v") for n in names])
    assert [line.split(":")[0] for line in block.splitlines()] == [
        "x-ms-date",
        "x-ms-meta-a",
        "x-ms-meta-a_b",
        "x-ms-meta-a1",
        "x-ms-meta-ab",
        "x-ms-meta-a-c",
        "x-ms-meta-bc",
        "x-ms-meta-b'c",
        "x-ms-meta-b-c",
        "x-ms-version",
    ]


def test_x_ms_header_values_are_folded_and_only_x_ms_headers_count() -> None:
    block = azure.canonicalized_headers(
        [("X-Ms-Meta-Note", "  two   words \t"), ("Content-Type", "text/plain")]
    )
    assert block == "x-ms-meta-note:two words\n"


def test_zero_content_length_signs_as_empty_from_2015_02_21() -> None:
    def line(version: str) -> str:
        sts = azure.shared_key_string_to_sign(
            "PUT",
            account_name="a",
            path="/c/b",
            query=None,
            headers={"Content-Length": "0", "x-ms-version": version},
        )
        return sts.split("\n")[3]

    assert line("2015-02-21") == ""
    assert line(azure.DEFAULT_VERSION) == ""
    assert line("2014-02-14") == "0"


def test_standard_headers_are_positional() -> None:
    sts = azure.shared_key_string_to_sign(
        "put",
        account_name="a",
        path="/c/b",
        query=None,
        headers={"Content-Type": "text/plain", "Content-Length": "7", "Range": "bytes=0-1"},
    )
    assert sts.split("\n") == [
        "PUT",
        "",
        "",
        "7",
        "",
        "text/plain",
        "",
        "",
        "",
        "",
        "",
        "bytes=0-1",
        "/a/c/b",
    ]


def test_sign_shared_key() -> None:
    added = azure.sign_shared_key(
        "GET",
        credentials=AZURE,
        path="/container/blob%20name",
        query={"comp": "metadata"},
        headers={"x-ms-date": "stale", "x-ms-range": "bytes=0-9"},
        now=NOW,
    )
    assert added["x-ms-date"] == "Mon, 06 May 2024 07:08:09 GMT"
    assert added["x-ms-version"] == azure.DEFAULT_VERSION == "2025-11-05"
    sts = azure.shared_key_string_to_sign(
        "GET",
        account_name="myaccount",
        path="/container/blob%20name",
        query={"comp": "metadata"},
        headers={**added, "x-ms-range": "bytes=0-9"},
    )
    assert sts.endswith("/myaccount/container/blob%20name\ncomp:metadata")
    assert added["authorization"] == f"SharedKey myaccount:{azure.hmac_signature(AZURE.key, sts)}"


def test_http_date_ignores_the_locale() -> None:
    assert format_http_date(datetime(2009, 10, 11, 21, 49, 13, tzinfo=timezone.utc)) == (
        "Sun, 11 Oct 2009 21:49:13 GMT"
    )


@pytest.mark.parametrize(
    ("version", "lines"), [("2015-04-05", 13), ("2018-11-09", 15), ("2020-12-06", 16)]
)
def test_service_sas_layout_follows_sv(version: str, lines: int) -> None:
    sts = azure.service_sas_string_to_sign({"sv": version, "sp": "r"}, canonicalized_resource="/r")
    assert len(sts.split("\n")) == lines


@pytest.mark.parametrize(
    ("version", "lines"),
    [("2018-11-09", 20), ("2020-02-10", 23), ("2020-12-06", 24), ("2025-07-05", 26)],
)
def test_user_delegation_sas_layout_follows_sv(version: str, lines: int) -> None:
    sts = azure.user_delegation_sas_string_to_sign({"sv": version}, canonicalized_resource="/r")
    assert len(sts.split("\n")) == lines


def test_account_sas_layout_follows_sv() -> None:
    old = azure.account_sas_string_to_sign({"sv": "2019-02-02"}, account_name="a")
    new = azure.account_sas_string_to_sign({"sv": "2020-12-06"}, account_name="a")
    assert (old.count("\n"), new.count("\n")) == (9, 10)


def test_sas_refuses_fields_its_version_does_not_sign() -> None:
    with pytest.raises(SigningError, match="ses"):
        azure.blob_sas(
            AZURE,
            container="c",
            blob="b",
            permissions="r",
            expiry=NOW,
            version="2020-06-12",
            encryption_scope="scope",
        )


@pytest.mark.parametrize("version", ["2015-02-21", "2020", "latest"])
def test_sas_refuses_unsupported_versions(version: str) -> None:
    with pytest.raises(SigningError, match="sv"):
        azure.blob_sas(AZURE, container="c", blob="b", permissions="r", expiry=NOW, version=version)


def test_user_delegation_sas_refuses_layouts_it_does_not_know() -> None:
    with pytest.raises(SigningError, match="not known"):
        azure.user_delegation_sas_string_to_sign({"sv": "2026-04-06"}, canonicalized_resource="/r")


def test_blob_sas_with_every_option() -> None:
    pairs = azure.blob_sas(
        AZURE,
        container="c",
        blob="dir/file name.txt",
        permissions="wr",
        start=NOW,
        expiry=NOW + timedelta(hours=1),
        ip="10.0.0.1-10.0.0.9",
        protocol="https",
        identifier="policy-1",
        encryption_scope="scope",
        cache_control="no-cache",
        content_disposition="attachment",
        content_encoding="gzip",
        content_language="en",
        content_type="text/plain",
    )
    params = dict(pairs)
    assert params["sp"] == "rw"
    assert params["sr"] == "b"
    assert (params["st"], params["se"]) == ("2024-05-06T07:08:09Z", "2024-05-06T08:08:09Z")
    sig = params.pop("sig")
    sts = azure.service_sas_string_to_sign(
        params, canonicalized_resource="/blob/myaccount/c/dir/file name.txt"
    )
    assert sts.split("\n") == [
        "rw",
        "2024-05-06T07:08:09Z",
        "2024-05-06T08:08:09Z",
        "/blob/myaccount/c/dir/file name.txt",
        "policy-1",
        "10.0.0.1-10.0.0.9",
        "https",
        azure.DEFAULT_VERSION,
        "b",
        "",
        "scope",
        "no-cache",
        "attachment",
        "gzip",
        "en",
        "text/plain",
    ]
    assert sig == azure.hmac_signature(AZURE.key, sts)
    assert pairs[-1][0] == "sig"


def test_snapshot_and_container_sas() -> None:
    snap = dict(
        azure.blob_sas(
            AZURE, container="c", blob="b", permissions="r", expiry=NOW, snapshot="2024-01-01"
        )
    )
    assert (snap["sr"], snap["snapshot"]) == ("bs", "2024-01-01")
    container = dict(azure.container_sas(AZURE, container="c", permissions="lr", expiry=NOW))
    assert (container["sr"], container["sp"]) == ("c", "rl")
    sig = container.pop("sig")
    sts = azure.service_sas_string_to_sign(container, canonicalized_resource="/blob/myaccount/c")
    assert sig == azure.hmac_signature(AZURE.key, sts)


def test_sas_protocol_is_validated() -> None:
    with pytest.raises(SigningError, match="protocol"):
        azure.container_sas(AZURE, container="c", permissions="r", expiry=NOW, protocol="http")


def test_account_sas_validates_letters() -> None:
    with pytest.raises(SigningError, match="services"):
        azure.account_sas(AZURE, services="x", resource_types="o", permissions="r", expiry=NOW)
    with pytest.raises(SigningError, match="resource_types"):
        azure.account_sas(AZURE, services="b", resource_types="z", permissions="r", expiry=NOW)
    pairs = dict(
        azure.account_sas(AZURE, services="fb", resource_types="os", permissions="lr", expiry=NOW)
    )
    assert (pairs["ss"], pairs["srt"], pairs["sp"]) == ("bf", "so", "rl")


def test_user_delegation_sas() -> None:
    key = azure.UserDelegationKey(
        signed_oid="11111111-1111-1111-1111-111111111111",
        signed_tid="22222222-2222-2222-2222-222222222222",
        signed_start="2024-05-06T00:00:00Z",
        signed_expiry="2024-05-07T00:00:00Z",
        signed_service="b",
        signed_version="2025-11-05",
        value=base64.b64encode(b"d" * 32).decode(),
    )
    pairs = azure.user_delegation_sas(
        key,
        account_name="acct",
        container="c",
        blob="b.txt",
        permissions="r",
        expiry=NOW,
        correlation_id="corr",
        delegated_user_object_id="33333333-3333-3333-3333-333333333333",
    )
    params = dict(pairs)
    assert params["skoid"] == key.signed_oid
    assert params["sduoid"] == "33333333-3333-3333-3333-333333333333"
    sig = params.pop("sig")
    sts = azure.user_delegation_sas_string_to_sign(
        params, canonicalized_resource="/blob/acct/c/b.txt"
    )
    lines = sts.split("\n")
    assert lines[4:15] == [
        key.signed_oid,
        key.signed_tid,
        key.signed_start,
        key.signed_expiry,
        "b",
        "2025-11-05",
        "",
        "",
        "corr",
        "",
        "33333333-3333-3333-3333-333333333333",
    ]
    assert sig == azure.hmac_signature(key.key, sts)
    with pytest.raises(SigningError, match="sduoid"):
        azure.user_delegation_sas(
            key,
            account_name="acct",
            container="c",
            permissions="r",
            expiry=NOW,
            version="2024-11-04",
            delegated_user_object_id="x",
        )


def test_prepared_url_agrees_with_the_canonical_request_stage() -> None:
    headers = {"Content-Type": "text/plain", "x-goog-meta-a": " b  c "}
    query = {"response-content-disposition": "attachment; filename=a b.txt", "generation": "7"}
    prepared = gcs.prepare_signed_url(
        "PUT",
        credential_id="sa@p.iam.gserviceaccount.com",
        bucket="bkt",
        blob="dir/a b+c.txt",
        now=NOW,
        expires_in=600,
        query=query,
        headers=headers,
    )
    signed = "content-type;host;x-goog-meta-a"
    stage = gcs.canonical_request(
        "PUT",
        path="/bkt/dir/a%20b%2Bc.txt",
        query={
            **query,
            "X-Goog-Algorithm": gcs.GOOG4_RSA,
            "X-Goog-Credential": "sa@p.iam.gserviceaccount.com/" + gcs.credential_scope("20240506"),
            "X-Goog-Date": "20240506T070809Z",
            "X-Goog-Expires": "600",
            "X-Goog-SignedHeaders": signed,
        },
        headers={**headers, "host": "storage.googleapis.com"},
    )
    assert prepared.canonical_request == stage
