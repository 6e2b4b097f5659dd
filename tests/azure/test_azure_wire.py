"""Pure pieces: block ids, blob paths, metadata headers, XML documents and error parsing."""

from __future__ import annotations

import base64

import httpx
import pytest

from litestar_storages.backends.azure._integrity import DownloadVerifier, md5_b64
from litestar_storages.backends.azure._wire import (
    BlobLocation,
    ResponseHead,
    block_id,
    metadata_from,
    metadata_headers,
    parse_block_id,
    parse_error,
)
from litestar_storages.backends.azure._xml import (
    build_block_list,
    parse_block_list,
    parse_error_body,
    parse_list_blobs,
    unquote_etag,
)
from litestar_storages.exceptions import StorageConfigurationError, StorageIntegrityError

from ._azure_helpers import error_xml

UPLOAD = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"


# --------------------------------------------------------------------------- block ids
def test_block_ids_of_every_part_and_upload_have_the_same_length() -> None:
    ids = {block_id(upload, n) for upload in (UPLOAD, OTHER) for n in (1, 9, 10, 9999, 10000)}
    assert len(ids) == 10
    assert {len(i) for i in ids} == {52}


def test_block_id_is_base64_of_at_most_64_bytes() -> None:
    raw = base64.b64decode(block_id(UPLOAD, 7))
    assert raw == f"{UPLOAD}:00007".encode()
    assert len(raw) <= 64


def test_block_id_round_trips() -> None:
    assert parse_block_id(block_id(UPLOAD, 42)) == (UPLOAD, 42)


@pytest.mark.parametrize("value", ["", "not base64!", base64.b64encode(b"other:1").decode()])
def test_foreign_block_ids_are_not_ours(value: str) -> None:
    assert parse_block_id(value) is None


@pytest.mark.parametrize(
    ("upload", "part"), [("short", 1), (UPLOAD.upper(), 1), (UPLOAD, 0), (UPLOAD, 100_000)]
)
def test_block_id_refuses_foreign_uploads_and_bad_parts(upload: str, part: int) -> None:
    with pytest.raises(StorageConfigurationError):
        block_id(upload, part)


# --------------------------------------------------------------------------- paths and requests
def test_blob_path_encodes_once_and_keeps_slashes() -> None:
    loc = BlobLocation("http://127.0.0.1:10000", "/devstoreaccount1", "box")
    assert loc.blob_path("a b/ü+?#%.txt") == "/devstoreaccount1/box/a%20b/%C3%BC%2B%3F%23%25.txt"


def test_requests_carry_the_sas_and_an_explicit_content_length() -> None:
    loc = BlobLocation("https://a.blob.core.windows.net", "", "box", (("sv", "1"), ("sig", "s")))
    request = loc.request(
        "PUT", "/box/k", operation="PutBlob", key="k", query=[("comp", "block")], body=b"abc"
    )
    assert request.query == [("comp", "block"), ("sv", "1"), ("sig", "s")]
    assert request.headers["content-length"] == "3"


# --------------------------------------------------------------------------- metadata
def test_metadata_headers_use_the_x_ms_meta_prefix() -> None:
    assert metadata_headers({"Author": "alice", "_v2": "x"}, key="k") == {
        "x-ms-meta-Author": "alice",
        "x-ms-meta-_v2": "x",
    }


@pytest.mark.parametrize(
    "metadata", [{"has-dash": "x"}, {"1st": "x"}, {"ok": "line\nbreak"}, {"ok": "é"}]
)
def test_metadata_the_service_would_refuse_is_refused_first(metadata: dict[str, str]) -> None:
    with pytest.raises(StorageConfigurationError):
        metadata_headers(metadata, key="k")


def test_metadata_names_keep_their_case_when_read_back() -> None:
    head = ResponseHead(200, (("x-ms-meta-Author", "alice"), ("X-MS-META-v", "1"), ("etag", "x")))
    assert metadata_from(head) == {"Author": "alice", "v": "1"}


# --------------------------------------------------------------------------- XML
LIST_PAGE = b"""<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ServiceEndpoint="https://acct.blob.core.windows.net/" ContainerName="box">
  <Prefix>p/</Prefix><MaxResults>2</MaxResults>
  <Blobs>
    <Blob>
      <Name>p/a.txt</Name>
      <Properties>
        <Creation-Time>Wed, 04 Mar 2026 05:06:07 GMT</Creation-Time>
        <Last-Modified>Wed, 04 Mar 2026 05:06:07 GMT</Last-Modified>
        <Etag>0x8D0</Etag>
        <Content-Length>12</Content-Length>
        <Content-Type>text/plain</Content-Type>
        <Content-MD5>XrY7u+Ae7tCTyyK7j1rNww==</Content-MD5>
        <BlobType>BlockBlob</BlobType>
      </Properties>
      <Metadata><Author>alice</Author></Metadata>
    </Blob>
    <Blob>
      <Name Encoded="true">p/%EF%BF%BEodd</Name>
      <Properties><Content-Length>0</Content-Length><Etag>"0x8D1"</Etag></Properties>
    </Blob>
    <BlobPrefix><Name>p/sub/</Name></BlobPrefix>
  </Blobs>
  <NextMarker>2!72!marker</NextMarker>
</EnumerationResults>"""


