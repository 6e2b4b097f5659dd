"""Property tests: any object key survives URL building and canonicalisation unchanged.

Keys are drawn from all of Unicode (no lone surrogates, which UTF-8 cannot carry) and
salted with the characters that break naive signers: spaces, ``+ % ~ = ? # &``, ``//``, a
trailing ``/``, up to 1,000 UTF-8 bytes. Each property checks one way a key can be damaged:
lost (does not decode back), double-encoded (``%`` encoded twice), or signed differently from
what is sent (canonical path and URL path disagree).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from hypothesis import example, given, settings
from hypothesis import strategies as st

from litestar_storages.signing import azure, gcs, sigv4

NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
AWS = sigv4.AwsCredentials("AKIDEXAMPLE", "secret")
AZURE = azure.AzureSharedKey("acct", "a2V5")
MAX_KEY_BYTES = 1000
ENCODED = re.compile(r"(?:[A-Za-z0-9\-._~/]|%[0-9A-F]{2})*")

_TRICKY = [" ", "+", "%", "~", "=", "?", "#", "&", "/", "//", "%2F", "%25", "é", "😀", "\t", ":"]


def _fit(text: str) -> str:
    """Truncate to at most MAX_KEY_BYTES of UTF-8, on a character boundary."""
    data = text.encode("utf-8")[:MAX_KEY_BYTES]
    return data.decode("utf-8", errors="ignore")


unicode_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=400)
tricky_text = st.lists(st.sampled_from(_TRICKY) | unicode_text, max_size=30).map("".join)
keys = (unicode_text | tricky_text).map(_fit).filter(bool)

SETTINGS = settings(derandomize=True, max_examples=150, deadline=None, database=None)
LONG = "k/" * 250 + "é" * 250  # exactly 1,000 UTF-8 bytes


F = TypeVar("F", bound=Callable[..., None])


def _examples(func: F) -> F:
    """The hand-picked keys every property is also run on."""
    for value in ["a b+c%d~e=f?g#h", "dir//double//slash/", "trailing/", "%2520", LONG]:
        func = example(value)(func)
    return func


@SETTINGS
@given(keys)
@_examples
def test_path_encoding_round_trips_without_double_encoding(key: str) -> None:
    assert len(key.encode()) <= MAX_KEY_BYTES
    path = sigv4.uri_encode_path(f"/{key}")
    assert ENCODED.fullmatch(path)
    assert unquote(path) == f"/{key}"
    # Every "%" of the key is encoded exactly once: no more "%25" than there were "%".
    assert path.count("%25") == key.count("%")
    assert path.count("/") == key.count("/") + 1


@SETTINGS
@given(keys)
@_examples
def test_s3_presigned_url_signs_the_path_it_sends(key: str) -> None:
    path = sigv4.uri_encode_path(f"/bucket/{key}")
    url = sigv4.presign_url(
        "GET",
        host="s3.us-east-1.amazonaws.com",
        path=path,
        query={"response-content-disposition": key},
        credentials=AWS,
        region="us-east-1",
        now=NOW,
        expires_in=60,
    )
    parts = urlsplit(url)
    assert unquote(parts.path) == f"/bucket/{key}"
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    assert query["response-content-disposition"] == key
    creq = sigv4.canonical_request(
        "GET",
        path=path,
        query=[(k, v) for k, v in parse_qsl(parts.query) if k != "X-Amz-Signature"],
        headers={"host": "s3.us-east-1.amazonaws.com"},
        payload_hash=sigv4.UNSIGNED_PAYLOAD,
    )
    assert creq.split("\n")[1] == parts.path
    assert creq.split("\n")[2] == parts.query.rsplit("&X-Amz-Signature=", 1)[0]


@SETTINGS
@given(st.lists(st.tuples(keys, unicode_text), max_size=6))
def test_canonical_query_round_trips(pairs: list[tuple[str, str]]) -> None:
    encoded = sigv4.canonical_query(pairs)
    decoded = parse_qsl(encoded, keep_blank_values=True) if encoded else []
    assert Counter(decoded) == Counter(pairs)
    assert "+" not in encoded  # a space is %20 and a plus %2B: never ambiguous


@SETTINGS
@given(keys)
@_examples
def test_gcs_signed_url_signs_the_path_it_sends(key: str) -> None:
    prepared = gcs.prepare_signed_url(
        "GET", credential_id="sa@p.iam.gserviceaccount.com", bucket="b", blob=key, now=NOW,
        expires_in=60,
    )  # fmt: skip
    url = gcs.finish_signed_url(prepared, "00")
    parts = urlsplit(url)
    assert unquote(parts.path) == f"/b/{key}"
    assert prepared.canonical_request.split("\n")[1] == parts.path


@SETTINGS
@given(keys)
@_examples
def test_azure_sas_round_trips(key: str) -> None:
    pairs = azure.blob_sas(
        AZURE,
        container="c",
        blob=key,
        permissions="r",
        expiry=NOW,
        content_disposition=key,
    )
    decoded = parse_qsl(azure.encode_sas(pairs), keep_blank_values=True)
    assert decoded == pairs
    params = dict(pairs)
    sig = params.pop("sig")
    sts = azure.service_sas_string_to_sign(
        params, canonicalized_resource=azure.canonicalized_sas_resource("acct", "c", key)
    )
    assert sig == azure.hmac_signature(AZURE.key, sts)


@SETTINGS
@given(keys)
@_examples
def test_azure_shared_key_resource_is_the_wire_path(key: str) -> None:
    path = sigv4.uri_encode_path(f"/c/{key}")
    assert azure.canonicalized_resource("acct", path, None) == f"/acct{path}"