def test_list_blobs_page_is_parsed() -> None:
    page = parse_list_blobs(LIST_PAGE)
    first, second = page.blobs
    assert first.name == "p/a.txt"
    assert first.size == 12
    assert first.content_type == "text/plain"
    assert first.etag == "0x8D0"
    assert first.last_modified is not None
    assert first.last_modified.isoformat() == "2026-03-04T05:06:07+00:00"
    assert first.metadata == {"Author": "alice"}
    assert second.name == "p/\ufffeodd"
    assert second.etag == "0x8D1"
    assert second.content_type is None
    assert page.prefixes == ["p/sub/"]
    assert page.next_marker == "2!72!marker"


def test_last_list_page_has_no_marker() -> None:
    page = parse_list_blobs(b"<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>")
    assert page.blobs == []
    assert page.next_marker is None


def test_block_list_body_commits_latest_ids_in_order() -> None:
    assert build_block_list(["QQ==", "Qg=="]) == (
        b'<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>QQ==</Latest>'
        b"<Latest>Qg==</Latest></BlockList>"
    )


def test_empty_block_list_body() -> None:
    assert build_block_list([]).endswith(b"<BlockList></BlockList>")


def test_get_block_list_answer_is_parsed() -> None:
    body = (
        b"<BlockList><CommittedBlocks><Block><Name>QQ==</Name><Size>5</Size></Block>"
        b"</CommittedBlocks><UncommittedBlocks><Block><Name>Qg==</Name><Size>7</Size></Block>"
        b"</UncommittedBlocks></BlockList>"
    )
    result = parse_block_list(body)
    assert result.committed == [("QQ==", 5)]
    assert result.uncommitted == [("Qg==", 7)]


def test_error_body_keeps_the_first_message_line_and_drops_the_signed_string() -> None:
    body = (
        b"<Error><Code>AuthenticationFailed</Code><Message>Server failed.\nRequestId:1</Message>"
        b"<AuthenticationErrorDetail>The MAC signature ... string to sign: 'PUT\n...'"
        b"</AuthenticationErrorDetail></Error>"
    )
    parsed = parse_error_body(body)
    assert parsed is not None
    assert parsed.code == "AuthenticationFailed"
    assert parsed.message == "Server failed."
    assert parsed.details == {}


@pytest.mark.parametrize("body", [b"", b"not xml", b"<Other/>"])
def test_non_error_bodies_parse_to_none(body: bytes) -> None:
    assert parse_error_body(body) is None


def test_error_parser_reads_the_code_from_the_body() -> None:
    headers = httpx.Headers({"x-ms-request-id": "r-9"})
    provider = parse_error(404, headers, error_xml("BlobNotFound"))
    assert provider is not None
    assert (provider.status, provider.code, provider.request_id) == (404, "BlobNotFound", "r-9")


def test_error_parser_reads_the_code_header_of_bodiless_answers() -> None:
    provider = parse_error(404, httpx.Headers({"x-ms-error-code": "ContainerNotFound"}), b"")
    assert provider is not None
    assert provider.code == "ContainerNotFound"


def test_error_parser_ignores_successes() -> None:
    assert parse_error(201, httpx.Headers(), b"") is None


@pytest.mark.parametrize(
    ("raw", "clean"), [('"0x8D"', "0x8D"), ("0x8D", "0x8D"), ('W/"x"', "x"), (None, None)]
)
def test_etags_lose_their_quotes(raw: str | None, clean: str | None) -> None:
    assert unquote_etag(raw) == clean


# --------------------------------------------------------------------------- integrity
def test_md5_is_base64_of_the_digest() -> None:
    assert md5_b64(b"hello") == "XUFAKrxLKna5cZ2REBfFkg=="


def test_download_verifier_accepts_the_right_body() -> None:
    verifier = DownloadVerifier("k", expected_md5=md5_b64(b"hello"), expected_size=5)
    verifier.update(b"hel")
    verifier.update(b"lo")
    verifier.finish()


def test_download_verifier_refuses_a_corrupted_body() -> None:
    verifier = DownloadVerifier("k", expected_md5=md5_b64(b"hello"), expected_size=5)
    verifier.update(b"hellx")
    with pytest.raises(StorageIntegrityError, match="MD5"):
        verifier.finish()


def test_download_verifier_refuses_a_short_body() -> None:
    verifier = DownloadVerifier("k", expected_md5=None, expected_size=5)
    verifier.update(b"hel")
    with pytest.raises(StorageIntegrityError, match="3 of 5"):
        verifier.finish()


def test_download_verifier_skips_an_unreadable_digest() -> None:
    verifier = DownloadVerifier("k", expected_md5="not-a-digest", expected_size=None)
    assert not verifier.checks_digest
